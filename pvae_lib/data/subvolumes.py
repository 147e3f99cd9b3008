"""Cut many small cubic samples out of large volumes with a stride (paper Fig. 19).

The paper cuts five 1100×1100×300 μ-CT volumes into 8,965 samples of 100³ voxels. Along
each axis of length ``L`` a window of ``n`` voxels moved by ``stride`` fits
``(L - n) // stride + 1`` times (:func:`count_subvolumes`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["count_subvolumes", "subvolume_origins", "extract_subvolumes"]


def count_subvolumes(shape, size: int, stride: int) -> int:
    """Number of ``size``³ windows with ``stride`` in a volume of ``shape``."""
    shape = tuple(int(s) for s in shape)
    if size < 1 or stride < 1:
        raise ValueError(f"size and stride must be >= 1, got {size}, {stride}")
    if any(s < size for s in shape):
        return 0
    return int(np.prod([(s - size) // stride + 1 for s in shape]))


def subvolume_origins(shape, size: int, stride: int) -> np.ndarray:
    """Corners ``(x0, y0, z0)`` of every ``size``³ window with ``stride``, shape (M, 3), C order."""
    if count_subvolumes(shape, size, stride) == 0:
        raise ValueError(f"a {size}-voxel window does not fit into a volume of shape {tuple(shape)}")
    axes = [np.arange(0, int(s) - size + 1, stride) for s in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(shape))


def extract_subvolumes(volume, size: int, stride: int) -> np.ndarray:
    """All ``size``³ windows of ``volume`` moved by ``stride``: array (M, size, size, size), a copy."""
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D, got shape {volume.shape}")
    origins = subvolume_origins(volume.shape, size, stride)
    windows = np.lib.stride_tricks.sliding_window_view(volume, (size,) * 3)[::stride, ::stride, ::stride]
    return np.ascontiguousarray(windows.reshape(len(origins), size, size, size))
