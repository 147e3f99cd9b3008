"""Write the output-stripped Colab notebook (.ipynb) paired with every MyST chapter (.md).

The MyST markdown file is the source of truth; run this after editing a chapter:

    python .ci/sync_notebooks.py          # rewrite every book/*.ipynb
    python .ci/sync_notebooks.py --check  # exit 1 if any pair is out of sync

The book's repository is written in one place, ``repository`` (``url``, ``branch``) in
``_config.yml``. This script also writes it into its copies: the Colab install cell of every
chapter (``repo = "pvae-lib @ git+<url>@<branch>"``), the chapter template in CONTRIBUTING.md
and ``pvae_lib.REPOSITORY_URL`` (the installed package cannot read ``_config.yml``);
``--check`` fails when one of them differs.

The Colab install cell (the first code cell of every chapter, tagged ``remove-cell``) is the
same everywhere and written whole from :data:`INSTALL_CELL`: ``pip install --no-deps`` of the
package (from the repository, or from ``$PVAE_INSTALL`` when set: tests/test_colab.py installs
a wheel through the same lines), then ``extras``, the dependencies of pyproject.toml that are
not in :data:`COLAB_PROVIDES` (:func:`colab_extras`), so the list is never typed by hand.
"""
from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: ``https://github.com/OWNER/REPO``: the only form ``repository.url`` may take.
GITHUB_URL = re.compile(r"https://github\.com/(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9_.-]+)")
#: The Colab install line of a chapter (and of the template in CONTRIBUTING.md).
INSTALL_LINE = re.compile(r'^(?P<indent>[ \t]*)repo = "pvae-lib @ git\+[^"\n]*"[ \t]*$', re.MULTILINE)
#: A ``remove-cell`` code cell of a MyST file: header, body, closing fence.
REMOVE_CELL = re.compile(r"(?P<head>^```\{code-cell\}[^\n]*\n:tags: \[remove-cell\]\n\n)"
                         r"(?P<body>(?:(?!```).*\n)*?)(?P<tail>^```[ \t]*$)", re.MULTILINE)

#: What Colab's runtime provides and its install cell therefore never installs: pip would
#: replace a working TensorFlow (GPU build) or numpy under the running kernel, and Colab's
#: frontend needs its own ipywidgets. Every other dependency of pyproject.toml is in the
#: cell's ``extras`` (pip skips those Colab already has). tests/test_colab.py runs a chapter
#: in a virtual environment of exactly these distributions (and their requirements).
COLAB_PROVIDES = ("tensorflow", "keras", "ipywidgets", "numpy", "scipy", "matplotlib", "seaborn", "pandas", "jinja2")
#: Environment variable the install cell reads for another source of the package (a wheel).
INSTALL_OVERRIDE = "PVAE_INSTALL"

#: Body of the Colab install cell: ``{requirement}`` (:func:`install_requirement`) and
#: ``{extras}`` (one indented line per :func:`colab_extras` entry) are filled in.
INSTALL_CELL = """\
# Colab only: install pvae_lib. TensorFlow and ipywidgets come with Colab
# and are never reinstalled.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    repo = "{requirement}"
    # another source of the same package, e.g. a wheel (tests/test_colab.py)
    repo = os.environ.get("{override}", repo)
    subprocess.run([*pip, "--no-deps", repo], check=True)
    # pvae-lib's other dependencies (pyproject.toml); pip skips those Colab has
    extras = [
{extras}
    ]
    subprocess.run([*pip, *extras], check=True)
"""
#: The package's copy of the URL in pvae_lib/__init__.py.
PACKAGE_LINE = re.compile(r'^REPOSITORY_URL = "[^"\n]*"[ \t]*$', re.MULTILINE)


def repository(root: Path = ROOT) -> tuple[str, str]:
    """``(url, branch)`` of the book's repository, from ``repository`` in ``_config.yml``."""
    section = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["repository"]
    url, branch = str(section["url"]).rstrip("/"), str(section.get("branch", "main"))
    if not GITHUB_URL.fullmatch(url):
        raise ValueError(f"_config.yml repository.url must be https://github.com/OWNER/REPO, got {url!r}")
    return url, branch


def pages_url(url: str) -> str:
    """GitHub Pages address of the repository ``https://github.com/OWNER/REPO``.

    ``https://OWNER.github.io/REPO/``; a repository named ``OWNER.github.io`` is served at the
    root, ``https://OWNER.github.io/``.
    """
    match = GITHUB_URL.fullmatch(url.rstrip("/"))
    if not match:
        raise ValueError(f"not a GitHub repository URL: {url!r}")
    host = f"{match['owner'].lower()}.github.io"
    repo = match["repo"]
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def install_requirement(url: str, branch: str) -> str:
    """The pip requirement of the Colab install cell: this repository's branch."""
    return f"pvae-lib @ git+{url}@{branch}"


def requirement_name(requirement: str) -> str:
    """Normalised distribution name of a PEP 508 requirement (``"dask[distributed]>=1"`` -> ``"dask"``)."""
    return re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def colab_extras(root: Path = ROOT) -> list[str]:
    """Dependencies of pyproject.toml that Colab lacks or may lack: all but :data:`COLAB_PROVIDES`."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [r.replace(" ", "") for r in project["dependencies"] if requirement_name(r) not in COLAB_PROVIDES]


def install_cell(url: str, branch: str, extras: list[str]) -> str:
    """Source of the Colab install cell (without the MyST fence and tags)."""
    lines = "\n".join(f'        "{r}",' for r in extras)
    return INSTALL_CELL.format(requirement=install_requirement(url, branch), override=INSTALL_OVERRIDE,
                               extras=lines)


def chapter_sources(root: Path = ROOT) -> list[Path]:
    """Every jupytext MyST chapter under ``book/``."""
    out = []
    for md in sorted((root / "book").glob("*.md")):
        head = md.read_text(encoding="utf-8")[:400]
        if head.startswith("---") and "jupytext:" in head:
            out.append(md)
    return out


def _with_install_cell(text: str, url: str, branch: str, name: str, extras: list[str]) -> str:
    """``text`` with its one Colab install cell (a remove-cell that mentions google.colab)
    rewritten from :data:`INSTALL_CELL`."""
    cells = [m for m in REMOVE_CELL.finditer(text) if "google.colab" in m["body"]]
    if len(cells) != 1 or not INSTALL_LINE.search(cells[0]["body"]):
        raise ValueError(f"{name}: expected one Colab install cell (remove-cell with `google.colab` and"
                         f" `repo = \"pvae-lib @ git+...\"`), found {len(cells)}")
    cell = cells[0]
    return text[:cell.start("body")] + install_cell(url, branch, extras) + text[cell.end("body"):]


def repository_copies(root: Path = ROOT, url: str | None = None, branch: str | None = None) -> dict[Path, str]:
    """Every file that holds a copy of the repository URL (and the Colab install cell), with the
    text it should have.

    ``url``/``branch`` default to ``_config.yml``'s (the tests pass others to check the
    rewrite).
    """
    if url is None or branch is None:
        config_url, config_branch = repository(root)
        url, branch = url or config_url, branch or config_branch
    extras = colab_extras(root)
    out = {}
    for md in [*chapter_sources(root), root / "CONTRIBUTING.md"]:
        out[md] = _with_install_cell(md.read_text(encoding="utf-8"), url, branch, md.name, extras)
    package = root / "pvae_lib" / "__init__.py"
    text = package.read_text(encoding="utf-8")
    new, count = PACKAGE_LINE.subn(f'REPOSITORY_URL = "{url}"', text)
    if count != 1:
        raise ValueError(f"{package}: expected one `REPOSITORY_URL = \"...\"` line, found {count}")
    out[package] = new
    return out


def expected_notebook(md: Path, text: str | None = None) -> nbformat.NotebookNode:
    """The paired notebook of chapter ``md`` (of ``text``, its expected content, when given;
    by default the chapter with the install line of ``_config.yml``'s repository)."""
    if text is None:
        root = md.parents[1]
        text = _with_install_cell(md.read_text(encoding="utf-8"), *repository(root), md.name, colab_extras(root))
    nb = jupytext.reads(text, fmt="md:myst")
    for position, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        # jupytext draws random cell ids; derive them from the content so the pair is stable
        digest = hashlib.sha1(f"{position}:{cell.cell_type}:{cell.source}".encode()).hexdigest()
        cell.id = digest[:12]
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return jupytext.writes(nb, fmt="ipynb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, do not write")
    args = parser.parse_args(argv)
    stale = []
    copies = repository_copies()
    for path, text in copies.items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for md in chapter_sources():
        ipynb = md.with_suffix(".ipynb")
        text = render(expected_notebook(md, copies[md]))
        current = ipynb.read_text(encoding="utf-8") if ipynb.exists() else None
        if current != text:
            stale.append(ipynb)
            if not args.check:
                ipynb.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of sync with the chapters or with _config.yml's repository"
              " (run python .ci/sync_notebooks.py):", *(str(p.relative_to(ROOT)) for p in stale), sep="\n  ")
        return 1
    for path in stale:
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
