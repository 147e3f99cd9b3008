"""A regressor of volumes that is equivariant under the lateral symmetries by construction (tests)."""
import numpy as np


def lateral_features(batch) -> np.ndarray:
    """(N, X, Y, Z, 1) volumes -> (N, 4): the mean (an n) and the mean absolute step along x1, x2 and
    x3 (a K11-like and two K22/K33-like features). A quarter turn about x1 swaps the last two
    columns, a reflection leaves all four alone."""
    b = np.asarray(batch)[..., 0]
    return np.stack([b.mean(axis=(1, 2, 3)), np.abs(np.diff(b, axis=1)).mean(axis=(1, 2, 3)),
                     np.abs(np.diff(b, axis=2)).mean(axis=(1, 2, 3)),
                     np.abs(np.diff(b, axis=3)).mean(axis=(1, 2, 3))], axis=1)
