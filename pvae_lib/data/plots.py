"""Figures of the microstructure chapter and the 3-D foam study (paper Figs. 5, 18-27).

Every function draws with matplotlib and returns the figure. Structures follow
:mod:`pvae_lib.plotting` (pore white, solid black) and every figure fits the book's text
column (at most about 8 inches wide at 100 dpi, fonts of 10 pt or more).
"""
from __future__ import annotations

import numpy as np

from ..plotting import BOOK_WIDTH, show_structure
from .properties import PROPERTIES

__all__ = [
    "plot_extruded_voxels",
    "plot_foam_projections",
    "plot_subvolume_grid",
    "plot_strain_trends",
    "plot_foam_slices",
    "plot_property_strips",
    "plot_tensor_against_strain",
    "plot_volume_reconstructions",
    "plot_volumes_3d",
    "solid_surface",
    "plot_latent_strains",
    "plot_walk_properties",
]

#: permeability column -> symbol, from the one registry of properties
_K_LABELS = {PROPERTIES[k].column: PROPERTIES[k].symbol for k in ("k11", "k22", "k33")}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def plot_extruded_voxels(image):
    """3-D view of a small extruded structure: the solid drawn dark, the pores left empty (white).

    Parameters
    ----------
    image : (X1, X2, X3) bool, True = pore; axis 0 is the extrusion (flow) direction x1
    """
    plt = _plt()
    image = np.asarray(image, bool)
    fig = plt.figure(figsize=(4.8, 4.4))
    ax = fig.add_subplot(projection="3d")
    ax.voxels(~image, facecolors="0.25", edgecolor="0.55", linewidth=0.2)
    n1, n2, n3 = image.shape
    ax.set(xlim=(0, n1), ylim=(0, n2), zlim=(0, n3))
    ax.set_xlabel("$x_1$ (flow)", labelpad=2)
    ax.set_ylabel("$x_2$", labelpad=2)
    ax.set_zlabel("$x_3$", labelpad=2)
    ax.tick_params(labelsize=8.5, pad=0)
    ax.set_title(f"solid of an extruded sample (pores empty), $n^F$ = {image.mean():.2f}", fontsize=10.5)
    fig.subplots_adjust(left=0, right=0.95, bottom=0.02, top=0.95)
    return fig


def plot_foam_projections(foams, slab: int):
    """Each foam volume seen through a thin slab of the x1-x2 plane (pore white, struts black).

    A pixel is white when it is pore through the whole slab ``image[:, :, :slab]``.

    Parameters
    ----------
    foams : sequence of FoamVolume (``.image``, ``.strain``, ``.porosity``)
    slab : thickness of the slab along x3 (voxels)
    """
    plt = _plt()
    n = len(foams)
    size = min(1.9, BOOK_WIDTH / n)
    fig, axes = plt.subplots(1, n, figsize=(size * n, size + 0.55), squeeze=False)
    for ax, foam in zip(axes[0], foams):
        show_structure(ax, foam.image[:, :, :slab].all(axis=2),
                       f"ε = {foam.strain:.0%}\n$n^F$ = {foam.porosity:.3f}")
    axes[0, 0].set_ylabel("$x_1$ (load)")
    fig.tight_layout(pad=0.3)
    return fig


def plot_subvolume_grid(section, origins, n_sub: int):
    """The sub-volume windows (red squares) on a 2-D view of a volume (paper Fig. 19).

    Parameters
    ----------
    section : (X1, X2) bool image of the volume (pore white)
    origins : (M, 3) window origins; their (x1, x2) corners are drawn
    n_sub : window edge (voxels)
    """
    from matplotlib.patches import Rectangle

    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 4.2), constrained_layout=True)
    show_structure(ax, section)
    for x0, y0 in {(int(o[0]), int(o[1])) for o in origins}:
        ax.add_patch(Rectangle((y0 - 0.5, x0 - 0.5), n_sub, n_sub, fill=False, ec="tab:red", lw=1.5))
    ax.set_title(f"{len(origins)} windows of {n_sub}³ per volume")
    ax.set_xlabel("$x_2$")
    ax.set_ylabel("$x_1$")
    return fig


def plot_strain_trends(stats):
    """Mean ± std of porosity and of K11, K22, K33 against the compressive strain (paper Fig. 20).

    Parameters
    ----------
    stats : pandas.DataFrame indexed by strain, with (column, "mean") and (column, "std") for
        ``n_F`` and ``Permeability_x|y|z``
    """
    plt = _plt()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.3), constrained_layout=True)
    strain_pct = 100 * stats.index.to_numpy()
    ax1.errorbar(strain_pct, stats[("n_F", "mean")], stats[("n_F", "std")], marker="o", capsize=3)
    ax1.set_xlabel("compressive strain ε [%]")
    ax1.set_ylabel("porosity $n^F$ [-]")
    for col, label in _K_LABELS.items():
        ax2.errorbar(strain_pct, stats[(col, "mean")], stats[(col, "std")], marker="o", capsize=3,
                     label=label)
    ax2.set_xlabel("compressive strain ε [%]")
    ax2.set_ylabel("permeability [l.u.²]")
    ax2.legend()
    return fig


def plot_foam_slices(images, porosity, strain, strains, rng, per_strain: int = 3):
    """Central x1-x2 slices of a few random sub-volumes per strain (one column per strain).

    Parameters
    ----------
    images : (N, s, s, s) bool sub-volumes (pore white); porosity, strain : (N,) labels
    strains : the strain levels, one column each
    rng : numpy Generator choosing the sub-volumes
    """
    plt = _plt()
    images = np.asarray(images)
    mid = images.shape[3] // 2
    ncols = len(strains)
    size = min(1.6, BOOK_WIDTH / ncols)
    fig, axes = plt.subplots(per_strain, ncols, figsize=(size * ncols, (size + 0.3) * per_strain + 0.3),
                             squeeze=False)
    for j, eps in enumerate(strains):
        picks = rng.choice(np.flatnonzero(np.asarray(strain) == eps), per_strain, replace=False)
        for i, k in enumerate(picks):
            show_structure(axes[i, j], images[k][:, :, mid], f"$n^F$ = {porosity[k]:.2f}")
        axes[0, j].set_title(f"strain {eps:.0%}\n$n^F$ = {porosity[picks[0]]:.2f}", fontsize=10)
    axes[per_strain // 2, 0].set_ylabel("$x_1$ (compression)")
    fig.tight_layout(pad=0.3)
    return fig


def plot_property_strips(table, strain, strains, rng):
    """Porosity and K11, K22, K33 per strain: box plots with the samples on top (log scale for K).

    Parameters
    ----------
    table : pandas.DataFrame with ``n_F`` and ``Permeability_x|y|z``; strain : (N,) per row
    strains : the strain levels (x axis)
    rng : numpy Generator for the horizontal jitter of the points
    """
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(BOOK_WIDTH, 5.6), constrained_layout=True)
    cols = [(PROPERTIES[k].column, PROPERTIES[k].label) for k in ("n", "k11", "k22", "k33")]
    strain = np.asarray(strain)
    for ax, (col, label) in zip(axes.flat, cols):
        groups = [table.loc[strain == eps, col].to_numpy() for eps in strains]
        ax.boxplot(groups, positions=range(len(strains)), widths=0.5, showfliers=False)
        for j, g in enumerate(groups):
            ax.plot(j + rng.uniform(-0.15, 0.15, len(g)), g, ".", ms=4, alpha=0.6)
        ax.set_xticks(range(len(strains)), [f"{e:.0%}" for e in strains])
        ax.set(xlabel="strain", ylabel=label)
        if col != PROPERTIES["n"].column:
            ax.set_yscale("log")
    return fig


def plot_tensor_against_strain(table, strain, strains):
    """The permeability tensor against strain: anisotropy (left) and off-diagonal terms (right).

    Left: medians (with the 25-75 % band) of K11 / K22, K11 / K33 and K22 / K33 per strain.
    Right: K12, K13, K23 over the mean diagonal term of each sub-volume, box plots per strain.

    Parameters
    ----------
    table : pandas.DataFrame with ``Permeability_x|y|z`` and ``Permeability_xy|xz|yz`` (a full-tensor table)
    strain : (N,) strain of each row; strains : the strain levels (x axis)
    """
    plt = _plt()
    col = {k: PROPERTIES[k].column for k in ("k11", "k22", "k33", "k12", "k13", "k23")}
    strain = np.asarray(strain)
    fig, (left, right) = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.2), constrained_layout=True)
    x = np.arange(len(strains))
    for a, b in (("k11", "k22"), ("k11", "k33"), ("k22", "k33")):
        ratio = (table[col[a]] / table[col[b]]).to_numpy()
        q = np.array([np.percentile(ratio[strain == eps], [25, 50, 75]) for eps in strains])
        label = f"{PROPERTIES[a].symbol} / {PROPERTIES[b].symbol}"
        left.plot(x, q[:, 1], "o-", label=label)
        left.fill_between(x, q[:, 0], q[:, 2], alpha=0.2)
    left.axhline(1.0, color="0.5", lw=0.8)
    left.set_xticks(x, [f"{e:.0%}" for e in strains])
    left.set(xlabel="strain", ylabel="ratio (median, 25-75 %)")
    left.legend(fontsize="small")
    mean_diag = table[[col["k11"], col["k22"], col["k33"]]].mean(axis=1).to_numpy()
    width = 0.25
    for i, k in enumerate(("k12", "k13", "k23")):
        rel = table[col[k]].to_numpy() / mean_diag
        groups = [rel[strain == eps] for eps in strains]
        box = right.boxplot(groups, positions=x + (i - 1) * width, widths=0.8 * width, showfliers=False,
                            patch_artist=True)
        for patch in box["boxes"]:
            patch.set_facecolor(f"C{i}")
            patch.set_alpha(0.5)
        right.plot([], [], "s", color=f"C{i}", alpha=0.5, label=f"{PROPERTIES[k].symbol} / mean $K_{{ii}}$")
    right.axhline(0.0, color="0.5", lw=0.8)
    right.set_xticks(x, [f"{e:.0%}" for e in strains])
    right.set(xlabel="strain", ylabel="off-diagonal / mean diagonal")
    lo, hi = right.get_ylim()
    right.set_ylim(lo, hi + 0.5 * (hi - lo))  # room for the legend above the whiskers
    right.legend(fontsize="small", loc="upper center")
    return fig


def plot_volume_reconstructions(rows: dict, slice_index: int):
    """Central x1-x2 slices of volumes, one row per entry (e.g. input, p(pore), binarised).

    Parameters
    ----------
    rows : dict
        Row label -> (M, s, s, s) volumes with values in [0, 1] (1 = pore); every row has M.
    slice_index : index along axis 3 of the slice shown
    """
    plt = _plt()
    labels = list(rows)
    m = len(rows[labels[0]])
    size = min(1.5, (BOOK_WIDTH - 0.3) / m)
    fig, axes = plt.subplots(len(labels), m, figsize=(size * m + 0.3, (size + 0.3) * len(labels)),
                             squeeze=False)
    for i, label in enumerate(labels):
        for j, vol in enumerate(rows[label]):
            vol = np.asarray(vol, float)
            show_structure(axes[i, j], vol[:, :, slice_index], f"$n$ = {vol.mean():.2f}")
        axes[i, 0].set_ylabel(label)
    fig.tight_layout(pad=0.3)
    return fig


def solid_surface(volume, step: int = 1):
    """Triangulated surface of the solid phase of a binary volume (marching cubes), closed at the box faces.

    Parameters
    ----------
    volume : (s1, s2, s3) bool, True = pore
    step : voxel step of the marching cubes (2 halves the triangles of a large volume)

    Returns
    -------
    verts : (V, 3) float, vertex coordinates in voxels along (x1, x2, x3)
    faces : (F, 3) int, vertex indices of each triangle
    """
    from skimage.measure import marching_cubes

    solid = ~np.asarray(volume, bool)
    if solid.ndim != 3:
        raise ValueError(f"expected a 3-D volume, got shape {solid.shape}")
    if not solid.any() or solid.all():
        return np.zeros((0, 3)), np.zeros((0, 3), int)
    # a layer of pore around the box closes the struts that the box faces cut
    padded = np.pad(solid.astype(np.float32), 1, constant_values=0.0)
    verts, faces, _, _ = marching_cubes(padded, level=0.5, step_size=int(step))
    return verts - 1.0, faces


def plot_volumes_3d(rows: dict, titles=None, size: float = 1.75, elev: float = 22.0, azim: float = -55.0,
                    step: int | None = None):
    """3-D views of the solid of binary volumes (pores empty), one row per entry (e.g. input, reconstruction).

    Each panel draws the surface of the solid phase (:func:`solid_surface`), shaded, with the
    compression axis x1 vertical; the box faces cut the struts and show their cross-sections.

    Parameters
    ----------
    rows : dict
        Row label -> (M, s, s, s) bool volumes (True = pore); every row has M.
    titles : sequence of M str, optional
        Column titles (default: each panel's porosity).
    size : panel edge (inches)
    elev, azim : view angles (degrees) of :meth:`mpl_toolkits.mplot3d.axes3d.Axes3D.view_init`
    step : voxel step of the surface (:func:`solid_surface`); default: 1 up to 48 voxels per edge,
        coarser above (a 100³ sub-volume is drawn with step 3), so that a panel stays a few
        ten thousand triangles
    """
    from matplotlib.colors import LightSource
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    plt = _plt()
    labels = list(rows)
    m = len(rows[labels[0]])
    size = min(size, BOOK_WIDTH / m)
    fig = plt.figure(figsize=(size * m + 0.3, size * len(labels) + 0.5))
    light = LightSource(azdeg=315, altdeg=35)
    for i, label in enumerate(labels):
        for j, vol in enumerate(rows[label]):
            vol = np.asarray(vol, bool)
            ax = fig.add_subplot(len(labels), m, i * m + j + 1, projection="3d")
            verts, faces = solid_surface(vol, step or max(1, -(-max(vol.shape) // 48)))
            if len(faces):
                # (x1, x2, x3) -> plot (x2, x3, x1): the compression axis x1 points up
                tri = verts[faces][:, :, [1, 2, 0]]
                ax.add_collection3d(Poly3DCollection(tri, facecolors="0.6", linewidths=0.0, shade=True,
                                                     lightsource=light))
            s1, s2, s3 = vol.shape
            ax.set(xlim=(0, s2), ylim=(0, s3), zlim=(0, s1), xticks=[], yticks=[], zticks=[])
            ax.set_box_aspect((s2, s3, s1))
            ax.view_init(elev=elev, azim=azim)
            title = f"$n$ = {vol.mean():.2f}"
            ax.set_title(f"{titles[j]}\n{title}" if titles is not None and i == 0 else title, fontsize=8.5, pad=0)
            if j == 0:
                ax.text2D(0.0, 0.5, label, transform=ax.transAxes, rotation=90, va="center", ha="right",
                          fontsize=9.5)
    head = 0.45 if titles is not None else 0.3  # inches above the first row for its titles
    fig.subplots_adjust(left=0.06, right=1, bottom=0, top=1 - head / fig.get_figheight(), wspace=0.02, hspace=0.12)
    return fig


def plot_latent_strains(pcs, strain, porosity, explained):
    """Latent means on PC1-PC2, coloured by strain level (left) and by porosity (right).

    Parameters
    ----------
    pcs : (N, 2) principal-component scores; strain, porosity : (N,)
    explained : explained variance ratio of PC1 and PC2 (axis labels)
    """
    plt = _plt()
    strain = np.asarray(strain)
    fig, axes = plt.subplots(1, 2, figsize=(BOOK_WIDTH, 3.5), constrained_layout=True)
    for eps in sorted(set(strain)):
        sel = strain == eps
        axes[0].scatter(pcs[sel, 0], pcs[sel, 1], s=16, label=f"{eps:.0%}")
    axes[0].legend(title="strain", fontsize=9)
    sc = axes[1].scatter(pcs[:, 0], pcs[:, 1], c=porosity, s=16, cmap="viridis")
    fig.colorbar(sc, ax=axes[1], label="$n^F$")
    for ax in axes:
        ax.set(xlabel=f"PC1 ({explained[0]:.0%})", ylabel=f"PC2 ({explained[1]:.0%})")
    return fig


def plot_walk_properties(walk, end_values=None, names=("k11", "k22", "k33"), exact_label: str = "LBM"):
    """Porosity and K11, K22, K33 along a latent walk: measured on the structure vs regressor.

    Parameters
    ----------
    walk : pandas.DataFrame indexed by step with columns ``n (image)``, ``n (regressor)`` and,
        for each of ``names``, ``<name> <exact_label>`` and ``<name> regressor``
        (:attr:`~pvae_lib.design.interpolation.VerifiedWalk.table`)
    end_values : dict, optional
        property name (``"k11"``, ...) -> (start, end) values of the data samples at the two ends (stars).
    names : the three properties of the other panels (:data:`~pvae_lib.data.properties.PROPERTIES`;
        their symbols and units label the axes)
    exact_label : suffix of the solver's columns
    """
    from .properties import PROPERTIES

    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(BOOK_WIDTH, 5.6), constrained_layout=True)
    axes = axes.ravel()
    steps = walk.index.to_numpy()
    # a marker per step while they stay apart; a long walk (the paper's 100 steps) as plain lines
    exact, model = ("o-", "s--") if len(steps) <= 30 else ("-", "--")
    axes[0].plot(steps, walk["n (image)"], exact, label="binarised image")
    axes[0].plot(steps, walk["n (regressor)"], model, label="regressor")
    axes[0].set_ylabel(PROPERTIES["n"].label)
    for ax, name in zip(axes[1:], names):
        ax.plot(steps, walk[f"{name} {exact_label}"], exact, label=exact_label)
        ax.plot(steps, walk[f"{name} regressor"], model, label="regressor")
        if end_values is not None and name in end_values:
            ax.plot([steps[0], steps[-1]], end_values[name], "k*", ms=11, label="end samples (data)")
        ax.set_ylabel(PROPERTIES[name].label)
    for ax in axes:
        ax.set_xlabel("slerp step")
    axes[0].legend(fontsize=9)
    axes[1].legend(fontsize=9)
    return fig
