"""Execute one chapter outside the book build (for authors), as the book build would.

    python .ci/run_chapter.py book/darcy_lbm.md

Runs in ``book/`` like jupyter-book does, prints each cell's time, and exits 1 on the first
error. The executed copy goes to ``_build/chapters/<name>.ipynb`` (git-ignored).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def main(path: str) -> int:
    md = Path(path).resolve()
    nb = jupytext.read(md)
    client = NotebookClient(nb, timeout=1500, kernel_name="python3",
                            resources={"metadata": {"path": str(md.parent)}})
    out = ROOT / "_build" / "chapters" / (md.stem + ".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t0 = time.perf_counter()
            try:
                client.execute_cell(cell, index)
            except Exception as exc:  # noqa: BLE001 - report any cell failure
                nbformat.write(nb, out)
                print(f"cell {index} FAILED after {time.perf_counter() - t0:.1f} s:\n{exc}")
                return 1
            stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
            print(f"cell {index:3d}  {time.perf_counter() - t0:7.1f} s" + ("  [stderr]" if stderr.strip() else ""))
    nbformat.write(nb, out)
    print(f"OK {md.name} in {time.perf_counter() - start:.1f} s -> {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
