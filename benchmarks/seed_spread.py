"""Spread over seeds of the book's learned acceptance figures (CNN and pVAE chapters).

    python benchmarks/seed_spread.py [--profile quick] [--seeds 2025 2026 2027]
        [--out _build/benchmarks/seed_spread.json] [--set epochs_vae=240 epochs_joint=200]

For each seed the whole pipeline of the book runs as a chapter would run it with
``Profile.seed`` set to that seed: the synthetic dataset is generated and labelled, split
80/10/10, the CNN surrogate and the pVAE (stages 1-3) are trained, and the same figures are
computed as in the chapters (test-set R² of n and K11, binarised reconstruction voxel accuracy
and porosity error). The book's own seed (``profile.seed``) measures the shipped models
(:mod:`pvae_lib.experiments.shipped`), restored into ``<out folder>/seed_spread_<profile>/shipped/``,
so its row is the book's figures (the shipped weights are checked elsewhere: bit-for-bit training
in ``tests/test_reproducibility.py``, stored predictions in ``tests/test_models_shipped.py``).
Every other seed trains its models here from scratch, the shipped ones switched off, into
``<out folder>/seed_spread_<profile>/seed_<seed>/``, so an interrupted run resumes with the
seeds already done.

Each row records the digest of every model's cache key (:func:`pvae_lib.experiments.zoo.model_key`)
and the thread count that trained it. ``--carry TABLE`` keeps, from an earlier table, the
figures of a seed's models whose key digest is unchanged (e.g. only the pVAE's joint stage
changed: the CNN figures are carried, not retrained). ``--merge A.json B.json ...`` joins the
rows of runs made separately (e.g. one seed per process) into one table.

``--set field=value ...`` changes fields of the profile's pVAE section (as in
``benchmarks/training_levers.py``): the spread of a candidate setting, measured before the profile
adopts it. Every seed then trains (there are no shipped models for it), in
``seed_spread_<profile>_<settings>/``; the table records the ``settings``, and ``--merge`` joins
only tables of equal settings. Once the profile adopts the setting, the rows' key digests are the
profile's own.

Prints a table (mean, standard deviation, min, max per figure), the bound each acceptance
test in ``tests/test_book_results.py`` uses and its distance from the mean in standard
deviations (it should be at least five), and writes JSON atomically after every seed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from pvae_lib.cache import key_digest

#: figure -> (chapter, key in results.json, direction): "max" = larger is better
FIGURES = {
    "cnn_r2_n": ("cnn_surrogate", "r2_n", "max"),
    "cnn_r2_k11": ("cnn_surrogate", "r2_k11", "max"),
    "pvae_r2_n": ("pvae", "r2_n", "max"),
    "pvae_r2_k11": ("pvae", "r2_k11", "max"),
    "pvae_r2_n_symmetrized": ("pvae", "r2_n_symmetrized", "max"),
    "pvae_r2_k11_symmetrized": ("pvae", "r2_k11_symmetrized", "max"),
    "pvae_voxel_accuracy": ("pvae", "voxel_accuracy", "max"),
    "pvae_porosity_mae": ("pvae", "porosity_mae", "min"),
}


#: figures (and timing) that come from the CNN: carried together when the CNN's key is unchanged
CNN_FIELDS = ("cnn_r2_n", "cnn_r2_k11", "cnn_train_time_s")


def figures_for_seed(profile, seed: int, folder: Path, carry: dict | None = None, shipped: bool = False) -> dict:
    """Train (or load from the cache ``folder``) the models for ``seed``; compute the figures.

    ``shipped``: use the shipped models (restored into ``folder``) instead of training; only the
    book's seed has them. ``carry``: an earlier row for this seed; its CNN figures are kept (and no
    CNN trained) when its ``cnn_key`` equals the digest of the CNN's current key.
    """
    os.environ["PVAE_SHIPPED_MODELS"] = "1" if shipped else "0"
    os.environ["PVAE_ARTIFACTS"] = str(folder)
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.experiments import get_trained_cnn, get_trained_pvae, training_info
    from pvae_lib.models.evaluation import reconstruction_metrics
    from pvae_lib.models.inputs import symmetric_properties
    from pvae_lib.experiments.zoo import model_key
    from pvae_lib.runtime import runtime_summary
    from pvae_lib.models.metrics import r2_score
    from pvae_lib.models.training import split_indices

    p = dataclasses.replace(profile, seed=int(seed))
    t0 = time.perf_counter()
    data = load_synthetic_dataset(p, progress=False)
    keys = {name: key_digest(model_key(name, p, data)) for name in ("cnn", "vae", "pvae_n_k11")}
    if carry is not None and carry.get("cnn_key") == keys["cnn"]:
        cnn = {f: carry[f] for f in CNN_FIELDS}
        cnn["cnn_carried"] = True
        cnn_runtime = carry.get("runtimes", {}).get("cnn", "not recorded")
        cnn_source = carry.get("sources", {}).get("cnn", "trained")
    else:
        _, _, cnn_info = get_trained_cnn(p)
        cnn = {"cnn_r2_n": float(cnn_info["r2"]["n"]), "cnn_r2_k11": float(cnn_info["r2"]["k11"]),
               "cnn_train_time_s": float(cnn_info["train_time_s"])}
        cnn_runtime = cnn_info.get("runtime", "not recorded")
        cnn_source = str(cnn_info.get("source", "trained"))
    pvae = get_trained_pvae(p, properties=("n", "k11"))
    test = split_indices(len(data.images), p.seed)[2]
    props = data.values(("n", "k11"))
    r2 = r2_score(props[test], pvae.predict_properties(data.images[test]))
    # predictions averaged over the 8 symmetries of the square (no training), as the chapter reports them
    r2_sym = r2_score(props[test], symmetric_properties(pvae.predict_properties, data.images[test]))
    rec = reconstruction_metrics(pvae, data.images[test])
    vae_info, pvae_info = training_info("vae", p), training_info("pvae_n_k11", p)
    return {
        "seed": int(seed), **cnn,
        "pvae_r2_n": float(r2[0]), "pvae_r2_k11": float(r2[1]),
        "pvae_r2_n_symmetrized": float(r2_sym[0]), "pvae_r2_k11_symmetrized": float(r2_sym[1]),
        "pvae_voxel_accuracy": float(rec["voxel_accuracy"]), "pvae_porosity_mae": float(rec["porosity_mae"]),
        "vae_train_time_s": float(vae_info["train_time_s"]),
        "cnn_key": keys["cnn"], "vae_key": keys["vae"], "pvae_key": keys["pvae_n_k11"],
        # where each model came from, by its record: "shipped" (restored) or "trained" (here)
        "sources": {"cnn": cnn_source, "vae": str(vae_info.get("source", "trained")),
                    "pvae": str(pvae_info.get("source", "trained"))},
        "threads": str(runtime_summary().get("intra_op_threads", "unknown")),
        # the runtime each model was trained under (threads, oneDNN, instruction-set cap), from its record
        "runtimes": {"cnn": cnn_runtime, "vae": vae_info.get("runtime", "not recorded"),
                     "pvae": pvae_info.get("runtime", "not recorded")},
        "wall_s": time.perf_counter() - t0,
    }


def summarise(rows: list[dict], figures=None) -> dict:
    """Mean, sample standard deviation, min and max of every figure (default :data:`FIGURES`) over the seeds."""
    out = {}
    for name in FIGURES if figures is None else figures:
        v = np.array([r[name] for r in rows], float)
        out[name] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                     "min": float(v.min()), "max": float(v.max()), "n": int(len(v))}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2025, 2026, 2027])
    parser.add_argument("--out", default=None, help="JSON file (default: _build/benchmarks/seed_spread_<profile>.json)")
    parser.add_argument("--carry", default=None, metavar="TABLE",
                        help="earlier table: keep the figures of models whose key is unchanged (CNN)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="changes of the profile's pvae section (a candidate setting; every seed trains)")
    parser.add_argument("--merge", nargs="+", default=None, metavar="TABLE",
                        help="join the rows of these tables (one profile, distinct seeds) into --out; trains nothing")
    args = parser.parse_args(argv)
    from pvae_lib.fileio import write_json_atomic
    from pvae_lib.profiles import get_profile
    from pvae_lib.results import build_dir

    profile = get_profile(args.profile)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from training_levers import parse_settings, settings_label

    try:
        changes = parse_settings(profile.pvae, args.set)
    except ValueError as err:
        parser.error(str(err))
    if changes:
        profile = dataclasses.replace(profile, pvae=dataclasses.replace(profile.pvae, **changes))
    carry = _read_table(parser, args.carry, profile.name) if args.carry else None
    out = Path(args.out) if args.out else build_dir() / "benchmarks" / f"seed_spread_{profile.name}.json"
    if args.merge:
        if changes:
            parser.error("--merge joins tables as they are; drop --set (their settings are checked)")
        rows, changes = merged_rows(parser, args.merge, profile)
    else:
        check_seeds(parser, args.seeds)
        carried = {r["seed"]: r for r in carry["rows"]} if carry else {}
        work = out.parent / (f"seed_spread_{profile.name}" + (f"_{settings_label(changes)}" if changes else ""))
        rows = []
        for seed in args.seeds:
            book = seed == profile.seed and not changes
            row = figures_for_seed(profile, seed, work / ("shipped" if book else f"seed_{seed}"),
                                   carried.get(seed), shipped=book)
            rows.append(row)
            print(json.dumps(row), flush=True)
            write_json_atomic(out, {"profile": profile.name, "settings": changes, "seeds": [r["seed"] for r in rows],
                                    "rows": rows, "summary": summarise(rows) if len(rows) > 1 else {}})
        if len(rows) < 3:
            print(f"\nwritten {out} ({len(rows)} seed(s)); join at least 3 seeds with --merge for a spread")
            return 0
    summary = summarise(rows)
    write_json_atomic(out, {"profile": profile.name, "settings": changes, "seeds": [r["seed"] for r in rows],
                            "rows": rows, "summary": summary})
    bounds = acceptance_bounds()
    print(f"\n{'figure':<22} {'mean':>9} {'std':>9} {'min':>9} {'max':>9} {'bound':>10} {'margin/std':>11}")
    for name, (chapter, key, _) in FIGURES.items():
        s = summary[name]
        op, bound = bounds.get((chapter, key), ("", float("nan")))
        dist = margin_in_std(name, s, bound)
        print(f"{name:<22} {s['mean']:9.5f} {s['std']:9.5f} {s['min']:9.5f} {s['max']:9.5f} "
              f"{op:>2}{bound:8.4g} {dist:11.1f}")
    print(f"\nwritten {out}\n")
    print(markdown_table(summary, bounds))
    return 0


def effective_settings(settings: dict, section) -> dict:
    """``settings`` of a table less the fields whose value the profile's pvae ``section`` now has itself
    (a candidate's table, once the profile adopts its setting, is a table of the profile)."""
    def same(value, current):
        return json.dumps(value) == json.dumps(list(current) if isinstance(current, tuple) else current)

    return {k: v for k, v in settings.items() if not (hasattr(section, k) and same(v, getattr(section, k)))}


def merged_rows(parser, paths, profile) -> tuple[list[dict], dict]:
    """The rows of the tables ``paths`` (one profile, distinct seeds, at least 3), sorted by seed, and
    their common settings as far as they differ from the profile's own; else ``parser.error``."""
    tables = [_read_table(parser, f, profile.name) for f in paths]
    settings = {json.dumps(effective_settings(t.get("settings", {}), profile.pvae), sort_keys=True) for t in tables}
    if len(settings) > 1:
        parser.error(f"--merge: the tables were measured under different settings: {sorted(settings)}")
    rows = [r for t in tables for r in t["rows"]]
    seeds = [r["seed"] for r in rows]
    if len(set(seeds)) != len(seeds):
        parser.error(f"--merge: a seed appears in more than one table: {sorted(seeds)}")
    if len(rows) < 3:
        parser.error(f"--merge: {len(rows)} rows; a spread needs at least 3 seeds")
    return sorted(rows, key=lambda r: r["seed"]), json.loads(settings.pop())


def check_seeds(parser, seeds) -> None:
    """``parser.error`` (before any training) if a seed is given twice."""
    if len(set(seeds)) != len(seeds):
        parser.error(f"--seeds: a seed is given twice: {list(seeds)}")


def _read_table(parser, path, profile_name: str) -> dict:
    """A seed-spread table of profile ``profile_name`` from ``path``; exits via ``parser.error`` otherwise."""
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        parser.error(f"cannot read the table {path}: {err}")
    if not isinstance(table, dict) or not isinstance(table.get("rows"), list):
        parser.error(f"{path} is not a seed-spread table (no 'rows')")
    if table.get("profile") != profile_name:
        parser.error(f"{path} is a table of profile {table.get('profile')!r}, not {profile_name!r} (--profile)")
    return table


def acceptance_bounds() -> dict:
    """``{(chapter, key): (op, bound)}`` of ``tests/test_book_results.py`` (empty without the tests folder)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        from test_book_results import ACCEPTANCE
    except ImportError:
        return {}
    return {(c, k): (op, b) for c, k, op, b in ACCEPTANCE}


def margin_in_std(name: str, s: dict, bound: float, figures=None) -> float:
    """Distance of the mean from ``bound`` in standard deviations, positive on the passing side.

    ``figures`` maps a figure's name to a tuple whose last item is its direction, ``"max"`` or
    ``"min"`` (default :data:`FIGURES`).
    """
    if not s["std"] > 0 or bound != bound:
        return float("nan")
    sign = 1.0 if (FIGURES if figures is None else figures)[name][-1] == "max" else -1.0
    return sign * (s["mean"] - bound) / s["std"]


def markdown_table(summary: dict, bounds: dict) -> str:
    """The spread table as Markdown (for the README): mean ± std, range, bound, margin in std."""
    lines = ["| figure | mean ± std | min – max | bound | margin / std (want ≥ 5) |", "|---|---|---|---|---|"]
    for name, (chapter, key, _) in FIGURES.items():
        s = summary[name]
        op, bound = bounds.get((chapter, key), ("", float("nan")))
        lines.append(f"| {chapter}.{key} | {s['mean']:.5f} ± {s['std']:.5f} | {s['min']:.5f} – {s['max']:.5f} "
                     f"| {op} {bound:g} | {margin_in_std(name, s, bound):.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
