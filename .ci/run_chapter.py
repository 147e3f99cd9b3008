"""Execute chapters outside the book build, as the book build would (for authors and CI).

    python .ci/run_chapter.py book/darcy_lbm.md            # one chapter
    python .ci/run_chapter.py --all                        # every chapter of _toc.yml, in order

Each chapter runs in ``book/`` like jupyter-book runs it; each cell's time is printed, and the
first failing cell stops that chapter (the others still run); the exit status is 1 if any
chapter failed. The executed copies go to ``<build dir>/chapters/<name>.ipynb``: ``_build/``,
or ``$PVAE_BUILD_DIR`` (git-ignored), so a run under another profile never touches the book's
results. ``.ci/smoke-chapters`` uses this to run every chapter with the paper profile's shapes.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def chapters_in_toc() -> list[Path]:
    """The book's executable chapters (``.md`` with code cells), in the order of ``_toc.yml``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", [toc]) for c in part.get("chapters", [])]
    paths = [ROOT / (f if f.endswith(".md") else f + ".md") for f in files]
    return [p for p in paths if "```{code-cell}" in p.read_text()]


def run(md: Path, out_dir: Path) -> bool:
    """Execute one chapter; True when every cell ran."""
    nb = jupytext.read(md)
    client = NotebookClient(nb, timeout=1500, kernel_name="python3",
                            resources={"metadata": {"path": str(md.parent)}})
    out = out_dir / (md.stem + ".ipynb")
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
                print(f"{md.stem}: cell {index} FAILED after {time.perf_counter() - t0:.1f} s:\n{exc}", flush=True)
                return False
            stderr = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")
            print(f"{md.stem}: cell {index:3d}  {time.perf_counter() - t0:7.1f} s"
                  + ("  [stderr]" if stderr.strip() else ""), flush=True)
    nbformat.write(nb, out)
    print(f"OK {md.name} in {time.perf_counter() - start:.1f} s -> {out}", flush=True)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter files (book/NAME.md)")
    parser.add_argument("--all", action="store_true", help="every chapter of _toc.yml, in order")
    args = parser.parse_args(argv)
    if bool(args.chapters) == args.all:
        parser.error("name chapters (book/NAME.md) or give --all, not both")
    paths = chapters_in_toc() if args.all else [Path(c).resolve() for c in args.chapters]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such chapter: {', '.join(missing)}")
    out_dir = Path(os.environ.get("PVAE_BUILD_DIR") or ROOT / "_build") / "chapters"
    times, failed = {}, []
    for md in paths:
        t0 = time.perf_counter()
        if not run(md, out_dir):
            failed.append(md.stem)
        times[md.stem] = time.perf_counter() - t0
    print("\n".join(f"{name:>18s} {seconds:7.1f} s" + ("  FAILED" if name in failed else "")
                    for name, seconds in times.items()))
    print(f"{len(paths) - len(failed)} of {len(paths)} chapters ran in {sum(times.values()):.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
