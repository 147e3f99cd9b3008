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


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(",") if v.strip())


def _generate_synthetic(args) -> int:
    from pvae_lib.data.container import save_dataset
    from pvae_lib.data.synthetic import generate_synthetic

    import numpy as np

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


def _generate_foam(args) -> int:
    from pvae_lib.data.foam import FoamConfig, write_foam_dataset

    config = FoamConfig(size=args.size, cell_size=args.cell_size, porosity=args.porosity)
    t0 = time.perf_counter()
    info = write_foam_dataset(args.out, config=config, strains=_floats(args.strains), sub_size=args.sub,
                              stride=args.stride, seed=args.seed, overwrite=args.overwrite,
                              progress=not args.quiet)
    print(f"wrote {info['n_samples']} sub-volumes of {args.sub}^3 from {len(info['strains'])} foam volumes to "
          f"{args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _label(args) -> int:
    from pvae_lib.data.labels import label_dataset

    t0 = time.perf_counter()
    table = label_dataset(args.folder, solver=args.solver, axes=args.axis, output=args.output, every=args.every,
                          workers=args.workers, limit=args.limit, progress=not args.quiet)
    n = table.attrs.get("labelled", 0)
    dt = time.perf_counter() - t0
    rate = f", {1e3 * dt / n:.2f} ms per sample" if n else ""
    print(f"labelled {n} new samples ({len(table)} in total) -> {args.folder}/{args.output} in {dt:.1f} s{rate}")
    return 0


def register(subparsers) -> None:
    """Add ``generate`` and ``label`` to the ``pvae`` command."""
    gen = subparsers.add_parser("generate", help="generate a microstructure dataset folder",
                                description="Generate a dataset folder (images.npy + meta.json).")
    kinds = gen.add_subparsers(dest="kind", metavar="KIND", required=True)

    syn = kinds.add_parser("synthetic", help="square-pore patterns extruded along x (paper Sec. 4.1)",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    syn.add_argument("--n", type=int, required=True, help="number of samples")
    syn.add_argument("--size", type=int, default=100, help="image edge (pixels)")
    syn.add_argument("--pore", type=int, default=10, help="square pore edge (pixels)")
    syn.add_argument("--min-pores", type=int, default=10)
    syn.add_argument("--max-pores", type=int, default=40)
    syn.add_argument("--seed", type=int, required=True)
    syn.add_argument("--out", required=True, help="output dataset folder")
    syn.add_argument("--overwrite", action="store_true")
    syn.set_defaults(func=_generate_synthetic)

    foam = kinds.add_parser("foam", help="Voronoi open-cell foams under compression, cut into sub-volumes",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    foam.add_argument("--size", type=int, default=96, help="edge of each uncompressed foam volume (voxels)")
    foam.add_argument("--cell-size", type=float, default=16.0, help="mean Voronoi cell diameter (voxels)")
    foam.add_argument("--porosity", type=float, default=0.85, help="target porosity of the uncompressed foam")
    foam.add_argument("--strains", default="0,0.15,0.25,0.35,0.5", help="uniaxial compressive strains (along x)")
    foam.add_argument("--sub", type=int, default=32, help="sub-volume edge (voxels)")
    foam.add_argument("--stride", type=int, default=32, help="stride between sub-volumes (voxels)")
    foam.add_argument("--seed", type=int, required=True)
    foam.add_argument("--out", required=True)
    foam.add_argument("--overwrite", action="store_true")
    foam.add_argument("--quiet", action="store_true", help="no progress bar")
    foam.set_defaults(func=_generate_foam)

    lab = subparsers.add_parser("label", help="label a dataset folder with porosity and permeability",
                                description="Write DIR/properties.csv (case, n_F, Permeability_x|y|z in l.u.); "
                                            "resumable: an interrupted run continues where it stopped.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    lab.add_argument("folder", help="dataset folder from `pvae generate`")
    lab.add_argument("--solver", choices=("stokes2d", "lbm"), default="stokes2d")
    lab.add_argument("--axis", default="x", help="flow axes, e.g. x or x,y,z (x = array axis 0)")
    lab.add_argument("--output", default="properties.csv", help="table file name inside the folder")
    lab.add_argument("--every", type=int, default=500, help="samples per atomic checkpoint")
    lab.add_argument("--workers", type=int, default=2)
    lab.add_argument("--limit", type=int, default=None, help="label only the first N cases")
    lab.add_argument("--quiet", action="store_true", help="no progress bar")
    lab.set_defaults(func=_label)
