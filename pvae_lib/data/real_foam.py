"""The authors' published real-foam labels (micro-CT, 798 sub-volumes of 200³) and the K–n figure.

The paper's authors published the porosity and the three diagonal LBM permeabilities of 798
sub-volumes of 200³ voxels cut from micro-CT scans of a real open-cell foam (no images). The
table ships with this package (``pvae_lib/data/reference/data3D200.csv``, MIT License,
copyright 2025 Phu Thien Nguyen; attribution and licence text next to it) and is read with
:func:`load_real_foam`. :func:`kozeny_carman` and :func:`fit_kozeny_carman` give the classical
porosity–permeability reference curve, :func:`anisotropy` the ratios of the diagonal
permeabilities and :func:`plot_k_vs_n` the log K against n comparison of several data sets
(paper Fig. 29).

All permeabilities are in lattice units (l.u.: voxel spacing squared); porosity ``n`` is the
pore volume fraction (dimensionless), True/1 = pore.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..plotting import BOOK_WIDTH
from .properties import CASE, PERMEABILITY_COLUMNS, POROSITY, read_properties

__all__ = [
    "REAL_FOAM_ROWS",
    "REAL_FOAM_COLUMNS",
    "real_foam_path",
    "load_real_foam",
    "kozeny_carman",
    "fit_kozeny_carman",
    "fit_exponential",
    "anisotropy",
    "plot_k_vs_n",
]

#: Number of sub-volumes in the published table.
REAL_FOAM_ROWS = 798

VELOCITY_COLUMNS = ("AverageVel_x", "AverageVel_y", "AverageVel_z")
VISCOSITY = "LatticeViscosity"
PRESSURE_GRADIENT = "GradPx"

#: Columns of the published table, in the file's order.
REAL_FOAM_COLUMNS = (CASE, POROSITY, *VELOCITY_COLUMNS, VISCOSITY, PRESSURE_GRADIENT, *PERMEABILITY_COLUMNS)

_RESOURCE = ("reference", "data3D200.csv")

#: Relative tolerance of the row-by-row Darcy check: the file prints 6 significant digits, so
#: K and ν⟨u⟩/∇p agree to about 1e-5; a real inconsistency is far larger.
_DARCY_RTOL = 5e-5


def _plt():
    import matplotlib.pyplot as plt

    return plt


def real_foam_path() -> Path:
    """Path of the packaged CSV, ``pvae_lib/data/reference/data3D200.csv`` in the installed package."""
    from .resources import package_data_path

    return package_data_path(*_RESOURCE)


def _check_real_foam(table: pd.DataFrame, source: str, n_rows: int | None) -> None:
    """Raise ValueError unless ``table`` is the published real-foam table (already validated
    by :func:`~pvae_lib.data.properties.validate_properties`)."""
    missing = [c for c in REAL_FOAM_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing} (columns: {list(table.columns)})")
    if n_rows is not None and len(table) != n_rows:
        raise ValueError(f"{source}: {len(table)} rows, expected {n_rows} (truncated or extended file?)")
    for column in (*VELOCITY_COLUMNS, VISCOSITY, PRESSURE_GRADIENT):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        positive = column in (VISCOSITY, PRESSURE_GRADIENT)
        bad = np.flatnonzero(~np.isfinite(values) | ((values <= 0) if positive else (values < 0)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{source}: row {i + 1} (case {table[CASE].iloc[i]}): {column} = {table[column].iloc[i]!r}"
                             f" is not a finite {'positive' if positive else 'non-negative'} number")
    nu = table[VISCOSITY].to_numpy(dtype=float)
    grad = table[PRESSURE_GRADIENT].to_numpy(dtype=float)
    for u_col, k_col in zip(VELOCITY_COLUMNS, PERMEABILITY_COLUMNS):
        k = table[k_col].to_numpy(dtype=float)
        darcy = nu * table[u_col].to_numpy(dtype=float) / grad
        bad = np.flatnonzero(~np.isclose(k, darcy, rtol=_DARCY_RTOL, atol=0.0))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{source}: row {i + 1} (case {table[CASE].iloc[i]}): {k_col} = {k[i]:.6g} l.u. but "
                f"{VISCOSITY} * {u_col} / {PRESSURE_GRADIENT} = {darcy[i]:.6g} l.u. (Darcy's law, rtol {_DARCY_RTOL:g})"
            )


def load_real_foam(path: str | os.PathLike | None = None, *, n_rows: int | None = REAL_FOAM_ROWS) -> pd.DataFrame:
    """Read the authors' real-foam labels (798 micro-CT sub-volumes of 200³ voxels) and check them.

    The file is read with the library's property reader
    (:func:`~pvae_lib.data.properties.read_properties`: ``0 < n_F < 1``, finite permeabilities
    ``>= 0``, unique integer cases) and then checked further: all columns of
    :data:`REAL_FOAM_COLUMNS` present, ``n_rows`` rows, velocities finite and ``>= 0``, viscosity
    and pressure gradient finite and ``> 0``, and Darcy's law
    ``K_i = LatticeViscosity * AverageVel_i / GradPx`` row by row for i = x, y, z (relative
    tolerance 5e-5; the file prints 6 significant digits).

    Parameters
    ----------
    path : str or os.PathLike, optional
        A copy of the table to read; default: the copy shipped in the package
        (:func:`real_foam_path`).
    n_rows : int or None, optional
        Expected number of rows (default 798); ``None`` skips this check.

    Returns
    -------
    pandas.DataFrame
        Columns ``case`` (the authors' sample number, 1-798; no images are published),
        ``n_F`` (porosity, dimensionless), ``AverageVel_x|y|z`` (superficial velocity, l.u. per
        time step), ``LatticeViscosity`` (ν = 1/6 l.u.), ``GradPx`` (applied pressure gradient,
        the same for all three flow directions, l.u.) and ``Permeability_x|y|z`` (K11, K22, K33
        in l.u., voxel spacing squared), sorted by ``case``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        The file is not the intact table, naming the first offending row and column.

    See Also
    --------
    pvae_lib.data.properties.read_properties : the property reader used here.
    anisotropy, fit_kozeny_carman, plot_k_vs_n

    Notes
    -----
    Source: GitHub repository ``phuthiennguyen-hub/CNN-pVAE-``, file ``data/data3D200.csv``,
    commit ``0d4878a`` (2025-09-13), MIT License, copyright 2025 Phu Thien Nguyen
    (``pvae_lib/data/reference/README.md`` and ``data3D200.LICENSE``).
    """
    if path is not None:
        table = read_properties(path)
        _check_real_foam(table, str(path), n_rows)
        return table
    packaged = real_foam_path()
    table = read_properties(packaged)
    _check_real_foam(table, str(packaged), n_rows)
    return table


def _check_porosity(n: np.ndarray) -> None:
    if np.any(~np.isfinite(n)) or np.any((n <= 0) | (n >= 1)):
        raise ValueError("porosity must lie in (0, 1)")


def kozeny_carman(porosity, *, constant: float | None = None, specific_surface: float | None = None,
                  kozeny_constant: float = 5.0):
    """Kozeny–Carman permeability ``K = C n³ / (1 - n)²``.

    With the specific surface ``S0`` (solid–pore interface area per unit *solid* volume) and
    the Kozeny constant ``c`` the prefactor is ``C = 1 / (c S0²)`` (Carman 1937), i.e.
    ``K = n³ / (c S0² (1 - n)²)``; for a bed of spheres of diameter ``d``, ``S0 = 6 / d`` and
    ``c = 5`` give the classical ``K = d² n³ / (180 (1 - n)²)``. Give exactly one of ``constant``
    and ``specific_surface``.

    Parameters
    ----------
    porosity : array_like
        Porosity ``n`` in (0, 1), dimensionless.
    constant : float, optional
        The prefactor ``C`` (l.u., voxel spacing squared), e.g. from :func:`fit_kozeny_carman`.
    specific_surface : float, optional
        ``S0``, interface area per unit solid volume (1/l.u.).
    kozeny_constant : float, optional
        ``c`` (dimensionless, default 5.0); used only with ``specific_surface``.

    Returns
    -------
    numpy.ndarray or float
        Permeability ``K`` in l.u. (voxel spacing squared), the shape of ``porosity``.

    Raises
    ------
    ValueError
        Not exactly one of ``constant``/``specific_surface`` given, a non-positive parameter or a
        porosity outside (0, 1).

    See Also
    --------
    fit_kozeny_carman : the prefactor ``C`` fitted to data.

    References
    ----------
    .. [1] J. Kozeny, "Über kapillare Leitung des Wassers im Boden", Sitzungsber. Akad. Wiss.
       Wien 136 (1927) 271-306.
    .. [2] P. C. Carman, "Fluid flow through granular beds", Trans. Inst. Chem. Eng. 15 (1937)
       150-166.
    """
    if (constant is None) == (specific_surface is None):
        raise ValueError("give exactly one of constant= and specific_surface=")
    if specific_surface is not None:
        if not (specific_surface > 0 and kozeny_constant > 0):
            raise ValueError("specific_surface and kozeny_constant must be positive")
        constant = 1.0 / (kozeny_constant * specific_surface**2)
    if not constant > 0:
        raise ValueError(f"constant must be positive, got {constant}")
    n = np.asarray(porosity, dtype=float)
    _check_porosity(n)
    k = constant * n**3 / (1.0 - n) ** 2
    return k if k.ndim else float(k)


def fit_kozeny_carman(porosity, permeability) -> dict:
    """Least-squares fit of the Kozeny–Carman prefactor ``C`` in log space.

    Minimises ``sum (log K - log(C n³ / (1 - n)²))²`` over ``C``, which has the closed form
    ``log C = mean(log K - log(n³ / (1 - n)²))``: every sample counts by its relative error, so
    the small permeabilities are not swamped by the large ones.

    Parameters
    ----------
    porosity : array_like
        Porosities ``n`` in (0, 1), dimensionless.
    permeability : array_like
        Permeabilities ``K > 0`` in l.u. (voxel spacing squared), same length.

    Returns
    -------
    dict
        ``constant``: ``C`` in l.u.; ``r2``: coefficient of determination of ``log K`` (the
        fraction of the variance of ``log K`` the curve explains; can be negative for a poor fit
        since the slope is fixed); ``rms_log10``: root-mean-square residual in decades;
        ``count``: number of samples. With a Kozeny constant ``c`` the implied specific surface
        is ``S0 = 1 / sqrt(c C)`` (1/l.u.).

    Raises
    ------
    ValueError
        Unequal lengths, fewer than 2 samples, a porosity outside (0, 1) or a ``K <= 0``
        (not percolating: drop those samples first).

    See Also
    --------
    kozeny_carman : the curve itself.
    pvae_lib.data.summary.porosity_permeability_fit : a straight line in linear space.

    References
    ----------
    .. [1] P. C. Carman, "Fluid flow through granular beds", Trans. Inst. Chem. Eng. 15 (1937)
       150-166.
    """
    n, log_k = _log_pairs(porosity, permeability)
    log_shape = 3 * np.log(n) - 2 * np.log1p(-n)
    log_c = float(np.mean(log_k - log_shape))
    residual = log_k - (log_c + log_shape)
    return {"constant": float(np.exp(log_c)), **_log_fit_quality(log_k, residual)}


def _log_pairs(porosity, permeability):
    """Checked ``(n, log K)`` of a fit in log space."""
    n = np.asarray(porosity, dtype=float).ravel()
    k = np.asarray(permeability, dtype=float).ravel()
    if n.shape != k.shape or n.size < 2:
        raise ValueError("need two equally long arrays with at least 2 values")
    _check_porosity(n)
    if np.any(~np.isfinite(k)) or np.any(k <= 0):
        raise ValueError("permeabilities must be finite and > 0 for a fit in log space")
    return n, np.log(k)


def _log_fit_quality(log_k, residual) -> dict:
    ss_tot = float(np.sum((log_k - log_k.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / ss_tot if ss_tot > 0 else 1.0
    return {"r2": r2, "rms_log10": float(np.sqrt(np.mean(residual**2)) / np.log(10)), "count": int(log_k.size)}


def fit_exponential(porosity, permeability) -> dict:
    """Least-squares straight line in ``(n, log K)``: ``K = A exp(b n)``, an exponential rise with porosity.

    Parameters
    ----------
    porosity : array_like
        Porosities ``n`` in (0, 1), dimensionless.
    permeability : array_like
        Permeabilities ``K > 0`` in l.u., same length.

    Returns
    -------
    dict
        ``rate``: ``b`` (per unit porosity); ``prefactor``: ``A`` in l.u.; ``r2``: coefficient of
        determination of ``log K`` (1: the points lie on one exponential); ``rms_log10``:
        root-mean-square residual in decades; ``count``: number of samples.

    Raises
    ------
    ValueError
        As :func:`fit_kozeny_carman`.

    See Also
    --------
    fit_kozeny_carman : the classical curve, ``K = C n³ / (1 - n)²``, fitted the same way.
    """
    n, log_k = _log_pairs(porosity, permeability)
    rate, intercept = np.polyfit(n, log_k, 1)
    residual = log_k - (rate * n + intercept)
    return {"rate": float(rate), "prefactor": float(np.exp(intercept)), **_log_fit_quality(log_k, residual)}


def anisotropy(table: pd.DataFrame) -> pd.DataFrame:
    """Ratios of the diagonal permeabilities per row: ``K11/K22``, ``K11/K33``, ``K22/K33``.

    Parameters
    ----------
    table : pandas.DataFrame
        A property table with ``Permeability_x|y|z`` (l.u.), e.g. :func:`load_real_foam`.

    Returns
    -------
    pandas.DataFrame
        Columns ``K11/K22``, ``K11/K33``, ``K22/K33`` (dimensionless; 1 = isotropic), same index
        as ``table``, plus ``case`` when ``table`` has it. A zero denominator gives ``inf`` or
        ``NaN``. ``.describe()`` summarises the table.

    Raises
    ------
    ValueError
        A permeability column is missing.

    See Also
    --------
    load_real_foam
    """
    missing = [c for c in PERMEABILITY_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    k = {i + 1: table[c].to_numpy(dtype=float) for i, c in enumerate(PERMEABILITY_COLUMNS)}
    out = pd.DataFrame(index=table.index)
    if CASE in table.columns:
        out[CASE] = table[CASE]
    with np.errstate(divide="ignore", invalid="ignore"):
        for a, b in ((1, 2), (1, 3), (2, 3)):
            out[f"K{a}{a}/K{b}{b}"] = k[a] / k[b]
    return out


def plot_k_vs_n(groups: Mapping, *, fit_to: str | None = None, ax=None, max_points: int = 5000, seed: int = 0):
    """log K against porosity for several labelled data sets, with a Kozeny–Carman reference (paper Fig. 29).

    Parameters
    ----------
    groups : mapping of str to (array_like, array_like)
        ``{label: (n, K)}``, porosity (dimensionless) and permeability (l.u.) of each data set,
        e.g. ``{"synthetic 2-D": (n, K), "real foam (CT)": (foam["n_F"], foam["Permeability_x"])}``.
        Samples with ``K <= 0`` (not percolating) cannot be drawn on a log axis: they are left
        out and counted in the legend.
    fit_to : str, optional
        Label of the group to fit :func:`kozeny_carman` to (:func:`fit_kozeny_carman`); the curve
        is drawn over the porosity range of all groups. Default: no curve.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; default: a new figure of the book's size.
    max_points : int, optional
        At most this many points are drawn per group (a random subset, ``seed``); the fit uses all.
    seed : int, optional
        Seed of that subset.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter (``ax.collections``) per group in the order given, and one line
        (``ax.lines``) for the Kozeny–Carman curve when ``fit_to`` is given.

    Raises
    ------
    ValueError
        No groups, unequal lengths within a group, or ``fit_to`` not a label of ``groups``.

    See Also
    --------
    fit_kozeny_carman, load_real_foam
    pvae_lib.data.summary.plot_porosity_permeability : one data set on linear axes (Fig. 6).
    """
    if not groups:
        raise ValueError("no groups to plot")
    if fit_to is not None and fit_to not in groups:
        raise ValueError(f"fit_to={fit_to!r} is not one of the groups {list(groups)}")
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(min(6.0, BOOK_WIDTH), 4.2))
    rng = np.random.default_rng(seed)
    markers = "osD^v<>"
    n_all = []
    for i, (label, (n, k)) in enumerate(groups.items()):
        n = np.asarray(n, dtype=float).ravel()
        k = np.asarray(k, dtype=float).ravel()
        if n.shape != k.shape:
            raise ValueError(f"group {label!r}: {n.size} porosities but {k.size} permeabilities")
        keep = np.isfinite(n) & np.isfinite(k) & (k > 0)
        shown = np.flatnonzero(keep)
        if shown.size > max_points:
            shown = np.sort(rng.choice(shown, max_points, replace=False))
        dropped = int(n.size - keep.sum())
        text = f"{label} ({int(keep.sum())} samples" + (f"; {dropped} with K ≤ 0 not shown)" if dropped else ")")
        ax.scatter(n[shown], k[shown], s=9, alpha=0.5, lw=0, marker=markers[i % len(markers)], label=text)
        n_all.append(n[keep])
    ax.set_yscale("log")
    if fit_to is not None:
        n, k = (np.asarray(v, dtype=float).ravel() for v in groups[fit_to])
        keep = np.isfinite(n) & np.isfinite(k) & (k > 0)
        fit = fit_kozeny_carman(n[keep], k[keep])
        every = np.concatenate(n_all)
        grid = np.linspace(max(every.min(), 1e-3), min(every.max(), 1 - 1e-3), 200)
        ax.plot(grid, kozeny_carman(grid, constant=fit["constant"]), "k--", lw=1.2,
                label=f"Kozeny–Carman fit to {fit_to}:\n$K = {fit['constant']:.3g}\\,n^3/(1-n)^2$"
                      f" (R² of log K = {fit['r2']:.2f})")
    ax.set_xlabel("porosity $n^F$ [-]")
    ax.set_ylabel("permeability $K$ [l.u.]")
    ax.legend(loc="best", fontsize=8.5)
    ax.figure.tight_layout()
    return ax
