"""The foam study's learned figures against their measured spread over seeds.

The spread is measured by ``benchmarks/foam_seed_spread.py`` (each seed trains the quick foam
pVAE on the profile's labelled sub-volumes with its own split and initialisation) and shipped in
``data/foam_seed_spread_quick.json``; the commands are in ``data/README.md``. As for the 2-D
figures (``tests/test_seed_spread.py``), a bound on a learned figure must sit at least five
standard deviations inside the mean; the foam targets of issue 12 that no seed reaches yet are
strict xfails with their measured values. The table handling (``--merge``, bad input) is
tested with the 2-D script's in ``tests/test_seed_spread.py``.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from foam_seed_spread import CHAPTER, FIGURES, book_bounds  # noqa: E402
from test_seed_spread import MARGIN_STD, assert_measured_over_three_seeds  # noqa: E402

SPREAD = ROOT / "data" / "foam_seed_spread_quick.json"


@pytest.fixture(scope="module")
def spread():
    return json.loads(SPREAD.read_text(encoding="utf-8"))


def test_spread_was_measured_over_at_least_three_seeds(spread):
    assert_measured_over_three_seeds(spread, FIGURES)
    for row in spread["rows"]:  # every seed trained on all labelled sub-volumes, with the profile's settings
        assert row["settings"] == {} and row["samples"] == spread["rows"][0]["samples"]


#: bounds not yet five spreads inside the mean (r2_n's acceptance bound and the issue 12 targets);
#: strict: an entry must go once it passes
NOT_YET_CLEAR = {
    "r2_n": "0.98548 ± 0.00127 over seeds 2025-2027: 4.3 spreads above the bound 0.98 (the chapter's "
            "predictions averaged over the 8 lateral symmetries, r2_n_symmetrized: 0.98897 ± 0.00152, 5.9 spreads)",
    "r2_k11": "0.9313 ± 0.0069: below the target 0.95",
    "r2_k22": "0.9315 ± 0.0041: below the target 0.95",
    "r2_k33": "0.9385 ± 0.0131 (seed 2027: 0.953): below the target 0.95",
    "recon_voxel_accuracy": "0.8294 ± 0.0032: below the target 0.90",
}
BOUNDED = [n for n in FIGURES if n in book_bounds()]


def test_every_bounded_figure_is_checked():
    """r2_n and r2_n_symmetrized are acceptance bounds; the K and reconstruction targets are FOAM_TARGETS;
    porosity MAE and the averaged R² of K have none."""
    assert set(BOUNDED) == {"r2_n", "r2_n_symmetrized", "r2_k11", "r2_k22", "r2_k33", "recon_voxel_accuracy"}
    assert book_bounds()["r2_n"][2] == book_bounds()["r2_n_symmetrized"][2] == "acceptance"


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=f"measured: {NOT_YET_CLEAR[n]}"))
    if n in NOT_YET_CLEAR else n for n in BOUNDED])
def test_bound_is_five_spreads_inside_the_mean(spread, name):
    op, bound, _ = book_bounds()[name]
    assert op == ">=" and FIGURES[name][1] == "max"
    s = spread["summary"][name]
    assert s["mean"] - MARGIN_STD * s["std"] >= bound, (
        f"{CHAPTER}.{name}: mean {s['mean']:.5f} - {MARGIN_STD:g} std ({s['std']:.5f}) "
        f"= {s['mean'] - MARGIN_STD * s['std']:.5f} is below the bound {bound}")


def test_book_seed_row_is_the_shipped_model(spread):
    """The row of the book's seed measured the shipped foam pVAE (same key digest), not another model."""
    from seed_spread import key_digest
    from pvae_lib.experiments.shipped import shipped_models_dir
    from pvae_lib.profiles import get_profile

    book = {r["seed"]: r for r in spread["rows"]}[get_profile(spread["profile"]).seed]
    info = json.loads((shipped_models_dir(spread["profile"]) / "foam_pvae_info.json").read_text(encoding="utf-8"))
    assert book["source"] == "shipped"
    assert book["key"] == key_digest(info["key"]), (
        f"{SPREAD.name}'s row for the book seed was measured with another model than the shipped foam pVAE "
        "(rerun the command in data/README.md)")
    for p in ("n", "k11", "k22", "k33"):
        assert book[f"r2_{p}"] == info["r2"][p]
    others = [r for r in spread["rows"] if r is not book]
    assert all(r["source"] == "trained" for r in others)
    assert len({r["key"] for r in spread["rows"]}) == len(spread["rows"])  # one model per seed


@pytest.mark.book
def test_book_figures_are_the_tables_row(spread):
    """The foam chapter's figures are the shipped table's row for the book's seed."""
    from pvae_lib.profiles import get_profile
    from pvae_lib.results import read_results, results_path

    if get_profile().name != spread["profile"]:
        pytest.skip("the table is for another profile")
    results = read_results(results_path())
    if CHAPTER not in results:
        pytest.skip("foam_study not in this build")
    row = {r["seed"]: r for r in spread["rows"]}[get_profile().seed]
    for name, (key, _) in FIGURES.items():
        assert results[CHAPTER][key] == pytest.approx(row[name], rel=1e-9, abs=1e-12), (
            f"{CHAPTER}.{key} = {results[CHAPTER][key]} but {SPREAD.name} has {row[name]}: "
            "rerun benchmarks/foam_seed_spread.py (command in data/README.md)")
