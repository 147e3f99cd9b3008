"""Figures of the latent-space, interpolation and inverse-design chapters (paper Figs. 8-11, 15-17).

Every function draws with matplotlib/seaborn and returns the figure (or axes) it drew on.
Images follow the book's convention (:mod:`pvae_lib.plotting`): pore (True) is drawn white,
solid black; figures fit the book's text column (at most about 8 inches at 100 dpi).
"""
from __future__ import annotations

import numpy as np

from ..plotting import BOOK_WIDTH, show_structure

__all__ = [
    "plot_latent_kde",
    "plot_pc_scatter",
    "plot_pc_pairs",
    "plot_correlation_heatmap",
    "plot_path_on_pcs",
    "plot_path_properties",
    "plot_image_row",
    "plot_log_mse_map",
    "plot_designed_vs_target",
    "plot_path_norms",
    "plot_feasible_region",
    "plot_design_history",
    "plot_property_map",
    "plot_log_mse_pair",
]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_latent_kde(grid, density, ax=None, max_curves: int | None = None):
    """One KDE curve per latent dimension (paper Fig. 8)."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    cmap = plt.get_cmap("viridis")
    d = len(density) if max_curves is None else min(max_curves, len(density))
    for j in range(d):
        ax.plot(grid, density[j], lw=0.8, color=cmap(j / max(d - 1, 1)), alpha=0.8)
    ax.set_xlabel(r"latent value $\mu_j$")
    ax.set_ylabel("density")
    ax.set_title(f"KDE of each of the {d} latent dimensions")
    return ax


def plot_pc_scatter(scores_list, porosity_list, titles, vmin=None, vmax=None, s: float = 4):
    """PC1 vs PC2 coloured by porosity, several models side by side (paper Fig. 9).

    The panels share one porosity colour scale and fit the book's width together.
    """
    plt = _plt()
    m = len(scores_list)
    width = min(BOOK_WIDTH, 2.5 * m + 0.9)
    fig, axes = plt.subplots(1, m, figsize=(width, 3.1), squeeze=False, constrained_layout=True)
    allp = np.concatenate([np.asarray(p) for p in porosity_list])
    vmin = allp.min() if vmin is None else vmin
    vmax = allp.max() if vmax is None else vmax
    sc = None
    for ax, scores, por, title in zip(axes[0], scores_list, porosity_list, titles):
        sc = ax.scatter(scores[:, 0], scores[:, 1], c=por, s=s, cmap="viridis", vmin=vmin, vmax=vmax, rasterized=True)
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
        ax.set_title(title, fontsize=10)
    fig.colorbar(sc, ax=axes[0].tolist(), label=r"porosity $n^F$")
    return fig


def plot_pc_pairs(scores, porosity, n_components: int = 10, max_points: int = 1000, rng=None):
    """Pairwise scatter of the first principal components coloured by porosity, histograms on
    the diagonal (paper Fig. 10); seaborn ``PairGrid``."""
    import pandas as pd
    import seaborn as sns

    plt = _plt()
    scores = np.asarray(scores)
    porosity = np.asarray(porosity)
    m = min(n_components, scores.shape[1])
    if len(scores) > max_points:
        rng = rng if rng is not None else np.random.default_rng(0)
        keep = rng.choice(len(scores), max_points, replace=False)
        scores, porosity = scores[keep], porosity[keep]
    df = pd.DataFrame(scores[:, :m], columns=[f"PC{i + 1}" for i in range(m)])
    por = porosity
    vmin, vmax = por.min(), por.max()

    def _scatter(x, y, **kwargs):
        plt.scatter(x, y, c=por[x.index.to_numpy()], s=1.5, cmap="viridis", vmin=vmin, vmax=vmax, rasterized=True)

    grid = sns.PairGrid(df, height=min(0.95, (BOOK_WIDTH - 0.3) / m), corner=False)
    grid.map_diag(sns.histplot, color="tab:red", bins=30, edgecolor=None)
    grid.map_offdiag(_scatter)
    for ax in grid.axes.flat:
        if ax is not None:
            # the scores' values do not matter here, only the shapes: no tick labels
            ax.tick_params(labelbottom=False, labelleft=False, length=0)
            ax.xaxis.label.set_size(10)
            ax.yaxis.label.set_size(10)
    return grid.figure


def plot_correlation_heatmap(corr, ax=None, labels=None):
    """Heatmap of the Pearson correlation of PCs with properties (paper Fig. 11)."""
    import seaborn as sns

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.4))
    data = corr.T
    if labels is not None:
        data.index = labels
    sns.heatmap(data, annot=True, fmt=".2f", cmap="coolwarm", vmin=-1, vmax=1, ax=ax,
                annot_kws={"size": 9.5}, cbar_kws={"label": "Pearson r"})
    ax.set_title("correlation of principal components with properties")
    return ax


def plot_path_on_pcs(scores, porosity, path_scores, ax=None, other_scores=None, labels=("slerp", "lerp")):
    """Latent data on PC1-PC2 coloured by porosity with interpolation path(s) (paper Fig. 15, top left)."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.0), constrained_layout=True)
    sc = ax.scatter(scores[:, 0], scores[:, 1], c=porosity, s=3, cmap="viridis", alpha=0.6, rasterized=True)
    ax.plot(path_scores[:, 0], path_scores[:, 1], "r-", lw=2, label=labels[0])
    if other_scores is not None:
        ax.plot(other_scores[:, 0], other_scores[:, 1], "--", color="orange", lw=1.5, label=labels[1])
    ax.plot(*path_scores[0, :2], "ko", ms=7, label="start")
    ax.plot(*path_scores[-1, :2], "k*", ms=11, label="end")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.legend(fontsize=9, loc="best")
    plt.colorbar(sc, ax=ax, label=r"$n^F$")
    return ax


def plot_path_properties(props, axes=None, title_suffix=""):
    """n and K11 along a path: CNN surrogate (paper) vs exact solver on the binarised structures."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.3), constrained_layout=True)
    step = np.arange(len(props.t))
    for ax, (name, ex, sur, unit) in zip(axes, [("n^F", props.n_exact, props.n_surrogate, ""),
                                                 ("K_{11}^S", props.k11_exact, props.k11_surrogate, " (l.u.²)")]):
        ax.plot(step, ex, "k-", lw=1.5, label="exact (binarised image)")
        if np.isfinite(sur).any():
            ax.plot(step, sur, "r--", lw=1.2, label="CNN surrogate")
        ax.set_xlabel("interpolation step")
        ax.set_ylabel(f"${name}${unit}")
        ax.set_title(f"${name}$ along the path{title_suffix}", fontsize=10.5)
    axes[0].legend(fontsize=9, loc="best")
    return axes


def plot_image_row(images, titles=None, ncols: int | None = None, size: float = 1.6, suptitle=None,
                   fontsize: float = 10):
    """A row (or grid) of binary structures, pore white and solid black.

    Parameters
    ----------
    images : (N, H, W) images in [0, 1] (1 = pore); 3-D volumes show their middle slice; an
        all-NaN image leaves its slot empty.
    titles : N strings, optional (may contain line breaks)
    ncols : images per row (default: all in one row)
    size : edge of one image in inches; shrunk so that the row fits the book's width
    suptitle : str, optional
    fontsize : title size in points
    """
    from ..plotting import middle_slice

    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    size = min(size, BOOK_WIDTH / ncols)
    lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    title_h = lines * fontsize * 1.25 / 72
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + title_h) * nrows + 0.1), squeeze=False,
                             gridspec_kw={"hspace": (title_h + 0.08) / size, "wspace": 0.06,
                                          "left": 0.01, "right": 0.99, "bottom": 0.01,
                                          "top": 1 - (title_h + 0.05) / ((size + title_h) * nrows + 0.1)})
    for i, ax in enumerate(axes.flat):
        img = images[i] if i < n else None
        if img is not None and img.ndim == 3:
            img = middle_slice(img, axis=0)
        if img is None or (img.dtype.kind == "f" and np.isnan(img).all()):  # empty slot
            ax.set_axis_off()
        else:
            show_structure(ax, img, titles[i] if titles is not None else None, fontsize=fontsize)
    if suptitle:  # 0.35 inch more at the top for the suptitle, the grid keeps its size
        h_old = fig.get_figheight()
        top, bottom = fig.subplotpars.top * h_old, fig.subplotpars.bottom * h_old
        fig.set_figheight(h_old + 0.35)
        fig.subplots_adjust(top=top / (h_old + 0.35), bottom=bottom / (h_old + 0.35))
        fig.suptitle(suptitle, fontsize=11, y=1 - 0.05 / (h_old + 0.35), va="top")
    return fig


def plot_log_mse_map(df, which: str = "surrogate", train_properties=None, ax=None, feasible=None,
                     vmin=None, vmax=None, colorbar: bool = True, title: str | None = None):
    """Targets in the (n, K11) plane coloured by log10 of the summed squared error (paper Fig. 16).

    The shaded background is a KDE of the training data (where the data set has structures);
    infeasible targets (``feasible`` False) are drawn with crosses. ``df`` holds ``n_target``,
    ``k11_target`` and ``log_mse_<which>``; ``title`` replaces the default panel title.
    """
    import seaborn as sns

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 4.2))
    if train_properties is not None:
        tp = np.asarray(train_properties)
        sns.kdeplot(x=tp[:, 0], y=tp[:, 1], fill=True, cmap="Greys", levels=8, thresh=0.02, alpha=0.5, ax=ax)
    col = df[f"log_mse_{which}"].to_numpy()
    lo, hi = np.nanpercentile(col, [2, 98])
    vmin = lo if vmin is None else vmin
    vmax = hi if vmax is None else vmax
    feas = np.ones(len(df), bool) if feasible is None else np.asarray(feasible)
    sc = ax.scatter(df["n_target"][feas], df["k11_target"][feas], c=col[feas], s=10, cmap="turbo",
                    vmin=vmin, vmax=vmax, label="feasible target")
    if (~feas).any():
        ax.scatter(df["n_target"][~feas], df["k11_target"][~feas], c=col[~feas], s=14, marker="x",
                   cmap="turbo", vmin=vmin, vmax=vmax, label="infeasible target")
    if colorbar:
        plt.colorbar(sc, ax=ax, label=r"$\log_{10}$(squared error $n$ + $K_{11}$)")
    ax.set_xlabel(r"target $n^F$")
    ax.set_ylabel(r"target $K_{11}^S$ (l.u.²)")
    ax.set_title(title if title is not None else f"error measured by the {which} solution", fontsize=10.5)
    ax.legend(fontsize=9, loc="upper left")
    return ax


def plot_designed_vs_target(df, which: str = "surrogate", feasible=None, r2=None, axes=None):
    """Designed vs target porosity and K11 with the identity line (paper Fig. 17)."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.6), constrained_layout=True)
    feas = np.ones(len(df), bool) if feasible is None else np.asarray(feasible)
    for j, (ax, p, label) in enumerate(zip(axes, ("n", "k11"), (r"$n^F$", r"$K_{11}^S$ (l.u.²)"))):
        t, d = df[f"{p}_target"].to_numpy(), df[f"{p}_{which}"].to_numpy()
        ax.scatter(t[feas], d[feas], s=6, alpha=0.6, label="feasible")
        if (~feas).any():
            ax.scatter(t[~feas], d[~feas], s=6, alpha=0.5, color="tab:gray", marker="x", label="infeasible")
        lo, hi = np.nanmin([t.min(), np.nanmin(d)]), np.nanmax([t.max(), np.nanmax(d)])
        ax.plot([lo, hi], [lo, hi], "r-", lw=1.2)
        ax.set_xlabel(f"target {label}")
        ax.set_ylabel(f"designed {label} ({which})")
        if r2 is not None:
            ax.set_title(f"$R^2$ = {r2[j]:.3f}", fontsize=10.5)
        ax.legend(fontsize=9)
    return axes


def plot_path_norms(paths: dict, data_norms, ax=None):
    """Length :math:`|z|` along latent paths against the band of the data's latent norms.

    Parameters
    ----------
    paths : dict
        Path name (e.g. ``"slerp"``, ``"lerp"``) -> (steps, d) latent vectors.
    data_norms : (N,) norms of the encoded data set; the 5-95 % band is shaded.
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
    lo, hi = np.percentile(np.asarray(data_norms), [5, 95])
    ax.axhspan(lo, hi, color="0.85", label=r"5-95 % of the data's $|\mu|$")
    styles = {"slerp": ("r", "-"), "lerp": ("orange", "--")}  # as in plot_path_on_pcs
    for name, path in paths.items():
        color, ls = styles.get(name, (None, "-"))
        ax.plot(np.linalg.norm(np.asarray(path), axis=1), ls=ls, color=color, lw=1.8, label=name)
    ax.set_xlabel("interpolation step")
    ax.set_ylabel("$|z|$")
    ax.legend(fontsize=9)
    return ax


def plot_property_map(train_properties, targets=None, ax=None):
    """The (n, K11) plane: training structures in grey, optional targets as small open circles.

    Parameters
    ----------
    train_properties : (N, 2) the training structures' n and K11 (l.u.²)
    targets : (M, 2), optional
    ax : matplotlib axes, optional (default: a new figure)
    """
    if ax is None:
        _, ax = _plt().subplots(figsize=(4, 3.5))
    tp = np.asarray(train_properties, float)
    ax.scatter(tp[:, 0], tp[:, 1], s=2, color="0.7", label="training structures", rasterized=True)
    if targets is not None:
        t = np.asarray(targets, float)
        ax.scatter(t[:, 0], t[:, 1], s=10, facecolors="none", edgecolors="tab:blue", lw=0.6, label="targets")
    ax.set_xlabel(r"$n^F$")
    ax.set_ylabel(r"$K_{11}^S$ (l.u.²)")
    return ax


def plot_feasible_region(probe, feasible, train_properties, ax=None):
    """Which part of the target box holds structures of the data set (inverse-design chapter).

    Parameters
    ----------
    probe : (M, 2) random targets (n, K11) spread over the box
    feasible : (M,) bool, :func:`pvae_lib.design.evaluate.feasible_mask` of ``probe``
    train_properties : (N, 2) the training structures' (n, K11)
    """
    plt = _plt()
    probe, ok, tp = np.asarray(probe), np.asarray(feasible, bool), np.asarray(train_properties)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    ax.scatter(probe[~ok, 0], probe[~ok, 1], s=1, color="0.85", label="infeasible part of the box", rasterized=True)
    ax.scatter(probe[ok, 0], probe[ok, 1], s=1, color="tab:green", alpha=0.3, label="feasible part",
               rasterized=True)
    ax.scatter(tp[:, 0], tp[:, 1], s=3, color="k", label="training structures", rasterized=True)
    ax.set_xlabel(r"$n^F$")
    ax.set_ylabel(r"$K_{11}^S$ (l.u.²)")
    ax.legend(fontsize=9, markerscale=5, loc="upper left")
    return ax


def plot_design_history(direct_history, loop_histories: dict, tol: float, ax=None):
    """Mean loss of the inverse-design stages against the step (direct stage, then each loop stage).

    Parameters
    ----------
    direct_history : (S,) mean scaled L2 of the direct stage per step
    loop_histories : dict
        Stage name -> (S_k,) history of a loop stage; drawn after the direct stage.
    tol : the stopping tolerance (dotted line)
    """
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.4), constrained_layout=True)
    ax.semilogy(direct_history, label="direct stage (all starts)")
    for stage, history in loop_histories.items():
        ax.semilogy(np.arange(len(history)) + len(direct_history), history,
                    label=f"{stage} stage (best start per target)")
    ax.axhline(tol, color="k", lw=0.8, ls=":", label="tolerance")
    ax.set_xlabel("step")
    ax.set_ylabel("mean L2 (scaled)")
    ax.legend(fontsize=9)
    return ax


def plot_log_mse_pair(df, train_properties=None, feasible=None, which=("surrogate", "exact"), titles=None):
    """:func:`plot_log_mse_map` panels side by side (e.g. surrogate and exact) on one colour scale (Fig. 16).

    ``which`` names the ``log_mse_<which>`` columns of ``df``, one panel each; ``titles`` the panels.
    """
    plt = _plt()
    cols = np.concatenate([df[f"log_mse_{w}"].to_numpy() for w in which])
    vmin, vmax = np.nanpercentile(cols, [2, 98])
    titles = list(titles) if titles is not None else [None] * len(which)
    fig, axes = plt.subplots(1, len(which), figsize=(BOOK_WIDTH, 3.7), constrained_layout=True, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, w, title in zip(axes, which, titles):
        plot_log_mse_map(df, w, train_properties=train_properties, ax=ax, feasible=feasible, vmin=vmin,
                         vmax=vmax, colorbar=False, title=title)
    axes[-1].set_ylabel("")
    for ax in axes[1:]:
        ax.get_legend().remove()
    sm = plt.cm.ScalarMappable(cmap="turbo", norm=plt.Normalize(vmin, vmax))
    fig.colorbar(sm, ax=axes.tolist(), label=r"$\log_{10}$(squared error)")
    return fig
