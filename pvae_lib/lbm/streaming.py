"""Streaming (paper Eq. 21) on fluid nodes only, as one gather.

Only fluid nodes are stored: ``f`` has shape ``(19, N_fluid)``. Pull streaming
``f_i(x, t+1) = f*_i(x - e_i, t)`` becomes ``f_new = take(f_post.ravel(), index)`` with an
index computed once per geometry that already contains periodic wrap-around, half-way
bounce-back on solid voxels and the walls parallel to the flow (``boundaries.py``). On
porous media this skips the solid voxels and needs no masks per step.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .boundaries import resolve_outside
from .stencil import E, OPPOSITE, Q

__all__ = ["FluidLattice", "build_lattice", "stream"]

_DIR_LOOKUP = np.full(27, -1, dtype=np.int64)
_DIR_LOOKUP[(E[:, 0] + 1) * 9 + (E[:, 1] + 1) * 3 + (E[:, 2] + 1)] = np.arange(Q)


class FluidLattice:
    """Fluid nodes of a 3-D image and their streaming index.

    Attributes
    ----------
    shape : tuple of 3 int
    fluid : ndarray of bool (shape)
    ids : ndarray of int64 (shape); node number of each fluid voxel, -1 for solid
    coords : ndarray (N, 3)
    index : ndarray of int32 (19 * N,); flat pull index into ``f_post.ravel()``
    open_nodes : ndarray of bool (19, N); populations coming from an ``'open'`` face (unknown)
    """

    def __init__(self, fluid, ids, coords, index, open_nodes, faces):
        self.fluid, self.ids, self.coords = fluid, ids, coords
        self.index, self.open_nodes, self.faces = index, open_nodes, faces
        self.shape = fluid.shape

    @property
    def n_fluid(self) -> int:
        return len(self.coords)

    def scatter(self, values, fill=0.0) -> np.ndarray:
        """Dense array of ``shape`` (+ trailing dims) from per-node ``values`` (N, ...)."""
        values = np.asarray(values)
        out = np.full(self.shape + values.shape[1:], fill, dtype=values.dtype)
        out[self.fluid] = values
        return out


def build_lattice(fluid: np.ndarray, faces: tuple[str, str, str]) -> FluidLattice:
    """Build the pull index for a 3-D fluid mask.

    Parameters
    ----------
    fluid : ndarray of bool, 3-D
        ``True`` = fluid node.
    faces : tuple of 3 str
        Rule for leaving the box along each axis: ``'periodic'``, ``'noslip'``,
        ``'freeslip'`` or ``'open'`` (pressure boundary; those populations are set by Zou-He).
    """
    fluid = np.ascontiguousarray(fluid, dtype=bool)
    shape = np.array(fluid.shape)
    n = int(np.count_nonzero(fluid))
    if n * Q >= 2**31:
        raise ValueError(f"{n} fluid nodes is too many for a 32-bit streaming index")
    ids = np.full(fluid.shape, -1, dtype=np.int64)
    ids[fluid] = np.arange(n)
    coords = np.argwhere(fluid)
    node = np.arange(n)
    index = np.empty((Q, n), dtype=np.int64)
    open_nodes = np.zeros((Q, n), dtype=bool)
    for i in range(Q):
        src = coords - E[i]
        dirs = np.broadcast_to(E[i], src.shape).copy()
        bounce = np.zeros(n, dtype=bool)
        for a in range(3):
            if not ((src[:, a] < 0) | (src[:, a] >= shape[a])).any():
                continue
            src[:, a], dirs[:, a], b = resolve_outside(src[:, a], dirs[:, a], int(shape[a]), faces[a])
            bounce |= b
            if faces[a] == "open":
                open_nodes[i] |= b
        safe = np.where(bounce[:, None], coords, src)
        src_id = ids[safe[:, 0], safe[:, 1], safe[:, 2]]
        bounce |= src_id < 0  # source is a solid voxel: half-way bounce-back
        d = _DIR_LOOKUP[(dirs[:, 0] + 1) * 9 + (dirs[:, 1] + 1) * 3 + (dirs[:, 2] + 1)]
        index[i] = np.where(bounce, OPPOSITE[i] * n + node, d * n + np.maximum(src_id, 0))
    return FluidLattice(fluid, ids, coords, index.reshape(-1).astype(np.int32), open_nodes, tuple(faces))


def stream(f_post, index):
    """Pull streaming: ``f_new.ravel() = f_post.ravel()[index]`` (shape (19, N) kept)."""
    return tf.reshape(tf.gather(tf.reshape(f_post, [-1]), index), tf.shape(f_post))
