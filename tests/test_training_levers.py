"""benchmarks/training_levers.py: bad arguments fail before any training; ``--out`` appends rows."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "training_levers.py"


def _levers():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import training_levers
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return training_levers


def _run(*args, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PVAE_BUILD_DIR": str(tmp_path / "build"), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


@pytest.mark.parametrize("args, says", [
    (("vae", "--set", "epochs_vae"), "field=value"),
    (("vae", "--set", "no_such_field=1"), "no such field"),
    (("vae", "--out", "/no/such/folder/t.json"), "its folder does not exist"),
    (("vae", "--continue-joint", "3"), "is for the pvae"),
])
def test_bad_arguments_exit_2_before_training(args, says, tmp_path):
    done = _run(*args, tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "build").exists()  # nothing trained, nothing written


def test_append_row_keeps_earlier_rows(tmp_path):
    levers = _levers()
    table = tmp_path / "levers.json"
    levers.append_row(table, {"seed": 1, "voxel_accuracy": 0.9}, ["vae", "--seed", "1"])
    levers.append_row(table, {"seed": 2, "voxel_accuracy": 0.95}, ["vae", "--seed", "2"])
    rows = json.loads(table.read_text())["rows"]
    assert [r["seed"] for r in rows] == [1, 2]
    assert rows[1]["command"] == "python benchmarks/training_levers.py vae --seed 2"
    assert {"pvae_lib", "runtime"} <= set(rows[0])
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically: no temporary file left
