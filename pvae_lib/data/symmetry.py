"""Exact symmetries of a foam sample compressed along x1, and how they act on its permeability tensor.

Uniaxial compression along x1 (array axis 0) leaves the eight symmetries of the square in the
lateral plane (x2, x3) as symmetries of the loading: quarter turns about x1 and reflections
across lateral planes (the dihedral group D4 acting on array axes 1 and 2). Element ``k``
(0-7) turns the sample ``k % 4`` quarter turns from x2 towards x3 and then, for ``k >= 4``,
reflects x3. Each is an orthogonal matrix ``R`` (:func:`lateral_symmetry`); a sample turned by
``R`` has the permeability tensor ``K' = R K R^T`` (:func:`transform_tensor`): the Stokes
problem in the pores is invariant under rotations and reflections, and the D3Q19 lattice
shares these symmetries, so the LBM labels of turned samples obey the same rule
(``tests/test_foam_symmetry.py`` checks all eight).

On the diagonal ``(K11, K22, K33)`` the odd quarter turns swap K22 and K33; reflections change
only the signs of off-diagonal terms. So each labelled sub-volume gives eight exactly labelled
samples for a model of ``(n, K11, K22, K33)`` (:func:`pvae_lib.models.inputs.make_dataset`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["LATERAL_SIZE", "lateral_symmetry", "apply_lateral_symmetry", "transform_tensor", "swaps_lateral_axes"]

#: number of symmetries of the lateral square (D4)
LATERAL_SIZE = 8

_QUARTER = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]])  # x2 -> x3: np.rot90(v, 1, axes=(1, 2))
_REFLECT = np.diag([1, 1, -1])  # x3 -> -x3: np.flip(v, axis=2)


def _check(k) -> int:
    k = int(k)
    if not 0 <= k < LATERAL_SIZE:
        raise ValueError(f"k must be in 0..{LATERAL_SIZE - 1}, got {k}")
    return k


def lateral_symmetry(k: int) -> np.ndarray:
    """Orthogonal matrix (3 x 3, integer entries) of element ``k`` of the lateral symmetries.

    A point at centred coordinates ``x`` of the sample moves to ``R @ x``.
    """
    k = _check(k)
    R = np.linalg.matrix_power(_QUARTER, k % 4)
    return _REFLECT @ R if k >= 4 else R


def apply_lateral_symmetry(volume, k: int) -> np.ndarray:
    """Element ``k`` applied to a volume (D, H, W[, C]) with H = W; ``k = 0`` is the identity."""
    k = _check(k)
    volume = np.asarray(volume)
    if volume.ndim < 3 or volume.shape[1] != volume.shape[2]:
        raise ValueError(f"the lateral symmetries need a volume with equal axes 1 and 2, got shape {volume.shape}")
    out = np.rot90(volume, k % 4, axes=(1, 2))
    return np.flip(out, axis=2) if k >= 4 else out


def transform_tensor(K, k: int) -> np.ndarray:
    """Permeability tensor ``R K R^T`` of a sample turned by element ``k`` (``K``: 3 x 3, or (..., 3, 3))."""
    R = lateral_symmetry(k).astype(float)
    return R @ np.asarray(K, dtype=float) @ R.T


def swaps_lateral_axes(k: int) -> bool:
    """Whether element ``k`` exchanges x2 and x3 (odd quarter turns): then K22 and K33 swap."""
    return _check(k) % 2 == 1
