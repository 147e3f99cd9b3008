"""Grid convergence of voxel permeabilities: refinement, Richardson extrapolation, throat width.

A permeability computed on a voxel image carries a discretisation error that shrinks as the
voxel size ``h`` shrinks. Two ways of refining are used:

* **voxel split** (:func:`refine`): every voxel becomes ``k**d`` voxels. The geometry (the
  staircase walls) stays exactly the same, so the sequence converges to the Stokes solution
  of that voxel geometry, and its observed order measures the solver alone.
* **re-rasterisation** (:func:`sphere_array`, :func:`rasterize_spheres`): an analytic geometry
  drawn again at a finer resolution; the staircase itself changes, so this sequence converges
  to the smooth geometry (e.g. Zick & Homsy's sphere array) but less regularly.

Lengths are in voxels of the *coarsest* level unless stated otherwise; a permeability computed
on an image refined ``k`` times is in fine-voxel units and becomes coarse units with
:func:`to_coarse_units` (``K`` has units of length squared, so it is divided by ``k**2``).
Convention: ``True``/1 = pore (fluid), array axis 0 = x1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "refine",
    "to_coarse_units",
    "sphere_array",
    "ZICK_HOMSY_SC",
    "zick_homsy_permeability",
    "sphere_array_permeability",
    "random_spheres",
    "rasterize_spheres",
    "throat_width",
    "Extrapolation",
    "observed_order",
    "richardson",
    "ErrorModelFit",
    "fit_error_model",
    "corner_exponent",
    "corner_order",
    "summarize",
    "throat_voxels_needed",
]


def refine(image, k: int) -> np.ndarray:
    """Split every voxel (pixel) of a binary image into ``k**ndim`` voxels.

    Parameters
    ----------
    image : array_like of bool, 2-D or 3-D
        ``True`` = pore.
    k : int
        Refinement factor (>= 1); the new voxel edge is ``1/k`` of the old one.

    Returns
    -------
    numpy.ndarray of bool
        Shape ``k * image.shape``; the same geometry (and exactly the same porosity) at
        ``k`` times the resolution.
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k}")
    out = np.asarray(image, dtype=bool)
    for axis in range(out.ndim):
        out = np.repeat(out, k, axis=axis)
    return out


def to_coarse_units(K, k: float):
    """Permeability of an image refined ``k`` times, in units of the coarse voxel edge squared.

    ``K`` (l.u. of the fine grid, fine voxel edge squared) times ``(1/k)**2``.
    """
    return np.asarray(K, dtype=float) / float(k) ** 2 if np.ndim(K) else float(K) / float(k) ** 2


# --------------------------------------------------------------------------- sphere array

#: Zick & Homsy (1982), Table 2, simple cubic array of spheres: solid fraction ``c`` and the
#: dimensionless drag ``K*`` with ``F = 6 pi mu a U K*`` (``U`` superficial velocity).
ZICK_HOMSY_SC = {0.027: 2.008, 0.064: 2.810, 0.125: 4.292, 0.216: 7.442, 0.343: 15.4, 0.45: 28.1, 0.5236: 42.1}


def zick_homsy_permeability(solid_fraction: float) -> float:
    """Permeability of a simple cubic array of spheres (Zick & Homsy 1982), in units of L².

    Darcy's law with the drag per sphere, ``-dp/dx L^3 = 6 pi mu a U K*``, gives
    ``K / L^2 = 1 / (6 pi (a/L) K*)`` with ``a/L = (3 c / 4 pi)^(1/3)``; ``L`` is the lattice
    period. Only the tabulated solid fractions (:data:`ZICK_HOMSY_SC`) are accepted.
    """
    c = float(solid_fraction)
    match = [key for key in ZICK_HOMSY_SC if abs(key - c) < 1e-9]
    if not match:
        raise ValueError(f"solid fraction {c} is not tabulated; use one of {sorted(ZICK_HOMSY_SC)}")
    radius = (3.0 * c / (4.0 * np.pi)) ** (1.0 / 3.0)
    return 1.0 / (6.0 * np.pi * radius * ZICK_HOMSY_SC[match[0]])


def sphere_array_permeability(solid_fraction) -> np.ndarray:
    """Permeability of a simple cubic sphere array at any dilute solid fraction, in units of L².

    The drag factor is Sangani and Acrivos's series [1]_ (its first terms are Hasimoto's),
    ``1 / K* = 1 - 1.7601 c^(1/3) + c - 1.5593 c^2 + 3.9799 c^(8/3) - 3.0734 c^(10/3)``, and
    ``K / L^2 = 1 / (6 pi (a/L) K*)`` as in :func:`zick_homsy_permeability`. It agrees with
    Zick and Homsy's table to 0.06 % at c = 0.125 and 0.8 % at c = 0.216. Its use here: a
    rasterised sphere's voxel solid fraction wanders around ``c`` from grid to grid, and the
    ratio ``sphere_array_permeability(c) / sphere_array_permeability(c_voxel)`` moves each
    level's permeability to the exact solid fraction, so that what is left is the shape error.

    Parameters
    ----------
    solid_fraction : float or array_like
        ``c`` in (0, 0.25].

    References
    ----------
    .. [1] A. S. Sangani, A. Acrivos, Slow flow through a periodic array of spheres,
       Int. J. Multiphase Flow 8 (1982) 343-360.
    """
    c = np.asarray(solid_fraction, dtype=float)
    if np.any(c <= 0) or np.any(c > 0.25):
        raise ValueError(f"the dilute series holds for solid fractions in (0, 0.25], got {solid_fraction}")
    x = np.cbrt(c)
    drag = 1.0 / (1.0 - 1.7601 * x + c - 1.5593 * c**2 + 3.9799 * c ** (8 / 3) - 3.0734 * c ** (10 / 3))
    radius = np.cbrt(3.0 * c / (4.0 * np.pi))
    return 1.0 / (6.0 * np.pi * radius * drag)


def sphere_array(n: int, solid_fraction: float = 0.125) -> np.ndarray:
    """One solid sphere in the middle of a periodic cube of ``n`` voxels (simple cubic array).

    The sphere radius is ``n (3 c / 4 pi)^(1/3)`` voxels; a voxel is solid when its centre lies
    inside the sphere (so the voxel solid fraction differs from ``c`` by the staircase).
    """
    centre = np.array([n / 2.0] * 3)
    radius = n * (3.0 * solid_fraction / (4.0 * np.pi)) ** (1.0 / 3.0)
    return rasterize_spheres(n, centre[None] / n, np.array([radius / n]))


# --------------------------------------------------------------------------- sphere packs

def random_spheres(porosity: float = 0.55, radius_range=(3.0 / 40, 6.0 / 40), rng=None,
                   check_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Centres and radii of a periodic random pack of overlapping solid spheres in the unit cube.

    Spheres with radii uniform in ``radius_range`` (fractions of the box edge) are added at
    uniform random centres until the porosity, measured on a ``check_size**3`` grid, drops to
    ``porosity``. Rasterise the same pack at any resolution with :func:`rasterize_spheres`.

    Returns
    -------
    centres : ndarray (m, 3), radii : ndarray (m,)
        In units of the box edge.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    centres, radii = [], []
    pores = np.ones((check_size,) * 3, dtype=bool)
    grid = (np.indices(pores.shape, dtype=np.float32) + 0.5) / check_size
    while pores.mean() > porosity:
        c, r = rng.uniform(0.0, 1.0, 3), rng.uniform(*radius_range)
        d2 = sum(((grid[a] - c[a] + 0.5) % 1.0 - 0.5) ** 2 for a in range(3))
        pores &= d2 > r * r
        centres.append(c)
        radii.append(r)
    return np.array(centres), np.array(radii)


def rasterize_spheres(n: int, centres, radii) -> np.ndarray:
    """Periodic ``n**3`` voxel image of solid spheres (``True`` = pore).

    Parameters
    ----------
    n : int
        Voxels per box edge.
    centres : array (m, 3), radii : array (m,)
        In units of the box edge (see :func:`random_spheres`); a voxel is solid when its centre
        lies inside a sphere (distances taken periodically).
    """
    centres, radii = np.atleast_2d(centres), np.atleast_1d(radii)
    coords = (np.arange(n, dtype=np.float64) + 0.5) / n
    pores = np.ones((n,) * 3, dtype=bool)
    for c, r in zip(centres, radii):
        d = [((coords - c[a] + 0.5) % 1.0 - 0.5) ** 2 for a in range(3)]
        pores &= (d[0][:, None, None] + d[1][None, :, None] + d[2][None, None, :]) > r * r
    return pores


# --------------------------------------------------------------------------- throat width

def throat_width(pores, axis: int = 0, periodic: bool = True) -> float:
    """Width of the narrowest throat on the widest path through the pores, in voxels.

    The percolation (Katz-Thompson) diameter: with ``r(x)`` the Euclidean distance of a pore
    voxel centre to the nearest solid voxel centre, the largest ``r_c`` such that the voxels
    with ``r >= r_c`` still connect the two faces normal to ``axis``; the result is ``2 r_c``
    (exact for throats an even number of voxels wide, one voxel too wide for odd widths).

    Parameters
    ----------
    pores : array_like of bool, 2-D or 3-D
        ``True`` = pore.
    axis : int
        Flow axis.
    periodic : bool
        Distances and connections wrap around the faces parallel to the flow (as the LBM's
        periodic boundaries do).

    Returns
    -------
    float
        Throat width in voxels; 0 if nothing percolates.
    """
    from scipy import ndimage

    from .images import percolates
    from .lbm.permeability import percolates_periodic

    pores = np.asarray(pores, dtype=bool)
    if periodic:
        pad = max(pores.shape)
        big = np.pad(pores, pad, mode="wrap")
        dist = ndimage.distance_transform_edt(big)[tuple(slice(pad, pad + s) for s in pores.shape)]
        connected = percolates_periodic
    else:
        dist = ndimage.distance_transform_edt(pores)
        connected = percolates
    if not pores.any() or not connected(pores, axis):
        return 0.0
    if pores.all():
        return float("inf")
    levels = np.unique(dist[pores])
    lo, hi = 0, len(levels) - 1  # levels[lo] percolates; find the largest that does
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if connected(dist >= levels[mid], axis):
            lo = mid
        else:
            hi = mid - 1
    return float(2.0 * levels[lo])


# --------------------------------------------------------------------------- Richardson

@dataclass
class Extrapolation:
    """Richardson extrapolation of a quantity computed at several grid spacings.

    Attributes
    ----------
    value : float
        Extrapolated value at ``h -> 0``.
    order : float
        Observed order of convergence ``p`` (or the assumed one, see ``assumed_order``).
    coefficient : float
        ``C`` in ``f(h) = value + C h**p``.
    assumed_order : bool
        True when ``order`` was given rather than measured (two levels).
    """

    value: float
    order: float
    coefficient: float
    assumed_order: bool = False

    def error(self, f) -> np.ndarray:
        """Relative discretisation error ``f / value - 1`` of values ``f``."""
        return np.asarray(f, dtype=float) / self.value - 1.0


def observed_order(f, h) -> float:
    """Observed order ``p`` of ``f(h) = f0 + C h**p`` from three levels.

    Parameters
    ----------
    f : sequence of 3 floats
        Values at the spacings ``h`` (any order).
    h : sequence of 3 floats
        Grid spacings (e.g. ``1, 1/2, 1/3`` for refinement factors 1, 2, 3); ratios need not
        be constant.

    Returns
    -------
    float
        ``p`` solving ``(f1 - f2) / (f2 - f3) = (h1^p - h2^p) / (h2^p - h3^p)``, or ``nan`` when
        the differences change sign (no monotone convergence) or no root lies in (0.05, 20).
    """
    from scipy.optimize import brentq

    h = np.asarray(h, dtype=float)
    f = np.asarray(f, dtype=float)
    if h.size != 3 or f.size != 3:
        raise ValueError("observed_order needs exactly three levels")
    idx = np.argsort(-h)
    (h1, h2, h3), (f1, f2, f3) = h[idx], f[idx]
    d12, d23 = f1 - f2, f2 - f3
    if d23 == 0 or d12 == 0 or np.sign(d12) != np.sign(d23):
        return float("nan")
    ratio = d12 / d23

    def g(p):
        return (h1**p - h2**p) / (h2**p - h3**p) - ratio

    lo, hi = 0.05, 20.0
    if np.sign(g(lo)) == np.sign(g(hi)):
        return float("nan")
    return float(brentq(g, lo, hi, xtol=1e-12))


def richardson(f, h, order: float | None = None) -> Extrapolation:
    """Richardson extrapolation to ``h -> 0``.

    Parameters
    ----------
    f, h : sequences of floats
        Values and their grid spacings (at least two levels).
    order : float, optional
        Known order ``p``. If omitted, the observed order of the three finest levels is used
        (needs three levels with monotone differences).

    Returns
    -------
    Extrapolation
        From the two finest levels: ``value = f_fine + (f_fine - f_coarse) / ((h_c/h_f)^p - 1)``.
    """
    h = np.asarray(h, dtype=float)
    f = np.asarray(f, dtype=float)
    idx = np.argsort(-h)
    h, f = h[idx], f[idx]
    if h.size < 2:
        raise ValueError("richardson needs at least two levels")
    assumed = order is not None
    if order is None:
        if h.size < 3:
            raise ValueError("give order= when only two levels are available")
        order = observed_order(f[-3:], h[-3:])
        if not np.isfinite(order):
            raise ValueError("the three finest levels do not converge monotonically; give order=")
    hc, hf, fc, ff = h[-2], h[-1], f[-2], f[-1]
    coefficient = (fc - ff) / (hc**order - hf**order)
    value = ff - coefficient * hf**order
    return Extrapolation(float(value), float(order), float(coefficient), assumed)


@dataclass
class ErrorModelFit:
    """Least-squares fit of ``f(h) = value + sum_i c_i h**p_i`` with fixed orders ``p_i``.

    Attributes
    ----------
    value : float
        The fitted limit ``f(0)``.
    orders : tuple of float
        The orders ``p_i`` of the error terms.
    coefficients : ndarray
        The ``c_i``.
    residual : float
        Root-mean-square misfit of the levels (``nan`` when the fit is exact, i.e. as many
        levels as unknowns): how well the error model describes the data.
    """

    value: float
    orders: tuple
    coefficients: np.ndarray
    residual: float

    def predict(self, h) -> np.ndarray:
        """The model at spacings ``h``."""
        h = np.asarray(h, dtype=float)
        return self.value + sum(c * h**p for c, p in zip(self.coefficients, self.orders))

    def error(self, f) -> np.ndarray:
        """Relative discretisation error ``f / value - 1`` of values ``f``."""
        return np.asarray(f, dtype=float) / self.value - 1.0


def fit_error_model(f, h, orders=(1.0, 2.0)) -> ErrorModelFit:
    """Extrapolate to ``h -> 0`` with an error model of several fixed orders.

    Richardson's single power ``C h**p`` fails when two errors of different order and sign
    compete, as on a re-rasterised curved body: the staircase's roughness gives a first-order
    error, the flow solver a second-order one, and the sequence need not be monotone. Eça and
    Hoekstra fit such sequences with ``f(h) = f_0 + c_1 h + c_2 h**2`` by least squares
    ([1]_); with more levels than unknowns the misfit (``residual``) tests the model.

    Parameters
    ----------
    f, h : sequences of floats
        Values and their grid spacings; at least ``len(orders) + 1`` levels.
    orders : sequence of float
        Orders of the error terms (default first and second).

    Returns
    -------
    ErrorModelFit

    See Also
    --------
    richardson : one error term of observed order.

    References
    ----------
    .. [1] L. Eça, M. Hoekstra, A procedure for the estimation of the numerical uncertainty
       of CFD calculations based on grid refinement studies, J. Comput. Phys. 262 (2014) 104-130.
    """
    f = np.asarray(f, dtype=float)
    h = np.asarray(h, dtype=float)
    orders = tuple(float(p) for p in orders)
    if f.shape != h.shape or f.ndim != 1:
        raise ValueError(f"f and h must be 1-D of the same length, got {f.shape} and {h.shape}")
    if len(f) < len(orders) + 1:
        raise ValueError(f"{len(orders) + 1} levels are needed for {len(orders)} error terms, got {len(f)}")
    if not (np.all(np.isfinite(f)) and np.all(h > 0)):
        raise ValueError("values must be finite and spacings positive")
    A = np.column_stack([np.ones_like(h)] + [h**p for p in orders])
    coef, *_ = np.linalg.lstsq(A, f, rcond=None)
    dof = len(f) - A.shape[1]
    residual = float(np.sqrt(np.sum((A @ coef - f) ** 2) / dof)) if dof > 0 else float("nan")
    return ErrorModelFit(float(coef[0]), orders, coef[1:], residual)


# --------------------------------------------------------------------------- corner singularities

def corner_exponent(angle: float, flow: str = "stokes") -> float:
    """Exponent ``lambda`` of the velocity ``~ r**lambda`` near a corner of the fluid domain.

    Parameters
    ----------
    angle : float
        Opening angle ``omega`` of the fluid at the corner (radians): ``3 pi / 2`` at the convex
        edge of a solid voxel (a re-entrant corner of the fluid), ``pi / 2`` in the corner of a
        square duct.
    flow : {'stokes', 'duct'}
        ``'stokes'``: Stokes flow across the edge, no slip on both walls; ``lambda`` is the
        smallest root above 0 (other than the spurious ``lambda = 1`` of the symmetric family)
        of ``sin(lambda omega) = +- lambda sin(omega)`` (Dean and Montagnon; Moffatt [1]_).
        ``'duct'``: fully developed flow along the edge (a Poisson problem), ``lambda = pi / omega``.

    Returns
    -------
    float
        ``lambda``; below 1 the velocity gradient is infinite at the corner. ``inf`` for
        Stokes corners narrower than about 146 degrees, whose roots are all complex with real
        parts above 1 (Moffatt's eddies): no singularity limits the order there.

    See Also
    --------
    corner_order : the convergence order this exponent allows.

    References
    ----------
    .. [1] H. K. Moffatt, Viscous and resistive eddies near a sharp corner, J. Fluid Mech. 18
       (1964) 1-18.
    """
    from scipy.optimize import brentq

    omega = float(angle)
    if not 0 < omega < 2 * np.pi:
        raise ValueError(f"angle must lie in (0, 2 pi) radians, got {angle}")
    if flow == "duct":
        return float(np.pi / omega)
    if flow != "stokes":
        raise ValueError(f"flow must be 'stokes' or 'duct', got {flow!r}")
    roots = []
    grid = np.linspace(1e-6, 4.0, 40_001)
    for sign in (1.0, -1.0):
        g = np.sin(grid * omega) - sign * grid * np.sin(omega)
        for i in np.nonzero(np.sign(g[:-1]) != np.sign(g[1:]))[0]:
            lam = brentq(lambda x: np.sin(x * omega) - sign * x * np.sin(omega), grid[i], grid[i + 1], xtol=1e-14)
            if not (sign > 0 and abs(lam - 1.0) < 1e-9):
                roots.append(lam)
    return float(min(roots)) if roots else float("inf")


def corner_order(angle: float, flow: str = "stokes", scheme_order: float = 2.0) -> float:
    """Convergence order of the permeability on a fixed geometry with such corners.

    The error of an integral quantity such as the flux converges at twice the rate of the
    energy-norm error, ``h**(2 lambda)``, where ``lambda`` is :func:`corner_exponent`; it
    cannot beat the scheme's own order. A voxel staircase has fluid corners of ``3 pi / 2``
    at every convex solid edge, hence ``2 * 0.5445 = 1.09`` for flow across the edges and
    ``4/3`` for flow along them, while walls without convex edges keep second order.
    """
    return float(min(scheme_order, 2.0 * corner_exponent(angle, flow)))


# --------------------------------------------------------------------------- study tables

def summarize(table, max_level: float | None = None):
    """Richardson summary of a grid-convergence table (``benchmarks/grid_convergence.py``).

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``structure, refinement, solver, level, K, throat_voxels`` (``K`` in units of
        the base voxel edge squared, ``level`` the resolution factor, ``h = 1/level``).
    max_level : float, optional
        Ignore finer levels (to compare series over the same levels).

    Returns
    -------
    pandas.DataFrame
        One row per ``(structure, refinement, solver)``: ``levels``, ``K_base`` (level 1),
        ``K_finest``, ``K_extrapolated`` and the observed ``order`` from the three finest
        levels (NaN with fewer than three levels or without monotone convergence),
        ``error_base = K_base / K_extrapolated - 1``, ``throat_base`` (voxels at level 1) and
        ``C``, the coefficient of ``K(h) = K_extrapolated + C h**order``.
    """
    import pandas as pd

    rows = []
    for key, group in table.groupby(["structure", "refinement", "solver"], sort=False):
        group = group.sort_values("level")
        if max_level is not None:
            group = group[group.level <= max_level]
        h = 1.0 / group.level.to_numpy(dtype=float)
        K = group.K.to_numpy(dtype=float)
        value = order = coefficient = np.nan
        if len(group) >= 3:
            try:
                ex = richardson(K, h)
                value, order, coefficient = ex.value, ex.order, ex.coefficient
            except ValueError:
                pass
        base = group[group.level == 1]
        rows.append(dict(
            structure=key[0], refinement=key[1], solver=key[2],
            levels=" ".join(f"{v:g}" for v in group.level),
            K_base=float(base.K.iloc[0]) if len(base) else np.nan,
            K_finest=float(K[-1]),
            K_extrapolated=value,
            order=order,
            error_base=float(base.K.iloc[0]) / value - 1.0 if len(base) else np.nan,
            throat_base=float(base.throat_voxels.iloc[0]) if len(base) else np.nan,
            C=coefficient,
        ))
    return pd.DataFrame(rows)


def throat_voxels_needed(summary_row, tolerance: float) -> float:
    """Voxels per throat at which the Richardson error model ``|C h^p / K_inf|`` equals ``tolerance``.

    The throat width scales with the resolution, ``w = throat_base / h``, so
    ``w = throat_base * (|C| / (K_inf tolerance))**(1/p)``.
    """
    C, p, K = summary_row["C"], summary_row["order"], summary_row["K_extrapolated"]
    return float(summary_row["throat_base"] * (abs(C) / (abs(K) * tolerance)) ** (1.0 / p))
