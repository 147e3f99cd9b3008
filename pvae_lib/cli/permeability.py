"""``pvae permeability`` (LBM or exact 2-D Stokes) and ``pvae bench lbm`` (MLUPS)."""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from ._checks import add_lbm_arguments, lbm_config, quiet_tensorflow

__all__ = ["register", "run_permeability", "run_bench"]

_AXES = {"x": 0, "y": 1, "z": 2}


def register(subparsers) -> None:
    """Add the ``permeability`` and ``bench`` commands."""
    from ._checks import non_negative_int, positive_float, positive_int

    p = subparsers.add_parser(
        "permeability",
        help="intrinsic permeability of a binary image (lattice units, optionally m^2)",
        description="Permeability K (paper Eq. 22) of an image: .npy, multi-page TIFF, PNG/BMP or a "
        "folder of slices. Binary data: nonzero = pore (--pore zero for 0 = pore); gray or 16-bit "
        "stacks: --pore bright|dark (Otsu threshold) or --threshold VALUE. A 3-D image's axis x is "
        "array axis 0; a 2-D image is the cross-section (y, z) of a structure extruded along x, "
        "for both solvers.",
    )
    p.add_argument("path", help="image file or folder of slices")
    p.add_argument("--axis", choices=["x", "y", "z", "all"], default="x",
                   help="flow axis; 'all' gives the 3x3 tensor of a 3-D image (default x)")
    p.add_argument("--solver", choices=["lbm", "stokes2d"], default="lbm",
                   help="lbm (D3Q19, any structure) or stokes2d (exact, extruded structures only)")
    p.add_argument("--pore", choices=["nonzero", "zero", "bright", "dark"], default=None,
                   help="which values are pore: nonzero (default for binary data), zero, or the "
                        "bright/dark phase of a gray-scale image (Otsu threshold)")
    p.add_argument("--threshold", type=float, default=None,
                   help="gray level separating the phases (pore = above it with --pore bright, the "
                        "default, or at/below it with --pore dark)")
    add_lbm_arguments(p)
    p.add_argument("--voxel-size", type=positive_float, default=None, metavar="METRES",
                   help="voxel edge in metres; adds K in m^2 (paper Eq. 25)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_permeability)

    b = subparsers.add_parser("bench", help="benchmarks (pvae bench lbm --size N)")
    b.add_argument("target", choices=["lbm"], help="what to benchmark")
    b.add_argument("--size", type=positive_int, default=64, help="edge of the cubic sphere pack (voxels)")
    b.add_argument("--steps", type=positive_int, default=200)
    b.add_argument("--numpy-steps", type=non_negative_int, default=10)
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=run_bench)


#: Layers of the extrusion the LBM runs for flow along x through a 2-D cross-section (the
#: flow does not change along x, so the result does not depend on this length).
EXTRUSION_LAYERS = 4


def _read(args) -> np.ndarray:
    from pvae_lib.data.io import read_image

    if args.threshold is not None and args.pore in ("nonzero", "zero"):
        raise ValueError(f"--threshold needs --pore bright or --pore dark (pore above or below it), not --pore {args.pore}")
    pore = args.pore or ("bright" if args.threshold is not None else "nonzero")
    return read_image(args.path, pore=pore, threshold=args.threshold)


def _check_memory(image: np.ndarray, runs: int) -> None:
    from pvae_lib.lbm.memory import GIB_NOTICE, check_lbm_memory, format_bytes

    needed, available = check_lbm_memory(image.shape, int(np.count_nonzero(image)), runs=runs)
    if needed >= GIB_NOTICE:
        free = f" ({format_bytes(available)} available)" if available else ""
        dims = "x".join(map(str, image.shape))
        print(f"pvae permeability: the LBM on {dims} voxels needs about {format_bytes(needed)} of memory{free}",
              file=sys.stderr, flush=True)


def run_permeability(args: argparse.Namespace) -> int:
    """Run ``pvae permeability`` (see ``pvae permeability --help``)."""
    from pvae_lib.images import as_pore_array, porosity

    image = as_pore_array(_read(args), ndim=(2, 3), name=args.path)
    two_d = image.ndim == 2
    if args.axis == "all" and two_d:
        raise ValueError("--axis all needs a 3-D image; a 2-D cross-section (extruded along x) takes --axis x, y or z")
    if args.solver == "stokes2d" and args.axis == "all":
        raise ValueError("--solver stokes2d handles one flow axis of an extruded structure; give --axis x|y|z")
    if args.solver == "stokes2d" and two_d and args.axis != "x":
        raise ValueError(
            f"--solver stokes2d gives the flow along the extrusion axis x of a 2-D cross-section, not along "
            f"{args.axis}; use --solver lbm for --axis {args.axis} (flow within the cross-section)")
    if not np.any(image):
        raise ValueError(f"{args.path} has no pore voxel (every voxel is solid): nothing can flow; "
                         "check --pore (which phase is pore)")
    if np.all(image) and args.boundary != "noslip":
        raise ValueError(f"{args.path} is all pore (no solid voxel); with --boundary {args.boundary} side faces nothing "
                         "resists the flow and K is unbounded: add solid, or use --boundary noslip for a duct")
    out = {"path": args.path, "shape": list(image.shape), "porosity": porosity(image),
           "solver": args.solver, "axis": args.axis}
    if two_d:
        out["geometry"] = "2-D cross-section (y, z) extruded along x"
    if args.solver == "stokes2d":
        import time

        from pvae_lib.stokes2d import stokes2d_permeability

        t0 = time.perf_counter()
        K = stokes2d_permeability(image, axis=_AXES[args.axis], boundary=args.boundary)
        out.update(K=float(K), converged=True, steps=0, seconds=time.perf_counter() - t0)
    else:
        quiet_tensorflow(args)  # before anything imports pvae_lib.lbm (and TensorFlow)
        config = lbm_config(args)
        if two_d and args.axis == "x":  # duct flow along the extrusion: a short periodic stack
            from pvae_lib.data.synthetic import extrude

            sample, axis = extrude(image, EXTRUSION_LAYERS), 0
        elif two_d:  # flow within the cross-section: the solver's periodic one-voxel slab
            sample, axis = image, _AXES[args.axis] - 1
        else:
            sample, axis = image, (None if args.axis == "all" else _AXES[args.axis])
        _check_memory(sample if sample.ndim == 3 else sample[None], runs=3 if args.axis == "all" else 1)
        from pvae_lib.lbm import permeability, permeability_tensor
        from pvae_lib.lbm.permeability import NotConvergedError

        try:
            if axis is None:
                res = permeability_tensor(sample, config)
                out.update(K=res.K.tolist(), converged=res.converged, steps=res.steps, seconds=res.seconds)
            else:
                res = permeability(sample, axis, config)
                out.update(K=res.K, converged=res.converged, steps=res.steps, seconds=res.seconds,
                           percolates=res.percolates)
        except NotConvergedError as exc:
            raise ValueError(str(exc).split(";")[0] + "; raise --max-steps, loosen --tolerance, or use "
                             "--collision trt with a larger --tau") from None
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
        kind = " (a 2-D cross-section extruded along x)" if two_d else ""
        print(f"{args.path}: shape {tuple(image.shape)}{kind}, porosity {out['porosity']:.4f}")
        K = np.array(out["K"])
        print(f"K ({args.axis}) = {np.array2string(K, precision=5)} l.u."
              f"  [{out['steps']} steps, {out['seconds']:.1f} s, converged={out['converged']}]")
        if out.get("percolates") is False:
            print(f"no pore path connects the faces normal to {args.axis}: K = 0")
        if "K_m2" in out:
            print(f"K = {np.array2string(np.array(out['K_m2']), precision=4)} m^2")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """Run ``pvae bench lbm`` (see ``pvae bench --help``)."""
    quiet_tensorflow(args)
    from pvae_lib.experiments.throughput import run_benchmark

    r = run_benchmark(args.size, steps=args.steps, numpy_steps=args.numpy_steps)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"LBM D3Q19 {args.size}^3 sphere pack (porosity {r['porosity']:.3f}), {r['device']}: "
              f"TensorFlow {r['tf_mlups']:.2f} MLUPS, NumPy reference {r['numpy_mlups']:.2f} MLUPS "
              f"({r['speedup']:.1f}x)")
    return 0
