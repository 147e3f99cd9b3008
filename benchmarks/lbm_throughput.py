"""LBM throughput (MLUPS) of the TensorFlow engine next to the plain NumPy reference and lbmpy.

    python benchmarks/lbm_throughput.py [--sizes 64 100] [--steps 200] [--time-to-k]
        [--batch-sizes 1 4 16] [--batch-edge 64] [--peer | --no-peer] [--peer-threads 1]
        [--out _build/benchmarks/lbm_throughput.json]

MLUPS count every voxel (solid included). Prints a table and writes JSON (atomically).
Same code as ``pvae bench lbm`` (which has no peer). Timings are never asserted in tests.

The peer (``--peer``; default: run it when lbmpy is installed, which the output says) is
lbmpy, an independent code-generating LBM (optional extra: ``pip install "pvae-lib[peer]"``),
timed by :func:`pvae_lib.lbm.peer.lbmpy_throughput` on the SAME sphere pack of every size, for
the same ``--steps``, with the same scheme (D3Q19 TRT, Guo force, half-way bounce-back, tau)
and precision (the library's float32). Kernel generation and compilation and 10 warm-up steps
are excluded, as the library's compile run is. Its kernels run on ``--peer-threads`` threads
(default 1, lbmpy's serial default; TensorFlow uses its own thread pool). Columns ``lbmpy
MLUPS`` and ``TF/lbmpy`` (JSON: ``lbmpy_mlups``, ``tf_over_lbmpy`` and ``lbmpy_*`` details in
each ``throughput`` row). The batch sweep has no lbmpy counterpart.

The batch sweep (``--batch-sizes``; none given = skipped) runs B random sphere packs of edge
``--batch-edge`` (default: the smallest of ``--sizes``) together in one compiled call
(``pvae_lib.lbm.simulate_batch``) for ``--steps`` steps and reports MLUPS over all B samples,
counting every voxel like the table above ("MLUPS"), and the fluid nodes actually updated
("fluid MLUPS"). Compilation is excluded (a one-step warm-up run compiles first).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np

from pvae_lib.data.spheres import random_sphere_pack
from pvae_lib.fileio import write_json_atomic
from pvae_lib.experiments.throughput import _device, run_benchmark, time_to_permeability
from pvae_lib.lbm.config import LBMConfig
from pvae_lib.lbm.peer import INSTALL_HINT, lbmpy_available, lbmpy_throughput
from pvae_lib.lbm.solver import simulate_batch
from pvae_lib.results import build_dir


def run_batch_benchmark(size: int, batch_size: int, steps: int = 200, porosity: float = 0.6,
                        config: LBMConfig | None = None, seed: int = 0) -> dict:
    """MLUPS of ``batch_size`` sphere packs (edge ``size``) run together by ``simulate_batch``.

    Sample ``b`` is ``random_sphere_pack(size, porosity, rng=seed + b)``, so batch sizes share
    their first samples. A one-step run compiles first (XLA compiles per joined-lattice size);
    the timed run does exactly ``steps`` steps in one compiled call (no early stop).
    """
    images = [random_sphere_pack(size, porosity, rng=np.random.default_rng(seed + b))
              for b in range(batch_size)]
    base = config or LBMConfig()
    timed = base.replace(max_steps=steps, check_interval=steps, min_steps=steps, tolerance=1e-300)
    simulate_batch(images, base.replace(max_steps=1, check_interval=1, min_steps=1), 0)  # compile
    t0 = time.perf_counter()
    runs = simulate_batch(images, timed, 0)
    wall = time.perf_counter() - t0
    seconds = runs[0].seconds  # the batched time loop, shared by all samples
    voxels = batch_size * images[0].size
    fluid = sum(r.n_fluid for r in runs)
    return {
        "size": size,
        "batch_size": batch_size,
        "voxels": int(voxels),
        "fluid_nodes": int(fluid),
        "porosity": float(np.mean([im.mean() for im in images])),
        "steps": steps,
        "seconds": seconds,
        "wall_seconds": wall,
        "mlups": voxels * steps / seconds / 1e6,
        "fluid_mlups": fluid * steps / seconds / 1e6,
        "device": _device(),
        "collision": base.collision,
        "dtype": base.dtype,
    }


PEER_WARMUP = 10  # untimed lbmpy steps after kernel generation (they also compile its boundary kernel)


def add_peer(row: dict, threads: int = 1, porosity: float = 0.6, seed: int = 0,
             config: LBMConfig | None = None) -> dict:
    """Time lbmpy on the structure of a ``run_benchmark`` row; add ``lbmpy_*`` and the ratio.

    The sphere pack is drawn again exactly as :func:`run_benchmark` draws it (same size,
    porosity and seed) and checked against the row's porosity; lbmpy runs ``row['steps']``
    timed steps in the row's precision.
    """
    image = random_sphere_pack(row["size"], porosity, rng=np.random.default_rng(seed))
    if image.size != row["voxels"] or float(image.mean()) != row["porosity"]:
        raise RuntimeError(f"the lbmpy structure differs from the library's at size {row['size']}")
    base = (config or LBMConfig()).replace(dtype=row["dtype"])
    peer = lbmpy_throughput(image, steps=row["steps"], config=base, warmup=PEER_WARMUP, threads=threads)
    row.update(
        lbmpy_mlups=peer["mlups"],
        lbmpy_seconds=peer["seconds"],
        lbmpy_steps=peer["steps"],
        lbmpy_warmup_steps=peer["warmup_steps"],
        lbmpy_setup_seconds=peer["setup_seconds"],
        lbmpy_threads=peer["threads"],
        lbmpy_dtype=peer["dtype"],
        lbmpy_version=peer["lbmpy_version"],
        tf_over_lbmpy=row["tf_mlups"] / peer["mlups"],
    )
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 100])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--numpy-steps", type=int, default=10)
    parser.add_argument("--time-to-k", action="store_true", help="also time converged K in 3 directions at 64^3")
    parser.add_argument("--foam", action="store_true", help="use a Voronoi foam (pvae_lib.data.foam) for --time-to-k")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[1, 4, 16],
                        help="samples per compiled call in the batch sweep (none: skip the sweep)")
    parser.add_argument("--batch-edge", type=int, default=None,
                        help="edge of the batch sweep's samples (default: smallest of --sizes)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=None,
                        help="also time lbmpy on the same structures (default: when lbmpy is installed; "
                             "--peer fails if it is not, --no-peer skips it)")
    parser.add_argument("--peer-threads", type=int, default=1,
                        help="threads of lbmpy's kernels (1: serial, lbmpy's default; more: OpenMP)")
    parser.add_argument("--out", default=str(build_dir() / "benchmarks" / "lbm_throughput.json"))
    args = parser.parse_args(argv)
    for name in ("sizes", "steps", "numpy_steps", "batch_sizes", "batch_edge", "peer_threads"):
        value = getattr(args, name)
        values = value if isinstance(value, list) else [] if value is None else [value]
        if any(v < 1 for v in values):
            parser.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    peer = lbmpy_available() if args.peer is None else args.peer
    if peer and not lbmpy_available():
        parser.error(f"--peer: lbmpy is not installed; {INSTALL_HINT}")
    if peer:
        how = "--peer" if args.peer else "installed; --no-peer skips it"
        print(f"peer: lbmpy ({how}) is timed on the same structures, {args.steps} steps, "
              f"{args.peer_threads} thread(s); kernel generation and {PEER_WARMUP} warm-up steps excluded")
    else:
        why = "--no-peer" if args.peer is False else f"lbmpy not installed; {INSTALL_HINT}"
        print(f"peer: lbmpy skipped ({why})")
    rows = []
    for n in args.sizes:
        row = run_benchmark(n, steps=args.steps, numpy_steps=args.numpy_steps)
        rows.append(add_peer(row, threads=args.peer_threads) if peer else row)
    peer_head = f" {'lbmpy MLUPS':>12} {'TF/lbmpy':>9}" if peer else ""
    print(f"{'size':>6} {'porosity':>9} {'TF MLUPS':>9} {'NumPy MLUPS':>12} {'speed-up':>9}{peer_head}  device")
    for r in rows:
        peer_cols = f" {r['lbmpy_mlups']:12.2f} {r['tf_over_lbmpy']:9.2f}" if peer else ""
        print(f"{r['size']:>5}^3 {r['porosity']:9.3f} {r['tf_mlups']:9.2f} {r['numpy_mlups']:12.2f} "
              f"{r['speedup']:9.1f}{peer_cols}  {r['device']}")
    report = {"throughput": rows}
    if args.batch_sizes:
        edge = args.batch_edge or min(args.sizes)
        batch_rows = [run_batch_benchmark(edge, b, steps=args.steps) for b in args.batch_sizes]
        print(f"batched runs (simulate_batch), {edge}^3 sphere packs, {args.steps} steps:")
        print(f"{'batch':>6} {'voxels':>10} {'MLUPS':>9} {'fluid MLUPS':>12} {'vs batch 1':>11}  device")
        base = batch_rows[0]["mlups"] if args.batch_sizes[0] == 1 else None
        for r in batch_rows:
            ratio = f"{r['mlups'] / base:11.2f}" if base else f"{'-':>11}"
            print(f"{r['batch_size']:>6} {r['voxels']:>10} {r['mlups']:9.2f} {r['fluid_mlups']:12.2f} {ratio}  "
                  f"{r['device']}")
        report["batch"] = batch_rows
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
    # peak resident memory of the whole process (TensorFlow runtime + NumPy reference + lbmpy if run), MiB
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {report['peak_rss_mib']:.0f} MiB")
    write_json_atomic(args.out, report)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
