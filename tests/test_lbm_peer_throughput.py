"""lbmpy as a timed peer: ``pvae_lib.lbm.peer.lbmpy_throughput`` and ``lbm_throughput.py --peer``.

Timings are never asserted, only that they are positive and consistent with the counts. The
velocity check is tight (1e-4 of the largest velocity; measured 6e-6 on the 16³ pack below, in
float32 and float64 alike): both codes start from rest and run the same scheme (D3Q19 TRT
Lambda = 3/16, Guo force, half-way bounce-back), and ``lbmpy_throughput`` reads lbmpy's
populations the way the library reads its own, so after the same number of steps the fields
must agree. What is left is second order in the velocity (~ |u|^2 ~ 1e-8 l.u. here, from the
codes' different algebra of the equilibrium and force terms). One step fewer already differs by
a few percent, so a field off by a step fails.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lbmpy")
pytest.importorskip("tensorflow")

from pvae_lib.lbm import LBMConfig, simulate  # noqa: E402
from pvae_lib.data.spheres import random_sphere_pack  # noqa: E402
from pvae_lib.lbm.peer import lbmpy_throughput  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "lbm_throughput.py"
SIZE, WARMUP, STEPS = 16, 5, 20
TOL = 1e-4  # of max |u|; measured 5.7e-6


@pytest.fixture(scope="module")
def pack():
    return random_sphere_pack(SIZE, 0.6, rng=np.random.default_rng(0))


@pytest.fixture(scope="module")
def peer_run(pack):
    # flow along y, so that a mix-up of the force axis or of the components would show
    return lbmpy_throughput(pack, steps=STEPS, axis="y", warmup=WARMUP, return_velocity=True)


def _library(pack, steps):
    config = LBMConfig().replace(max_steps=steps, check_interval=steps, min_steps=steps, tolerance=1e-300)
    return simulate(pack, config, "y")


def test_lbmpy_timing_is_consistent(peer_run, pack):
    r = peer_run
    assert r["steps"] == STEPS and r["warmup_steps"] == WARMUP
    assert r["voxels"] == pack.size == SIZE**3
    assert r["fluid_nodes"] == int(np.count_nonzero(pack))
    assert r["porosity"] == pytest.approx(pack.mean())
    assert r["seconds"] > 0 and r["setup_seconds"] > 0
    # every lattice node counted, as in pvae_lib.experiments.throughput.run_benchmark
    assert r["mlups"] > 0
    assert r["mlups"] == pytest.approx(r["voxels"] * r["steps"] / r["seconds"] / 1e6, rel=1e-12)
    assert r["fluid_mlups"] == pytest.approx(r["mlups"] * r["fluid_nodes"] / r["voxels"], rel=1e-12)
    assert r["threads"] == 1 and r["dtype"] == LBMConfig().dtype == "float32"
    assert r["velocity"].shape == (*pack.shape, 3)


def test_lbmpy_velocity_equals_the_library_after_the_same_steps(peer_run, pack):
    ours = _library(pack, WARMUP + STEPS)
    assert ours.steps == WARMUP + STEPS
    u = peer_run["velocity"]
    scale = np.abs(ours.velocity).max()
    assert scale > 0
    assert np.all(u[~pack] == 0)
    assert np.abs(u - ours.velocity).max() <= TOL * scale
    # flow along y: the other components are small but not zero (the pack is not symmetric)
    assert ours.velocity[..., 1].sum() > 0 and u[..., 1].sum() > 0
    # the check can tell one step from the next
    earlier = _library(pack, WARMUP + STEPS - 1)
    assert np.abs(u - earlier.velocity).max() > 50 * TOL * scale


def test_lbmpy_throughput_rejects_bad_arguments(pack):
    with pytest.raises(ValueError, match="steps must be a positive int"):
        lbmpy_throughput(pack, steps=0)
    with pytest.raises(ValueError, match="warmup must be a positive int"):
        lbmpy_throughput(pack, steps=5, warmup=0)
    with pytest.raises(ValueError, match="dtype"):
        lbmpy_throughput(pack, steps=5, dtype="float16")
    with pytest.raises(ValueError, match="TRT"):
        lbmpy_throughput(pack, steps=5, config=LBMConfig(collision="bgk"))


def test_missing_lbmpy_names_the_extra(pack, monkeypatch):
    monkeypatch.setitem(sys.modules, "lbmpy", None)  # `import lbmpy` raises ImportError
    with pytest.raises(ImportError, match=r'pip install "pvae-lib\[peer\]"'):
        lbmpy_throughput(pack, steps=5)


# ----------------------------------------------------------------- the benchmark script


def _script(*args, env=None):
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=300)


def test_script_help_shows_the_peer_options():
    run = _script("--help")
    assert run.returncode == 0, run.stderr
    for option in ("--peer", "--no-peer", "--peer-threads"):
        assert option in run.stdout


def _module():
    spec = importlib.util.spec_from_file_location("lbm_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_rejects_a_non_positive_size_without_a_traceback():
    run = _script("--sizes", "0")
    assert run.returncode != 0
    assert "--sizes must be positive" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("args, message", [
    (["--sizes", "16", "-4"], "--sizes must be positive"),
    (["--steps", "0"], "--steps must be positive"),
    (["--batch-edge", "0"], "--batch-edge must be positive"),
    (["--peer-threads", "0"], "--peer-threads must be positive"),
])
def test_script_rejects_bad_arguments(args, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        _module().main([*args, "--out", str(tmp_path / "x.json")])
    assert exit_info.value.code != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_script_peer_without_lbmpy_says_what_to_install(tmp_path):
    fake = tmp_path / "lbmpy"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('lbmpy hidden by the test')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = _script("--peer", "--sizes", "8", "--out", tmp_path / "x.json", env=env)
    assert run.returncode != 0
    assert 'pip install "pvae-lib[peer]"' in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "x.json").exists()


def test_script_runs_the_peer_on_the_same_structure(tmp_path):
    out = tmp_path / "throughput.json"
    run = _script("--sizes", 10, "--steps", 4, "--numpy-steps", 1, "--batch-sizes", "--peer", "--out", out)
    assert run.returncode == 0, run.stderr
    assert "peer: lbmpy" in run.stdout and "lbmpy MLUPS" in run.stdout and "TF/lbmpy" in run.stdout
    (row,) = json.loads(out.read_text())["throughput"]
    assert row["size"] == 10 and row["voxels"] == 1000
    assert row["lbmpy_steps"] == row["steps"] == 4
    assert row["lbmpy_dtype"] == row["dtype"] and row["lbmpy_threads"] == 1
    assert row["lbmpy_mlups"] > 0 and row["tf_mlups"] > 0 and row["numpy_mlups"] > 0
    assert row["tf_over_lbmpy"] == pytest.approx(row["tf_mlups"] / row["lbmpy_mlups"])
