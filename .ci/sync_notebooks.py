"""Write the output-stripped Colab notebook (.ipynb) paired with every MyST chapter (.md).

The MyST markdown file is the source of truth; run this after editing a chapter:

    python .ci/sync_notebooks.py          # rewrite every book/*.ipynb
    python .ci/sync_notebooks.py --check  # exit 1 if any pair is out of sync
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def chapter_sources(root: Path = ROOT) -> list[Path]:
    """Every jupytext MyST chapter under ``book/``."""
    out = []
    for md in sorted((root / "book").glob("*.md")):
        head = md.read_text(encoding="utf-8")[:400]
        if head.startswith("---") and "jupytext:" in head:
            out.append(md)
    return out


def expected_notebook(md: Path) -> nbformat.NotebookNode:
    nb = jupytext.read(md)
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
    for md in chapter_sources():
        ipynb = md.with_suffix(".ipynb")
        text = render(expected_notebook(md))
        current = ipynb.read_text(encoding="utf-8") if ipynb.exists() else None
        if current != text:
            stale.append(ipynb)
            if not args.check:
                ipynb.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of sync (run python .ci/sync_notebooks.py):", *map(str, stale), sep="\n  ")
        return 1
    for path in stale:
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
