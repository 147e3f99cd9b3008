"""Figure helpers of the chapters: they draw, fit the book's width and show pores white."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pvae_lib.plotting import BOOK_WIDTH, PORE_CMAP, middle_slice, show_structure, use_book_style  # noqa: E402

WIDTH = BOOK_WIDTH + 0.05  # inches


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _fig(obj):
    if hasattr(obj, "savefig"):
        return obj
    if hasattr(obj, "figure"):
        return obj.figure
    return np.atleast_1d(obj).ravel()[0].figure


def _rgb(fig, ax, value):
    """Colour that the image of ``ax`` gives to ``value``."""
    im = ax.get_images()[0]
    return np.asarray(im.cmap(im.norm(value))[:3])


def test_show_structure_pore_white_solid_black():
    fig, ax = plt.subplots()
    image = np.zeros((4, 4), bool)
    image[1:3, 1:3] = True
    show_structure(ax, image, "t")
    assert PORE_CMAP == "gray"
    assert np.allclose(_rgb(fig, ax, 1.0), 1.0) and np.allclose(_rgb(fig, ax, 0.0), 0.0)
    assert ax.get_images()[0].get_clim() == (0.0, 1.0)


def test_middle_slice_and_style():
    vol = np.arange(27).reshape(3, 3, 3)
    assert np.array_equal(middle_slice(vol), vol[:, :, 1])
    assert np.array_equal(middle_slice(vol[..., None][:, :, 0]), vol[:, :, 0])
    with pytest.raises(ValueError):
        middle_slice(np.zeros((2, 2, 2, 2)))
    with matplotlib.rc_context():
        use_book_style()
        assert matplotlib.rcParams["font.size"] >= 10


def test_evaluation_plots_fit_the_page_and_show_pores_white():
    from pvae_lib.models.evaluation import plot_loss_curves, plot_pred_vs_true

    rng = np.random.default_rng(0)
    t = rng.random((50, 4))
    fig = plot_pred_vs_true(t, t + 0.01, names=("n", "k11", "k22", "k33"), title="x")
    assert fig.get_figwidth() <= WIDTH
    hist = {"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0], "kl": [1, 1, 1]}
    fig = plot_loss_curves({"a": hist, "b": hist, "c": hist}, keys={"a": ("loss", "kl")})
    assert fig.get_figwidth() <= WIDTH
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["training", "KL (training)"]


def test_two_rows_of_structures():
    from pvae_lib.models.evaluation import _two_rows

    top = np.zeros((8, 6, 6), bool)
    top[:, 2:4, 2:4] = True
    fig = _two_rows(top, top.astype(float), "a", "b")
    assert fig.get_figwidth() <= WIDTH
    ax = fig.axes[0]
    assert np.allclose(_rgb(fig, ax, 1.0), 1.0)


def test_design_plots():
    from pvae_lib.design import plots

    rng = np.random.default_rng(1)
    images = rng.random((11, 8, 8)) > 0.5
    fig = plots.plot_image_row(images, [f"step {i}\nn = 0.5" for i in range(11)], ncols=6)
    assert fig.get_figwidth() <= WIDTH
    assert np.allclose(_rgb(fig, fig.axes[0], 1.0), 1.0)
    fig = plots.plot_image_row(rng.random((3, 4, 5, 5)) > 0.5)  # volumes: middle slice
    slots = np.stack([np.ones((4, 4)), np.full((4, 4), np.nan)])
    fig = plots.plot_image_row(slots, ["design", ""])
    assert fig.axes[0].get_images() and not fig.axes[1].get_images()  # NaN: empty slot
    ax = plots.plot_path_norms({"slerp": rng.normal(size=(5, 3)), "lerp": rng.normal(size=(5, 3))},
                               rng.random(20) + 1)
    assert len(ax.get_lines()) == 2
    probe, train = rng.random((100, 2)), rng.random((20, 2))
    ax = plots.plot_feasible_region(probe, probe[:, 0] > 0.5, train)
    assert ax.figure.get_figwidth() <= WIDTH
    ax = plots.plot_design_history(np.geomspace(1, 1e-3, 10), {"loop": np.geomspace(1e-3, 1e-4, 5)}, 1e-5)
    assert len(ax.get_lines()) == 3
    df = pd.DataFrame({"n_target": rng.random(30), "k11_target": rng.random(30),
                       "log_mse_surrogate": rng.normal(size=30), "log_mse_exact": rng.normal(size=30)})
    fig = plots.plot_log_mse_pair(df, train_properties=rng.random((200, 2)), feasible=rng.random(30) > 0.3)
    assert fig.get_figwidth() <= WIDTH
    df["log_mse_third"] = rng.normal(size=30)  # one panel per protocol, titled
    fig = plots.plot_log_mse_pair(df, which=("surrogate", "exact", "third"), titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"] and fig.get_figwidth() <= WIDTH
    fig = plots.plot_pc_scatter([rng.normal(size=(20, 2))] * 3, [rng.random(20)] * 3, ["a", "b", "c"])
    assert fig.get_figwidth() <= WIDTH


def test_lbm_plots():
    from pvae_lib.lbm import plots

    fig = plots.plot_poiseuille_check(np.arange(4) + 0.5, np.ones(4), lambda y: y * (4 - y), 4, scale=2.0)
    assert fig.get_figwidth() <= WIDTH
    sweep = pd.DataFrame({"collision": ["bgk", "bgk", "trt", "trt"], "tau": [0.6, 1.0, 0.6, 1.0],
                          "K / K_exact": [0.9, 1.1, 1.0, 1.0]})
    assert len(plots.plot_tau_sweep(sweep).axes[0].get_lines()) == 3
    hist = np.column_stack([np.arange(1, 6) * 100, 1 - np.exp(-np.arange(1, 6))])
    assert plots.plot_convergence(hist, 1 / 6, 1e-5, 1e-6).get_figwidth() <= WIDTH
    image = np.ones((6, 6, 4), bool)
    image[2:4, 2:4] = False
    vel = np.zeros((6, 6, 4, 3))
    vel[image, 0] = 1e-4
    fig = plots.plot_flow_slice(image, vel, stride=2)
    assert fig.get_figwidth() <= WIDTH
    assert np.allclose(_rgb(fig, fig.axes[0], 1.0), 1.0)


def test_data_plots():
    from types import SimpleNamespace

    from pvae_lib.data import plots

    rng = np.random.default_rng(2)
    vol = rng.random((6, 6, 6)) > 0.4
    plots.plot_extruded_voxels(vol)
    foams = [SimpleNamespace(image=vol, strain=e, porosity=vol.mean()) for e in (0.0, 0.15, 0.5)]
    fig = plots.plot_foam_projections(foams, slab=2)
    assert fig.get_figwidth() <= WIDTH
    fig = plots.plot_subvolume_grid(vol[:, :, 0], np.array([[0, 0, 0], [2, 2, 0]]), 3)
    assert len(fig.axes[0].patches) == 2
    strains = [0.0, 0.5]
    table = pd.DataFrame({"n_F": rng.random(8), "Permeability_x": rng.random(8) + 0.1,
                          "Permeability_y": rng.random(8) + 0.1, "Permeability_z": rng.random(8) + 0.1,
                          "strain": [0.0] * 4 + [0.5] * 4})
    stats = table.groupby("strain").agg(["mean", "std"])
    assert plots.plot_strain_trends(stats).get_figwidth() <= WIDTH
    images = rng.random((8, 6, 6, 6)) > 0.4
    fig = plots.plot_foam_slices(images, table["n_F"].to_numpy(), table["strain"].to_numpy(), strains, rng,
                                 per_strain=2)
    assert fig.get_figwidth() <= WIDTH
    fig = plots.plot_property_strips(table, table["strain"].to_numpy(), strains, rng)
    assert fig.get_figwidth() <= WIDTH
    fig = plots.plot_volume_reconstructions({"in": images[:3], "out": images[:3].astype(float)}, 3)
    assert fig.get_figwidth() <= WIDTH
    fig = plots.plot_latent_strains(rng.normal(size=(8, 2)), table["strain"].to_numpy(),
                                    table["n_F"].to_numpy(), [0.5, 0.2])
    assert fig.get_figwidth() <= WIDTH
    walk = pd.DataFrame({"n (image)": rng.random(5), "n (regressor)": rng.random(5),
                         **{f"{k} {w}": rng.random(5) for k in ("k11", "k22", "k33")
                            for w in ("LBM", "regressor")}})
    fig = plots.plot_walk_properties(walk, {"k11": (0.1, 0.2)})
    assert fig.get_figwidth() <= WIDTH


def test_jshtml_slider_is_legible_and_subsampled():
    import base64
    import io
    import re

    from PIL import Image

    from pvae_lib.design.widgets import jshtml_slider

    rng = np.random.default_rng(3)
    frames = rng.random((60, 10, 10)) > 0.5
    html = jshtml_slider(frames, [f"step {i}" for i in range(60)], max_frames=10,
                         curves={"n": {"exact": frames.mean(axis=(1, 2))}, "K": frames.mean(axis=(1, 2))}).data
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html.replace("\\\n", ""))
    assert len(pngs) == 10
    width = Image.open(io.BytesIO(base64.b64decode(pngs[0]))).size[0]
    assert width >= 600
    with pytest.raises(ValueError):
        jshtml_slider(frames, ["a"])


def test_design_slider_frames_and_bad_input():
    import base64
    import io
    import re

    from PIL import Image

    from pvae_lib.design.widgets import design_slider

    rng = np.random.default_rng(4)
    images = rng.random((30, 12, 12)) > 0.5
    targets = np.column_stack([rng.uniform(0.1, 0.5, 30), rng.uniform(0.1, 0.4, 30)])
    achieved = targets * 1.01
    train = np.column_stack([rng.uniform(0.1, 0.5, 200), rng.uniform(0.05, 0.4, 200)])
    html = design_slider(images, targets, achieved, train, max_frames=8).data
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html.replace("\\\n", ""))
    assert len(pngs) == 8  # subsampled to max_frames
    assert Image.open(io.BytesIO(base64.b64decode(pngs[0]))).size[0] >= 600
    assert "font-awesome" not in html  # offline controls
    with pytest.raises(ValueError, match="one target"):
        design_slider(images, targets[:5], achieved, train)
    with pytest.raises(ValueError, match=r"\(F, 2\)"):
        design_slider(images, targets[:, :1], achieved[:, :1], train)


def test_solid_surface_is_closed_and_encloses_the_solid():
    """The marching-cubes surface of the solid is watertight (every edge in two triangles), also where
    the box faces cut a strut, and the volume it encloses is the solid's voxel count."""
    from pvae_lib.data.plots import solid_surface

    rng = np.random.default_rng(3)
    vol = np.ones((10, 12, 9), bool)
    vol[2:6, 3:9, 1:5] = False  # a block inside
    vol[:, 10:, 4:7] = False  # a strut cut by the two x1 faces
    vol ^= rng.random(vol.shape) < 0.02
    verts, faces = solid_surface(vol)
    edges = np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    assert np.all(counts == 2)
    tri = verts[faces]
    enclosed = abs(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum()) / 6
    # marching cubes cuts the voxel corners: the enclosed volume is a little below the voxel count
    assert 0.6 * (~vol).sum() < enclosed <= (~vol).sum()
    assert verts.min() >= -0.5 - 1e-9 and np.all(verts.max(axis=0) <= np.array(vol.shape) - 0.5 + 1e-9)
    for uniform in (np.ones((4, 4, 4), bool), np.zeros((4, 4, 4), bool)):
        v, f = solid_surface(uniform)
        assert v.shape == (0, 3) and f.shape == (0, 3)
    with pytest.raises(ValueError, match="3-D"):
        solid_surface(np.ones((4, 4), bool))


def test_plot_volumes_3d_draws_one_panel_per_volume():
    from pvae_lib.data.plots import plot_volumes_3d

    rng = np.random.default_rng(0)
    vols = rng.random((3, 8, 8, 8)) < 0.8
    fig = plot_volumes_3d({"input": vols, "binarised": ~vols}, titles=["a", "b", "c"])
    axes = [ax for ax in fig.axes if ax.name == "3d"]
    assert len(axes) == 6
    assert fig.get_figwidth() <= WIDTH
    assert axes[0].get_title().startswith("a\n") and axes[3].get_title() == f"$n$ = {(~vols[0]).mean():.2f}"
    assert all(len(ax.collections) == 1 for ax in axes)
