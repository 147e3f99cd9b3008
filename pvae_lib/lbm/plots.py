"""Figures of the Darcy / lattice Boltzmann chapter (validation flows, convergence, flow field).

Every function draws with matplotlib and returns the figure; sizes fit the book's text column
and structures follow :mod:`pvae_lib.plotting` (pore white, solid black).
"""
from __future__ import annotations

import numpy as np

from ..plotting import BOOK_WIDTH, PORE_CMAP

__all__ = ["plot_poiseuille_check", "plot_tau_sweep", "plot_convergence", "plot_flow_slice"]


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
