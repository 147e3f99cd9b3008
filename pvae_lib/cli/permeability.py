"""``pvae permeability`` (LBM or exact 2-D Stokes) and ``pvae bench lbm`` (MLUPS)."""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

__all__ = ["register", "run_permeability", "run_bench"]

_AXES = {"x": 0, "y": 1, "z": 2}


def register(subparsers) -> None:
    """Add the ``permeability`` and ``bench`` commands."""
    p = subparsers.add_parser(
        "permeability",
        help="intrinsic permeability of a binary image (lattice units, optionally m^2)",
        description="Permeability K (paper Eq. 22) of a binary image: .npy (nonzero = pore), "
        "multi-page TIFF or a folder of slices. Axis x = array axis 0.",
    )
    p.add_argument("path", help="image file or folder of slices")
    p.add_argument("--axis", choices=["x", "y", "z", "all"], default="x",
                   help="flow axis; 'all' gives the 3x3 tensor (default x)")
    p.add_argument("--solver", choices=["lbm", "stokes2d"], default="lbm",
                   help="lbm (D3Q19, any structure) or stokes2d (exact, extruded structures only)")
    p.add_argument("--collision", choices=["bgk", "trt"], default="trt")
    p.add_argument("--tau", type=float, default=1.0, help="relaxation time (> 0.5)")
    p.add_argument("--drive", choices=["force", "pressure"], default="force")
    p.add_argument("--boundary", choices=["periodic", "noslip", "freeslip"], default="periodic",
                   help="faces parallel to the flow")
    p.add_argument("--max-steps", type=int, default=20_000)
    p.add_argument("--tolerance", type=float, default=1e-6)
    p.add_argument("--voxel-size", type=float, default=None, metavar="METRES",
                   help="voxel edge in metres; adds K in m^2 (paper Eq. 25)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_permeability)

    b = subparsers.add_parser("bench", help="benchmarks (pvae bench lbm --size N)")
    b.add_argument("target", choices=["lbm"], help="what to benchmark")
    b.add_argument("--size", type=int, default=64, help="edge of the cubic sphere pack (voxels)")
    b.add_argument("--steps", type=int, default=200)
    b.add_argument("--numpy-steps", type=int, default=10)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=run_bench)


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ log off the terminal


def _read(path: str) -> np.ndarray:
    try:
        from pvae_lib.data.io import read_image
    except ImportError:  # pragma: no cover - reader not available
        return np.load(path, allow_pickle=False) != 0
    return read_image(path)


def run_permeability(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from pvae_lib.images import as_pore_array, porosity

    image = as_pore_array(_read(args.path), ndim=(2, 3), name=args.path)
    out = {"path": args.path, "shape": list(image.shape), "porosity": porosity(image),
           "solver": args.solver, "axis": args.axis}
    if args.solver == "stokes2d":
        import time

        from pvae_lib.stokes2d import stokes2d_permeability

        if args.axis == "all":
            raise ValueError("--solver stokes2d handles one flow axis of an extruded structure; give --axis x|y|z")
        t0 = time.perf_counter()
        K = stokes2d_permeability(image, axis=_AXES[args.axis], boundary=args.boundary)
        out.update(K=float(K), converged=True, steps=0, seconds=time.perf_counter() - t0)
    else:
        from pvae_lib.lbm import LBMConfig, permeability, permeability_tensor

        config = LBMConfig(tau=args.tau, collision=args.collision, drive=args.drive, boundary=args.boundary,
                           max_steps=args.max_steps, tolerance=args.tolerance)
        if args.axis == "all":
            res = permeability_tensor(image, config)
            out.update(K=res.K.tolist(), converged=res.converged, steps=res.steps, seconds=res.seconds)
        else:
            res = permeability(image, _AXES[args.axis], config)
            out.update(K=res.K, converged=res.converged, steps=res.steps, seconds=res.seconds,
                       percolates=res.percolates)
        out["config"] = {k: getattr(config, k) for k in ("tau", "collision", "drive", "boundary", "tolerance")}
    if args.voxel_size is not None:
        from pvae_lib.lbm.permeability import to_physical

        if args.axis == "all":
            out["K_m2"] = to_physical(np.array(out["K"]), args.voxel_size).tolist()
        else:
            out["K_m2"] = to_physical(out["K"], args.voxel_size)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{args.path}: shape {tuple(image.shape)}, porosity {out['porosity']:.4f}")
        K = np.array(out["K"])
        print(f"K ({args.axis}) = {np.array2string(K, precision=5)} l.u."
              f"  [{out['steps']} steps, {out['seconds']:.1f} s, converged={out['converged']}]")
        if out.get("percolates") is False:
            print(f"no pore path connects the faces normal to {args.axis}: K = 0")
        if "K_m2" in out:
            print(f"K = {np.array2string(np.array(out['K_m2']), precision=4)} m^2")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    _quiet_tensorflow()
    from pvae_lib.lbm.benchmark import run_benchmark

    r = run_benchmark(args.size, steps=args.steps, numpy_steps=args.numpy_steps)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"LBM D3Q19 {args.size}^3 sphere pack (porosity {r['porosity']:.3f}), {r['device']}: "
              f"TensorFlow {r['tf_mlups']:.2f} MLUPS, NumPy reference {r['numpy_mlups']:.2f} MLUPS "
              f"({r['speedup']:.1f}x)")
    return 0
