"""The authors' real-foam labels shipped as package data, Kozeny–Carman, anisotropy and the K–n figure."""
import matplotlib

matplotlib.use("Agg")

from importlib import resources  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pvae_lib.data import anisotropy, fit_kozeny_carman, kozeny_carman, load_real_foam, plot_k_vs_n  # noqa: E402
from pvae_lib.data.real_foam import REAL_FOAM_COLUMNS, real_foam_path  # noqa: E402

K_COLUMNS = ["Permeability_x", "Permeability_y", "Permeability_z"]
U_COLUMNS = ["AverageVel_x", "AverageVel_y", "AverageVel_z"]


@pytest.fixture(scope="module")
def foam():
    return load_real_foam()


def test_packaged_files_are_reachable_through_importlib_resources():
    reference = resources.files("pvae_lib.data").joinpath("reference")
    for name in ("data3D200.csv", "data3D200.LICENSE", "README.md"):
        assert reference.joinpath(name).is_file(), name
    licence = reference.joinpath("data3D200.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright (c) 2025 Phu Thien Nguyen" in licence
    readme = reference.joinpath("README.md").read_text(encoding="utf-8")
    assert "phuthiennguyen-hub/CNN-pVAE-" in readme and "0d4878a" in readme and "data/data3D200.csv" in readme
    header = real_foam_path().read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(REAL_FOAM_COLUMNS)


def test_reader_returns_798_rows_with_the_published_columns(foam):
    assert len(foam) == 798
    assert list(foam.columns) == list(REAL_FOAM_COLUMNS)
    assert foam["case"].tolist() == list(range(1, 799))
    assert foam["n_F"].between(0, 1, inclusive="neither").all()
    assert (foam[K_COLUMNS] > 0).all().all()
    # first data row of the file, as printed there
    first = foam.iloc[0]
    assert first["n_F"] == pytest.approx(0.7661625) and first["Permeability_z"] == pytest.approx(2.77601)


def test_permeability_is_darcy_from_velocity_viscosity_and_gradient(foam):
    assert foam["LatticeViscosity"].to_numpy() == pytest.approx(1 / 6, rel=1e-5)
    assert foam["GradPx"].nunique() == 1  # one gradient magnitude, used for all three flow directions
    for u, k in zip(U_COLUMNS, K_COLUMNS):
        darcy = foam["LatticeViscosity"] * foam[u] / foam["GradPx"]
        np.testing.assert_allclose(foam[k], darcy, rtol=2e-5, err_msg=k)


def _corrupt(tmp_path, edit):
    with real_foam_path().open(encoding="utf-8") as f:
        table = edit(pd.read_csv(f))
    path = tmp_path / "data3D200.csv"
    table.to_csv(path, index=False)
    return path


def _set(column, row, value):
    def edit(table):
        table = table.copy()
        table.loc[row, column] = value(table.loc[row, column]) if callable(value) else value
        return table
    return edit


@pytest.mark.parametrize("edit, message", [
    (_set("Permeability_y", 10, np.nan), "NaN"),
    (_set("Permeability_x", 20, -1.0), "negative"),
    (_set("n_F", 30, 1.2), r"outside \(0, 1\)"),
    (_set("n_F", 31, 0.0), r"outside \(0, 1\)"),
    (_set("Permeability_z", 40, lambda k: 1.01 * k), "Darcy"),
    (_set("AverageVel_x", 50, np.inf), "AverageVel_x"),
    (lambda t: t.drop(columns="GradPx"), "missing column"),
    (lambda t: t.drop(index=t.index[-5:]), "798"),
])
def test_corrupted_copy_gives_a_clear_error(tmp_path, edit, message):
    path = _corrupt(tmp_path, edit)
    with pytest.raises(ValueError, match=message):
        load_real_foam(path)


def test_intact_copy_reads_back(tmp_path):
    path = _corrupt(tmp_path, lambda t: t)
    assert len(load_real_foam(path)) == 798


def test_kozeny_carman_formula_and_fit_recover_a_known_constant():
    n = np.linspace(0.3, 0.9, 200)
    assert kozeny_carman(0.5, constant=2.0) == pytest.approx(2.0 * 0.125 / 0.25)
    # spheres of diameter d: S0 = 6/d, c = 5 -> K = d² n³ / (180 (1 - n)²)
    d = 10.0
    np.testing.assert_allclose(kozeny_carman(n, specific_surface=6 / d), d**2 * n**3 / (180 * (1 - n) ** 2))
    noise = np.exp(np.random.default_rng(0).normal(0, 0.05, n.size))
    fit = fit_kozeny_carman(n, kozeny_carman(n, constant=0.37) * noise)
    assert fit["constant"] == pytest.approx(0.37, rel=0.02) and fit["r2"] > 0.99 and fit["count"] == n.size
    exact = fit_kozeny_carman(n, kozeny_carman(n, constant=0.37))
    assert exact["constant"] == pytest.approx(0.37, rel=1e-12) and exact["r2"] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        kozeny_carman(n)
    with pytest.raises(ValueError):
        kozeny_carman(n, constant=1.0, specific_surface=1.0)
    with pytest.raises(ValueError):
        kozeny_carman(1.0, constant=1.0)
    with pytest.raises(ValueError):
        fit_kozeny_carman(n, np.zeros_like(n))


def test_anisotropy_ratios(foam):
    table = pd.DataFrame({"case": [0, 1], "Permeability_x": [2.0, 1.0], "Permeability_y": [1.0, 1.0],
                          "Permeability_z": [4.0, 0.5]})
    out = anisotropy(table)
    assert list(out.columns) == ["case", "K11/K22", "K11/K33", "K22/K33"]
    np.testing.assert_allclose(out[["K11/K22", "K11/K33", "K22/K33"]], [[2.0, 0.5, 0.25], [1.0, 2.0, 2.0]])
    real = anisotropy(foam)
    np.testing.assert_allclose(real["K11/K33"], foam["Permeability_x"] / foam["Permeability_z"])
    assert real["K11/K22"].mean() < 1  # the real foam is least permeable along x1


def test_plot_k_vs_n_draws_one_scatter_per_group_and_the_fit(foam):
    rng = np.random.default_rng(1)
    n2 = rng.uniform(0.2, 0.6, 50)
    k2 = kozeny_carman(n2, constant=0.05)
    k2[:3] = 0.0  # non-percolating samples are left out of the log axis
    groups = {"synthetic 2-D": (n2, k2),
              "stand-in foam": (rng.uniform(0.6, 0.9, 20), rng.uniform(0.5, 5, 20)),
              "real foam (CT)": (foam["n_F"], foam["Permeability_x"])}
    ax = plot_k_vs_n(groups, fit_to="real foam (CT)")
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.collections) == 3 and len(ax.lines) == 1
    assert ax.get_yscale() == "log" and "l.u." in ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("synthetic 2-D (47 samples; 3 with K ≤ 0")
    assert "Kozeny–Carman fit to real foam (CT)" in labels[-1]
    fit = fit_kozeny_carman(foam["n_F"], foam["Permeability_x"])
    x, y = ax.lines[0].get_data()
    np.testing.assert_allclose(y, kozeny_carman(x, constant=fit["constant"]))
    matplotlib.pyplot.close(ax.figure)
    ax = plot_k_vs_n({"a": (n2[3:], k2[3:])})
    assert len(ax.collections) == 1 and len(ax.lines) == 0
    matplotlib.pyplot.close(ax.figure)
    with pytest.raises(ValueError, match="fit_to"):
        plot_k_vs_n(groups, fit_to="nope")


def test_fit_exponential_recovers_rate_and_prefactor():
    from pvae_lib.data import fit_exponential

    n = np.linspace(0.6, 0.9, 40)
    exact = fit_exponential(n, 0.02 * np.exp(7.5 * n))
    assert exact["rate"] == pytest.approx(7.5, rel=1e-10) and exact["prefactor"] == pytest.approx(0.02, rel=1e-9)
    assert exact["r2"] == pytest.approx(1.0) and exact["rms_log10"] < 1e-12 and exact["count"] == 40
    # Kozeny-Carman is not exponential: its log K curves upward in n, and the line misses it
    kc = fit_exponential(n, kozeny_carman(n, constant=0.37))
    assert 0.9 < kc["r2"] < 0.999
    with pytest.raises(ValueError, match="> 0"):
        fit_exponential(n, np.zeros_like(n))
    with pytest.raises(ValueError):
        fit_exponential([0.5], [1.0])
