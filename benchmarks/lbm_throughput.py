"""LBM throughput (MLUPS) of the TensorFlow engine next to the plain NumPy reference.

    python benchmarks/lbm_throughput.py [--sizes 64 100] [--steps 200] [--time-to-k]
        [--out _build/benchmarks/lbm_throughput.json]

MLUPS count every voxel (solid included). Prints a table and writes JSON (atomically).
Same code as ``pvae bench lbm``. Timings are never asserted in tests.
"""
from __future__ import annotations

import argparse
import resource
import sys

import numpy as np

from pvae_lib.fileio import write_json_atomic
from pvae_lib.lbm.benchmark import random_sphere_pack, run_benchmark, time_to_permeability
from pvae_lib.lbm.config import LBMConfig
from pvae_lib.results import build_dir


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 100])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--numpy-steps", type=int, default=10)
    parser.add_argument("--time-to-k", action="store_true", help="also time converged K in 3 directions at 64^3")
    parser.add_argument("--foam", action="store_true", help="use a Voronoi foam (pvae_lib.data.foam) for --time-to-k")
    parser.add_argument("--out", default=str(build_dir() / "benchmarks" / "lbm_throughput.json"))
    args = parser.parse_args(argv)
    rows = [run_benchmark(n, steps=args.steps, numpy_steps=args.numpy_steps) for n in args.sizes]
    print(f"{'size':>6} {'porosity':>9} {'TF MLUPS':>9} {'NumPy MLUPS':>12} {'speed-up':>9}  device")
    for r in rows:
        print(f"{r['size']:>5}^3 {r['porosity']:9.3f} {r['tf_mlups']:9.2f} {r['numpy_mlups']:12.2f} "
              f"{r['speedup']:9.1f}  {r['device']}")
    report = {"throughput": rows}
    if args.time_to_k:
        if args.foam:
            from pvae_lib.data.foam import FoamConfig, generate_foams

            image = generate_foams(FoamConfig(size=64, cell_size=16.0), strains=(0.0,), rng=0)[0].image
            kind = "voronoi foam"
        else:
            image = random_sphere_pack(64, 0.6, rng=np.random.default_rng(0))
            kind = "random sphere pack"
        # TRT's K does not depend on tau; tau = 1.5 converges in about half the steps of tau = 1
        ttk = time_to_permeability(image, LBMConfig(tau=1.5, tolerance=1e-6, max_steps=40_000))
        ttk["structure"] = kind
        print(f"time to converged K_xx, K_yy, K_zz on a 64^3 {kind} (porosity {ttk['porosity']:.3f}): "
              f"{ttk['seconds']:.1f} s, steps {ttk['steps']}, K = {np.round(ttk['K'], 3).tolist()} l.u.")
        report["time_to_k"] = ttk
    # peak resident memory of the whole process (TensorFlow runtime + NumPy reference), MiB
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {report['peak_rss_mib']:.0f} MiB")
    write_json_atomic(args.out, report)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
