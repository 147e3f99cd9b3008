"""Dataset statistics (paper Table 3) and the porosity-permeability scatter (paper Fig. 6)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .properties import POROSITY, permeability_column

__all__ = ["summary_table", "porosity_permeability_fit", "plot_porosity_permeability"]


def summary_table(table: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Count, mean, std, min, quartiles and max per property (paper Table 3).

    Parameters
    ----------
    table : pandas.DataFrame
        A property table (``n_F``, ``Permeability_x`` ...).
    columns : sequence of str, optional
        Default: ``n_F`` and every ``Permeability_*`` column present.

    Returns
    -------
    pandas.DataFrame
        One row per property, columns ``count, mean, std, min, 25%, 50%, 75%, max``
        (``std`` with ``ddof=1`` as in pandas).
    """
    if columns is None:
        columns = [c for c in (POROSITY, *map(permeability_column, range(3))) if c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}")
    out = table[list(columns)].astype(float).describe().T
    out["count"] = out["count"].astype(int)
    return out


def porosity_permeability_fit(porosity, permeability) -> dict:
    """Least-squares line ``K = slope * n + intercept`` and its coefficient of determination.

    Returns
    -------
    dict
        ``slope`` (l.u.), ``intercept`` (l.u.), ``r2``, ``pearson_r``.
    """
    n = np.asarray(porosity, dtype=float)
    k = np.asarray(permeability, dtype=float)
    if n.shape != k.shape or n.size < 2:
        raise ValueError("need two equally long arrays with at least 2 values")
    slope, intercept = np.polyfit(n, k, 1)
    residual = k - (slope * n + intercept)
    ss_tot = float(np.sum((k - k.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / ss_tot if ss_tot > 0 else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2,
            "pearson_r": float(np.corrcoef(n, k)[0, 1])}


def plot_porosity_permeability(table: pd.DataFrame, column: str = "Permeability_x", ax=None,
                               max_points: int = 20_000, seed: int = 0):
    """Scatter of ``n_F`` against a permeability with its regression line (paper Fig. 6).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fit = porosity_permeability_fit(table[POROSITY], table[column])
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
    else:
        fig = ax.figure
    shown = table if len(table) <= max_points else table.sample(max_points, random_state=seed)
    ax.scatter(shown[POROSITY], shown[column], s=4, alpha=0.3, lw=0, label=f"{len(table)} samples")
    grid = np.linspace(table[POROSITY].min(), table[POROSITY].max(), 50)
    ax.plot(grid, fit["slope"] * grid + fit["intercept"], "r-",
            label=f"K = {fit['slope']:.3g} n {'+' if fit['intercept'] >= 0 else '−'} {abs(fit['intercept']):.3g}"
                  f"  (R² = {fit['r2']:.3f})")
    index = column.rsplit("_", 1)[-1]
    ii = {"x": "11", "y": "22", "z": "33"}.get(index, "")
    ax.set_xlabel("porosity $n^F$ [-]")
    ax.set_ylabel(f"$K^S_{{{ii}}}$ [l.u.]" if ii else f"{column} [l.u.]")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
