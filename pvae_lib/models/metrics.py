"""Regression and reconstruction metrics (numpy)."""
from __future__ import annotations

import numpy as np

__all__ = ["r2_score", "voxel_accuracy"]


def r2_score(y_true, y_pred) -> np.ndarray:
    """Coefficient of determination per output column (paper Eq. 12).

    :math:`R^2 = 1 - \\sum_i (y_i - h_i)^2 / \\sum_i (y_i - \\bar y)^2`.

    Parameters
    ----------
    y_true, y_pred : array_like, shape (n,) or (n, n_outputs)

    Returns
    -------
    numpy.ndarray, shape (n_outputs,)
        One value per column (a 1-element array for 1-D input).
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim == 1:
        t = t[:, None]
    if p.ndim == 1:
        p = p[:, None]
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred shapes differ: {t.shape} vs {p.shape}")
    if t.shape[0] < 2:
        raise ValueError("R² needs at least 2 samples")
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    return np.where(ss_tot > 0, r2, np.where(ss_res == 0, 1.0, 0.0))


def voxel_accuracy(x_true, x_pred, threshold: float = 0.5) -> float:
    """Fraction of voxels where ``x_pred > threshold`` equals the binary ``x_true``."""
    t = np.asarray(x_true) > 0.5
    p = np.asarray(x_pred) > threshold
    if t.shape != p.shape:
        raise ValueError(f"shapes differ: {t.shape} vs {p.shape}")
    return float(np.mean(t == p))
