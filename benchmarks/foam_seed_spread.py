"""Spread over seeds of the foam study's learned figures (the 3-D foam pVAE of the foam chapter).

    python benchmarks/foam_seed_spread.py [--profile quick] [--seeds 2025 2026 2027]
        [--out _build/benchmarks/foam_seed_spread_quick.json]
    python benchmarks/foam_seed_spread.py --merge A.json B.json C.json --out data/foam_seed_spread_quick.json

Each seed trains the profile's foam pVAE (:func:`pvae_lib.profiles.foam_pvae_section`, oneDNN on as
in the chapter) on the profile's labelled foam sub-volumes with its own split and initialisation,
and reports the figures the chapter reports (:func:`training_levers.foam_figures`): test-set R² of
n, K11, K22, K33 and the voxel accuracy and porosity error of the test reconstructions binarised
by expected porosity. The book's seed is the book's model: the shipped foam pVAE when its key
matches (it was trained by ``python -m pvae_lib.experiments.shipped`` with the same function, data
and settings), so that row is the chapter's figures. The other seeds train in the folder that
``benchmarks/training_levers.py foam --seed S`` uses (``<build>/levers/foam_<seed>_profile``),
so a lever run of the profile's settings is reused, and an interrupted run resumes. One foam
training takes 47-52 min on 2 cores; run one seed per process and join them with ``--merge``.

Prints the mean, standard deviation, min and max of every figure, the bound the book's tests
give it (an acceptance bound of ``tests/test_book_results.py`` or a target of ``FOAM_TARGETS``)
and its distance from the mean in standard deviations; writes JSON atomically after every seed.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

#: figure -> (key in results.json's "foam_study", direction): "max" = larger is better
FIGURES = {
    "r2_n": ("r2_n", "max"),
    "r2_k11": ("r2_k11", "max"),
    "r2_k22": ("r2_k22", "max"),
    "r2_k33": ("r2_k33", "max"),
    "recon_voxel_accuracy": ("recon_voxel_accuracy", "max"),
    "recon_porosity_mae": ("recon_porosity_mae", "min"),
    # the same regressor averaged over the 8 lateral symmetries (FoamPVAE.symmetrized_r2)
    "r2_n_symmetrized": ("r2_n_symmetrized", "max"),
    "r2_k11_symmetrized": ("r2_k11_symmetrized", "max"),
    "r2_k22_symmetrized": ("r2_k22_symmetrized", "max"),
    "r2_k33_symmetrized": ("r2_k33_symmetrized", "max"),
}
CHAPTER = "foam_study"


def figures_for_seed(profile, seed: int) -> dict:
    """The foam chapter's learned figures for seed ``seed`` (trained in the lever folder, or the book's model)."""
    from training_levers import foam_figures, work_folder

    from pvae_lib.results import build_dir

    if int(seed) != profile.seed:
        os.environ["PVAE_ARTIFACTS"] = str(work_folder("foam", int(seed), {}))
    else:  # a folder that holds nothing but the shipped model, restored (the book's cache may hold a trained one)
        os.environ["PVAE_ARTIFACTS"] = str(build_dir() / "benchmarks" / f"foam_seed_spread_{profile.name}_shipped")
    return foam_figures(profile, int(seed))


def book_bounds() -> dict:
    """``{key: (op, bound, kind)}`` for the foam figures: ``kind`` "acceptance" or "target" (strict xfail)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        from test_book_results import ACCEPTANCE, FOAM_TARGETS
    except ImportError:
        return {}
    out = {k: (op, b, "acceptance") for c, k, op, b in ACCEPTANCE if c == CHAPTER and k in FIGURES}
    out.update({k: (v[0], v[1], "target") for k, v in FOAM_TARGETS.items() if k in FIGURES})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2025, 2026, 2027])
    parser.add_argument("--out", default=None,
                        help="JSON file (default: _build/benchmarks/foam_seed_spread_<profile>.json)")
    parser.add_argument("--merge", nargs="+", default=None, metavar="TABLE",
                        help="join the rows of these tables (one profile, distinct seeds) into --out; trains nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("PVAE_ONEDNN", "1")  # before pvae_lib starts TensorFlow, as in the foam chapter
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from seed_spread import check_seeds, margin_in_std, merged_rows, summarise

    from pvae_lib.fileio import write_json_atomic
    from pvae_lib.profiles import get_profile
    from pvae_lib.results import build_dir

    profile = get_profile(args.profile)
    out = Path(args.out) if args.out else build_dir() / "benchmarks" / f"foam_seed_spread_{profile.name}.json"
    if args.merge:
        rows, _ = merged_rows(parser, args.merge, profile)
    else:
        check_seeds(parser, args.seeds)
        rows = []
        for seed in args.seeds:
            rows.append(figures_for_seed(profile, seed))
            print(json.dumps(rows[-1]), flush=True)
            write_json_atomic(out, {"profile": profile.name, "seeds": [r["seed"] for r in rows], "rows": rows,
                                    "summary": summarise(rows, FIGURES) if len(rows) > 1 else {}})
        if len(rows) < 3:
            print(f"\nwritten {out} ({len(rows)} seed(s)); join at least 3 seeds with --merge for a spread")
            return 0
    rows = sorted(rows, key=lambda r: r["seed"])
    summary = summarise(rows, FIGURES)
    write_json_atomic(out, {"profile": profile.name, "seeds": [r["seed"] for r in rows], "rows": rows,
                            "summary": summary})
    bounds = book_bounds()
    print("| figure | mean ± std | min – max | bound | margin / std (want ≥ 5) |\n|---|---|---|---|---|")
    for name in FIGURES:
        s = summary[name]
        op, bound, kind = bounds.get(name, ("", float("nan"), ""))
        print(f"| {CHAPTER}.{name} | {s['mean']:.5f} ± {s['std']:.5f} | {s['min']:.5f} – {s['max']:.5f} "
              f"| {op} {bound:g} {'(target)' if kind == 'target' else ''} "
              f"| {margin_in_std(name, s, bound, FIGURES):.1f} |")
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
