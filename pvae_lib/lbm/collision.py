"""Collision operators: BGK (paper Eqs. 16 and 20) and TRT (two relaxation times).

Both work on zero-centred populations ``f - w`` of shape ``(19, N)`` and include the Guo
forcing source (``forcing.py``). BGK is TRT with equal rates for the even and odd parts.
The operator is written on whole ``(19, N)`` arrays, which XLA fuses into a few loops.
"""
from __future__ import annotations

import tensorflow as tf

from .equilibrium import equilibrium_parts
from .forcing import guo_source
from .observables import moments
from .stencil import OPPOSITE

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
    drho, _, u = moments(f, force)
    even_eq, odd_eq = equilibrium_parts(drho, u)
    f_opp = tf.gather(f, OPPOSITE)
    f_even = 0.5 * (f + f_opp)
    f_odd = 0.5 * (f - f_opp)
    out = f - omega_plus * (f_even - even_eq) - omega_minus * (f_odd - odd_eq)
    if force is not None:
        s_even, s_odd = guo_source(u, force)
        out = out + (1.0 - 0.5 * omega_plus) * s_even + (1.0 - 0.5 * omega_minus) * s_odd
    return out


def bgk_collide(f, tau, force=None):
    """BGK collision ``f* = f - (f - f^eq)/tau + (1 - 1/(2 tau)) S`` (paper Eq. 20 plus Guo forcing)."""
    omega = 1.0 / tau
    return trt_collide(f, omega, omega, force)
