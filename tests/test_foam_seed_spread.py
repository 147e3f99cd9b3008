"""The foam study's learned figures against their measured spread over seeds.

The spread is measured by ``benchmarks/foam_seed_spread.py`` (each seed trains the quick foam
pVAE on the profile's labelled sub-volumes with its own split and initialisation) and shipped in
``data/foam_seed_spread_quick.json``; the commands are in ``data/README.md``. As for the 2-D
figures (``tests/test_seed_spread.py``), a bound on a learned figure must sit at least five
standard deviations inside the mean; the foam targets of issue 12 that no seed reaches yet are
strict xfails with their measured values.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from foam_seed_spread import CHAPTER, FIGURES, book_bounds  # noqa: E402

SPREAD = ROOT / "data" / "foam_seed_spread_quick.json"
MARGIN_STD = 5.0  # as tests/test_seed_spread.py


@pytest.fixture(scope="module")
def spread():
    return json.loads(SPREAD.read_text(encoding="utf-8"))


def test_spread_was_measured_over_at_least_three_seeds(spread):
    assert spread["profile"] == "quick"
    assert len(set(spread["seeds"])) >= 3 and len(spread["rows"]) == len(spread["seeds"])
    for name in FIGURES:
        assert spread["summary"][name]["n"] == len(spread["seeds"])
    for row in spread["rows"]:  # every seed trained on all labelled sub-volumes, with the profile's settings
        assert row["settings"] == {} and row["samples"] == spread["rows"][0]["samples"]


#: bounds not yet five spreads inside the mean (the issue 12 targets); strict: an entry must go once it passes
NOT_YET_CLEAR = {
    "r2_k11": "0.939 / 0.925 on seeds 2025 / 2026: below the target 0.95",
    "r2_k22": "0.930 / 0.936 on seeds 2025 / 2026: below the target 0.95",
    "r2_k33": "0.929 / 0.933 on seeds 2025 / 2026: below the target 0.95",
    "recon_voxel_accuracy": "0.830 / 0.832 on seeds 2025 / 2026: below the target 0.90",
}
BOUNDED = [n for n in FIGURES if n in book_bounds()]


def test_every_bounded_figure_is_checked():
    """r2_n is an acceptance bound; the K and reconstruction targets are FOAM_TARGETS; porosity MAE has none."""
    assert set(BOUNDED) == {"r2_n", "r2_k11", "r2_k22", "r2_k33", "recon_voxel_accuracy"}
    assert book_bounds()["r2_n"][2] == "acceptance"


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


def _script(*args, cwd):
    import subprocess

    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "foam_seed_spread.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def _table(path, seeds, profile="quick"):
    rows = [{"seed": s, **{name: 0.5 + 0.001 * s for name in FIGURES}} for s in seeds]
    path.write_text(json.dumps({"profile": profile, "seeds": list(seeds), "rows": rows}), encoding="utf-8")
    return str(path)


def test_merge_joins_runs_made_one_seed_at_a_time(tmp_path):
    parts = [_table(tmp_path / f"s{s}.json", [s]) for s in (3, 1, 2)]
    out = tmp_path / "all.json"
    r = _script("--profile", "quick", "--merge", *parts, "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    table = json.loads(out.read_text(encoding="utf-8"))
    assert table["seeds"] == [1, 2, 3]
    assert table["summary"]["r2_k22"]["n"] == 3
    assert table["summary"]["r2_k22"]["mean"] == pytest.approx(0.502)
    assert "foam_study.r2_n" in r.stdout


@pytest.mark.parametrize("case, message", [
    ("duplicate", "more than one table"), ("two", "at least 3 seeds"), ("profile", "--profile"),
    ("missing", "cannot read")])
def test_merge_refuses_bad_tables(tmp_path, case, message):
    if case == "duplicate":
        parts = [_table(tmp_path / "a.json", [1, 2]), _table(tmp_path / "b.json", [2, 3])]
    elif case == "two":
        parts = [_table(tmp_path / "a.json", [1, 2])]
    elif case == "profile":
        parts = [_table(tmp_path / "a.json", [1, 2, 3], profile="paper")]
    else:
        parts = [str(tmp_path / "nothing.json")]
    r = _script("--profile", "quick", "--merge", *parts, "--out", str(tmp_path / "o.json"), cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o.json").exists()


def test_a_seed_given_twice_is_refused_before_any_training(tmp_path):
    r = _script("--profile", "quick", "--seeds", "2026", "2026", "--out", str(tmp_path / "o.json"), cwd=tmp_path)
    assert r.returncode == 2 and "given twice" in r.stderr, r.stderr
    assert not (tmp_path / "o.json").exists()
