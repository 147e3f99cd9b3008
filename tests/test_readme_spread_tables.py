"""The README's spread tables are the shipped spread files, digit for digit.

``README.md`` shows the mean ± spread of acceptance figures over seeds in rows such as

    | inverse_design.r2_k11_refined_feasible | 0.99974 ± 0.00007 | 0.99968 – 0.99981 | >= 0.99 | 140.3 |

The numbers come from the JSON tables in ``data/`` (commands in ``data/README.md``). A row typed
in by hand goes stale the day the table is made again; this test reads every such row and
checks it against its file, to the digits shown.
"""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from foam_seed_spread import FIGURES as FOAM_FIGURES  # noqa: E402
from inverse_design import FIGURES as INVERSE_FIGURES  # noqa: E402
from seed_spread import FIGURES, margin_in_std  # noqa: E402

#: chapter prefix of a README row -> the spread table it is read from, the prefix of its keys there,
#: and the figures of the script that made it (their directions give the margin's sign)
TABLES = {
    "cnn_surrogate": ("data/seed_spread_quick.json", "cnn_", FIGURES),
    "pvae": ("data/seed_spread_quick.json", "pvae_", FIGURES),
    "inverse_design": ("data/inverse_design_spread_quick.json", "", INVERSE_FIGURES),
    "foam_study": ("data/foam_seed_spread_quick.json", "", FOAM_FIGURES),
}
NUMBER = r"(-?[0-9]+(?:\.[0-9]+)?)"
ROW = re.compile(
    r"^\s*\| (?P<chapter>[a-z_]+)\.(?P<figure>[a-z0-9_]+) "
    rf"\| {NUMBER} ± {NUMBER} \| {NUMBER} – {NUMBER} "
    rf"\| (?P<op>>=|<=|<|>) {NUMBER}(?: \(target\))? \| {NUMBER} \|\s*$"
)


def _rows():
    rows = []
    for line in (ROOT / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows.append(pytest.param(m, id=f"{m['chapter']}.{m['figure']}"))
    return rows


def _shown(text: str, value: float) -> bool:
    """``value`` rounds to ``text`` at the number of decimals ``text`` shows (either way at a tie)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - value) <= 0.5 * 10.0 ** -decimals + 1e-12


def test_the_readme_has_spread_rows():
    found = {m.values[0]["chapter"] for m in _rows()}
    assert found == set(TABLES), f"README spread rows found for {sorted(found)}, expected {sorted(TABLES)}"


@pytest.mark.parametrize("row", _rows())
def test_readme_row_is_the_shipped_table(row):
    groups = row.groups()
    mean, std, lo, hi, bound, margin = (groups[i] for i in (2, 3, 4, 5, 7, 8))
    table, prefix, figures = TABLES[row["chapter"]]
    summary = json.loads((ROOT / table).read_text())["summary"]
    key = prefix + row["figure"]
    assert key in summary, f"{key} is not in {table}"
    s = summary[key]
    for text, stat in ((mean, "mean"), (std, "std"), (lo, "min"), (hi, "max")):
        assert _shown(text, s[stat]), (
            f"README shows {row['chapter']}.{row['figure']} {stat} = {text}, {table} has {s[stat]!r}: "
            "copy the table's figures into README.md")
    want = margin_in_std(key, s, float(bound), figures)
    assert _shown(margin, want), f"README margin {margin} for {row['figure']}, the table gives {want:.2f}"
