"""Figures of the Darcy / lattice Boltzmann chapter (validation flows, convergence, flow field).

Every function draws with matplotlib and returns the figure; sizes fit the book's text column
and structures follow :mod:`pvae_lib.plotting` (pore white, solid black).
"""
from __future__ import annotations

import numpy as np

from ..plotting import BOOK_WIDTH, PORE_CMAP

__all__ = [
    "plot_poiseuille_check",
    "plot_tau_sweep",
    "plot_convergence",
    "plot_flow_slice",
    "plot_grid_convergence",
    "plot_error_vs_throat",
]


def plot_poiseuille_check(y_nodes, u_lbm, u_exact_fn, h: float, scale: float = 1.0):
    """LBM velocities at the nodes against the analytic parabola of plane Poiseuille flow.

    Parameters
    ----------
    y_nodes : (h,) node positions measured from the wall (l.u.)
    u_lbm : (h,) LBM velocity at the nodes (l.u.)
    u_exact_fn : callable y -> analytic velocity (l.u.)
    h : gap width (l.u.)
    scale : the velocities are divided by it (e.g. the body force ``g``)
    """
    import matplotlib.pyplot as plt

    yy = np.linspace(0, h, 200)
    fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
    ax.plot(u_exact_fn(yy) / scale, yy, "k-", label="analytic parabola")
    ax.plot(np.asarray(u_lbm) / scale, y_nodes, "o", label="LBM (TRT), nodes")
    ax.set_xlabel("u / g  [l.u.]")
    ax.set_ylabel("y  [nodes]")
    ax.set_title("plane Poiseuille flow between two plates")
    ax.legend()
    return fig


def plot_tau_sweep(sweep, column: str = "K / K_exact"):
    """Permeability ratio against the relaxation time for each collision operator.

    Parameters
    ----------
    sweep : pandas.DataFrame with columns ``collision``, ``tau`` and ``column``
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
    for collision, group in sweep.groupby("collision"):
        ax.plot(group["tau"], group[column], "o-", label=str(collision).upper())
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xlabel(r"relaxation time $\tau$")
    ax.set_ylabel(r"$K / K_{exact}$ (plates)")
    ax.legend()
    return fig


def plot_convergence(history, viscosity: float, force: float, tolerance: float):
    """Convergence of a permeability run: the Darcy estimate and its relative change per check.

    Parameters
    ----------
    history : (C, 2) array of (time step, mean velocity) at each convergence check
    viscosity, force : of the run (l.u.); the left panel shows ``nu <u> / g``
    tolerance : the stopping tolerance (dashed line in the right panel)
    """
    import matplotlib.pyplot as plt

    hist = np.asarray(history)
    change = np.abs(np.diff(hist[:, 1])) / np.abs(hist[1:, 1])
    fig, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.2), constrained_layout=True)
    axes[0].plot(hist[:, 0], viscosity * hist[:, 1] / force)
    axes[0].set_xlabel("time step")
    axes[0].set_ylabel(r"$\nu \langle u_x \rangle / g$  [l.u.]")
    axes[0].set_title("Darcy estimate of $K_{xx}$")
    axes[1].semilogy(hist[1:, 0], change)
    axes[1].axhline(tolerance, color="k", ls="--", label="tolerance")
    axes[1].set_xlabel("time step")
    axes[1].set_ylabel("relative change per check")
    axes[1].set_title("stopping criterion")
    axes[1].legend()
    return fig


def plot_flow_slice(image, velocity, k: int | None = None, stride: int = 3):
    """A slice z = k of the pore space (pore white) and of the speed with in-plane arrows.

    Parameters
    ----------
    image : (X, Y, Z) bool, True = pore
    velocity : (X, Y, Z, 3) velocity field (l.u.), zero in the solid
    k : slice index along z (default: the middle)
    stride : one arrow every ``stride`` nodes
    """
    import matplotlib.pyplot as plt

    image = np.asarray(image, bool)
    vel = np.asarray(velocity)
    k = image.shape[2] // 2 if k is None else int(k)
    speed = np.linalg.norm(vel, axis=-1)
    fig, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.8), constrained_layout=True)
    axes[0].imshow(image[:, :, k].T, origin="lower", cmap=PORE_CMAP, vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title(f"pore space (white), slice z = {k}")
    cmap = plt.get_cmap("viridis").with_extremes(bad="black")  # solid black, as everywhere
    im = axes[1].imshow(np.where(image[:, :, k], speed[:, :, k], np.nan).T, origin="lower", cmap=cmap)
    s = slice(None, None, stride)
    X, Y = np.meshgrid(np.arange(image.shape[0])[s], np.arange(image.shape[1])[s], indexing="ij")
    u, v = vel[s, s, k, 0], vel[s, s, k, 1]
    keep = image[s, s, k]
    axes[1].quiver(X[keep], Y[keep], u[keep], v[keep], color="w", scale=12 * speed.max(), width=0.004)
    axes[1].set_title("speed |u| (solid black), arrows (u_x, u_y)")
    fig.colorbar(im, ax=axes[1], shrink=0.85, label="|u| [l.u.]")
    for ax in axes:
        ax.set_xlabel("x (flow)")
        ax.set_ylabel("y")
    return fig


def _series(table, structure, refinement, solver):
    rows = table[(table.structure == structure) & (table.refinement == refinement) & (table.solver == solver)]
    return rows.sort_values("level")


def plot_grid_convergence(table, summary, reference: dict | None = None):
    """Permeability against the grid spacing, one panel per structure (grid-convergence study).

    Parameters
    ----------
    table : DataFrame
        Rows of ``pvae_lib/data/shipped/grid_convergence.csv`` (``structure, refinement, solver, level, K``).
    summary : DataFrame
        :func:`pvae_lib.convergence.summarize` of ``table``; its ``K_extrapolated`` is drawn at
        ``h = 0`` (open symbol).
    reference : dict, optional
        ``{structure: (value, label)}``: a dotted horizontal line (e.g. Zick & Homsy).
    """
    import matplotlib.pyplot as plt

    structures = list(dict.fromkeys(table.structure))
    ncols = 2
    nrows = int(np.ceil(len(structures) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(BOOK_WIDTH, 2.9 * nrows), constrained_layout=True)
    for ax, structure in zip(np.ravel(axes), structures):
        for fit in summary[summary.structure == structure].itertuples():
            rows = _series(table, structure, fit.refinement, fit.solver)
            style = "s--" if fit.refinement == "split" else "o-"
            line = ax.plot(1.0 / rows.level, rows.K, style, label=f"{fit.refinement}, {fit.solver}")[0]
            if np.isfinite(fit.K_extrapolated):
                ax.plot(0.0, fit.K_extrapolated, style[0], mfc="none", color=line.get_color())
        if reference and structure in reference:
            value, label = reference[structure]
            ax.axhline(value, color="k", ls=":", label=label)
        ax.set(title=structure.replace("_", " "), xlim=(-0.05, 1.05))
        ax.set_xlabel("grid spacing h [base voxels]")
        ax.set_ylabel("K [base l.u.]")
        ax.legend(fontsize=8)
    for ax in np.ravel(axes)[len(structures):]:
        ax.set_visible(False)
    return fig


def plot_error_vs_throat(table, summary, max_fit_level: float = 3, slopes=(1, 2)):
    """Relative error ``|K / K_extrapolated - 1|`` against the voxels per throat (log-log).

    The finest level used by the fit (``<= max_fit_level``) is left out (it is nearly the
    reference itself); dotted lines show the slopes ``-p`` for ``p`` in ``slopes``; the grey
    band marks errors below 2 %.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    for fit in summary.itertuples():
        if not np.isfinite(fit.K_extrapolated):
            continue
        rows = _series(table, fit.structure, fit.refinement, fit.solver)
        rows = rows[rows.level != rows[rows.level <= max_fit_level].level.max()]
        err = np.abs(rows.K / fit.K_extrapolated - 1)
        style = "s--" if fit.refinement == "split" else "o-"
        ax.loglog(rows.throat_voxels, err, style, label=f"{fit.structure} {fit.refinement} {fit.solver}")
    w = np.array([4.0, 40.0])
    for p, y0 in zip(slopes, (0.6, 0.15)):
        ax.loglog(w, y0 * (w / 4) ** -p, "k:", lw=1)
        ax.annotate(f"slope -{p}", (w[-1], y0 * (w[-1] / 4) ** -p), fontsize=8)
    ax.axhspan(1e-5, 0.02, color="0.9", zorder=0)
    ax.set_xlabel("voxels per throat")
    ax.set_ylabel("|K / K_extrapolated - 1|")
    ax.legend(fontsize=7)
    return fig
