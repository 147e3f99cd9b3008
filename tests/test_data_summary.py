"""Table 3 statistics and the n-K scatter (Fig. 6)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from pvae_lib.data.summary import plot_porosity_permeability, porosity_permeability_fit, summary_table  # noqa: E402


def _table():
    n = np.linspace(0.1, 0.4, 31)
    return pd.DataFrame({"case": range(31), "n_F": n, "Permeability_x": 2 * n + 0.1})


def test_summary_table_layout():
    out = summary_table(_table())
    assert list(out.index) == ["n_F", "Permeability_x"]
    assert list(out.columns) == ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    assert out.loc["n_F", "count"] == 31 and out.loc["n_F", "min"] == pytest.approx(0.1)
    assert out.loc["Permeability_x", "50%"] == pytest.approx(0.6)
    with pytest.raises(ValueError):
        summary_table(_table(), ["Permeability_z"])


def test_fit_and_plot():
    fit = porosity_permeability_fit(_table()["n_F"], _table()["Permeability_x"])
    assert fit["slope"] == pytest.approx(2) and fit["intercept"] == pytest.approx(0.1) and fit["r2"] == pytest.approx(1)
    fig = plot_porosity_permeability(_table())
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    with pytest.raises(ValueError):
        porosity_permeability_fit([0.1], [1.0])
