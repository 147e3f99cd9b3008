"""Repeatable training runs: the seeded train/validation/test split and the seeded, deterministic context."""
from __future__ import annotations

import contextlib

import keras
import numpy as np

__all__ = ["split_indices", "seeded"]


def split_indices(n: int, seed: int, fractions=(0.8, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled train/validation/test index arrays (paper: 80/10/10)."""
    if n < 3:
        raise ValueError(f"need at least 3 samples for a train/validation/test split, got {n}")
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(fractions[1] * n)))
    n_test = max(1, int(round(fractions[2] * n)))
    n_train = n - n_val - n_test
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]


@contextlib.contextmanager
def seeded(seed: int | None, deterministic: bool = True):
    """Seed Python/NumPy/TensorFlow (``keras.utils.set_random_seed``) for a training run.

    With ``deterministic`` TensorFlow op determinism is switched on for the run and switched
    back off afterwards (it is process-global state).
    """
    import tensorflow as tf

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    was_on = False
    try:
        from tensorflow.python.framework import config as _tfc  # private, used only to restore state
        was_on = bool(_tfc.is_op_determinism_enabled())
    except Exception:  # noqa: BLE001
        _tfc = None
    if deterministic and not was_on:
        tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if deterministic and not was_on and _tfc is not None and hasattr(_tfc, "disable_op_determinism"):
            _tfc.disable_op_determinism()
