"""A chapter executed again from scratch records the same learned figures, bit for bit.

Run after the book build (``pytest -m book``): the foam chapter is executed once more with
nbclient in a fresh build folder (2,240 foam sub-volumes regenerated from their seeds, the
shipped 3-D pVAE restored into an empty cache, every LBM check run again: nothing from
``_build`` is reused) and every figure it records that is not a timing must equal the one the
book build recorded in ``_build/results.json``. It runs with oneDNN on (see the chapter), so
it also checks that oneDNN's kernels give the same numbers run after run on one machine.
Training itself is compared bit for bit across processes by ``tests/test_reproducibility.py``.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from pvae_lib.results import project_root, read_results, results_path

pytestmark = pytest.mark.book

ROOT = project_root(__file__)
#: recorded keys that measure time or speed (they differ between runs by nature)
_TIMING_WORDS = ("time", "per_s", "_s", "mlups", "seconds")


def _is_timing(key: str) -> bool:
    return any(w in key for w in _TIMING_WORDS)


CHAPTER = "foam_study"


def test_chapter_rebuild_records_identical_figures(tmp_path):
    built = read_results(results_path()).get(CHAPTER)
    assert built, "build the book first (bash .ci/build-book)"
    script = textwrap.dedent(f"""
        import jupytext
        from nbclient import NotebookClient
        nb = jupytext.read({str(ROOT / 'book' / (CHAPTER + '.md'))!r})
        NotebookClient(nb, timeout=1500, kernel_name="python3",
                       resources={{"metadata": {{"path": {str(ROOT / 'book')!r}}}}}).execute()
    """)
    env = {**os.environ, "PVAE_BUILD_DIR": str(tmp_path / "_build")}
    # importing pvae_lib in this test process wrote TensorFlow's runtime settings into the
    # environment (pvae_lib.runtime: threads, oneDNN off); the chapter must choose its own, as
    # in the book build - the foam chapter switches oneDNN on, and inheriting "off" would make
    # its 3-D training ~27 times slower and its figures different
    for name in ("MPLBACKEND", "PVAE_ARTIFACTS", "PVAE_RESULTS", "TF_NUM_INTRAOP_THREADS",
                 "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA",
                 "TF_CPP_MIN_LOG_LEVEL"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stderr[-3000:]
    again = json.loads((tmp_path / "_build" / "results.json").read_text())[CHAPTER]
    learned = {k: v for k, v in built.items() if not _is_timing(k)}
    assert learned, "the chapter recorded no learned figures"
    differ = {k: (v, again.get(k)) for k, v in learned.items() if again.get(k) != v}
    assert not differ, f"figures differ between the book build and a rebuild: {differ}"
