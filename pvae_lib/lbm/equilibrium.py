"""Second-order equilibrium distribution (paper Eq. 17).

Paper Eq. 17 prints the last term as ``(u.u)^2 / (2 c_s^2)``; that is a typo. The standard
second-order Maxwell-Boltzmann expansion (Krueger et al. 2017, Eq. 3.54) used here is::

    f_i^eq = w_i rho (1 + e_i.u / c_s^2 + (e_i.u)^2 / (2 c_s^4) - u.u / (2 c_s^2))

Populations are stored as deviations from the rest state, ``f_i - w_i`` ("zero-centred"
storage), which keeps float32 round-off small for the slow flows of permeability runs.
Arrays have the direction first: shape ``(19, N)``.
"""
from __future__ import annotations

import tensorflow as tf

from .stencil import CS2, E, W

__all__ = ["equilibrium", "equilibrium_parts"]


def _consts(dtype):
    e = tf.constant(E.T[:, :, None], dtype=dtype)  # (3, 19, 1)
    w = tf.constant(W[:, None], dtype=dtype)  # (19, 1)
    return e, w


def equilibrium_parts(drho, u):
    """Symmetric and antisymmetric parts of ``f^eq - w`` for the TRT collision.

    Parameters
    ----------
    drho : tf.Tensor, shape (N,)
        Density deviation ``rho - 1`` (l.u.).
    u : tf.Tensor, shape (3, N)
        Velocity (l.u.).

    Returns
    -------
    (even, odd) : tf.Tensor, each (19, N)
        ``even = w (drho + rho ((e.u)^2/(2 cs^4) - u.u/(2 cs^2)))``, ``odd = w rho e.u / cs^2``;
        ``f^eq - w = even + odd``.
    """
    e, w = _consts(u.dtype)
    rho = 1.0 + drho
    eu = e[0] * u[0] + e[1] * u[1] + e[2] * u[2]  # (19, N)
    uu = u[0] * u[0] + u[1] * u[1] + u[2] * u[2]
    even = w * (drho + rho * (eu * eu * (0.5 / CS2**2) - uu * (0.5 / CS2)))
    odd = w * rho * eu * (1.0 / CS2)
    return even, odd


def equilibrium(rho, u):
    """Full equilibrium ``f^eq`` (paper Eq. 17, corrected) for density ``rho`` (N,) and velocity ``u`` (3, N)."""
    rho = tf.convert_to_tensor(rho)
    even, odd = equilibrium_parts(rho - 1.0, tf.cast(u, rho.dtype))
    _, w = _consts(rho.dtype)
    return even + odd + w
