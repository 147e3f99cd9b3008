"""Every user error of the ``pvae`` command: a clear message naming the flag, a non-zero exit,
no traceback and no partial output (issue 13). Each case runs the real CLI (``main``)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from pvae_lib.cli import main
from pvae_lib.data.container import save_dataset
from pvae_lib.data.synthetic import generate_synthetic


def run(capsys, *argv):
    """``(exit code, stdout, stderr)`` of ``pvae argv``; argparse's SystemExit counts as an exit."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def listing(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def squares(tmp_path):
    return save_dataset(tmp_path / "squares", generate_synthetic(12, 16, 2, 4, 10, rng=1),
                        meta={"kind": "synthetic"}, extruded_length=16)


# ---- bad values are rejected before any work, naming the flag ------------------------------

@pytest.mark.parametrize("argv, flag", [
    (["label", "{ds}", "--limit", "-1"], "--limit"),
    (["label", "{ds}", "--limit", "0"], "--limit"),
    (["label", "{ds}", "--workers", "0"], "--workers"),
    (["label", "{ds}", "--every", "0"], "--every"),
    (["generate", "synthetic", "--n", "0", "--seed", "1", "--out", "{tmp}/g"], "--n"),
    (["generate", "synthetic", "--n", "-1", "--seed", "1", "--out", "{tmp}/g"], "--n"),
    (["generate", "foam", "--strains", "0,x", "--seed", "1", "--out", "{tmp}/g"], "--strains"),
    (["permeability", "{tmp}/a.npy", "--voxel-size", "-1"], "--voxel-size"),
    (["permeability", "{tmp}/a.npy", "--tau", "0.5"], "--tau"),
    (["permeability", "{tmp}/a.npy", "--max-steps", "0"], "--max-steps"),
    (["design", "--n", "0.3", "--k11", "0.1", "--model", "m.keras", "--out", "{tmp}/d", "--starts", "0"],
     "--starts"),
    (["design", "--n", "0.3", "--k11", "0.1", "--model", "m.keras", "--out", "{tmp}/d", "--refine-calls", "-1"],
     "--refine-calls"),
    (["design", "--n", "0.3", "--k11", "0.1", "--model", "m.keras", "--out", "{tmp}/d", "--pore-size", "0"],
     "--pore-size"),
])
def test_bad_values_are_argument_errors(capsys, tmp_path, squares, argv, flag):
    argv = [a.format(ds=squares, tmp=tmp_path) for a in argv]
    before = listing(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2 and f"argument {flag}" in err
    assert listing(tmp_path) == before  # nothing written, no header-only CSV


@pytest.mark.parametrize("argv, message", [
    (["generate", "foam", "--strains", "0,1.0"], "--strains: each strain must lie in [0, 1)"),
    (["generate", "foam", "--strains", "0,0.9", "--porosity", "0.85"], "would close every pore"),
    (["generate", "foam", "--size", "16", "--sub", "32"], "--sub 32 is larger"),
    (["generate", "synthetic", "--n", "2", "--size", "20", "--pore", "30"], "--pore 30 is larger"),
    (["generate", "synthetic", "--n", "2", "--size", "20", "--pore", "5", "--max-pores", "40"],
     "use --max-pores <= 8"),
    (["generate", "synthetic", "--n", "2", "--min-pores", "9", "--max-pores", "3"], "--min-pores 9 is above"),
])
def test_generate_checks_its_flags_first(capsys, tmp_path, argv, message):
    out = tmp_path / "g"
    code, _, err = run(capsys, *argv, "--seed", "1", "--out", out)
    assert code == 1 and message in err
    for python_name in ("pore_size", "max_pores", "min_pores", "strain="):
        assert python_name not in err
    assert not out.exists()


def test_existing_out_is_refused_before_the_run(capsys, tmp_path, squares):
    t0 = time.perf_counter()
    code, _, err = run(capsys, "generate", "foam", "--size", "96", "--seed", "1", "--out", squares, "--quiet")
    assert code == 1 and "already holds images.npy" in err and "--overwrite" in err
    assert time.perf_counter() - t0 < 5  # refused before the foams are generated
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, _, err = run(capsys, "generate", "synthetic", "--n", "2", "--seed", "1", "--out", a_file)
    assert code == 1 and "is a file" in err and a_file.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_out(capsys, tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run(capsys, "generate", "synthetic", "--n", "2", "--seed", "1", "--out", locked / "ds")
        assert code == 1 and "--out" in err and "cannot write" in err
    finally:
        locked.chmod(0o700)


def test_unwritable_out_reported_without_traceback(capsys, tmp_path, monkeypatch):
    """Also as root: a PermissionError while probing --out becomes a message."""
    import pvae_lib.cli._checks as checks

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checks.tempfile, "mkstemp", deny)
    code, _, err = run(capsys, "generate", "synthetic", "--n", "2", "--seed", "1", "--out", tmp_path / "ds")
    assert code == 1 and "--out" in err and "Permission denied" in err
    assert not (tmp_path / "ds").exists()


# ---- pvae permeability ----------------------------------------------------------------------

def test_non_npy_and_pickled_files(capsys, tmp_path):
    text = tmp_path / "notes.npy"
    text.write_text("not an array")
    code, _, err = run(capsys, "permeability", text)
    assert code == 1 and "not a .npy file" in err and "allow_pickle" not in err
    objects = tmp_path / "objects.npy"
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, _, err = run(capsys, "permeability", objects)
    assert code == 1 and "Python objects" in err and "allow_pickle" not in err


def test_minus_one_zero_npy_is_nonzero_pore(capsys, tmp_path):
    section = np.zeros((12, 12), np.int8)
    section[3:9, 3:9] = -1  # nonzero = pore
    np.save(tmp_path / "s.npy", section)
    code, out, err = run(capsys, "permeability", tmp_path / "s.npy", "--solver", "stokes2d", "--json")
    assert code == 0, err
    assert '"porosity": 0.25' in out


def test_gray_and_16_bit_stacks_from_the_cli(capsys, tmp_path):
    import tifffile

    rng = np.random.default_rng(0)
    pores = np.zeros((4, 16, 16), bool)
    pores[:, 4:12, 4:12] = True
    gray = np.where(pores, 40000, 9000).astype(np.uint16) + rng.integers(0, 500, pores.shape).astype(np.uint16)
    tifffile.imwrite(tmp_path / "ct.tif", gray, photometric="minisblack")
    code, _, err = run(capsys, "permeability", tmp_path / "ct.tif", "--solver", "stokes2d")
    assert code == 1 and "--pore bright" in err and "--threshold" in err
    for flags in (["--pore", "bright"], ["--threshold", "20000"], ["--pore", "bright", "--threshold", "20000"]):
        code, out, err = run(capsys, "permeability", tmp_path / "ct.tif", "--solver", "stokes2d", "--json", *flags)
        assert code == 0, err
        assert '"porosity": 0.25' in out
    code, out, err = run(capsys, "permeability", tmp_path / "ct.tif", "--solver", "stokes2d", "--json",
                         "--pore", "dark", "--threshold", "20000")
    assert code == 0 and '"porosity": 0.75' in out, err  # the dark phase is pore
    code, _, err = run(capsys, "permeability", tmp_path / "ct.tif", "--pore", "zero", "--threshold", "5")
    assert code == 1 and "--threshold needs --pore bright or --pore dark" in err


def test_all_pore_message_names_the_boundary(capsys, tmp_path):
    np.save(tmp_path / "open.npy", np.ones((6, 6, 6), bool))
    code, _, err = run(capsys, "permeability", tmp_path / "open.npy", "--boundary", "freeslip")
    assert code == 1 and "--boundary freeslip" in err and "periodic" not in err
    np.save(tmp_path / "solid.npy", np.zeros((6, 6, 6), bool))
    code, _, err = run(capsys, "permeability", tmp_path / "solid.npy", "--boundary", "noslip")
    assert code == 1 and "no pore voxel" in err and "--pore" in err


def test_2d_input_means_the_same_for_both_solvers(capsys, tmp_path):
    section = np.zeros((10, 10), bool)
    section[2:8, 3:7] = True
    np.save(tmp_path / "section.npy", section)
    code, out, err = run(capsys, "permeability", tmp_path / "section.npy", "--solver", "stokes2d", "--json")
    assert code == 0, err
    exact = json.loads(out)["K"]
    code, out, err = run(capsys, "permeability", tmp_path / "section.npy", "--solver", "lbm", "--json")
    assert code == 0, err
    lbm = json.loads(out)
    assert lbm["geometry"].startswith("2-D cross-section")
    assert abs(lbm["K"] / exact - 1) < 0.05  # both: flow along x through the extruded cross-section
    code, _, err = run(capsys, "permeability", tmp_path / "section.npy", "--solver", "stokes2d", "--axis", "y")
    assert code == 1 and "use --solver lbm for --axis y" in err
    code, _, err = run(capsys, "permeability", tmp_path / "section.npy", "--axis", "all")
    assert code == 1 and "--axis all needs a 3-D image" in err


def test_not_converged_names_flags(capsys, tmp_path):
    image = np.zeros((8, 8, 8), bool)
    image[:, 2:6, 2:6] = True
    np.save(tmp_path / "duct.npy", image)
    code, _, err = run(capsys, "permeability", tmp_path / "duct.npy", "--max-steps", "20", "--tolerance", "1e-12")
    assert code == 1 and "--max-steps" in err and "--tolerance" in err
    assert "LBMConfig" not in err and "check_interval" not in err


def test_large_lbm_prints_memory_and_refuses(capsys, tmp_path, monkeypatch):
    import pvae_lib.lbm.memory as memory

    np.save(tmp_path / "big.npy", np.ones((40, 40, 40), np.uint8))
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 200 * 2**20)
    t0 = time.perf_counter()
    code, _, err = run(capsys, "permeability", tmp_path / "big.npy", "--boundary", "noslip")
    assert code == 1 and "needs about" in err and "available" in err
    assert time.perf_counter() - t0 < 30  # refused before building the lattice
    # the estimate of a paper-sized 400^3 run exceeds this machine's kind of memory
    assert memory.lbm_memory_bytes((400, 400, 400), int(0.9 * 400**3)) > 40 * 2**30


# ---- pvae design ----------------------------------------------------------------------------

def test_design_data_and_model_errors(capsys, tmp_path):
    data = tmp_path / "train.npz"
    np.savez(data, images=np.zeros((10, 8, 8), bool), porosity=np.full(200, 0.3), k11=np.full(200, 0.1))
    corrupt = tmp_path / "broken.keras"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    base = ["design", "--n", "0.3", "--k11", "0.1", "--out", tmp_path / "d"]
    code, _, err = run(capsys, *base, "--model", corrupt, "--data", data)
    assert code == 1 and "10 images but 200 porosity (n)" in err
    # the registry's name n, or porosity (its older name), but not two different columns
    np.savez(data, images=np.zeros((10, 8, 8), bool), n=np.full(10, 0.3), porosity=np.full(10, 0.2),
             k11=np.full(10, 0.1))
    code, _, err = run(capsys, *base, "--model", corrupt, "--data", data)
    assert code == 1 and "both n and porosity" in err
    np.savez(data, images=np.zeros((10, 8, 8), bool), k11=np.full(10, 0.1))
    code, _, err = run(capsys, *base, "--model", corrupt, "--data", data)
    assert code == 1 and "lacks arrays ['n']" in err and "n (porosity)" in err
    np.savez(data, images=np.zeros((10, 8, 8), bool), porosity=np.full(10, 0.3), k11=np.full(10, 0.1))
    code, _, err = run(capsys, *base, "--model", corrupt, "--data", data)
    assert code == 1 and "not a saved Keras model" in err and "not found" not in err
    with zipfile.ZipFile(corrupt, "w") as z:
        z.writestr("config.json", "{broken")
    code, _, err = run(capsys, *base, "--model", corrupt, "--data", data)
    assert code == 1 and "cannot be loaded as a Keras model" in err
    (tmp_path / "x.npz").write_text("text")
    code, _, err = run(capsys, *base, "--model", corrupt, "--data", tmp_path / "x.npz")
    assert code == 1 and "not a .npz archive" in err
    assert not (tmp_path / "d").exists()


# ---- pvae label: files, resume, provenance, concurrency --------------------------------------

def test_label_truncated_row_and_stale_temporaries(capsys, squares):
    code, *_ = run(capsys, "label", squares, "--quiet", "--workers", "1")
    assert code == 0
    csv = squares / "properties.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(lines[:-1] + ["11,0.2,0"]))  # last row cut off, no line end
    code, _, err = run(capsys, "label", squares, "--quiet", "--workers", "1")
    assert code == 1 and f"line {len(lines)} is cut off" in err
    csv.write_text("\n".join(lines[:-1] + ["11,0.2,abc"]) + "\n")
    code, _, err = run(capsys, "label", squares, "--quiet", "--workers", "1")
    assert code == 1 and f"line {len(lines)}: Permeability_x is 'abc'" in err
    csv.write_text("\n".join(lines[:-1] + ["11,0.2"]) + "\n")
    code, _, err = run(capsys, "label", squares, "--quiet", "--workers", "1")
    assert code == 1 and f"line {len(lines)} has 2 values for 3 columns" in err
    # a kill during a checkpoint leaves a hidden temporary: the next run removes it
    csv.write_text("\n".join(lines[:-1]) + "\n")
    stale = squares / ".properties.csv.abc123.tmp.csv"
    stale.write_text("case,n_F\n")
    code, out, err = run(capsys, "label", squares, "--quiet", "--workers", "1")
    assert code == 0 and "labelled 1 new samples (12 in total)" in out
    assert not stale.exists() and not [p for p in squares.iterdir() if p.name.startswith(".")]


def test_label_settings_are_stored_and_checked(capsys, tmp_path):
    foam = np.zeros((3, 6, 6, 6), bool)
    foam[:, :, 1:5, 1:5] = True  # extruded along x: both solvers apply
    folder = save_dataset(tmp_path / "ducts", foam, meta={"kind": "test"})
    code, *_ = run(capsys, "label", folder, "--quiet", "--workers", "1", "--limit", "2")
    assert code == 0
    settings = json.loads((folder / "properties.json").read_text())
    assert settings["solver"] == "stokes2d" and list(settings["axes"]) == ["x"] and settings["pvae_lib"]
    table = (folder / "properties.csv").read_text()
    code, _, err = run(capsys, "label", folder, "--quiet", "--workers", "1", "--solver", "lbm")
    assert code == 1 and "was labelled with --solver stokes2d" in err and "--overwrite" in err
    assert (folder / "properties.csv").read_text() == table  # nothing mixed in
    code, *_ = run(capsys, "label", folder, "--quiet", "--workers", "1", "--solver", "lbm", "--max-steps", "400",
                   "--tolerance", "1e-4", "--overwrite")
    assert code == 0
    assert json.loads((folder / "properties.json").read_text())["settings"]["max_steps"] == 400
    code, _, err = run(capsys, "label", folder, "--quiet", "--workers", "1", "--solver", "lbm", "--tolerance", "1e-5",
                       "--max-steps", "400")
    # complete table, but other LBM settings: refused too, naming what changed
    assert code == 1 and "tolerance 0.0001 -> 1e-05" in err


def test_second_label_run_refuses_while_the_first_holds_the_lock(capsys, squares):
    from pvae_lib.data.labels import lock_path
    from pvae_lib.fileio import exclusive_lock

    with exclusive_lock(lock_path(squares), info="labelling (test)"):
        code, _, err = run(capsys, "label", squares, "--quiet", "--workers", "1")
    assert code == 1 and "being labelled by another run" in err and "--wait" in err
    assert not (squares / "properties.csv").exists()
    holder = threading.Timer(0.5, lambda: None)
    lock = exclusive_lock(lock_path(squares))
    lock.__enter__()
    holder = threading.Timer(1.0, lock.__exit__, (None, None, None))
    holder.start()
    code, out, _ = run(capsys, "label", squares, "--quiet", "--workers", "1", "--wait")
    holder.join()
    assert code == 0 and "labelled 12 new samples" in out
    assert not lock_path(squares).exists()


def test_design_overwrite_removes_stale_designs(tmp_path):
    pytest.importorskip("tensorflow")
    from pvae_lib.experiments.design import run_design
    from _design_fixtures import tiny_dataset, tiny_pvae

    model = tiny_pvae()
    images, n, k = tiny_dataset(12, image_size=28)
    data = tmp_path / "train.npz"
    np.savez(data, images=images, porosity=n, k11=k)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("design_07.npy", "design_07.png", "design_07.tif", "designs.csv", "keep.txt"):
        (out / name).write_text("old")
    run_design(model, [float(n[0]), float(k[0])], out, n_designs=1, starts=2, data=str(data), iterations=3,
               loop_iterations=2, overwrite=True, progress=False)
    names = sorted(p.name for p in out.iterdir())
    assert "design_07.npy" not in names and "keep.txt" in names and "design_00.npy" in names


# ---- Ctrl-C and TensorFlow's start-up lines (real processes) ----------------------------------

def _default_sigint():
    # as in a terminal: a parent that ignores SIGINT (a background job, some test runners) would
    # pass that on, and Python would then never raise KeyboardInterrupt
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _pvae(*argv, **kw):
    return subprocess.Popen([sys.executable, "-m", "pvae_lib", *map(str, argv)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint, **kw)


def test_ctrl_c_in_label_ends_with_one_line_and_resume_hint(tmp_path):
    folder = save_dataset(tmp_path / "big", generate_synthetic(400, 40, 4, 10, 40, rng=2),
                          meta={"kind": "synthetic"}, extruded_length=40)
    proc = _pvae("label", folder, "--quiet", "--workers", "1", "--every", "20")
    csv = folder / "properties.csv"
    deadline = time.time() + 60
    while not csv.exists() and time.time() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0] and "run the same command again to resume" in lines[0]
    saved = pd.read_csv(csv)
    assert f"{len(saved)} of 400 samples are saved" in lines[0]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_ctrl_c_in_permeability_and_no_tensorflow_log(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "rock.npy", rng.random((48, 48, 48)) > 0.3)
    # a tolerance no float32 residual reaches and a step budget no machine gets through: the run
    # is still going when the signal comes, however fast the CPU (48³ at 1e-12 converged in 12 s)
    proc = _pvae("permeability", tmp_path / "rock.npy", "--tolerance", "1e-300", "--max-steps", "100000000")
    time.sleep(12)  # TensorFlow started, LBM running
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["pvae permeability: interrupted"], err
    small = tmp_path / "duct.npy"
    image = np.zeros((4, 6, 6), bool)
    image[:, 1:5, 1:5] = True
    np.save(small, image)
    proc = _pvae("permeability", small)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "K (x)" in out
    assert err.strip() == "", err  # no "cuInit", "cudart_stub", "cpu_feature_guard" lines
    proc = _pvae("--verbose", "permeability", small)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err.strip() != ""  # asked for: TensorFlow's own lines are shown
