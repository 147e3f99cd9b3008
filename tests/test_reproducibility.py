"""Same profile + seed => identical learned weights, in separate processes (pvae_lib.runtime)."""
import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from pvae_lib.runtime import configure_runtime

_SCRIPT = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    import pvae_lib  # sets threads and oneDNN before TensorFlow starts
    from pvae_lib.data.synthetic import generate_synthetic
    from pvae_lib.models.cnn import train_cnn
    from pvae_lib.models.training import train_pvae
    from pvae_lib.profiles import CNNSection, PVAESection, get_profile

    x = generate_synthetic(80, 28, 4, 4, 12, rng=0)
    y = np.c_[x.mean(axis=(1, 2)), x.mean(axis=(1, 2)) ** 2]
    p = get_profile("quick")
    cnn = train_cnn(x, y, p, CNNSection(epochs=2, batch_size=16, train_samples=64, width=0.125),
                    seed=3, print_every=None)
    pv = train_pvae(x, y, profile=p, seed=3, print_every=None, section=PVAESection(
        latent_dim=4, base_filters=2, epochs_vae=2, epochs_regressor=2, epochs_joint=2, batch_size=16))

    def digest(model):
        return hashlib.sha1(b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())).hexdigest()

    print(json.dumps({"cnn": digest(cnn.model), "pvae": digest(pv.model)}))
""")


def _start(extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_NUM_", "TF_ENABLE_ONEDNN", "PVAE_THREADS"))}
    env.update(extra_env or {})
    return subprocess.Popen([sys.executable, "-c", _SCRIPT], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _digests(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def runs():
    """Three training processes at once: two with the defaults (2 intra-op threads), one with 1 thread.

    They run side by side on purpose: a busy machine must not change the bits either.
    """
    procs = {"first": _start(), "second": _start(), "one_thread": _start({"PVAE_THREADS": "1"})}
    return {name: _digests(proc) for name, proc in procs.items()}


@pytest.mark.slow
def test_training_is_bit_identical_in_two_processes(runs):
    """Two separate processes (augmentation, shuffling, dropout-free nets, all three pVAE stages)."""
    assert runs["first"] == runs["second"]


@pytest.mark.slow
def test_thread_count_is_what_changes_the_bits(runs):
    """Why the thread count is fixed: 1 and 2 intra-op threads add in a different order."""
    assert configure_runtime({})["TF_NUM_INTRAOP_THREADS"] == "2"  # the default of the two runs above
    assert runs["one_thread"] != runs["first"]


def test_configure_runtime_defaults_and_overrides():
    env = {}
    values = configure_runtime(env)
    assert values["TF_NUM_INTRAOP_THREADS"] == "2" and values["TF_NUM_INTEROP_THREADS"] == "1"
    assert values["TF_ENABLE_ONEDNN_OPTS"] == "0" and values["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert values["ONEDNN_MAX_CPU_ISA"] == values["DNNL_MAX_CPU_ISA"] == "AVX2"
    env = {"PVAE_THREADS": "0", "PVAE_ONEDNN": "1", "TF_CPP_MIN_LOG_LEVEL": "1", "PVAE_CPU_ISA": "all"}
    values = configure_runtime(env)
    assert values["TF_NUM_INTRAOP_THREADS"] is None and values["TF_ENABLE_ONEDNN_OPTS"] == "1"
    assert values["ONEDNN_MAX_CPU_ISA"] == "ALL"
    assert configure_runtime({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"})["ONEDNN_MAX_CPU_ISA"] == "AVX512_CORE"
    assert values["TF_CPP_MIN_LOG_LEVEL"] == "1"  # never overrides what the user set
    with pytest.raises(ValueError, match="PVAE_THREADS"):
        configure_runtime({"PVAE_THREADS": "two"})
    with pytest.raises(ValueError, match=">= 0"):
        configure_runtime({"PVAE_THREADS": "-1"})
    with pytest.raises(ValueError, match="PVAE_CPU_ISA"):
        configure_runtime({"PVAE_CPU_ISA": "avx2; rm"})


def test_configure_runtime_pins_openblas_kernels():
    assert configure_runtime({})["OPENBLAS_CORETYPE"] == "Haswell"
    assert configure_runtime({"PVAE_BLAS_CORE": "native"})["OPENBLAS_CORETYPE"] is None
    assert configure_runtime({"PVAE_BLAS_CORE": "SkylakeX"})["OPENBLAS_CORETYPE"] == "SkylakeX"
    assert configure_runtime({"OPENBLAS_CORETYPE": "Zen"})["OPENBLAS_CORETYPE"] == "Zen"  # the user's stays
    with pytest.raises(ValueError, match="PVAE_BLAS_CORE"):
        configure_runtime({"PVAE_BLAS_CORE": "haswell; rm"})


def _blas_env():
    return {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "PVAE_BLAS_CORE")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="openblas_cores reads /proc/self/maps")
def test_scipy_openblas_runs_the_pinned_kernels():
    """What the labels' solver runs, read from OpenBLAS itself: the pinned kernels, whatever the CPU."""
    code = ("import pvae_lib, json, scipy.sparse.linalg; from pvae_lib.runtime import openblas_cores; "
            "print(json.dumps(openblas_cores()))")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, env=_blas_env(),
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    cores = json.loads(out.stdout.strip().splitlines()[-1])
    assert cores and set(cores.values()) == {"Haswell"}, cores


def test_scipy_linalg_imported_first_is_named_not_silent():
    """SciPy's OpenBLAS picks its kernels when it loads: imported before pvae_lib, the pin comes too late."""
    late = subprocess.run([sys.executable, "-c", "import scipy.linalg, pvae_lib"], capture_output=True, text=True,
                          env=_blas_env(), timeout=300)
    assert late.returncode == 0 and "scipy.linalg was imported before pvae_lib" in late.stderr, late.stderr[-2000:]
    first = subprocess.run([sys.executable, "-W", "error", "-c", "import numpy, pvae_lib, scipy.linalg"],
                           capture_output=True, text=True, env=_blas_env(), timeout=300)
    assert first.returncode == 0 and "imported before pvae_lib" not in first.stderr, first.stderr[-2000:]


def test_tensorflow_imported_first_is_named_not_silent():
    """Imported after TensorFlow, pvae_lib cannot apply its runtime settings: it says so (measured: a short
    pVAE run then trained a dead porosity output, R² n -2.4 against 0.97), and stays quiet otherwise."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTRAOP_THREADS")}
    late = subprocess.run([sys.executable, "-c", "import tensorflow, pvae_lib"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert late.returncode == 0 and "TensorFlow was imported before pvae_lib" in late.stderr, late.stderr[-2000:]
    first = subprocess.run([sys.executable, "-W", "error", "-c", "import pvae_lib, tensorflow"], capture_output=True,
                           text=True, env=env, timeout=300)
    assert first.returncode == 0 and "imported before pvae_lib" not in first.stderr, first.stderr[-2000:]
