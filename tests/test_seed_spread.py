"""The acceptance bounds of the learned figures against their measured spread over seeds.

The spread is measured by ``benchmarks/seed_spread.py`` (each seed runs the book's whole
pipeline: data, split, CNN, pVAE) and shipped in ``data/seed_spread_quick.json``; the command
is in ``data/README.md``. A bound that a figure misses by chance on another seed is no test:
every bound of ``tests/test_book_results.py`` on a learned figure must sit at least five
standard deviations inside the mean. The book build checks that its own figures are the
table's row for the book's seed (``test_book_figures_are_the_tables_row``), so the table
cannot drift from the code.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from foam_seed_spread import FIGURES as FOAM_FIGURES  # noqa: E402
from seed_spread import FIGURES  # noqa: E402
from test_book_results import ACCEPTANCE  # noqa: E402

SPREAD = ROOT / "data" / "seed_spread_quick.json"
#: the margin, in standard deviations over seeds, between a bound and the mean
MARGIN_STD = 5.0


@pytest.fixture(scope="module")
def spread():
    return json.loads(SPREAD.read_text(encoding="utf-8"))


def assert_measured_over_three_seeds(spread, figures):
    """A quick-profile table of at least 3 distinct seeds, each figure summarised over all of them."""
    assert spread["profile"] == "quick"
    assert len(set(spread["seeds"])) >= 3 and len(spread["rows"]) == len(spread["seeds"])
    for name in figures:
        assert spread["summary"][name]["n"] == len(spread["seeds"])


def test_spread_was_measured_over_at_least_three_seeds(spread):
    assert_measured_over_three_seeds(spread, FIGURES)


def _bound(name):
    chapter, key, direction = FIGURES[name]
    bounds = [(op, b) for c, k, op, b in ACCEPTANCE if (c, k) == (chapter, key)]
    assert len(bounds) == 1, f"want one acceptance bound for {chapter}.{key}, found {bounds}"
    op, bound = bounds[0]
    assert op == (">=" if direction == "max" else "<"), (name, op)
    return bound


#: figures whose bound is not yet five spreads inside the mean, with their measured margin. Strict: when
#: the models improve and a figure passes, the entry must go. Empty since stage 1's learning rate 1e-3
#: (the voxel accuracy was 1.3 spreads above 0.95; now every figure is at least 5.1 spreads clear).
NOT_YET_CLEAR: dict[str, str] = {}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=f"measured: {NOT_YET_CLEAR[n]}"))
    if n in NOT_YET_CLEAR else n for n in FIGURES])
def test_bound_is_five_spreads_inside_the_mean(spread, name):
    bound = _bound(name)
    s = spread["summary"][name]
    margin = MARGIN_STD * s["std"]
    if FIGURES[name][2] == "max":
        assert s["mean"] - margin >= bound, (
            f"{name}: mean {s['mean']:.5f} - {MARGIN_STD:g} std ({s['std']:.5f}) = {s['mean'] - margin:.5f} "
            f"is below the bound {bound}")
    else:
        assert s["mean"] + margin <= bound, (
            f"{name}: mean {s['mean']:.5f} + {MARGIN_STD:g} std ({s['std']:.5f}) = {s['mean'] + margin:.5f} "
            f"is above the bound {bound}")


@pytest.mark.book
def test_book_figures_are_the_tables_row(spread):
    """The book's figures (its seed) are the shipped table's row for that seed: the table is current."""
    from pvae_lib.profiles import get_profile
    from pvae_lib.results import read_results, results_path

    if get_profile().name != spread["profile"]:
        pytest.skip("the table is for another profile")
    results = read_results(results_path())
    row = {r["seed"]: r for r in spread["rows"]}.get(get_profile().seed)
    assert row is not None, f"no row for the book's seed {get_profile().seed} in {SPREAD.name}"
    for name, (chapter, key, _) in FIGURES.items():
        if chapter in results:
            # rel 1e-9: a last-bit difference in 1 of 300 predictions (another CPU, see
            # test_models_shipped._assert_reproduced) moves an R² by about 1e-10; any other model moves it by > 1e-6
            assert results[chapter][key] == pytest.approx(row[name], rel=1e-9, abs=1e-12), (
                f"{chapter}.{key} = {results[chapter][key]} but {SPREAD.name} has {row[name]}: "
                "rerun benchmarks/seed_spread.py (command in data/README.md)")


def test_table_rows_name_the_models_they_measured(spread):
    """Every row records its models' key digests; the book seed's are those of the shipped models."""
    from seed_spread import key_digest
    from pvae_lib.experiments.shipped import shipped_models_dir
    from pvae_lib.profiles import get_profile

    for row in spread["rows"]:
        for name in ("cnn_key", "vae_key", "pvae_key", "threads", "runtimes"):
            assert row.get(name), f"seed {row['seed']}: no {name}"
        assert set(row["runtimes"]) == {"cnn", "vae", "pvae"}
    book = {r["seed"]: r for r in spread["rows"]}[get_profile(spread["profile"]).seed]
    folder = shipped_models_dir(spread["profile"])
    for field, model, info in (("cnn_key", "cnn", "cnn_info.json"), ("vae_key", "vae", "vae_info.json"),
                               ("pvae_key", "pvae", "pvae_n_k11_info.json")):
        record = json.loads((folder / info).read_text(encoding="utf-8"))
        assert book[field] == key_digest(record["key"]), (
            f"{SPREAD.name}'s row for the book seed was measured with other models than the shipped "
            f"{info} (rerun the command in data/README.md)")
        assert book["runtimes"][model] == record["runtime"], f"the book seed's {model} runtime is not the shipped one's"


#: the two spread scripts, each with its figures: they share the table handling (seed_spread.merged_rows)
SCRIPTS = {"seed_spread.py": list(FIGURES), "foam_seed_spread.py": list(FOAM_FIGURES)}


def _script(script, *args, cwd):
    import subprocess

    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def _table(path, seeds, figures, profile="quick", settings=None):
    rows = [{"seed": s, **{name: 0.5 + 0.001 * s for name in figures}} for s in seeds]
    table = {"profile": profile, "seeds": list(seeds), "rows": rows}
    if settings is not None:
        table["settings"] = settings
    path.write_text(json.dumps(table), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("script", SCRIPTS)
def test_merge_joins_runs_made_one_seed_at_a_time(tmp_path, script):
    figures = SCRIPTS[script]
    parts = [_table(tmp_path / f"s{s}.json", [s], figures) for s in (3, 1, 2)]
    out = tmp_path / "all.json"
    r = _script(script, "--profile", "quick", "--merge", *parts, "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    table = json.loads(out.read_text(encoding="utf-8"))
    assert table["seeds"] == [1, 2, 3]
    for name in figures:
        assert table["summary"][name]["n"] == 3
        assert table["summary"][name]["mean"] == pytest.approx(0.502)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("case, message", [
    ("duplicate", "more than one table"), ("two", "at least 3 seeds"), ("profile", "--profile"),
    ("missing", "cannot read"), ("seeds", "given twice"), ("settings", "different settings")])
def test_bad_tables_and_seeds_are_refused_before_any_training(tmp_path, script, case, message):
    figures = SCRIPTS[script]
    if case == "duplicate":
        parts = [_table(tmp_path / "a.json", [1, 2], figures), _table(tmp_path / "b.json", [2, 3], figures)]
    elif case == "two":
        parts = [_table(tmp_path / "a.json", [1, 2], figures)]
    elif case == "profile":
        parts = [_table(tmp_path / "a.json", [1, 2, 3], figures, profile="paper")]
    elif case == "settings":  # rows of a candidate setting do not join rows of the profile's
        parts = [_table(tmp_path / "a.json", [1, 2], figures, settings={"epochs_joint": 300}),
                 _table(tmp_path / "b.json", [3], figures)]
    else:
        parts = [str(tmp_path / "nothing.json")]
    args = ["--seeds", "2026", "2026"] if case == "seeds" else ["--merge", *parts]
    r = _script(script, "--profile", "quick", *args, "--out", str(tmp_path / "o.json"), cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o.json").exists()


def test_merge_keeps_the_settings_of_a_candidate_table(tmp_path):
    parts = [_table(tmp_path / f"s{s}.json", [s], FIGURES, settings={"epochs_joint": 300}) for s in (1, 2, 3)]
    out = tmp_path / "all.json"
    r = _script("seed_spread.py", "--profile", "quick", "--merge", *parts, "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["settings"] == {"epochs_joint": 300}


@pytest.mark.parametrize("args, message", [
    (["--set", "nosuch=1"], "no such field of PVAESection"),
    (["--set", "epochs_joint"], "wants field=value"),
    (["--set", "epochs_joint=200", "--merge", "x.json"], "drop --set")])
def test_bad_settings_are_refused_before_any_training(tmp_path, args, message):
    r = _script("seed_spread.py", "--profile", "quick", "--seeds", "2026", *args, "--out", str(tmp_path / "o.json"),
                cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o.json").exists()


def test_merge_compares_settings_against_the_profile():
    """A candidate's table, once the profile adopts its setting, merges with the profile's own table."""
    import dataclasses

    from pvae_lib.profiles import get_profile
    from seed_spread import effective_settings

    section = get_profile("quick").pvae
    assert effective_settings({}, section) == {}
    assert effective_settings({"epochs_vae": section.epochs_vae}, section) == {}
    changed = {"epochs_vae": section.epochs_vae + 1, "regressor_units": list(section.regressor_units)}
    assert effective_settings(changed, section) == {"epochs_vae": section.epochs_vae + 1}
    adopted = dataclasses.replace(section, epochs_vae=section.epochs_vae + 1)
    assert effective_settings(changed, adopted) == {}
