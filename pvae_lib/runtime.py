"""Runtime settings that make labels and learned results reproducible (set before TF and BLAS start).

Importing :mod:`pvae_lib` calls :func:`configure_runtime`, which fixes, *before TensorFlow is
imported*:

* the CPU thread counts (``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS``): with op
  determinism on, TensorFlow gives bit-identical results run after run, but a reduction split
  over 1 thread and over 2 threads adds the same numbers in a different order, so the learned
  weights differ between thread counts. Default: 2 intra-op threads and 1 inter-op thread,
  overridable with ``PVAE_THREADS=N`` (``PVAE_THREADS=0`` keeps TensorFlow's default, all
  cores, and gives up reproducibility across machines with different core counts);
* oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``): oneDNN picks its kernels by the CPU's instruction
  set at run time (AVX2, AVX-512, AMX), so the same seed gives different weights on different
  x86 machines; Eigen's kernels are fixed when TensorFlow is built. ``PVAE_ONEDNN=1`` switches
  oneDNN back on (not reproducible across CPU families; without oneDNN, TensorFlow's own 3-D
  convolutions are about 27 times slower on a CPU - 874 against 33 ms per 32³ sample and
  training step - so the 3-D foam chapter switches it on, while the 2-D chapters keep it off);
* the widest CPU instruction set oneDNN may use (``ONEDNN_MAX_CPU_ISA=AVX2``, and the older
  name ``DNNL_MAX_CPU_ISA``): even with ``TF_ENABLE_ONEDNN_OPTS=0`` TensorFlow's x86 builds
  run the matrix products inside Eigen's convolutions and dense layers through oneDNN's
  ``sgemm``, which picks AVX2 or AVX-512 kernels by the CPU it finds. Two machines of the same
  kind (x86-64, 2 cores) with different CPU generations then round differently: measured, the
  shipped pVAE's test predictions differ by up to 7e-8 between an AVX2 and an AVX-512 machine,
  and a stage-1 VAE trained from the same key reached validation loss 152 on one and 202 on
  the other (the differences grow through training). Capped at AVX2, which every x86-64 CPU of
  the last decade has, the AVX-512 machine reproduced the stored predictions bit for bit except
  1 value in 300 (1 ulp), against 46-75 % differing uncapped, and retrained the stage-1 VAE
  bit for bit (the pVAE's later stages differed in R² K11 by 2e-6). ``PVAE_CPU_ISA=ALL`` lifts the
  cap (faster on AVX-512 CPUs, less reproducible across CPU generations);
* OpenBLAS's kernels (``OPENBLAS_CORETYPE=Haswell``): the exact permeability labels of the 2-D
  dataset come from a sparse direct solve (:mod:`pvae_lib.stokes2d`, SciPy's SuperLU), which
  calls the OpenBLAS bundled with SciPy, and OpenBLAS picks its kernels by the CPU it finds.
  Measured on the 300 test labels of the quick dataset: an AVX-512 machine (OpenBLAS' SkylakeX,
  Cooperlake and SapphireRapids kernels) gives 36 of them 1 ulp (2e-16) away from the labels the
  shipped models were trained on, and the Haswell (AVX2) kernels give all 300 bit for bit. A
  label 1 ulp off changes the training data's fingerprint, so the shipped models' keys no longer
  match and every model would train again. OpenBLAS reads the variable when SciPy's linear
  algebra loads (``scipy.linalg``, ``scipy.sparse.linalg``): importing NumPy first is harmless,
  importing those first is not (:func:`openblas_cores` reports the kernels in use).
  ``PVAE_BLAS_CORE=native`` keeps OpenBLAS's own choice;
* TensorFlow's C++ log level (``TF_CPP_MIN_LOG_LEVEL=3``: no start-up lines such as
  "failed call to cuInit" on a machine without a GPU) unless the variable is already set.

Variables already set in the environment are never overridden. Op determinism itself
(``tf.config.experimental.enable_op_determinism``) is switched on by the training functions
for the duration of a run (:func:`pvae_lib.models.seeding.seeded`).

What remains machine-dependent: results on a GPU differ from those on a CPU; CPUs of another
architecture (ARM) or without AVX2 round differently; and between two x86-64 generations a rare
last-bit difference survives the cap (not pinned down), which training can amplify. The book's
figures come from the shipped models, whose stored predictions ``tests/test_models_shipped.py``
checks to the last bit (at most 1 % of them 1-2 ulp off); see ``benchmarks/seed_spread.py``
for the spread over seeds.
"""
from __future__ import annotations

import os
import sys

__all__ = ["configure_runtime", "runtime_summary", "import_tensorflow", "openblas_cores", "DEFAULT_THREADS",
           "DEFAULT_CPU_ISA", "DEFAULT_BLAS_CORE"]

#: intra-op threads used when ``PVAE_THREADS`` is not set (the CI machine has 2 cores).
DEFAULT_THREADS = 2
#: widest instruction set oneDNN may use when ``PVAE_CPU_ISA`` is not set (same bits on every x86-64 CPU with AVX2)
DEFAULT_CPU_ISA = "AVX2"
#: OpenBLAS kernels used when ``PVAE_BLAS_CORE`` is not set (same bits on every x86-64 CPU with AVX2)
DEFAULT_BLAS_CORE = "Haswell"


def configure_runtime(environ=None) -> dict:
    """Set TensorFlow's thread, oneDNN and logging variables (only those not set yet).

    Must run before ``import tensorflow``; afterwards it cannot change the running process
    (the values are still returned, and :func:`runtime_summary` reports what TF uses).

    Parameters
    ----------
    environ : mapping, optional
        The environment to update (default ``os.environ``).

    Returns
    -------
    dict
        The values of the variables after the call.
    """
    env = os.environ if environ is None else environ
    threads = env.get("PVAE_THREADS", str(DEFAULT_THREADS)).strip()
    try:
        n = int(threads)
    except ValueError:
        raise ValueError(f"PVAE_THREADS must be a whole number of threads (0 = TensorFlow's default), "
                         f"got {threads!r}") from None
    if n < 0:
        raise ValueError(f"PVAE_THREADS must be >= 0, got {n}")
    if n > 0:
        env.setdefault("TF_NUM_INTRAOP_THREADS", str(n))
        env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    onednn = env.get("PVAE_ONEDNN", "0").strip()
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "1" if onednn == "1" else "0")
    isa = env.get("PVAE_CPU_ISA", DEFAULT_CPU_ISA).strip().upper()
    if not isa.replace("_", "").isalnum():
        raise ValueError(f"PVAE_CPU_ISA must name a oneDNN instruction set (AVX2, AVX512_CORE, ALL), got {isa!r}")
    env.setdefault("ONEDNN_MAX_CPU_ISA", isa)
    env.setdefault("DNNL_MAX_CPU_ISA", env["ONEDNN_MAX_CPU_ISA"])
    blas = env.get("PVAE_BLAS_CORE", DEFAULT_BLAS_CORE).strip()
    if not blas.isalnum():
        raise ValueError(f"PVAE_BLAS_CORE must name an OpenBLAS core (Haswell, SkylakeX) or 'native', got {blas!r}")
    if blas.lower() != "native":
        env.setdefault("OPENBLAS_CORETYPE", blas)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    keys = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA",
            "DNNL_MAX_CPU_ISA", "OPENBLAS_CORETYPE", "TF_CPP_MIN_LOG_LEVEL")
    return {k: env.get(k) for k in keys}


def runtime_summary() -> dict:
    """What the running process uses: threads, oneDNN, whether TF was started before the settings.

    ``tensorflow_imported_first`` is True when TensorFlow was imported before :mod:`pvae_lib`,
    in which case the thread and oneDNN settings above did not apply.
    """
    return {
        "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "default"),
        "inter_op_threads": os.environ.get("TF_NUM_INTEROP_THREADS", "default"),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
        "max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "default"),
        "cpu_simd": cpu_simd(),
        "openblas_core": ", ".join(f"{k}: {v}" for k, v in openblas_cores().items()) or "not loaded",
        "tensorflow_imported_first": _TF_FIRST,
    }


def openblas_cores() -> dict:
    """The kernels of every OpenBLAS the process has loaded: ``{library file: core name}``.

    Read from each library itself (its ``*get_corename`` function, found through
    ``/proc/self/maps``), so it says what runs, not what was asked for; empty where nothing is
    loaded yet or the platform has no ``/proc``.
    """
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return {}
    cores = {}
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                     "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                cores[os.path.basename(path).split("-")[0].removesuffix(".so")] = fn().decode()
                break
    return cores


def cpu_simd() -> str:
    """The CPU's vector instruction sets that change oneDNN's kernels (e.g. ``"avx2 avx512f"``), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile")
    return " ".join(w for w in wanted if w in flags) or "none of avx2/avx512/amx"


def import_tensorflow(quiet: bool = True):
    """Import TensorFlow (and let it find its devices) without its C++ start-up lines.

    ``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's C++ log once it runs, but TensorFlow
    2.21 still writes a few lines to the *file descriptor* 2 while it loads (e.g. "Could not
    find cuda drivers", "failed call to cuInit" on a machine without a GPU), before the
    variable is read. With ``quiet=True`` descriptor 2 points at ``/dev/null`` during the
    import and the device discovery; Python's own errors are raised afterwards as usual.
    The ``pvae`` command uses it unless ``--verbose`` is given.

    Parameters
    ----------
    quiet : bool
        Hide what TensorFlow writes to descriptor 2 while it starts.

    Returns
    -------
    module
        ``tensorflow``.
    """
    if "tensorflow" in sys.modules or not quiet:
        import tensorflow as tf

        return tf
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery logs too (cuInit)
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf


_TF_FIRST = "tensorflow" in sys.modules
