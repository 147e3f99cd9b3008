"""The inverse-design chapter's protocols on fresh random targets: spread of its acceptance figures.

    python benchmarks/inverse_design.py [--profile quick] [--target-seeds 11 12 13]
        [--targets N] [--out _build/benchmarks/inverse_design_<profile>.json]

The chapter (``book/inverse_design.md``) draws its targets with the profile's seed and scores
four protocols on them (:func:`pvae_lib.experiments.inverse.run_inverse_study`, then
:func:`pvae_lib.experiments.inverse.verify_and_refine`):

* the paper's protocol - the regressor's pick among the gradient stages' designs;
* verified selection - every candidate (each start as drawn, after the direct and after each
  loop stage) measured with the exact solver, the best kept;
* + exact refinement - square-pore local search with the exact solver in the loop;
* the nearest training structure (a lookup, no design).

This script runs exactly that code, with the profile's settings and the book's models
(``get_trained_pvae``: shipped or cached, as in the chapter), on targets drawn with other
seeds (``--target-seeds``), so that the chapter's figures are checked on targets they were not
chosen on. For every seed it prints the protocol table; at the end the mean, standard
deviation, min and max over the seeds of the acceptance figures of
``tests/test_book_results.py`` (feasible targets after refinement: R² of n and K11, median
relative K11 error) and the distance of each mean from its bound in standard deviations. The
JSON is written atomically after every seed.

Each target seed costs what the chapter's study costs (quick profile, 1000 targets: about 6-7 minutes in the
CI build on 2 cores), except the paper's loop over every start (:mod:`pvae_lib.experiments.paper_loop`,
about 35 minutes per target set on 2 cores, shipped for the chapter's own targets only). With
``--loop-modes loop_binary`` the script leaves it out: the designer's candidates are then each start
as drawn, after the direct stage and after the binarised loop - a subset of the chapter's, which
adds the paper loop's best starts. The JSON records the loop stages run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from seed_spread import acceptance_bounds, margin_in_std, summarise

#: figure (its key in results.json) -> (row of the protocol table, column, direction)
FIGURES = {
    "r2_n_refined_feasible": ("+ exact refinement", "R² n", "max"),
    "r2_k11_refined_feasible": ("+ exact refinement", "R² K11", "max"),
    "median_rel_k11_error_refined_feasible": ("+ exact refinement", "median |K/K*-1|", "min"),
    "r2_k11_verified_feasible": ("verified selection", "R² K11", "max"),
    "r2_k11_lookup_feasible": ("nearest training structure", "R² K11", "max"),
}


def figures_for_seed(profile, seed: int, n_targets: int | None, data, model, loop_modes=None):
    """Run the chapter's study on targets drawn with ``seed``; its figures (feasible targets) and its table."""
    from pvae_lib.experiments.inverse import run_inverse_study, verify_and_refine

    train = data.values(("n", "k11"))
    t0 = time.perf_counter()
    study = run_inverse_study(model, data.images, train, profile=profile, n_targets=n_targets,
                              rng=np.random.default_rng(seed), progress=False, loop_modes=loop_modes)
    if study.feasible.sum() < 2:  # no R² on the feasible targets (protocol_table leaves the subset out)
        raise SystemExit(f"target seed {seed}: {int(study.feasible.sum())} of {len(study.targets)} targets are "
                         "feasible, too few for R²; raise --targets")
    checked = verify_and_refine(study, model, profile, train_images=data.images)
    table = checked.table
    row = {"seed": int(seed), "targets": int(len(study.targets)), "feasible": int(study.feasible.sum())}
    for name, (protocol, column, _) in FIGURES.items():
        row[name] = float(table.loc[protocol, ("feasible targets", column)])
    row["refine_solver_calls"] = int(checked.refined.solver_calls.sum())
    row["refine_kept_input_feasible"] = int(checked.refined.kept_input[study.feasible].sum())
    row["seconds_pipeline"] = float(checked.seconds["pipeline"])
    row["seconds_total"] = time.perf_counter() - t0
    return row, table


def model_used(profile) -> dict:
    """Which pVAE the figures are of: ``source`` (shipped or trained) and, when shipped, its SHA-256."""
    from pvae_lib.experiments.shipped import manifest
    from pvae_lib.experiments.zoo import training_info

    source = training_info("pvae_n_k11", profile).get("source", "trained")
    man = manifest(profile.name) or {}
    return {"name": "pvae_n_k11", "source": source,
            "sha256": man.get("files", {}).get("pvae_n_k11.keras") if source == "shipped" else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--target-seeds", type=int, nargs="+", default=[11, 12, 13],
                        help="seeds of the random targets (default 11 12 13; the chapter uses the profile's seed)")
    parser.add_argument("--targets", type=int, default=None,
                        help="targets per seed (default: the profile's design.n_targets, as in the chapter)")
    parser.add_argument("--loop-modes", nargs="+", default=None, choices=("loop", "loop_binary"),
                        help="loop stages to run (default: the profile's design.loop_modes; 'loop' is the "
                             "paper's loop over every start, about 35 min per target seed on 2 cores)")
    parser.add_argument("--out", default=None,
                        help="JSON file (default: _build/benchmarks/inverse_design_<profile>.json)")
    args = parser.parse_args(argv)
    if args.targets is not None and args.targets < 2:
        parser.error("--targets must be at least 2")
    import pvae_lib
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.fileio import write_json_atomic
    from pvae_lib.experiments import get_trained_pvae
    from pvae_lib.results import build_dir

    profile = pvae_lib.get_profile(args.profile)
    if profile.seed in args.target_seeds:
        print(f"note: target seed {profile.seed} is the chapter's own", file=sys.stderr)
    out = Path(args.out) if args.out else build_dir() / "benchmarks" / f"inverse_design_{profile.name}.json"
    data = load_synthetic_dataset(profile, progress=False)
    model = get_trained_pvae(profile, properties=("n", "k11"))
    used = model_used(profile)
    rows = []
    for seed in args.target_seeds:
        row, table = figures_for_seed(profile, seed, args.targets, data, model, args.loop_modes)
        rows.append(row)
        print(f"\ntarget seed {seed}: {row['feasible']} of {row['targets']} targets feasible, "
              f"pipeline {row['seconds_pipeline']:.0f} s, {row['refine_solver_calls']} refinement solver calls")
        print(table["feasible targets"].to_string(float_format=lambda v: f"{v:.4f}"), flush=True)
        loop_modes = list(args.loop_modes or profile.design.loop_modes)
        write_json_atomic(out, {"profile": profile.name, "model": used, "loop_modes": loop_modes,
                                "target_seeds": [r["seed"] for r in rows],
                                "rows": rows, "summary": summarise(rows, FIGURES)})
    summary = summarise(rows, FIGURES)
    bounds = {key: b for (chapter, key), b in acceptance_bounds().items() if chapter == "inverse_design"}
    print(f"\n{'figure':<40} {'mean':>8} {'std':>8} {'min':>8} {'max':>8} {'bound':>9} {'margin/std':>11}")
    for name in FIGURES:
        s = summary[name]
        op, bound = bounds.get(name, ("", float("nan")))
        margin = margin_in_std(name, s, bound, FIGURES)
        print(f"{name:<40} {s['mean']:8.4f} {s['std']:8.4f} {s['min']:8.4f} {s['max']:8.4f} "
              f"{op:>2}{bound:7.4g} {margin:11.1f}")
    print(f"\nwritten {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
