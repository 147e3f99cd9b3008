"""Exact permeability of extruded structures: fully developed duct flow on the cross-section.

For a structure whose slices along the flow axis are identical (the synthetic square-pore
dataset), steady Stokes flow is unidirectional, ``u = u(y, z) e_x``, and solves the 2-D
Poisson problem ``mu * laplace(u) = -G`` on the pore pixels of the cross-section with
``u = 0`` on the walls. Walls sit on pixel faces, as in half-way bounce-back LBM, which makes
this solver the exact (up to second-order discretisation) counterpart of the 3-D LBM.

Permeability follows Darcy's law with the superficial velocity (paper Eq. 22):
``K = mu * <u> / G`` with ``<u>`` averaged over the *whole* cross-section, solid included,
in lattice units (pixel spacing squared).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

from .images import as_pore_array, normalize_axis, require_pore_space

__all__ = ["cross_section", "duct_velocity", "stokes2d_permeability", "BOUNDARIES"]

BOUNDARIES = ("periodic", "noslip", "freeslip")


def cross_section(image, axis: int | str = 0) -> np.ndarray:
    """Return the 2-D pore pattern of an extruded image.

    Parameters
    ----------
    image : array_like
        2-D pattern (returned as is) or 3-D stack extruded along ``axis``.
    axis : int or {'x', 'y', 'z'}
        Flow (extrusion) axis of a 3-D stack.

    Raises
    ------
    ValueError
        If the slices of a 3-D stack along ``axis`` are not all identical.
    """
    pores = as_pore_array(image, ndim=(2, 3))
    if pores.ndim == 2:
        return pores
    axis = normalize_axis(axis, 3)
    stack = np.moveaxis(pores, axis, 0)
    if not np.all(stack == stack[:1]):
        raise ValueError(
            "image is not extruded along the flow axis (its slices differ); "
            "use the 3-D LBM (pvae_lib.lbm.permeability) for general structures"
        )
    return stack[0]


def _laplacian(section: np.ndarray, boundary: str) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Assemble ``-laplace`` on the pore pixels with walls on pixel faces.

    Along each axis the second derivative at a pore pixel uses its two neighbours at
    distances ``d_minus, d_plus``: 1 for a pore neighbour, 1/2 for a wall (a solid pixel or a
    no-slip domain face, where ``u = 0``), and a mirrored value at distance 1 for a free-slip
    face. This Shortley-Weller stencil,

        u'' = 2 / (d_m + d_p) * ((u_p - u_c) / d_p - (u_c - u_m) / d_m),

    is exact for the parabolic profile of plane Poiseuille flow, like half-way bounce-back
    LBM with the TRT "magic" parameter, so both solvers converge to the same answer.
    """
    index = -np.ones(section.shape, dtype=np.int64)
    pore = np.nonzero(section)
    n = pore[0].size
    index[pore] = np.arange(n)
    diagonal = np.zeros(n)
    rows, cols, values = [], [], []
    for axis in range(2):
        size = section.shape[axis]
        neighbours = {}
        for step in (-1, 1):
            coord = pore[axis] + step
            at_face = (coord < 0) | (coord >= size)
            other = [c.copy() for c in pore]
            other[axis] = coord % size
            nb = index[tuple(other)]
            if boundary == "periodic":
                at_face[:] = False
            nb = np.where(at_face, -1, nb)
            is_wall = (nb < 0) & ~(at_face & (boundary == "freeslip"))
            distance = np.where(is_wall, 0.5, 1.0)
            neighbours[step] = (nb, is_wall, distance)
        d_sum = neighbours[-1][2] + neighbours[1][2]
        for nb, is_wall, distance in neighbours.values():
            weight = 2.0 / (d_sum * distance)
            diagonal += np.where(nb >= 0, weight, 0.0) + np.where(is_wall, weight, 0.0)
            fluid = nb >= 0
            rows.append(np.nonzero(fluid)[0])
            cols.append(nb[fluid])
            values.append(-weight[fluid])
    matrix = sparse.coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    return (matrix + sparse.diags(diagonal)).tocsr(), index


def duct_velocity(section, boundary: str = "periodic", G: float = 1.0, mu: float = 1.0) -> np.ndarray:
    """Velocity field of fully developed flow through the pore pattern ``section``.

    Parameters
    ----------
    section : array_like, shape (ny, nz)
        Binary cross-section, ``True``/1 = pore.
    boundary : {'periodic', 'noslip', 'freeslip'}
        Condition on the domain faces parallel to the flow: periodic wrap, a no-slip wall on
        the outer pixel faces, or free slip (zero shear).
    G : float
        Driving pressure gradient ``-dp/dx`` (or body force density).
    mu : float
        Dynamic viscosity.

    Returns
    -------
    numpy.ndarray, shape (ny, nz)
        Axial velocity, zero in solid pixels.
    """
    pores = as_pore_array(section, ndim=2, name="section")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    # Without solid, only no-slip domain faces can balance the drive.
    require_pore_space(pores, name="section", allow_all_pore=boundary == "noslip")
    matrix, index = _laplacian(pores, boundary)
    solution = spsolve(matrix.tocsc(), np.full(matrix.shape[0], G / mu))
    velocity = np.zeros(pores.shape)
    velocity[pores] = solution[index[pores]]
    if not np.all(np.isfinite(velocity)):
        raise RuntimeError("the duct-flow solve produced non-finite values (singular system)")
    return velocity


def stokes2d_permeability(image, axis: int | str = 0, boundary: str = "periodic") -> float:
    """Permeability ``K`` along the extrusion axis of an extruded structure, in lattice units.

    Parameters
    ----------
    image : array_like
        A 2-D pore pattern or a 3-D stack whose slices along ``axis`` are identical
        (``True``/1 = pore).
    axis : int or {'x', 'y', 'z'}
        Flow axis of a 3-D stack (``'x'`` = array axis 0).
    boundary : {'periodic', 'noslip', 'freeslip'}
        Condition on the faces parallel to the flow.

    Returns
    -------
    float
        ``K = mu <u> / G`` in l.u. (pixel spacing squared), ``<u>`` averaged over the whole
        cross-section (superficial velocity, paper Eq. 22). Multiply by the voxel area
        (m²) for physical units (paper Eq. 25).

    References
    ----------
    F. M. White, *Viscous Fluid Flow*, duct flow; paper Eq. 22.
    """
    section = cross_section(image, axis)
    return float(duct_velocity(section, boundary=boundary).mean())
