"""Validation and basic measures of binary pore images (porosity, percolation).

Convention: ``True``/1 = pore (fluid), ``False``/0 = solid.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["as_pore_array", "porosity", "percolates", "periodic_label", "require_pore_space"]

_AXIS_NAMES = {"x": 0, "y": 1, "z": 2}


def normalize_axis(axis: int | str, ndim: int) -> int:
    """Return ``axis`` as a non-negative int; accepts ``'x'|'y'|'z'`` (array axes 0, 1, 2)."""
    if isinstance(axis, str):
        if axis.lower() not in _AXIS_NAMES:
            raise ValueError(f"axis must be 'x', 'y', 'z' or an int, got {axis!r}")
        axis = _AXIS_NAMES[axis.lower()]
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis!r} is out of range for a {ndim}-D image")
    return int(axis) % ndim


def as_pore_array(image, ndim: int | tuple[int, ...] | None = None, name: str = "image") -> np.ndarray:
    """Check that ``image`` is a binary pore image and return it as a ``bool`` array.

    Parameters
    ----------
    image : array_like of bool or integer/float 0/1 values
        ``True``/1 = pore (fluid), ``False``/0 = solid.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions (e.g. ``3`` or ``(2, 3)``).
    name : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    TypeError
        For non-numeric input (strings, objects).
    ValueError
        For the wrong rank, an empty array, NaN/Inf, or values other than 0 and 1.
    """
    arr = np.asarray(image)
    if arr.dtype == bool:
        out = arr
    else:
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError(f"{name} must be a bool or numeric array, got dtype {arr.dtype}")
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or Inf; expected a binary image (1 = pore, 0 = solid)")
        is_one = arr == 1
        if not np.all(is_one | (arr == 0)):
            bad = np.unique(arr[~(is_one | (arr == 0))])[:5]
            raise ValueError(
                f"{name} is not binary: found values {bad.tolist()} besides 0 and 1. "
                "Threshold it first (e.g. pvae_lib.binarize.binarize) with 1 = pore, 0 = solid."
            )
        out = is_one
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and out.ndim not in allowed:
        raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, got shape {out.shape}")
    if out.size == 0:
        raise ValueError(f"{name} is empty (shape {out.shape})")
    return out


def porosity(image) -> float:
    """Porosity :math:`n^F`: fraction of pore voxels (paper Eq. 1).

    Parameters
    ----------
    image : array_like
        Binary image of any rank, ``True``/1 = pore. Counting uses ``np.count_nonzero``,
        so large images cannot overflow an integer sum.

    Returns
    -------
    float
        Dimensionless, in [0, 1].
    """
    arr = as_pore_array(image)
    return np.count_nonzero(arr) / arr.size


def require_pore_space(pores: np.ndarray, name: str = "image", allow_all_pore: bool = False) -> None:
    """Raise ``ValueError`` if ``pores`` has no pore voxel, or no solid voxel.

    An image without solid is allowed with ``allow_all_pore=True`` (e.g. a duct whose walls
    are the no-slip domain faces).
    """
    n_pore = np.count_nonzero(pores)
    if n_pore == 0:
        raise ValueError(f"{name} has no pore space (every voxel is solid); permeability is undefined")
    if n_pore == pores.size and not allow_all_pore:
        raise ValueError(
            f"{name} is all pore (no solid voxel); with periodic walls the permeability is unbounded"
        )


def percolates(image, axis: int | str = 0) -> bool:
    """True if one face-connected pore cluster touches both faces normal to ``axis``.

    Parameters
    ----------
    image : array_like
        Binary 2-D or 3-D image, ``True``/1 = pore.
    axis : int or {'x', 'y', 'z'}
        Flow axis (array axis; ``'x'`` = 0).
    """
    pores = as_pore_array(image, ndim=(2, 3))
    axis = normalize_axis(axis, pores.ndim)
    labels, n = ndimage.label(pores)  # face connectivity (6 in 3-D, 4 in 2-D)
    if n == 0:
        return False
    inlet = np.unique(np.take(labels, 0, axis=axis))
    outlet = np.unique(np.take(labels, -1, axis=axis))
    common = np.intersect1d(inlet[inlet > 0], outlet[outlet > 0])
    return common.size > 0


def periodic_label(pores, periodic_axes, structure=None):
    """Label the pore clusters of an image whose faces normal to ``periodic_axes`` wrap around.

    Clusters found by :func:`scipy.ndimage.label` that touch each other across a periodic face
    are merged (connected components of the touching pairs,
    :func:`scipy.sparse.csgraph.connected_components`).

    Parameters
    ----------
    pores : ndarray of bool
        2-D or 3-D image, ``True`` = pore.
    periodic_axes : iterable of int
        Array axes whose two end faces are neighbours.
    structure : ndarray, optional
        Connectivity passed to :func:`scipy.ndimage.label` (default: face connectivity).

    Returns
    -------
    labels : ndarray of int
        0 = solid, ``1..count`` the merged clusters, numbered in the order of their first
        ``ndimage`` label.
    count : int
    wraps : ndarray of bool, shape (count,)
        True for a cluster joined across a periodic face.

    See Also
    --------
    percolates : the same clusters without periodic faces.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    labels, n = ndimage.label(pores, structure)
    pairs = []
    for ax in periodic_axes:
        lo, hi = np.take(labels, 0, axis=ax).ravel(), np.take(labels, -1, axis=ax).ravel()
        both = (lo > 0) & (hi > 0)
        pairs.append(np.stack([lo[both], hi[both]], axis=1))
    pairs = np.concatenate(pairs, axis=0) - 1 if pairs else np.zeros((0, 2), dtype=np.int64)
    if n == 0 or len(pairs) == 0:
        return labels, n, np.zeros(n, dtype=bool)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, component = connected_components(graph, directed=False)
    crossing = np.zeros(n, dtype=bool)
    crossing[pairs.ravel()] = True
    wraps = np.zeros(count, dtype=bool)
    np.logical_or.at(wraps, component, crossing)
    return np.concatenate([[0], component + 1])[labels], count, wraps

