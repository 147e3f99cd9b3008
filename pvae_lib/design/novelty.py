"""How new a design is: its pixel distance to the nearest training structure, up to the symmetries of the square.

A designer that hands back a training structure (or a rotated or reflected copy, which has the
same porosity and duct-flow K11) has looked the target up, not designed for it. The distance
is counted in pixels that differ, the minimum over the eight symmetries of the square of the
design and over all training structures; 0 means the design *is* a training structure.
"""
from __future__ import annotations

import numpy as np

__all__ = ["nearest_training_distance"]


def _packed(images: np.ndarray) -> np.ndarray:
    """(N, H*W) bool -> (N, words) uint64, zero padded (the padding never differs)."""
    flat = np.packbits(images.reshape(len(images), -1), axis=1)
    pad = (-flat.shape[1]) % 8
    if pad:
        flat = np.pad(flat, ((0, 0), (0, pad)))
    return np.ascontiguousarray(flat).view(np.uint64)


def nearest_training_distance(designs, train_images, symmetries: bool = True, chunk: int = 64):
    """Pixel distance of every design to its nearest training structure.

    Parameters
    ----------
    designs : (T, H, W) bool designed structures (True = pore)
    train_images : (N, H, W) bool training structures
    symmetries : also compare the seven rotated and reflected copies of each design (square
        images only): they have the same porosity and K11 as the design itself
    chunk : designs compared at once (memory: ``chunk * N * H * W / 8`` bytes)

    Returns
    -------
    distance : (T,) int64, number of differing pixels (0 = a copy of a training structure)
    index : (T,) int64, the nearest training structure

    Examples
    --------
    >>> import numpy as np
    >>> train = np.zeros((2, 4, 4), bool); train[1, :2, :2] = True
    >>> design = np.rot90(train[1])[None]          # a rotated copy of structure 1
    >>> nearest_training_distance(design, train)
    (array([0]), array([1]))
    """
    from ..models.inputs import D4_SIZE, d4_transform

    designs = np.asarray(designs, dtype=bool)
    train = np.asarray(train_images, dtype=bool)
    if designs.ndim != 3 or train.ndim != 3 or designs.shape[1:] != train.shape[1:]:
        raise ValueError(f"designs {designs.shape} and train_images {train.shape} must be (T, H, W) and (N, H, W)")
    if len(train) == 0:
        raise ValueError("train_images is empty")
    square = designs.shape[1] == designs.shape[2]
    elements = range(D4_SIZE) if symmetries and square else range(1)
    train_bits = _packed(train)
    distance = np.full(len(designs), np.iinfo(np.int64).max, dtype=np.int64)
    index = np.zeros(len(designs), dtype=np.int64)
    for s in range(0, len(designs), chunk):
        part = designs[s:s + chunk]
        for k in elements:
            bits = _packed(np.stack([d4_transform(im, k) for im in part]))
            d = np.bitwise_count(bits[:, None, :] ^ train_bits[None, :, :]).sum(axis=2, dtype=np.int64)
            best = d.argmin(axis=1)
            dist = d[np.arange(len(part)), best]
            better = dist < distance[s:s + len(part)]
            distance[s:s + len(part)][better] = dist[better]
            index[s:s + len(part)][better] = best[better]
    return distance, index
