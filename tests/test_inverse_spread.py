"""The inverse-design chapter's acceptance figures on targets it was not chosen on.

``benchmarks/inverse_design.py`` runs the chapter's own study (the profile's settings, the
shipped pVAE) on targets drawn with other seeds; its table ships as
``data/inverse_design_spread_quick.json`` (command in ``data/README.md``). Every acceptance
bound of ``tests/test_book_results.py`` on the chapter must sit five standard deviations of
that spread inside the mean, and the table must be of the pVAE the book ships now.
"""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from inverse_design import FIGURES  # noqa: E402
from test_book_results import ACCEPTANCE  # noqa: E402

TABLE = ROOT / "data" / "inverse_design_spread_quick.json"
MARGIN_STD = 5.0
CHAPTER = "inverse_design"


@pytest.fixture(scope="module")
def table():
    return json.loads(TABLE.read_text(encoding="utf-8"))


def test_table_is_of_fresh_targets_at_the_chapters_size(table):
    from pvae_lib.profiles import get_profile

    profile = get_profile(table["profile"])
    assert table["profile"] == "quick"
    seeds = table["target_seeds"]
    assert len(set(seeds)) >= 3 and len(table["rows"]) == len(seeds)
    assert profile.seed not in seeds, "the chapter's own targets are no independent check"
    # the loop stages it ran (without the paper loop over every start: 35 min per target seed)
    assert set(table["loop_modes"]) <= set(profile.design.loop_modes) and table["loop_modes"]
    for row in table["rows"]:
        assert row["targets"] == profile.design.n_targets
        assert row["feasible"] >= 2


def test_table_is_of_the_shipped_pvae(table):
    from pvae_lib.experiments.shipped import manifest

    man = manifest(table["profile"])
    assert table["model"]["source"] == "shipped"
    assert table["model"]["sha256"] == man["files"]["pvae_n_k11.keras"], (
        f"{TABLE.name} was measured with another pVAE than the shipped one: rerun the command in "
        "data/README.md")


def _bounds():
    return {key: (op, b) for c, key, op, b in ACCEPTANCE if c == CHAPTER}


def test_every_bound_of_the_chapter_has_a_measured_spread():
    assert set(_bounds()) <= set(FIGURES), sorted(set(_bounds()) - set(FIGURES))


#: bounds not yet five spreads inside the mean (measured; issue 9). Strict: a passing entry must go.
NOT_YET_CLEAR: dict = {}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=f"measured: {NOT_YET_CLEAR[n]}"))
    if n in NOT_YET_CLEAR else n for n in sorted(_bounds())])
def test_bound_is_five_spreads_inside_the_mean(table, name):
    op, bound = _bounds()[name]
    s = table["summary"][name]
    assert s["n"] == len(table["target_seeds"])
    margin = MARGIN_STD * s["std"]
    if FIGURES[name][-1] == "max":
        assert op == ">=" and s["mean"] - margin >= bound, (name, s, bound)
    else:
        assert op == "<" and s["mean"] + margin <= bound, (name, s, bound)
