"""Boundary conditions.

* Solid voxels: half-way bounce-back (the wall sits on the voxel face). A population that
  would stream from a solid voxel into a fluid node is replaced by the opposite population
  that left that node.
* Domain faces parallel to the flow (``LBMConfig.boundary``): ``'periodic'`` (wrap around),
  ``'noslip'`` (bounce-back, as if a solid layer surrounded the sample) or ``'freeslip'``
  (specular reflection: the tangential velocity is free, the normal one zero).
* Faces normal to the flow: periodic for a body-force drive, or the Zou-He pressure
  (density) inlet/outlet of the paper (Zou & He 1997; 3-D form of Hecht & Harting 2010).

The first three rules are folded into the streaming gather index (``streaming.py``), so they
cost nothing per step; :func:`resolve_outside` is the rule for one coordinate outside the box.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

from .stencil import CS2, E, OPPOSITE, W

__all__ = ["FACE_RULES", "resolve_outside", "ZouHePlane", "zou_he_plane", "apply_zou_he"]

FACE_RULES = ("periodic", "noslip", "freeslip", "open")


def resolve_outside(src, direction, size: int, rule: str):
    """Map source coordinates ``src`` (one axis) that fall outside ``[0, size)``.

    Parameters
    ----------
    src : ndarray of int
        Source coordinate ``x_a - e_a`` of every node, one axis.
    direction : ndarray of int
        Component ``e_a`` of the pulled direction, same shape.
    size : int
        Number of nodes along the axis.
    rule : {'periodic', 'noslip', 'freeslip', 'open'}

    Returns
    -------
    src, direction : ndarray
        Updated coordinate and direction component.
    bounce : ndarray of bool
        Nodes whose population must be bounced back (no-slip wall) or that are unknown
        (``'open'``: set later by the Zou-He rule).
    """
    if rule not in FACE_RULES:
        raise ValueError(f"face rule must be one of {FACE_RULES}, got {rule!r}")
    src = np.array(src, copy=True)
    direction = np.array(direction, copy=True)
    lo, hi = src < 0, src >= size
    outside = lo | hi
    bounce = np.zeros(src.shape, dtype=bool)
    if rule == "periodic":
        src %= size
    elif rule in ("noslip", "open"):
        bounce = outside
    else:  # freeslip: mirror position and flip the normal velocity component
        src = np.where(lo, -src - 1, np.where(hi, 2 * size - src - 1, src))
        direction = np.where(outside, -direction, direction)
    return src, direction, bounce


class ZouHePlane:
    """Precomputed indices for a Zou-He pressure boundary on one plane normal to axis 0."""

    def __init__(self, node_ids: np.ndarray, normal: int, density: float):
        if normal not in (1, -1):
            raise ValueError("normal must be +1 (inlet at x = 0) or -1 (outlet at x = X-1)")
        self.node_ids = np.asarray(node_ids, dtype=np.int64)
        self.normal = normal
        self.density = float(density)
        self.zero = np.flatnonzero(E[:, 0] == 0)
        self.outgoing = np.flatnonzero(E[:, 0] == -normal)
        self.unknown = np.flatnonzero(E[:, 0] == normal)


def zou_he_plane(fluid: np.ndarray, ids: np.ndarray, side: str, density: float) -> ZouHePlane:
    """Zou-He plane for the inlet (``side='in'``, x = 0) or outlet (``'out'``, x = X-1)."""
    x = 0 if side == "in" else fluid.shape[0] - 1
    plane_ids = ids[x][fluid[x]]
    return ZouHePlane(plane_ids, 1 if side == "in" else -1, density)


def apply_zou_he(f, plane: ZouHePlane):
    """Set the unknown populations of a pressure plane (zero-centred ``f``, shape (19, N)).

    With the prescribed density ``rho`` and zero tangential velocity::

        u_n   = n (rho - 1 - [sum_{e_x=0} f + 2 sum_{e_x=-n} f]) / rho     (zero-centred sums)
        f_i   = f_opp(i) + 6 w_i rho e_ix u_n - (e_iy N_y + e_iz N_z)/2,   N_t = sum_{e_x=0} f e_t

    which conserves the tangential momentum (Hecht & Harting 2010).
    """
    if plane.node_ids.size == 0:
        return f
    g = tf.gather(f, plane.node_ids, axis=1)  # (19, M)
    rows = tf.unstack(g, axis=0)
    rho = plane.density
    s = tf.add_n([rows[i] for i in plane.zero]) + 2.0 * tf.add_n([rows[i] for i in plane.outgoing])
    un = plane.normal * (rho - 1.0 - s) / rho
    n_t = {a: tf.add_n([float(E[i, a]) * rows[i] for i in plane.zero if E[i, a] != 0]) for a in (1, 2)}
    values = []
    for i in plane.unknown:
        v = rows[OPPOSITE[i]] + (6.0 * W[i] * rho * E[i, 0]) * un
        for a in (1, 2):
            if E[i, a] != 0:
                v = v - 0.5 * float(E[i, a]) * n_t[a]
        values.append(v)
    m = plane.node_ids.size
    idx = np.stack(
        [np.repeat(plane.unknown, m), np.tile(plane.node_ids, plane.unknown.size)], axis=1
    ).astype(np.int32)
    return tf.tensor_scatter_nd_update(f, idx, tf.concat(values, axis=0))


def pressure_gradient(density_difference: float, length: int) -> float:
    """Lattice pressure gradient magnitude ``c_s^2 (rho_in - rho_out) / (X - 1)`` between the planes."""
    return CS2 * density_difference / (length - 1)
