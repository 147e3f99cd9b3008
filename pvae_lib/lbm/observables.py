"""Macroscopic moments of the populations (paper Eq. 14).

With a body force ``F`` (Guo forcing) the physical velocity is ``u = (sum_i f_i e_i + F/2) / rho``;
forgetting the ``F/2`` shifts the mean velocity, and hence the permeability, by ``F/2`` per
node -- an error that does not vanish with resolution.
"""
from __future__ import annotations

import tensorflow as tf

from .stencil import E

__all__ = ["moments"]


def moments(f, force=None):
    """Density deviation, momentum and velocity of zero-centred populations.

    Parameters
    ----------
    f : tf.Tensor (19, N)
        Populations minus the rest weights, ``f_i - w_i``.
    force : tf.Tensor or sequence, shape (3,), optional
        Uniform body force density (l.u.).

    Returns
    -------
    drho : (N,)   ``rho - 1``
    j : (3, N)    momentum ``sum_i f_i e_i + F/2``
    u : (3, N)    velocity ``j / rho``
    """
    drho = tf.reduce_sum(f, axis=0)
    e = tf.constant(E.T[:, :, None], dtype=f.dtype)  # (3, 19, 1)
    j = tf.reduce_sum(e * f[None], axis=1)
    if force is not None:
        j = j + 0.5 * tf.reshape(tf.cast(tf.convert_to_tensor(force), f.dtype), [3, 1])
    u = j / (1.0 + drho)[None, :]
    return drho, j, u
