"""The slerp chapter's live ipywidgets explorer, with a real kernel behind a real page.

`book/slerp.md` shows `pvae_lib.design.widgets.latent_explorer`; in the static book it is a
frozen picture, so this test runs it live: it writes a small notebook into a temporary folder
that builds the explorer with the same calls as the chapter (the chapter's trained models,
dataset and start/end samples, from the book build's cache in `_build/artifacts`), serves it
with Voila on 127.0.0.1 and drives the page in the same headless Chromium as
`test_book_pages.py`. Moving the step slider (keyboard on the slider handle, which sends the
value to the kernel like a mouse release) must re-render the explorer's output:

* the image changes;
* its caption (the properties: step, n, exact K11, CNN values - drawn as the figure title)
  changes: the title band of the image differs;
* the decoded structure changes the way the path goes, from the lowest-porosity to the
  highest-porosity sample: the white (pore) fraction of the structure part of the image grows
  from the first to the last step.

Voila serves its own JavaScript; no request may leave 127.0.0.1 except the Font Awesome
stylesheets hard-coded in Voila's `lab` template (see ``VOILA_ALLOW``). Marked ``book``: it
needs the models the book build trained (it fails, rather than training for minutes, if they
are missing). Runtime about a minute on 2 cores (kernel start, TensorFlow import, model load).
"""
from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _browser import VIEWPORT, PageWatch, book_dir, chromium

pytestmark = pytest.mark.book

BOOK = book_dir()
BUILD = BOOK / "_build"
LOAD_TIMEOUT_S = int(os.environ.get("PVAE_VOILA_TIMEOUT", "420"))

# (kind, regex, why) - see _browser.PageWatch
VOILA_ALLOW = [
    ("external", r"^request outside the book: https://cdn\.jsdelivr\.net/npm/@fortawesome/fontawesome-free@",
     "voila/templates/lab/index.html.j2 links Font Awesome 5 CSS from jsdelivr; offline the icons"
     " are missing, nothing else (the explorer uses none)"),
    ("console", r"^Failed to load resource: net::ERR_FAILED$",
     "the console line of those two aborted stylesheet requests (other failures are reported"
     " as 'external'/'requestfailed')"),
]

# The chapter's calls (book/slerp.md: first code cell and "Explore it yourself").
EXPLORER_NOTEBOOK_CELLS = [
    """\
import numpy as np

import pvae_lib
from pvae_lib.data.datasets import load_synthetic_dataset
from pvae_lib.design.widgets import latent_explorer
from pvae_lib.experiments.zoo import get_trained_cnn, get_trained_pvae

profile = pvae_lib.get_profile()
rng = np.random.default_rng(profile.seed)
data = load_synthetic_dataset(profile, progress=False)
model = get_trained_pvae(profile, properties=("n", "k11"))
cnn = get_trained_cnn(profile)
steps = profile.design.n_interpolation_steps
i0 = rng.choice(np.flatnonzero(data.porosity == data.porosity.min()))
i1 = rng.choice(np.flatnonzero(data.porosity == data.porosity.max()))""",
    """\
latent_explorer(model, data.images, np.column_stack([data.porosity, data.k11]), cnn=cnn,
                start=int(i0), end=int(i1), steps=steps)""",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _trained_artifacts() -> Path:
    import pvae_lib

    profile = pvae_lib.get_profile()
    models = BUILD / "artifacts" / profile.name / "models"
    missing = [p.name for p in (models / "pvae_n_k11.keras", models / "cnn.keras") if not p.is_file()]
    if missing:
        pytest.fail(f"{models}: {missing} missing - build the book first (bash .ci/build-book)", pytrace=False)
    return models


@pytest.fixture
def voila_page(tmp_path):
    pytest.importorskip("voila", reason="Voila is in the `browser` extra (bash .ci/setup)")
    import nbformat

    slerp = (BOOK / "book" / "slerp.md").read_text(encoding="utf-8")
    assert "latent_explorer(" in slerp, "book/slerp.md no longer shows latent_explorer: update this test"
    _trained_artifacts()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in EXPLORER_NOTEBOOK_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = tmp_path / "explorer.ipynb"
    nbformat.write(nb, notebook)

    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel must use the inline backend (conftest sets Agg)
    env["PVAE_BUILD_DIR"] = str(BUILD)  # the book build's trained models and dataset
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    port = _free_port()
    log = (tmp_path / "voila.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True",
         # jupytext's JupyterLab extension (installed with jupytext) does not load in Voila
         "--VoilaConfiguration.extension_denylist=jupyterlab-jupytext"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"voila exited ({proc.returncode}):\n{(tmp_path / 'voila.log').read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("voila did not open its port within 60 s")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/", tmp_path / "voila.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_for_new_image(page, old_src: str, action: str, timeout_s: int = 120) -> None:
    try:
        page.wait_for_function(
            "old => { const img = document.querySelector('.widget-output img');"
            " return img && img.src !== old && img.complete && img.naturalWidth > 0; }",
            arg=old_src, timeout=timeout_s * 1000)
    except Exception:
        pytest.fail(f"{action} did not redraw the explorer's image within {timeout_s} s", pytrace=False)


def _screenshot_path() -> Path:
    folder = BUILD / "screenshots"  # next to the page screenshots of test_book_pages.py
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "slerp-live-explorer.png"


def _decode(src: str) -> np.ndarray:
    """Grey levels in [0, 1] of a ``data:image/png;base64`` image."""
    import base64

    import matplotlib.image as mpimg

    assert src.startswith("data:image/png;base64,"), src[:60]
    rgba = mpimg.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
    return rgba[..., :3].mean(axis=-1)


def _bands(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(title band, structure band) of the explorer's figure: the caption (5 lines of 7-pt text,
    about a fifth of the height) sits over the square structure image. The top 12 % of the rows
    are caption only, the bottom 60 % of the rows, central 60 % of the columns, structure only."""
    h, w = grey.shape
    return grey[: max(1, int(0.12 * h))], grey[int(0.4 * h):, int(0.2 * w): int(0.8 * w)]


def test_live_latent_explorer_slider_redraws_structure_and_properties(voila_page):
    url, log = voila_page
    with chromium() as browser:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        watch = PageWatch(page, url, allow=[(k, rx) for k, rx, _why in VOILA_ALLOW])
        try:
            # Voila streams the page while the kernel runs the notebook (TensorFlow import, model
            # load: about a minute on 2 cores; much longer if the models are stale and retrain)
            page.goto(url, wait_until="commit", timeout=120_000)
            try:
                page.wait_for_selector(".widget-output img", timeout=LOAD_TIMEOUT_S * 1000)
            except Exception:
                pytest.fail(f"the explorer did not render within {LOAD_TIMEOUT_S} s (are the models in "
                            f"{BUILD / 'artifacts'} up to date? a stale cache key makes the kernel retrain); "
                            f"voila log:\n{log.read_text()[-4000:]}", pytrace=False)
            image = page.locator(".widget-output img").first
            readout = page.locator(".widget-slider .widget-readout").first
            assert readout.inner_text().strip() == "0"
            src0 = image.get_attribute("src")

            handle = page.locator(".widget-slider .noUi-handle").first
            handle.focus()
            page.keyboard.press("End")  # last step of the path
            last = readout.inner_text().strip()
            assert re.fullmatch(r"\d+", last) and int(last) > 0, f"slider readout {last!r} after End"
            _wait_for_new_image(page, src0, f"moving the slider to step {last}")
            src1 = page.locator(".widget-output img").first.get_attribute("src")

            page.keyboard.press("ArrowLeft")  # one step back: redraws again
            assert int(readout.inner_text().strip()) == int(last) - 1
            _wait_for_new_image(page, src1, f"moving the slider back to step {int(last) - 1}")
            page.screenshot(path=str(_screenshot_path()), full_page=True)
        finally:
            context.close()

    assert not watch.problems, "voila page:\n  " + "\n  ".join(dict.fromkeys(watch.problems))
    title0, structure0 = _bands(_decode(src0))
    title1, structure1 = _bands(_decode(src1))
    assert title0.shape != title1.shape or not np.array_equal(title0, title1), \
        "the caption (properties) did not change with the slider"
    white0, white1 = (structure0 > 0.5).mean(), (structure1 > 0.5).mean()
    assert white1 > white0 + 0.02, (f"decoded structure did not get more porous along the path: "
                                     f"white fraction {white0:.3f} at step 0, {white1:.3f} at step {last}")
