"""``pvae design``: design microstructures for a target porosity and permeability.

    pvae design --n 0.3 --k11 0.18 --model pvae.keras --out designs/ --n-designs 4
    pvae design --n 0.8 --k11 2.1 --k22 1.7 --k33 1.7 --model foam.keras --data foam --out foams/

A thin command line over :func:`pvae_lib.experiments.design.run_design`: it checks the flags,
loads a saved pVAE (``.keras``) and takes one flag per property the model is mapped to (the
synthetic set's (n, K11): ``--n``, ``--k11``; the foam study's (n, K11, K22, K33): also
``--k22``, ``--k33``). It starts from the labelled samples nearest the target (``--data``: a
``.npz`` with ``images`` and one array per property, ``n`` (porosity), ``k11``, ...;
``synthetic`` = the profile's 2-D pattern set; ``foam`` = the profile's labelled foam
sub-volumes; ``prior`` = random draws from N(0, I); every sample counts, test split included,
since a design tool should start from every structure it knows), optimises the latent vectors (direct
regressor loss, then the decode -> binarise -> re-encode -> regress loop of paper Fig. 4), and
writes the distinct designs found:

* ``design_XX.npy`` - the binary cross-section or volume (True = pore), ``design_XX.png`` - a
  picture (a volume's three mid-slices),
* ``design_XX.tif`` - the 3-D sample (a cross-section extruded along x1, array axis 0),
* ``design_XX.json`` - requested and designed (``aimed``) target, their distance, and the
  verified (exact) properties of that design with its error against both targets,
* ``designs.csv`` - per property ``p``: requested target (``p_target``), designed target
  (``p_aimed``), exact value (``p_exact``: duct-flow solver for 2-D patterns, the lattice
  Boltzmann solver for 3-D samples; permeabilities in l.u.²) and the regressor's prediction
  (``p_regressor``); the targets' distance (``target_distance``), the verified error against the
  designed target (``error_verified``) and the requested one (``error_requested``) and the loss
  of every design.

Every candidate (each start after the direct and after the loop stage; with ``--refine-calls``
also the square-pore local search of :mod:`pvae_lib.design.refine`) is measured exactly and the
distinct designs with the smallest verified error are written.

The target is checked first: outside the training data's range (e.g. ``--k11 1000`` when the
data reach 0.43) the command exits with status 1, naming the flag, the data's range and the
nearest feasible target, and writes nothing (``--force`` goes on, as below) - the pVAE cannot
extrapolate, so minutes of optimisation would only return the edge of the data. Inside the
range but off the band the training structures cover (or outside it with ``--force``), no
structure meets the target: the command warns (one line, naming the nearest feasible target)
and, by default (``--aim nearest``), designs the nearest feasible target instead; the files
report it as the designed target, with its distance from the requested one (dimensionless:
mean squared difference of the min-max scaled properties, the units of the verified error)
and every design's error against both. ``--aim requested`` designs the requested target
anyway (the best compromise).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ._checks import check_output_folder, non_negative_int, positive_int, quiet_tensorflow

__all__ = ["register"]

#: values of ``--aim``: :data:`pvae_lib.experiments.design.AIMS` (not imported here, so that ``pvae``
#: starts without loading the design package; a test checks that the two agree)
_AIMS = ("nearest", "requested")


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "design", help="inverse design: structures for a target porosity and permeability",
        description=__doc__.split("\n\n")[0].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=float, required=True, help="target porosity n^F, in (0, 1)")
    p.add_argument("--k11", type=float, required=True, help="target permeability K11 (l.u.², >= 0)")
    for flag, axis in (("--k22", "x2"), ("--k33", "x3")):
        p.add_argument(flag, type=float, default=None,
                       help=f"target permeability {flag[2:].upper()} (l.u.², >= 0; flow along {axis}), for a model "
                            "of 3-D samples mapped to it (the foam study's: n, K11, K22, K33)")
    p.add_argument("--model", required=True,
                   help="saved pVAE (.keras) mapped to (n, K11) (2-D patterns) or (n, K11, K22, K33) (3-D samples)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-designs", type=positive_int, default=4, help="distinct designs to write (default 4)")
    p.add_argument("--starts", type=positive_int, default=16, help="starting points (default 16; paper 100)")
    p.add_argument("--data", default="synthetic",
                   help="where starts come from: a .npz (images and one array per property: n, k11, ...), "
                        "'synthetic' (the profile's 2-D patterns), 'foam' (the profile's labelled foam "
                        "sub-volumes) or 'prior'")
    p.add_argument("--profile", default=None, help="profile for --data synthetic|foam (default $PVAE_PROFILE)")
    p.add_argument("--iterations", type=positive_int, default=2000, help="max direct steps (default 2000)")
    p.add_argument("--loop-iterations", type=positive_int, default=200, help="max loop steps (default 200)")
    p.add_argument("--seed", type=int, default=0, help="seed for --data prior")
    p.add_argument("--force", action="store_true",
                   help="design even a target outside the training data's range (default: refuse)")
    p.add_argument("--aim", choices=_AIMS, default="nearest",
                   help="what to design for an infeasible target (off the training structures' band, or out of "
                        "range with --force): 'nearest' = the nearest feasible target (default), 'requested' = "
                        "the requested one anyway; a feasible target is designed as requested")
    p.add_argument("--refine-calls", type=non_negative_int, default=0,
                   help="exact evaluations per design for the square-pore local search (default 0 = off)")
    p.add_argument("--pore-size", type=positive_int, default=None,
                   help="edge of the square pores (px) for --refine-calls (default: the profile's, --data synthetic)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the designs in --out (the old design_XX.* and designs.csv are removed)")
    p.set_defaults(func=_main)
    return p


def _main(args) -> int:
    if not 0 < args.n < 1:
        raise ValueError(f"--n (porosity) must lie in (0, 1), got {args.n}")
    for name in ("k11", "k22", "k33"):
        value = getattr(args, name)
        if value is not None and (not value >= 0 or value == float("inf")):
            raise ValueError(f"--{name} must be non-negative (l.u.²), got {value}")
    check_output_folder(args.out, holds="designs.csv", overwrite=args.overwrite)  # before any work
    from pvae_lib.experiments.design import read_design_data

    if args.data not in ("synthetic", "foam", "prior"):
        read_design_data(Path(args.data))  # checked before the model is loaded
    if not Path(args.model).is_file():
        raise FileNotFoundError(f"--model {args.model}: file not found")
    quiet_tensorflow(args)
    from pvae_lib.experiments.design import load_pvae, run_design

    model = load_pvae(args.model)
    table = run_design(model, _target(model, args), args.out, n_designs=args.n_designs, starts=args.starts,
                       data=args.data, profile=args.profile, iterations=args.iterations,
                       loop_iterations=args.loop_iterations, seed=args.seed, overwrite=args.overwrite,
                       progress=False, force=args.force, refine_calls=args.refine_calls, pore_size=args.pore_size,
                       aim=args.aim)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"wrote {len(table)} design(s) to {args.out}")
    return 0


def _target(model, args) -> list:
    """The target in the model's property order, from the flags; names the flags missing or not used."""
    from pvae_lib.design.inverse import property_names

    names = property_names(model)
    given = {name: getattr(args, name) for name in ("n", "k11", "k22", "k33") if getattr(args, name) is not None}
    missing = [f"--{name}" for name in names if name not in given]
    if missing:
        raise ValueError(f"the model is mapped to ({', '.join(names)}): give {' and '.join(missing)} too")
    extra = [f"--{name}" for name in given if name not in names]
    if extra:
        raise ValueError(f"the model is mapped to ({', '.join(names)}) only: drop {' and '.join(extra)}")
    return [given[name] for name in names]
