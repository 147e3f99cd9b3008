"""A chapter runs in Colab: its install cell, in an environment that holds only what Colab has.

The test builds a wheel of pvae_lib, makes a fresh virtual environment whose site-packages
holds only ``COLAB_PROVIDES`` of .ci/sync_notebooks.py (TensorFlow, Keras, ipywidgets,
numpy, ...), their requirements, ipykernel and pip, fakes ``google.colab`` and executes
``book/kl_elbo.ipynb`` in a kernel of that environment, from a folder outside the repository
(Colab's ``/content``), with ``$PVAE_INSTALL`` naming the wheel. The chapter's first cell must
install pvae_lib through the same lines that install it from the repository in Colab
(``--no-deps``, then its ``extras`` from PyPI) and every cell must run; TensorFlow and the rest
of the Colab set must be untouched, and the data files that chapters read must be found inside
the installed package. Nothing that Colab has is downloaded again: the environment's
distributions are symlinks, file by file, to those of the running environment (pip sees their
``.dist-info`` and would only ever unlink a symlink, never the file behind it; a symlinked
folder could lead its uninstall into the running environment).

It needs PyPI for the extras (optuna, scikit-image, dask[distributed], ...) and is skipped,
saying so, when PyPI cannot be reached.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))

import sync_notebooks  # noqa: E402

pytestmark = pytest.mark.slow

#: The cheapest chapter (closed forms and a linear-Gaussian model; no training).
CHAPTER = ROOT / "book" / "kl_elbo.ipynb"
#: What the Colab runtime has besides the dependencies it shares with pvae-lib: the kernel
#: (ipykernel) and pip, which the install cell calls as ``sys.executable -m pip``.
RUNTIME = ("ipykernel", "pip")


def _pypi_reachable() -> bool:
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(index, timeout=15) as response:  # noqa: S310 - fixed https URL
            return response.status == 200
    except OSError:
        return False


def _closure(roots) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions ``roots`` need, with their requirements (markers and
    extras evaluated for this interpreter), by normalised name."""
    installed = {}
    for dist in importlib.metadata.distributions():
        installed.setdefault(canonicalize_name(dist.metadata["Name"]), dist)
    extras_of: dict[str, set[str]] = {}
    todo = [(canonicalize_name(name), frozenset()) for name in roots]
    missing = []
    while todo:
        name, extras = todo.pop()
        if name not in installed:
            missing.append(name)
            continue
        if name in extras_of and extras <= extras_of[name]:
            continue
        extras_of[name] = extras_of.get(name, set()) | extras
        environments = [{"extra": e} for e in extras_of[name]] or [{"extra": ""}]
        for line in installed[name].requires or []:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate(env) for env in environments):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    assert not missing, f"the test's own environment lacks {sorted(set(missing))} (needed by the Colab set)"
    return {name: installed[name] for name in extras_of}


def _link_distributions(dists, site: Path) -> dict[str, Path]:
    """Symlink every file of ``dists`` into ``site`` (real folders, one link per file; files
    outside site-packages, such as console scripts, are left out). Returns each
    distribution's ``METADATA`` in ``site``."""
    metadata, folders = {}, set()
    for name, dist in dists.items():
        assert dist.files is not None, f"{name} has no RECORD: cannot tell its files"
        base = os.path.realpath(dist.locate_file(""))
        for entry in dist.files:  # ~45,000 files: plain os calls
            if entry.parts[0] == "..":
                continue
            source = os.path.join(base, entry)
            if not os.path.lexists(source):  # RECORD may list files a tool removed (e.g. .pyc)
                continue
            target = os.path.join(site, entry)
            folder = os.path.dirname(target)
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            try:
                os.symlink(source, target)
            except FileExistsError:  # a file two distributions both record
                pass
            if entry.name == "METADATA" and entry.parent.name.endswith(".dist-info"):
                metadata[name] = Path(target)
    return metadata


def _build_wheel(tmp: Path) -> Path:
    """``pip wheel`` of a copy of the sources (no build folders or egg-info in the checkout)."""
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "pvae_lib", src / "pvae_lib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(dist), str(src)], capture_output=True, text=True)
    assert built.returncode == 0, f"pip wheel failed:\n{built.stdout}\n{built.stderr}"
    (wheel,) = dist.glob("pvae_lib-*.whl")
    return wheel


CHECK_CELL = """\
import importlib.metadata, json, sys
import google.colab, google.protobuf, pvae_lib
from pvae_lib.data import shipped_path
print("COLAB-CHECK " + json.dumps({
    "prefix": sys.prefix,
    "pvae_lib": pvae_lib.__file__,
    "protobuf": google.protobuf.__file__,
    "colab": google.colab.__file__,
    "tensorflow": importlib.metadata.version("tensorflow"),
    "direct_url": importlib.metadata.distribution("pvae-lib").read_text("direct_url.json"),
    "shipped": [str(shipped_path(n)) for n in ("foam_quick_properties.csv", "grid_convergence.csv")],
}))
"""


@dataclass
class ColabStandIn:
    """The virtual environment standing in for a Colab runtime."""

    venv: Path
    python: Path
    site: Path
    provided: dict  # name -> the running environment's Distribution linked in
    metadata: dict  # name -> its METADATA in ``site`` (a symlink)
    env: dict  # the kernel's environment variables
    content: Path  # the kernel's working folder (Colab's /content)


@pytest.fixture
def wheel(tmp_path):
    """A wheel of pvae_lib, checked for the data files the library and chapters read."""
    if not _pypi_reachable():
        pytest.skip("no network to PyPI: the install cell downloads pvae-lib's extras from it")
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pvae_lib" / "data" / "shipped").rglob("*")
               if p.is_file()}
    assert {"pvae_lib/data/shipped/foam_quick_properties.csv", "pvae_lib/data/shipped/grid_convergence.csv",
            "pvae_lib/data/shipped/models/quick/MANIFEST.json"} <= shipped
    assert shipped <= names, f"shipped data missing from the wheel: {sorted(shipped - names)}"
    return wheel


@pytest.fixture
def colab(tmp_path, wheel):
    """A fresh venv holding only the Colab set (linked in), a fake ``google.colab`` that the
    kernel imports at start-up, and the kernel's environment with ``$PVAE_INSTALL`` = the wheel."""
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    try:
        provided = _closure([*sync_notebooks.COLAB_PROVIDES, *RUNTIME])
        assert "pvae-lib" not in provided and "optuna" not in provided
        metadata = _link_distributions(provided, site)
        assert set(metadata) == set(provided)
        # a stand-in for Colab's google.colab, in the `google` namespace that protobuf shares
        (site / "google" / "colab").mkdir()
        (site / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab (tests)."""\n')
        assert not (site / "google" / "__init__.py").exists(), "google must stay a namespace package (protobuf)"
        # ... imported when the kernel starts, as in Colab
        startup = tmp_path / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-colab.py").write_text("import google.colab\n")
        env = {k: v for k, v in os.environ.items()
               if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MPLBACKEND", "JUPYTER_PATH"}
               and not k.startswith("PVAE_")}
        env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
                   IPYTHONDIR=str(tmp_path / "ipython"), PVAE_INSTALL=str(wheel))
        content = tmp_path / "content"  # no repository around
        content.mkdir()
        yield ColabStandIn(venv, python, site, provided, metadata, env, content)
    finally:  # ~45,000 links: removed here rather than kept in pytest's retained tmp folders
        shutil.rmtree(venv, ignore_errors=True)  # unlinks the links, never what they point to


def test_chapter_runs_in_a_colab_like_environment(tmp_path, wheel, colab):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient

    linked_to = {name: path.resolve() for name, path in colab.metadata.items()}
    kernels = tmp_path / "kernels"
    (kernels / "colab").mkdir(parents=True)
    (kernels / "colab" / "kernel.json").write_text(json.dumps({
        "argv": [str(colab.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python"}))
    nb = nbformat.read(CHAPTER, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "PVAE_INSTALL" in first.source and "--no-deps" in first.source
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
    km = AsyncKernelManager(kernel_name="colab", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(nb, km=km, timeout=600, kernel_name="colab",
                            resources={"metadata": {"path": str(colab.content)}})
    start = time.perf_counter()
    try:
        with client.setup_kernel(env=colab.env, cwd=str(colab.content)):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)  # raises CellExecutionError on any error
                if cell is first:
                    install_s = time.perf_counter() - start
    finally:  # nbclient leaves a kernel manager it was given running
        if km.has_kernel:
            run_sync(km.shutdown_kernel)()
    run_s = time.perf_counter() - start
    report = next(o["text"] for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    found = json.loads(report.split("COLAB-CHECK ", 1)[1])
    site = colab.site

    # pvae_lib came from the wheel, into the new environment
    assert Path(found["prefix"]).resolve() == colab.venv.resolve()
    assert Path(found["pvae_lib"]).is_relative_to(site), found["pvae_lib"]
    assert not Path(found["pvae_lib"]).resolve().is_relative_to(ROOT)
    assert json.loads(found["direct_url"])["url"].endswith(wheel.name)
    assert Path(found["protobuf"]).is_relative_to(site) and Path(found["colab"]).is_relative_to(site)
    # the data files the chapters read are found inside the installed package
    assert all(Path(p).is_relative_to(site) and Path(p).is_file() for p in found["shipped"]), found["shipped"]
    # nothing of the Colab set was reinstalled or upgraded: every dist-info is the linked one
    assert found["tensorflow"] == colab.provided["tensorflow"].version
    changed = [name for name, path in colab.metadata.items()
               if not path.is_symlink() or path.resolve() != linked_to[name]]
    assert not changed, f"the install cell replaced what Colab provides: {changed}"
    # ... and pvae-lib's other dependencies are there
    out = subprocess.run([str(colab.python), "-c", "import importlib.metadata as m, json; "
                          "print(json.dumps([d.metadata['Name'] for d in m.distributions()]))"],
                         check=True, capture_output=True, text=True, cwd=colab.content, env=colab.env).stdout
    names = {canonicalize_name(n) for n in json.loads(out)}
    wanted = {canonicalize_name(sync_notebooks.requirement_name(r)) for r in sync_notebooks.colab_extras()}
    assert {"pvae-lib", "distributed"} | wanted <= names
    print(f"install cell {install_s:.0f} s, chapter {run_s - install_s:.0f} s")
