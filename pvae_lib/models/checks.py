"""Input checks of the models: image batches and property targets, with errors that say what to fix."""
from __future__ import annotations

import numpy as np

__all__ = ["as_image_batch", "as_targets"]


def as_image_batch(images, name: str = "images", spatial_ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """Validate a batch of binary/float images (N, H, W[, D]) and return float32 with a channel axis.

    Accepts bool, 0/1 integers or floats in [0, 1]; a trailing channel axis of size 1 is allowed.
    """
    x = np.asarray(images)
    if x.dtype == object or not (x.dtype == bool or np.issubdtype(x.dtype, np.number)):
        raise TypeError(f"{name} must be a numeric or bool array, got dtype {x.dtype}")
    if x.ndim >= 2 and x.shape[-1] == 1 and x.ndim - 2 in spatial_ndim:
        x = x[..., 0]
    if x.ndim - 1 not in spatial_ndim:
        raise ValueError(f"{name} must have shape (samples, {' or '.join(f'{d} spatial axes' for d in spatial_ndim)}), "
                         f"got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or Inf")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"{name} must be binary (1 = pore, 0 = solid) or in [0, 1]; got range [{x.min()}, {x.max()}]")
    return x[..., None]


def as_targets(targets, n: int, name: str = "targets") -> np.ndarray:
    """Validate targets (N,) or (N, P) with finite values and return (N, P) float64."""
    y = np.asarray(targets, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"{name} must have shape (samples,) or (samples, properties), got {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but there are {n} images; lengths must match")
    bad = ~np.isfinite(y)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])[:5].tolist()
        raise ValueError(f"{name} contain NaN or Inf (e.g. in rows {rows}); remove or fix those samples")
    return y
