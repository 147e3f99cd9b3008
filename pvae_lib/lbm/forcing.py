"""Guo forcing (Guo, Zheng & Shi 2002): a uniform body force density F acting on the fluid.

Source term ``S_i = w_i [ (e_i - u)/c_s^2 + (e_i.u) e_i / c_s^4 ] . F``, split into its odd part
``w_i e_i.F / c_s^2`` and even part ``w_i [(e_i.u)(e_i.F)/c_s^4 - u.F/c_s^2]`` so that TRT can relax
each with its own rate; the collision multiplies them by ``(1 - omega/2)``. Together with the
half-force velocity (``observables.moments``) the scheme is second-order accurate.
"""
from __future__ import annotations

import tensorflow as tf

from .stencil import CS2, E, W

__all__ = ["guo_source"]


def guo_source(u, force):
    """Even and odd parts of Guo's source term, each ``(19, N)``.

    Parameters
    ----------
    u : tf.Tensor (3, N)
        Velocity (with the half-force correction).
    force : tf.Tensor or sequence, shape (3,)
        Uniform body force density (l.u.).
    """
    dtype = u.dtype
    force = tf.reshape(tf.cast(tf.convert_to_tensor(force), dtype), [3, 1])
    e = tf.constant(E.T[:, :, None], dtype=dtype)  # (3, 19, 1)
    w = tf.constant(W[:, None], dtype=dtype)
    eu = e[0] * u[0] + e[1] * u[1] + e[2] * u[2]
    ef = e[0] * force[0] + e[1] * force[1] + e[2] * force[2]  # (19, 1)
    uf = u[0] * force[0] + u[1] * force[1] + u[2] * force[2]  # (N,)
    odd = w * ef * (1.0 / CS2)
    even = w * (eu * ef * (1.0 / CS2**2) - uf * (1.0 / CS2))
    return even, odd
