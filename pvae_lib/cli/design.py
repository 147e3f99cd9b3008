"""``pvae design``: design microstructures for a target porosity and permeability.

    pvae design --n 0.3 --k11 0.18 --model pvae.keras --out designs/ --n-designs 4

Loads a saved pVAE (``.keras``), starts from the training samples nearest the target
(``--data``: a ``.npz`` with ``images``, ``porosity``, ``k11``; ``synthetic`` = the profile's
synthetic data set; ``prior`` = random draws from N(0, I)), optimises the latent vectors
(direct regressor loss, then the decode -> binarise -> re-encode -> regress loop of paper
Fig. 4),
and writes the distinct designs found:

* ``design_XX.npy`` - the binary cross-section (True = pore), ``design_XX.png`` - a picture,
* ``design_XX.tif`` - the extruded 3-D stack (flow along array axis 0),
* ``design_XX.json`` - requested and designed (``aimed``) target, their distance, and the
  verified (exact) porosity and K11 of that design with its error against both targets,
* ``designs.csv`` - requested target, designed target (``n_aimed``, ``k11_aimed``) and their
  distance (``target_distance``), exact porosity and K11 (duct-flow solver, l.u.²), verified
  error against the designed target (``error_verified``) and the requested one
  (``error_requested``), the regressor's prediction and the loss of every design.

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

import numpy as np

from ._checks import check_output_folder, non_negative_int, positive_int, quiet_tensorflow

__all__ = ["register", "run_design", "load_pvae"]

#: values of ``--aim``: :data:`pvae_lib.design.pipeline.AIMS` (not imported here, so that ``pvae``
#: starts without loading the design package; a test checks that the two agree)
_AIMS = ("nearest", "requested")


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "design", help="inverse design: structures for a target porosity and K11",
        description=__doc__.split("\n\n")[0].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=float, required=True, help="target porosity n^F, in (0, 1)")
    p.add_argument("--k11", type=float, required=True, help="target permeability K11 (lattice units, >= 0)")
    p.add_argument("--model", required=True, help="saved pVAE (.keras) mapped to (n, K11)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n-designs", type=positive_int, default=4, help="distinct designs to write (default 4)")
    p.add_argument("--starts", type=positive_int, default=16, help="starting points (default 16; paper 100)")
    p.add_argument("--data", default="synthetic",
                   help="where starts come from: a .npz (images, porosity, k11), 'synthetic' or 'prior'")
    p.add_argument("--profile", default=None, help="profile for --data synthetic (default $PVAE_PROFILE)")
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


def load_pvae(path):
    """Load a saved pVAE ``.keras`` file (needs ``encoder``, ``decoder``, ``regressor``, ``property_scaler``)."""
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--model {path}: file not found")
    if path.suffix != ".keras":
        raise ValueError(f"--model must be a saved .keras pVAE, got {path.name}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"--model {path}: not a saved Keras model (a .keras file is a zip archive; this one is "
                         "damaged or cut off); save the model again with model.save(...)")
    import keras

    import pvae_lib.models.layers  # noqa: F401 - registers custom layers
    import pvae_lib.models.pvae  # noqa: F401 - registers PVAE

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - any loader failure means an unusable file
        raise ValueError(f"--model {path}: cannot be loaded as a Keras model ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}); save the model again") from None
    for attr in ("encoder", "decoder", "regressor", "property_scaler"):
        if getattr(model, attr, None) is None:
            raise ValueError(f"{path.name} is not a pVAE mapped to properties: it has no {attr}")
    return model


def _starts(model, data, profile, k, seed):
    if data == "prior":
        rng = np.random.default_rng(seed)
        return None, None, rng.standard_normal((k, model.latent_dim)).astype(np.float32)
    if data == "synthetic":
        from pvae_lib.data.datasets import load_synthetic_dataset

        ds = load_synthetic_dataset(profile)
        images, props = ds.images, np.column_stack([ds.porosity, ds.k11])
    else:
        images, props = _read_data(Path(data))
    return images, props, None


def _read_data(path: Path):
    """``images`` and ``(porosity, k11)`` columns of a ``--data`` ``.npz``, checked."""
    import zipfile

    if not path.is_file():
        raise FileNotFoundError(f"--data {path}: no such file (give a .npz with images, porosity, k11, "
                                "or 'synthetic' or 'prior')")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"--data {path}: not a .npz archive; save one with numpy.savez(path, images=..., "
                         "porosity=..., k11=...)")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"images", "porosity", "k11"} - set(f.files)
            if missing:
                raise ValueError(f"--data {path.name} lacks arrays {sorted(missing)} (need images, porosity, k11)")
            images, n, k = f["images"], np.asarray(f["porosity"]), np.asarray(f["k11"])
    except ValueError as exc:
        if str(exc).startswith("--data"):
            raise
        raise ValueError(f"--data {path}: cannot be read ({exc})") from None
    if images.ndim != 3:
        raise ValueError(f"--data {path.name}: images must be (N, H, W) cross-sections, got shape {images.shape}")
    if n.ndim != 1 or k.ndim != 1 or not len(images) == len(n) == len(k):
        raise ValueError(f"--data {path.name}: {len(images)} images but {n.size} porosity and {k.size} k11 values; "
                         "give one porosity and one k11 per image")
    if len(images) == 0:
        raise ValueError(f"--data {path.name} holds no images")
    props = np.column_stack([n, k]).astype(float)
    if not np.all(np.isfinite(props)):
        raise ValueError(f"--data {path.name}: porosity or k11 holds NaN or Inf")
    return images, props


def _warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def run_design(model, target, out, n_designs=4, starts=16, data="synthetic", profile=None,
               iterations=2000, loop_iterations=200, seed=0, overwrite=False, progress=True,
               force=False, refine_calls=0, pore_size=None, aim="nearest", warn=_warn):
    """Library form of ``pvae design``; returns the CSV table as a DataFrame.

    The target is checked against the training data first (:func:`~pvae_lib.design.inverse.check_target`):
    outside the training range it is refused (``ValueError``, nothing written) unless ``force``;
    for an infeasible target (off the feasible band, or out of range with ``force``) ``warn`` is
    called with the nearest feasible target, which is designed instead when ``aim="nearest"``
    (default; ``aim="requested"`` designs the requested target). Every candidate (direct and
    loop result of every start, and the refined designs when ``refine_calls > 0``) is measured
    exactly; the designs written are the ``n_designs`` distinct ones with the smallest verified
    error against the designed target. The table and the JSON files give the designed target
    (``n_aimed``, ``k11_aimed``), its distance from the requested one (``target_distance``,
    :func:`~pvae_lib.design.verify.scaled_error` units) and each design's error against both.
    """
    import pandas as pd

    from pvae_lib.data.io import write_stack
    from pvae_lib.design.inverse import validate_targets
    from pvae_lib.design.pipeline import _check_aim, design_target
    from pvae_lib.fileio import write_json_atomic, write_text_atomic
    from pvae_lib.plotting import show_structure

    _check_aim(aim)
    target = validate_targets(target)
    if n_designs < 1 or starts < 1:
        raise ValueError("--n-designs and --starts must be >= 1")
    if refine_calls < 0:
        raise ValueError(f"--refine-calls must be >= 0, got {refine_calls}")
    out = Path(out)
    if (out / "designs.csv").exists() and not overwrite:
        raise ValueError(f"{out / 'designs.csv'} exists; pass --overwrite to replace it")
    images, props, z0 = _starts(model, data, profile, starts, seed)
    if refine_calls and pore_size is None and data != "synthetic":
        raise ValueError("--refine-calls needs --pore-size (the edge of the square pores, px) unless "
                         "--data synthetic")
    from pvae_lib.profiles import get_profile

    prof = profile if not isinstance(profile, (str, type(None))) else get_profile(profile)
    res = design_target(model, target, images, props, profile=prof, n_designs=n_designs, starts=starts,
                        iterations=iterations, loop_iterations=loop_iterations, refine_calls=refine_calls,
                        pore_size=pore_size, z0=z0, seed=seed, force=force, aim=aim, warn=warn)
    check, aimed = res.check, res.aimed
    out.mkdir(parents=True, exist_ok=True)
    if overwrite:  # what a new run replaces: every earlier design, also beyond the new count
        for old in [*out.glob("design_[0-9]*.*"), out / "designs.csv"]:
            if old.is_file() and old.stem.startswith("design"):
                old.unlink()
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    records = []
    for j, image in enumerate(res.images):
        name = f"design_{j:02d}"
        exact, reg = res.properties[j], res.regressor[j]
        write_stack(image, out / f"{name}.npy", overwrite=True)
        write_stack(np.repeat(image[None], image.shape[0], axis=0), out / f"{name}.tif", overwrite=True)
        fig, ax = plt.subplots(figsize=(2.5, 2.5))
        # the book's convention: pore white, solid black
        show_structure(ax, image, title=f"n={exact[0]:.3f}  K11={exact[1]:.3g}", fontsize=8)
        fig.savefig(out / f"{name}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        record = {
            "design": name, "stage": str(res.stage[j]), "n_target": target[0, 0], "k11_target": target[0, 1],
            "n_aimed": aimed[0], "k11_aimed": aimed[1], "target_distance": res.distance,
            "n_exact": exact[0], "k11_exact": exact[1], "error_verified": float(res.error[j]),
            "error_requested": float(res.error_requested[j]), "n_regressor": reg[0], "k11_regressor": reg[1],
            "loss": res.loss[j], "start_index": int(res.start_index[j]),
        }
        records.append(record)
        write_json_atomic(out / f"{name}.json", {
            "design": name, "image": f"{name}.npy", "stage": record["stage"], "target_status": check.status,
            "target": {"n": float(target[0, 0]), "k11": float(target[0, 1])},
            "aimed": {"n": float(aimed[0]), "k11": float(aimed[1])}, "target_distance": float(res.distance),
            "verified": {"n": float(exact[0]), "k11": float(exact[1]),
                         "method": "porosity = pore fraction; K11 = periodic duct flow (stokes2d), l.u.²"},
            "error_verified": float(res.error[j]), "error_requested": float(res.error_requested[j]),
            "regressor": {"n": float(reg[0]), "k11": float(reg[1])},
        })
    table = pd.DataFrame.from_records(records)
    write_text_atomic(out / "designs.csv", table.to_csv(index=False))
    return table


def _main(args) -> int:
    if not 0 < args.n < 1:
        raise ValueError(f"--n (porosity) must lie in (0, 1), got {args.n}")
    if not args.k11 >= 0 or args.k11 == float("inf"):
        raise ValueError(f"--k11 must be non-negative (lattice units), got {args.k11}")
    out = check_output_folder(args.out, holds="designs.csv", overwrite=args.overwrite)
    if args.data not in ("synthetic", "prior"):
        _read_data(Path(args.data))  # checked before the model is loaded
    if not Path(args.model).is_file():
        raise FileNotFoundError(f"--model {args.model}: file not found")
    quiet_tensorflow(args)
    model = load_pvae(args.model)
    table = run_design(model, [args.n, args.k11], args.out, n_designs=args.n_designs, starts=args.starts,
                       data=args.data, profile=args.profile, iterations=args.iterations,
                       loop_iterations=args.loop_iterations, seed=args.seed, overwrite=args.overwrite,
                       progress=False, force=args.force, refine_calls=args.refine_calls, pore_size=args.pore_size,
                       aim=args.aim)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"wrote {len(table)} design(s) to {args.out}")
    return 0
