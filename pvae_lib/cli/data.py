"""``pvae generate synthetic|foam`` and ``pvae label``: make and label microstructure datasets.

Examples::

    pvae generate synthetic --n 1000 --size 100 --pore 10 --seed 1 --out runs/squares
    pvae label runs/squares                      # exact stokes2d K11 -> runs/squares/properties.csv
    pvae generate foam --size 96 --sub 32 --stride 32 --seed 7 --out runs/foam
    pvae label runs/foam --solver lbm --axis x,y,z
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path



from ._checks import (
    UsageError,
    add_lbm_arguments,
    check_output_folder,
    float_list,
    non_negative_int,
    open_fraction,
    positive_float,
    positive_int,
    lbm_config,
    quiet_tensorflow,
)


def _check_synthetic(args) -> None:
    if args.pore > args.size:
        raise UsageError(f"--pore {args.pore} is larger than the image (--size {args.size}); use --pore <= --size")
    if args.min_pores > args.max_pores:
        raise UsageError(f"--min-pores {args.min_pores} is above --max-pores {args.max_pores}; "
                         "use --min-pores <= --max-pores")
    if args.max_pores * args.pore**2 > 0.5 * args.size**2:
        fit = int(0.5 * args.size**2 // args.pore**2)
        raise UsageError(
            f"--max-pores {args.max_pores} squares of --pore {args.pore} would cover more than half of a "
            f"--size {args.size} image and random placement would jam; use --max-pores <= {fit}, a smaller "
            "--pore or a larger --size")


def _generate_synthetic(args) -> int:
    from pvae_lib.data.container import IMAGES, save_dataset
    from pvae_lib.data.synthetic import generate_synthetic

    import numpy as np

    _check_synthetic(args)
    check_output_folder(args.out, holds=IMAGES, overwrite=args.overwrite)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    images = generate_synthetic(args.n, args.size, args.pore, args.min_pores, args.max_pores, rng=rng)
    meta = {"kind": "synthetic", "image_size": args.size, "pore_size": args.pore, "min_pores": args.min_pores,
            "max_pores": args.max_pores, "seed": args.seed, "rng": "numpy.random.default_rng(seed)",
            "command": f"pvae generate synthetic --n {args.n} --size {args.size} --pore {args.pore} "
                       f"--min-pores {args.min_pores} --max-pores {args.max_pores} --seed {args.seed}"}
    save_dataset(args.out, images, meta=meta, extruded_length=args.size, overwrite=args.overwrite)
    print(f"wrote {args.n} patterns of {args.size}x{args.size} (extruded along x to {args.size}^3) to {args.out} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


def _check_foam(args) -> None:
    from pvae_lib.data.foam import compressed_porosity

    for strain in args.strains:
        if not 0 <= strain < 1:
            raise UsageError(f"--strains: each strain must lie in [0, 1) (1 would compress the foam to nothing), "
                             f"got {strain:g}")
        try:
            compressed_porosity(args.porosity, strain)
        except ValueError:
            raise UsageError(f"--strains: strain {strain:g} would close every pore of a foam of --porosity "
                             f"{args.porosity:g} (solid fraction / (1 - strain) >= 1); use strains below "
                             f"{args.porosity:g}") from None
    if args.sub > args.size:
        raise UsageError(f"--sub {args.sub} is larger than the foam volume (--size {args.size}); use --sub <= --size")
    if args.cell_size > args.size:
        raise UsageError(f"--cell-size {args.cell_size:g} is larger than the foam volume (--size {args.size})")


def _generate_foam(args) -> int:
    from pvae_lib.data.container import IMAGES
    from pvae_lib.data.foam import FoamConfig, write_foam_dataset

    _check_foam(args)
    check_output_folder(args.out, holds=IMAGES, overwrite=args.overwrite)
    config = FoamConfig(size=args.size, cell_size=args.cell_size, porosity=args.porosity)
    t0 = time.perf_counter()
    info = write_foam_dataset(args.out, config=config, strains=args.strains, sub_size=args.sub,
                              stride=args.stride, seed=args.seed, replicas=args.replicas, overwrite=args.overwrite,
                              progress=not args.quiet)
    print(f"wrote {info['n_samples']} sub-volumes of {args.sub}^3 from {args.replicas} foam(s) x {len(info['strains'])} strains to "
          f"{args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _saved_rows(path) -> int:
    """Data rows of a label table on disk (0 if none); cheap, for the Ctrl-C message."""
    try:
        with open(path, "rb") as f:
            return max(0, sum(1 for _ in f) - 1)
    except OSError:
        return 0


def _check_label_memory(data, args, config) -> None:
    """Refuse an LBM labelling whose simultaneous runs cannot fit in this machine's memory."""
    import sys

    from pvae_lib.lbm.memory import GIB_NOTICE, available_memory_bytes, format_bytes, lbm_memory_bytes

    shape = data.images.shape[1:]
    if data.extruded_length:
        shape = (data.extruded_length, *shape)
    one = lbm_memory_bytes(shape, dtype=config.dtype)
    at_once = 1 if args.scheduler else args.workers
    available = available_memory_bytes()
    dims = "x".join(map(str, shape))
    if available is not None and one * at_once > available:
        hint = f"lower --workers (now {args.workers}) or " if at_once > 1 else ""
        raise UsageError(
            f"{at_once} LBM run(s) on {dims}-voxel samples at once need about {format_bytes(one * at_once)} of memory, "
            f"but {format_bytes(available)} is available; {hint}run on machines with more memory (--scheduler)")
    if one >= GIB_NOTICE:
        print(f"pvae label: each LBM run on {dims} voxels needs about {format_bytes(one)} of memory",
              file=sys.stderr, flush=True)


def _label(args) -> int:
    from pvae_lib.data.container import open_dataset
    from pvae_lib.data.labels import label_dataset, parse_axes

    folder = Path(args.folder)
    out = folder / args.output
    if Path(args.output).name != args.output or not args.output.endswith(".csv"):
        raise UsageError(f"--output must be a file name ending in .csv inside the dataset folder, got {args.output!r}")
    try:
        axes = parse_axes(args.axis)
    except ValueError:
        raise UsageError(f"--axis must be x, y, z or a list such as x,y,z; got {args.axis!r}") from None
    if args.tensor and (args.solver != "lbm" or axes != (0, 1, 2)):
        raise UsageError(f"--tensor needs --solver lbm --axis x,y,z (the three runs give the whole tensor); got "
                         f"--solver {args.solver} --axis {args.axis}")
    data = open_dataset(folder, properties=False)
    config = None
    if args.solver == "lbm":
        quiet_tensorflow(args)  # before anything imports pvae_lib.lbm (and TensorFlow)
        config = lbm_config(args)
        _check_label_memory(data, args, config)
    total = len(data) if args.limit is None else min(args.limit, len(data))
    args.on_interrupt = lambda: (
        f"{_saved_rows(out)} of {total} samples are saved in {out}; run the same command again to resume"
        if out.is_file() else "nothing was saved")
    t0 = time.perf_counter()
    table = label_dataset(folder, solver=args.solver, axes=axes, output=args.output, every=args.every,
                          workers=args.workers, lbm_config=config, tensor=args.tensor, limit=args.limit, progress=not args.quiet,
                          scheduler=args.scheduler, wait=args.wait, overwrite=args.overwrite,
                          quiet_tf=not getattr(args, "verbose", False))
    n = table.attrs.get("labelled", 0)
    dt = time.perf_counter() - t0
    rate = f", {1e3 * dt / n:.2f} ms per sample" if n else ""
    print(f"labelled {n} new samples ({len(table)} in total) -> {out} in {dt:.1f} s{rate}")
    return 0


def register(subparsers) -> None:
    """Add ``generate`` and ``label`` to the ``pvae`` command."""
    gen = subparsers.add_parser("generate", help="generate a microstructure dataset folder",
                                description="Generate a dataset folder (images.npy + meta.json).")
    kinds = gen.add_subparsers(dest="kind", metavar="KIND", required=True)

    syn = kinds.add_parser("synthetic", help="square-pore patterns extruded along x (paper Sec. 4.1)",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    syn.add_argument("--n", type=positive_int, required=True, help="number of samples")
    syn.add_argument("--size", type=positive_int, default=100, help="image edge (pixels)")
    syn.add_argument("--pore", type=positive_int, default=10, help="square pore edge (pixels)")
    syn.add_argument("--min-pores", type=non_negative_int, default=10)
    syn.add_argument("--max-pores", type=non_negative_int, default=40)
    syn.add_argument("--seed", type=int, required=True)
    syn.add_argument("--out", required=True, help="output dataset folder")
    syn.add_argument("--overwrite", action="store_true", help="replace the dataset (and its labels) in --out")
    syn.set_defaults(func=_generate_synthetic)

    foam = kinds.add_parser("foam", help="Voronoi open-cell foams under compression, cut into sub-volumes",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    foam.add_argument("--size", type=positive_int, default=96, help="edge of each uncompressed foam volume (voxels)")
    foam.add_argument("--cell-size", type=positive_float, default=16.0, help="mean Voronoi cell diameter (voxels)")
    foam.add_argument("--porosity", type=open_fraction, default=0.85, help="target porosity of the uncompressed foam")
    foam.add_argument("--strains", type=float_list, default=(0, 0.15, 0.25, 0.35, 0.5),
                      help="uniaxial compressive strains in [0, 1) (along x), comma-separated")
    foam.add_argument("--sub", type=positive_int, default=32, help="sub-volume edge (voxels)")
    foam.add_argument("--stride", type=positive_int, default=32, help="stride between sub-volumes (voxels)")
    foam.add_argument("--seed", type=non_negative_int, required=True)
    foam.add_argument("--replicas", type=positive_int, default=1,
                      help="independent foams (each seen at every strain); foam r is drawn from (--seed, r)")
    foam.add_argument("--out", required=True)
    foam.add_argument("--overwrite", action="store_true", help="replace the dataset (and its labels) in --out")
    foam.add_argument("--quiet", action="store_true", help="no progress bar")
    foam.set_defaults(func=_generate_foam)

    lab = subparsers.add_parser(
        "label", help="label a dataset folder with porosity and permeability",
        description="Write DIR/properties.csv (case, n_F, Permeability_x|y|z in l.u.) and the solver settings "
                    "(DIR/properties.json). Resumable: an interrupted run continues where it stopped; a second "
                    "run on the same folder refuses (or waits, --wait). Work runs on Dask: a local cluster of "
                    "--workers processes, or a running scheduler (--scheduler tcp://host:8786, e.g. a "
                    "dask-jobqueue SLURM cluster).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    lab.add_argument("folder", help="dataset folder from `pvae generate`")
    lab.add_argument("--solver", choices=("stokes2d", "lbm"), default="stokes2d")
    lab.add_argument("--axis", default="x", help="flow axes, e.g. x or x,y,z (x = array axis 0)")
    lab.add_argument("--tensor", action="store_true", help="also the off-diagonal permeabilities K12, K13, K23 "
                     "(--solver lbm --axis x,y,z; from the same three runs with periodic faces)")
    lab.add_argument("--output", default="properties.csv", help="table file name inside the folder")
    lab.add_argument("--every", type=positive_int, default=500, help="results per atomic checkpoint")
    lab.add_argument("--workers", type=positive_int, default=2, help="worker processes of the local Dask cluster "
                     "(1 = label in this process)")
    lab.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="address of a running Dask scheduler (tcp://host:8786) instead of a local cluster")
    lab.add_argument("--limit", type=positive_int, default=None, help="label only the first N cases")
    lab.add_argument("--wait", action="store_true", help="wait for another run on the same folder to finish")
    lab.add_argument("--overwrite", action="store_true", help="delete the table and its settings; relabel")
    lab.add_argument("--quiet", action="store_true", help="no progress bar")
    lbm = lab.add_argument_group("LBM settings (--solver lbm; stored with the labels)")
    add_lbm_arguments(lbm)
    lab.set_defaults(func=_label)
