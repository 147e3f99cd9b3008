"""Collision operators: BGK (paper Eqs. 16 and 20) and TRT (two relaxation times).

Both work on zero-centred populations ``f - w`` of shape ``(19, N)`` and include the Guo
forcing source (``forcing.py``). BGK is TRT with equal rates for the even and odd parts.
The operator is written on the 9 opposite pairs (strided slices), which XLA fuses into a few
loops; ``equilibrium.py`` and ``forcing.py`` hold the same formulas in plain form.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .stencil import CS2, E, OPPOSITE, W

assert (OPPOSITE[1::2] == np.arange(2, len(E), 2)).all()  # adjacent opposite pairs

__all__ = ["trt_collide", "bgk_collide"]


def trt_collide(f, omega_plus, omega_minus, force=None):
    """TRT collision ``f* = f - w+ (f+ - feq+) - w- (f- - feq-) + S``.

    ``f+ = (f_i + f_opp(i))/2`` and ``f- = (f_i - f_opp(i))/2`` are the even and odd parts;
    the equilibrium is paper Eq. 17 (second order, see ``equilibrium.py``).

    Parameters
    ----------
    f : tf.Tensor (19, N)
        Zero-centred populations (``f_i - w_i``).
    omega_plus, omega_minus : float or scalar tensor
        Relaxation rates 1/tau+ and 1/tau- of the even and odd parts (equal for BGK).
    force : tf.Tensor or sequence, shape (3,), optional
        Uniform body force density (l.u.), added with Guo's source term.

    Returns
    -------
    f_post : tf.Tensor (19, N)
    """
    # Opposite directions are adjacent in paper order (1/2, 3/4, ...): the "positive" members
    # f[1::2] and their opposites f[2::2] are strided slices, so no gather is needed.
    dtype = f.dtype
    e = tf.constant(E[1::2].T[:, :, None], dtype=dtype)  # (3, 9, 1)
    w = tf.constant(W[1::2, None], dtype=dtype)  # (9, 1)
    f0, fp, fn = f[0], f[1::2], f[2::2]
    f_even, f_odd = 0.5 * (fp + fn), 0.5 * (fp - fn)
    drho = f0 + 2.0 * tf.reduce_sum(f_even, axis=0)
    j = 2.0 * tf.reduce_sum(e * f_odd[None], axis=1)  # (3, N)
    if force is not None:
        force = tf.reshape(tf.cast(tf.convert_to_tensor(force), dtype), [3, 1])
        j = j + 0.5 * force
    rho = 1.0 + drho
    u = j / rho[None]
    uu = tf.reduce_sum(u * u, axis=0)
    eu = e[0] * u[0] + e[1] * u[1] + e[2] * u[2]  # (9, N)
    # equilibrium (paper Eq. 17, corrected): even and odd parts of f^eq - w
    base = drho - rho * uu * (0.5 / CS2)
    even_eq = w * (base + rho * eu * eu * (0.5 / CS2**2))
    odd_eq = w * rho * eu * (1.0 / CS2)
    rest = f0 - omega_plus * (f0 - float(W[0]) * base)
    relax_even = omega_plus * (f_even - even_eq)
    relax_odd = omega_minus * (f_odd - odd_eq)
    if force is not None:
        uf = tf.reduce_sum(u * force, axis=0)
        ef = e[0] * force[0] + e[1] * force[1] + e[2] * force[2]  # (9, 1)
        rest = rest - (1.0 - 0.5 * omega_plus) * float(W[0]) * uf * (1.0 / CS2)
        s_even = w * (eu * ef * (1.0 / CS2**2) - uf * (1.0 / CS2))
        s_odd = w * ef * (1.0 / CS2)
        relax_even = relax_even - (1.0 - 0.5 * omega_plus) * s_even
        relax_odd = relax_odd - (1.0 - 0.5 * omega_minus) * s_odd
    post_p = fp - relax_even - relax_odd
    post_n = fn - relax_even + relax_odd
    pairs = tf.reshape(tf.stack([post_p, post_n], axis=1), [-1, tf.shape(f)[1]])
    return tf.concat([rest[None], pairs], axis=0)


def bgk_collide(f, tau, force=None):
    """BGK collision ``f* = f - (f - f^eq)/tau + (1 - 1/(2 tau)) S`` (paper Eq. 20 plus Guo forcing)."""
    omega = 1.0 / tau
    return trt_collide(f, omega, omega, force)
