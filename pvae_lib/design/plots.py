"""Figures of the latent-space, interpolation and inverse-design chapters (paper Figs. 8-11, 15-17).

Every function draws with matplotlib/seaborn and returns the figure (or axes) it drew on.
Images follow the book's convention: pore (True) is drawn white, solid black.
"""
from __future__ import annotations

import numpy as np

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
]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_latent_kde(grid, density, ax=None, max_curves: int | None = None):
    """One KDE curve per latent dimension (paper Fig. 8)."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    cmap = plt.get_cmap("viridis")
    d = len(density) if max_curves is None else min(max_curves, len(density))
    for j in range(d):
        ax.plot(grid, density[j], lw=0.8, color=cmap(j / max(d - 1, 1)), alpha=0.8)
    ax.set_xlabel(r"latent value $\mu_j$")
    ax.set_ylabel("density")
    ax.set_title(f"KDE of each of the {d} latent dimensions")
    return ax


def plot_pc_scatter(scores_list, porosity_list, titles, vmin=None, vmax=None, s: float = 4):
    """PC1 vs PC2 coloured by porosity, several models side by side (paper Fig. 9)."""
    plt = _plt()
    m = len(scores_list)
    fig, axes = plt.subplots(1, m, figsize=(3.6 * m + 0.8, 3.4), squeeze=False, constrained_layout=True)
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

    grid = sns.PairGrid(df, height=0.95, corner=False)
    grid.map_diag(sns.histplot, color="tab:red", bins=30, edgecolor=None)
    grid.map_offdiag(_scatter)
    for ax in grid.axes.flat:
        if ax is not None:
            ax.tick_params(labelsize=5)
            ax.xaxis.label.set_size(7)
            ax.yaxis.label.set_size(7)
    return grid.figure


def plot_correlation_heatmap(corr, ax=None, labels=None):
    """Heatmap of the Pearson correlation of PCs with properties (paper Fig. 11)."""
    import seaborn as sns

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.2))
    data = corr.T
    if labels is not None:
        data.index = labels
    sns.heatmap(data, annot=True, fmt=".2f", cmap="coolwarm", vmin=-1, vmax=1, ax=ax,
                annot_kws={"size": 8}, cbar_kws={"label": "Pearson r"})
    ax.set_title("correlation of principal components with properties")
    return ax


def plot_path_on_pcs(scores, porosity, path_scores, ax=None, other_scores=None, labels=("slerp", "lerp")):
    """Latent data on PC1-PC2 coloured by porosity with interpolation path(s) (paper Fig. 15, top left)."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.8))
    sc = ax.scatter(scores[:, 0], scores[:, 1], c=porosity, s=3, cmap="viridis", alpha=0.6, rasterized=True)
    ax.plot(path_scores[:, 0], path_scores[:, 1], "r-", lw=2, label=labels[0])
    if other_scores is not None:
        ax.plot(other_scores[:, 0], other_scores[:, 1], "--", color="orange", lw=1.5, label=labels[1])
    ax.plot(*path_scores[0, :2], "ko", ms=7, label="start")
    ax.plot(*path_scores[-1, :2], "k*", ms=11, label="end")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.legend(fontsize=8, loc="best")
    plt.colorbar(sc, ax=ax, label=r"$n^F$")
    return ax


def plot_path_properties(props, axes=None, title_suffix=""):
    """n and K11 along a path: CNN surrogate (paper) vs exact solver on the binarised structures."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    step = np.arange(len(props.t))
    for ax, (name, ex, sur, unit) in zip(axes, [("n^F", props.n_exact, props.n_surrogate, ""),
                                                 ("K_{11}^S", props.k11_exact, props.k11_surrogate, " (l.u.²)")]):
        ax.plot(step, ex, "k-", lw=1.5, label="exact (binarised image + duct-flow solver)")
        if np.isfinite(sur).any():
            ax.plot(step, sur, "r--", lw=1.2, label="CNN surrogate (paper)")
        ax.set_xlabel("interpolation step")
        ax.set_ylabel(f"${name}${unit}")
        ax.set_title(f"${name}$ along the path{title_suffix}", fontsize=10)
    axes[0].legend(fontsize=7, loc="best")
    return axes


def plot_image_row(images, titles=None, ncols: int | None = None, size: float = 1.3, suptitle=None):
    """A row (or grid) of binary structures, pore white."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    lines = max((str(t).count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.13 * lines) * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=6.5)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
        top = 1.0 - 0.45 / fig.get_figheight()
        fig.tight_layout(pad=0.3, rect=(0, 0, 1, top))
    else:
        fig.tight_layout(pad=0.3)
    return fig


def plot_log_mse_map(df, which: str = "surrogate", train_properties=None, ax=None, feasible=None):
    """Targets in the (n, K11) plane coloured by log10 of the summed squared error (paper Fig. 16).

    The shaded background is a KDE of the training data (where the data set has structures);
    infeasible targets (``feasible`` False) are drawn with crosses.
    """
    import seaborn as sns

    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 4.2))
    if train_properties is not None:
        tp = np.asarray(train_properties)
        sns.kdeplot(x=tp[:, 0], y=tp[:, 1], fill=True, cmap="Greys", levels=8, thresh=0.02, alpha=0.5, ax=ax)
    col = df[f"log_mse_{which}"].to_numpy()
    vmin, vmax = np.nanpercentile(col, [2, 98])
    feas = np.ones(len(df), bool) if feasible is None else np.asarray(feasible)
    sc = ax.scatter(df["n_target"][feas], df["k11_target"][feas], c=col[feas], s=10, cmap="turbo",
                    vmin=vmin, vmax=vmax, label="feasible target")
    if (~feas).any():
        ax.scatter(df["n_target"][~feas], df["k11_target"][~feas], c=col[~feas], s=14, marker="x",
                   cmap="turbo", vmin=vmin, vmax=vmax, label="infeasible target")
    plt.colorbar(sc, ax=ax, label=r"$\log_{10}$(squared error $n$ + $K_{11}$)")
    ax.set_xlabel(r"target $n^F$")
    ax.set_ylabel(r"target $K_{11}^S$ (l.u.²)")
    ax.set_title(f"design error measured by the {which} solution", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_designed_vs_target(df, which: str = "surrogate", feasible=None, r2=None, axes=None):
    """Designed vs target porosity and K11 with the identity line (paper Fig. 17)."""
    plt = _plt()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.8), constrained_layout=True)
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
            ax.set_title(f"$R^2$ = {r2[j]:.3f}", fontsize=10)
        ax.legend(fontsize=7)
    return axes
