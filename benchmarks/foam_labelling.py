"""What one foam label costs, by sub-volume size, and how the two ways to the full tensor compare.

    python benchmarks/foam_labelling.py --out data/foam_labelling.json

1. **Throughput**: seconds (after compilation) for the full permeability tensor (three D3Q19 runs, periodic body
   force, the label settings of the shipped foam table: :func:`pvae_lib.data.foam_dataset.foam_label_config`)
   of Voronoi-foam sub-volumes of 32³, 48³, 64³ and 100³ voxels (two Voronoi cells per edge,
   as in the book's set; uncompressed and at 50 % strain), one run at a time on this machine, and
   what labelling the paper's 8,965 sub-volumes of 100³ would take at that rate (100³: over 25 minutes per
   sub-volume on two cores; `data/foam_labelling.json` was run with `--sizes 32 48 64`).
2. **Methods**: on sub-volumes of the shipped table, the tensor from the periodic body-force runs
   (what the table holds) against the paper's method (Appendix B: no-slip walls for the
   diagonal, free-slip walls for the off-diagonal terms by Kuhn's Eq. 23, pressure drive).

The JSON records the machine, the settings and every timing; ``data/README.md`` quotes it.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAPER_SUBVOLUMES = 8965


def throughput(sizes, samples: int, config) -> list[dict]:
    from tqdm.auto import tqdm

    from pvae_lib.data.foam import FoamConfig, generate_foams
    from pvae_lib.lbm.permeability import permeability_tensor

    rows = []
    for size in tqdm(sizes, desc="sizes"):
        foams = generate_foams(FoamConfig(size=size, cell_size=size / 2, porosity=0.85), strains=(0.0, 0.5), rng=7)
        permeability_tensor(foams[0].image, config.replace(max_steps=config.check_interval * 2, tolerance=1.0),
                            require_convergence=False)  # compile for this shape: not part of the timings
        for foam in foams:
            for rep in range(samples):
                image = np.roll(foam.image, rep * size // 3, axis=1)  # another window of the periodic foam
                t0 = time.perf_counter()
                res = permeability_tensor(image, config)
                dt = time.perf_counter() - t0
                rows.append({"size": size, "strain": foam.strain, "porosity": float(image.mean()),
                             "seconds": round(dt, 3), "steps": int(res.steps),
                             "mlups": round(image.size * res.steps / dt / 1e6, 2)})
    return rows


def compare_methods(n: int, config) -> list[dict]:
    from tqdm.auto import tqdm

    from pvae_lib.data.foam_dataset import load_foam_dataset
    from pvae_lib.lbm.permeability import permeability_tensor
    from pvae_lib.profiles import get_profile

    data = load_foam_dataset(get_profile("quick"))
    rng = np.random.default_rng(0)
    picks = []
    for strain in (0.0, 0.5):  # half uncompressed, half at the largest strain
        rows = np.flatnonzero(data.strain == strain)
        picks += list(rng.choice(rows, size=n // 2, replace=False))
    paper = config.replace(drive="pressure", boundary="noslip", max_steps=60_000)
    out = []
    for i in tqdm(picks, desc="methods"):
        image = data.images[i]
        a = permeability_tensor(image, config)
        t0 = time.perf_counter()
        b = permeability_tensor(image, paper)
        out.append({"case": int(data.properties["case"].iloc[i]), "strain": float(data.strain[i]),
                    "periodic": a.K.tolist(), "paper": b.K.tolist(), "paper_seconds": round(time.perf_counter() - t0, 2)})
    return out


def summarise(methods: list[dict]) -> dict:
    P = np.array([m["periodic"] for m in methods])
    Q = np.array([m["paper"] for m in methods])
    diag = np.arange(3)
    ratio = Q[:, diag, diag] / P[:, diag, diag]
    scale = P[:, diag, diag].max(axis=1)
    off = [(0, 1), (0, 2), (1, 2)]
    off_p = np.array([[p[a, b] for a, b in off] for p in P]) / scale[:, None]
    off_q = np.array([[q[a, b] for a, b in off] for q in Q]) / scale[:, None]
    return {"diag_ratio_paper_over_periodic_median": float(np.median(ratio)),
            "diag_ratio_min": float(ratio.min()), "diag_ratio_max": float(ratio.max()),
            "offdiag_periodic_rel_median_abs": float(np.median(np.abs(off_p))),
            "offdiag_paper_rel_median_abs": float(np.median(np.abs(off_q))),
            "offdiag_sign_agreement": float(np.mean(np.sign(off_p) == np.sign(off_q))),
            "offdiag_correlation": float(np.corrcoef(off_p.ravel(), off_q.ravel())[0, 1])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 48, 64, 100])
    parser.add_argument("--samples", type=int, default=1, help="windows per size and strain")
    parser.add_argument("--methods", type=int, default=8, help="sub-volumes for the method comparison (0: skip)")
    parser.add_argument("--out", default=str(ROOT / "_build" / "benchmarks" / "foam_labelling.json"))
    args = parser.parse_args(argv)
    if min(args.sizes) < 8 or args.samples < 1 or args.methods < 0:
        parser.error("--sizes must be >= 8 voxels, --samples >= 1, --methods >= 0")
    from pvae_lib.data.foam_dataset import foam_label_config
    from pvae_lib.fileio import write_json_atomic
    from pvae_lib.profiles import get_profile

    config = foam_label_config(get_profile("quick"))
    rows = throughput(args.sizes, args.samples, config)
    per_size = {}
    for size in args.sizes:
        sec = [r["seconds"] for r in rows if r["size"] == size]
        per_size[str(size)] = {"seconds_per_subvolume": round(float(np.mean(sec)), 2)}
    big = per_size.get("100")
    report = {"command": "python benchmarks/foam_labelling.py " + " ".join(argv or sys.argv[1:]),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
              "label_settings": {k: getattr(config, k) for k in ("drive", "boundary", "tolerance", "max_steps",
                                                                  "dtype", "collision")},
              "throughput": rows, "per_size": per_size}
    if big:
        hours = PAPER_SUBVOLUMES * big["seconds_per_subvolume"] / 3600
        report["paper_set_core_hours"] = {"subvolumes": PAPER_SUBVOLUMES, "size": 100,
                                          "hours_one_run_at_a_time": round(hours, 1)}
    if args.methods:
        methods = compare_methods(args.methods, config)
        report["methods"] = methods
        report["methods_summary"] = summarise(methods)
    write_json_atomic(args.out, report)
    print(json.dumps({k: report[k] for k in report if k not in ("throughput", "methods")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
