"""Verified designs for one target: the pipeline behind ``pvae design`` and the design explorer.

:func:`design_target` checks the target against the training data, starts from the nearest
training structures (or prior samples), runs the direct and the binarised loop stage (the
paper's loop for 3-D samples) from every start, measures every candidate (each start as drawn, and after each stage) with the exact
solver, optionally refines the best distinct ones by square-pore local search, and returns the
``n_designs`` distinct designs with the smallest verified error. It writes nothing;
:func:`run_design` writes the files (``pvae design`` is its command line).

Any number of properties: a model's targets are the properties it is mapped to
(``model.property_scaler.names``), and its exact solver is the one of its kind of sample
(:func:`~pvae_lib.design.verify.exact_evaluator`): the synthetic set's 2-D patterns are designed
for (n, K11) and checked by duct flow, the foam study's 3-D samples for (n, K11, K22, K33) and
checked by the lattice Boltzmann solver.

No structure meets an infeasible target (off the band the training structures cover, or, with
``force``, outside their range). By default (``aim="nearest"``) such a target is replaced by the
nearest feasible one (:func:`~pvae_lib.design.inverse.check_target`): the optimisation, the
verified selection and the refinement aim at it, and the result says how far it lies from the
requested target (:attr:`DesignSet.distance`) and how far every design misses each of the two
(:attr:`DesignSet.error`, :attr:`DesignSet.error_requested`). ``aim="requested"`` designs the
requested target anyway (the best compromise).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["AIMS", "DesignSet", "design_target", "run_design", "load_pvae", "read_design_data"]

#: what :func:`design_target` aims at for an infeasible target (``--aim`` of ``pvae design``)
AIMS = ("nearest", "requested")


@dataclass
class DesignSet:
    """Designs for one target, best verified first.

    Attributes
    ----------
    target : (P,) requested properties, in the model's order (porosity [-], permeabilities [l.u.²])
    check : :class:`~pvae_lib.design.inverse.TargetCheck` of the target against the training data
    aimed : (P,) the target actually designed: the requested one, or
        for an infeasible target with ``aim="nearest"`` the nearest feasible one (``check.nearest``)
    distance : how far ``aimed`` lies from ``target``, dimensionless, in the units of ``error``
        (:func:`~pvae_lib.design.verify.scaled_error` of the two; 0 when the requested target is designed)
    images : (M, H, W) or (M, D, H, W) bool distinct designs (True = pore)
    properties : (M, P) their verified properties (exact solver)
    error : (M,) verified scaled error against ``aimed`` (:func:`~pvae_lib.design.verify.scaled_error`),
        the criterion the designs were chosen and ordered by
    error_requested : (M,) verified scaled error against the requested ``target`` (equal to
        ``error`` when ``aimed`` is ``target``)
    regressor : (M, P) the regressor's prediction for each design (re-encoded)
    stage : (M,) ``"start"`` (a start as drawn: the decoded latent mean of a training structure),
        ``"direct"``, ``"loop_binary"`` (2-D patterns), ``"loop"`` (3-D samples) or ``"refined"``
    loss : (M,) the optimiser's loss of the design's latent vector (NaN for starts and refined designs)
    start_index : (M,) training structure the design started from (-1: a prior sample)
    """

    target: np.ndarray
    check: object
    aimed: np.ndarray
    distance: float
    images: np.ndarray
    properties: np.ndarray
    error: np.ndarray
    error_requested: np.ndarray
    regressor: np.ndarray
    stage: np.ndarray
    loss: np.ndarray
    start_index: np.ndarray


def design_target(model, target, train_images=None, train_properties=None, profile=None, *, n_designs: int = 4,
                  starts: int | None = None, iterations: int | None = None, loop_iterations: int | None = None,
                  refine_calls: int | None = None, pore_size: int | None = None, z0=None, seed: int = 0,
                  force: bool = False, aim: str = "nearest", warn=None, evaluator=None,
                  rule: str | None = None) -> DesignSet:
    """Verified designs for one target (module docstring).

    Parameters
    ----------
    model : trained pVAE mapped to P properties (``model.property_scaler.names``: the synthetic
        set's ``("n", "k11")``, the foam study's ``("n", "k11", "k22", "k33")``)
    target : (P,) the properties in the model's order: porosity [-], permeabilities [l.u.²]
    train_images : (N, H, W) or (N, D, H, W) bool training structures; train_properties : (N, P)
        their properties (the starts are the ``starts`` nearest ones; also used to check the target)
    profile : default settings (``profile.design``: ``n_starts``, ``max_iterations``,
        ``loop_max_iterations``, ``loop_learning_rate``, ``refine_calls``; the generator's pore
        size), default ``get_profile()``
    n_designs : distinct designs returned
    starts, iterations, loop_iterations, refine_calls : override the profile's values
        (``refine_calls=0``: no refinement)
    pore_size : edge of the square pores [px] for the refinement (default: the profile's; 2-D
        square-pore patterns only)
    z0 : (S, d) latent starts instead of training structures (e.g. prior samples)
    seed : seed of the refinement's move order
    force : design a target outside the training range instead of raising ``ValueError``
        (what is designed then is decided by ``aim``)
    aim : ``"nearest"`` (default): for a target off the feasible band (or, with ``force``,
        outside the training range) optimise, select and refine toward the nearest feasible
        target ``check.nearest`` (porosity [-], K11 [l.u.²]) instead; ``"requested"``: design the
        requested target anyway. A feasible target is designed as requested either way.
    warn : callable(str) told, in one line, when the target is infeasible: why, the nearest
        feasible target and which target is designed (default: nothing)
    evaluator : exact evaluator ``images -> (M, P)`` in the model's order (default
        :func:`~pvae_lib.design.verify.exact_evaluator` for the model's names and image
        dimension: duct flow for 2-D patterns, the LBM for 3-D samples)
    rule : binarisation of the decoded candidates (:func:`pvae_lib.binarize.binarize`; default
        :data:`pvae_lib.binarize.DECODED_RULE`, each image keeping its expected porosity)

    Returns
    -------
    DesignSet
        ``aimed`` is the target designed, ``distance`` how far it lies from the requested one
        and ``error_requested`` how far each design misses the requested one.

    Raises
    ------
    ValueError
        for an invalid ``aim`` (before any work), an invalid target or setting, or a target
        outside the training range without ``force``.
    """
    from pvae_lib.profiles import get_profile

    from ..binarize import DECODED_RULE, binarize
    from ..design.inverse import (check_target, distinct_designs, initial_guesses, optimize_latent, property_names,
                                  validate_targets)
    from ..design.verify import PropertyCache, exact_evaluator, scaled_error

    _check_aim(aim)
    names = property_names(model)
    profile = profile if profile is not None else get_profile()
    ds = profile.design
    starts = ds.n_starts if starts is None else int(starts)
    iterations = ds.max_iterations if iterations is None else int(iterations)
    loop_iterations = ds.loop_max_iterations if loop_iterations is None else int(loop_iterations)
    refine_calls = ds.refine_calls if refine_calls is None else int(refine_calls)
    target = validate_targets(target, names)
    ndim = _check_counts(model, n_designs, starts, refine_calls)
    if z0 is None and (train_images is None or train_properties is None):
        raise ValueError("give the training structures and their properties (the starts), or z0")
    props = None if train_properties is None else np.asarray(train_properties, float)
    if props is not None and (props.ndim != 2 or props.shape[1] != len(names)):
        raise ValueError(f"the training properties must be (N, {len(names)}) for the model's {names}, "
                         f"got shape {props.shape}")
    evaluator = exact_evaluator(names, ndim) if evaluator is None else evaluator
    rule = DECODED_RULE if rule is None else rule
    check = check_target(target[0], train_properties=props, scaler=model.property_scaler, names=names)
    if check.status == "out_of_range" and not force:
        raise ValueError(f"{check.message}; pass --force to design "
                         + ("the nearest feasible target instead" if aim == "nearest" else "it anyway"))
    requested = target
    if check.status != "ok" and aim == "nearest":
        target = np.asarray(check.nearest, np.float64).reshape(1, len(names))
    distance = float(scaled_error(target[0], requested[0], model.property_scaler))
    if check.status != "ok" and warn is not None:
        if aim == "nearest":
            near = " ".join(f"--{name} {v:.4g}" for name, v in zip(names, target[0]))
            warn(f"{check.message}; designing the nearest feasible target {near} instead (scaled distance "
                 f"{distance:.3g} from the requested one; pass --aim requested to design the requested one)")
        else:
            warn(f"{check.message}; designing the requested target anyway (the designs will miss it)")
    pore_size = profile.data.synthetic_pore_size if pore_size is None else int(pore_size)
    shape = getattr(getattr(model, "decoder", None), "output_shape", None)
    if train_images is not None and shape is not None and tuple(np.shape(train_images)[1:]) != tuple(shape[1:-1]):
        raise ValueError(f"--data images are {'x'.join(map(str, np.shape(train_images)[1:]))} but the model works on "
                         f"{'x'.join(map(str, shape[1:-1]))} images")
    start_index = np.full(starts, -1)
    if z0 is None:
        k = min(starts, len(props))
        start_index = initial_guesses(props, target, k, model=model)[0]
        z0 = model.encode_mean(np.asarray(train_images)[start_index])
    z0 = np.asarray(z0, np.float32)
    rows = np.repeat(target, len(z0), axis=0)
    direct = optimize_latent(model, z0, rows, mode="direct", optimizer=ds.optimizer, learning_rate=ds.learning_rate,
                             max_iterations=iterations)
    # the loop stage: binarised (DECODED_RULE) for 2-D patterns (beyond the paper); the paper's loop (Fig. 4)
    # for 3-D samples (the foam study's choice)
    loop_mode = "loop_binary" if ndim == 2 else "loop"
    loop = optimize_latent(model, direct.z, rows, mode=loop_mode, optimizer=ds.optimizer,
                           max_iterations=loop_iterations,
                           learning_rate=ds.loop_learning_rate, patience=min(ds.patience, loop_iterations))
    # every candidate measured exactly: each start as drawn (step 0), its direct and its loop result
    # (and the refined designs)
    designs = binarize(model.decode(np.concatenate([z0, direct.z, loop.z])), rule)
    stage = np.array(["start"] * len(z0) + ["direct"] * len(z0) + [loop_mode] * len(z0), dtype=object)
    origin = np.tile(np.arange(len(z0)), 3)
    loss = np.concatenate([np.full(len(z0), np.nan), direct.loss, loop.loss])
    cache = PropertyCache(evaluator)
    exact = cache(designs)
    error = scaled_error(exact, target[0], model.property_scaler)
    if refine_calls:
        from ..design.refine import refine_designs

        seeds = distinct_designs(designs, error, n_designs)
        ref = refine_designs(designs[seeds], np.repeat(target, len(seeds), axis=0), model.property_scaler,
                             pore_size, cache=cache, max_calls=refine_calls, rng=np.random.default_rng(seed))
        designs = np.concatenate([designs, ref.images])
        exact = np.concatenate([exact, ref.properties])
        error = np.concatenate([error, ref.error])
        stage = np.concatenate([stage, np.full(len(seeds), "refined", dtype=object)])
        origin = np.concatenate([origin, origin[seeds]])
        loss = np.concatenate([loss, np.full(len(seeds), np.nan)])
    keep = distinct_designs(designs, np.where(np.isfinite(error), error, np.inf), n_designs)
    mu = model.encode_mean(designs[keep])
    reg = model.predict_properties(mu)  # the regressor's view of each design
    return DesignSet(target=requested[0], check=check, aimed=target[0].copy(), distance=distance,
                     images=designs[keep], properties=exact[keep], error=error[keep],
                     error_requested=scaled_error(exact[keep], requested[0], model.property_scaler),
                     regressor=reg, stage=stage[keep], loss=loss[keep], start_index=start_index[origin[keep]])


def _check_counts(model, n_designs: int, starts: int, refine_calls: int) -> int:
    """Check the design counts against each other and the model (before any work); the model's image dimension."""
    if n_designs < 1 or starts < 1:
        raise ValueError("--n-designs and --starts must be >= 1")
    if refine_calls < 0:
        raise ValueError(f"--refine-calls must be >= 0, got {refine_calls}")
    ndim = _image_dims(model)
    if refine_calls and ndim != 2:
        raise ValueError("--refine-calls refines square-pore 2-D patterns; this model designs 3-D samples "
                         "(pass --refine-calls 0)")
    return ndim


def _image_dims(model) -> int:
    """2 for a model of cross-sections ``(H, W)``, 3 for one of volumes ``(D, H, W)`` (its decoder's output)."""
    shape = getattr(getattr(model, "decoder", None), "output_shape", None)
    return 2 if shape is None else len(shape) - 2


def _check_aim(aim) -> str:
    """``aim`` if it is one of :data:`AIMS`, else ``ValueError`` naming ``--aim``."""
    if aim not in AIMS:
        raise ValueError(f"--aim must be one of {', '.join(AIMS)}, got {aim!r}")
    return aim


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
    """Training structures and their properties (``--data``), or ``k`` prior draws as latent starts."""
    from ..design.inverse import property_names

    names = property_names(model)
    if data == "prior":
        rng = np.random.default_rng(seed)
        return None, None, rng.standard_normal((k, model.latent_dim)).astype(np.float32)
    if data in ("synthetic", "foam"):
        from pvae_lib.data.datasets import load_synthetic_dataset
        from pvae_lib.data.foam_dataset import load_foam_dataset

        ds = load_synthetic_dataset(profile) if data == "synthetic" else load_foam_dataset(profile, build=True,
                                                                                           progress=True)
        if not set(names) <= set(ds.names):
            raise ValueError(f"--data {data} holds {ds.names}, but the model is mapped to {names}; give "
                             f"--data {'foam' if data == 'synthetic' else 'synthetic'} or a .npz with those arrays")
        return ds.images, ds.values(names), None
    return (*read_design_data(Path(data), names), None)


def read_design_data(path: Path, names=None):
    """``images`` and the property columns of a ``--data`` ``.npz``, checked.

    The arrays are named as in the property registry (:data:`pvae_lib.data.properties.PROPERTIES`):
    ``images`` ((N, H, W) cross-sections or (N, D, H, W) volumes), ``n`` (porosity), ``k11``,
    ``k22``, ... (l.u.²). ``porosity`` is read as the older name of ``n``.

    Parameters
    ----------
    path : the ``.npz``
    names : the properties to read, in order (a model's ``property_scaler.names``); default
        ``("n", "k11")`` - enough to check the file before the model is loaded

    Returns
    -------
    images, (N, P) float properties
    """
    import zipfile

    names = ("n", "k11") if names is None else tuple(names)
    need = f"images, {', '.join('n (porosity)' if n == 'n' else n for n in names)}"
    if not path.is_file():
        raise FileNotFoundError(f"--data {path}: no such file (give a .npz with {need}, or 'synthetic', 'foam' "
                                "or 'prior')")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"--data {path}: not a .npz archive; save one with numpy.savez(path, images=..., "
                         f"{', '.join(f'{n}=...' for n in names)})")
    try:
        with np.load(path, allow_pickle=False) as f:
            files = set(f.files)
            if {"n", "porosity"} <= files and not np.array_equal(f["n"], f["porosity"]):
                raise ValueError(f"--data {path.name} holds both n and porosity (its older name), and they "
                                 "differ; keep one")
            arrays = {name: "porosity" if name == "n" and "porosity" in files and "n" not in files else name
                      for name in names}
            missing = {"images", *arrays.values()} - files
            if missing:
                raise ValueError(f"--data {path.name} lacks arrays {sorted(missing)} (need {need})")
            images = f["images"]
            columns = [np.asarray(f[arrays[name]]) for name in names]
    except ValueError as exc:
        if str(exc).startswith("--data"):
            raise
        raise ValueError(f"--data {path}: cannot be read ({exc})") from None
    if images.ndim not in (3, 4):
        raise ValueError(f"--data {path.name}: images must be (N, H, W) cross-sections or (N, D, H, W) volumes, "
                         f"got shape {images.shape}")
    if any(c.ndim != 1 or len(c) != len(images) for c in columns):
        sizes = ", ".join(f"{c.size} {'porosity (n)' if name == 'n' else name}" for name, c in zip(names, columns))
        raise ValueError(f"--data {path.name}: {len(images)} images but {sizes} values; give one value of "
                         f"each property per image")
    if len(images) == 0:
        raise ValueError(f"--data {path.name} holds no images")
    props = np.column_stack(columns).astype(float)
    if not np.all(np.isfinite(props)):
        raise ValueError(f"--data {path.name}: {' or '.join(names)} holds NaN or Inf")
    return images, props


def _warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def run_design(model, target, out, n_designs=4, starts=16, data="synthetic", profile=None,
               iterations=2000, loop_iterations=200, seed=0, overwrite=False, progress=True,
               force=False, refine_calls=0, pore_size=None, aim="nearest", warn=_warn):
    """Library form of ``pvae design``; returns the CSV table as a DataFrame.

    ``target`` holds the model's properties in its order (``model.property_scaler.names``:
    (n, K11) for the synthetic set, (n, K11, K22, K33) for the foam study). The target is
    checked against the training data first (:func:`~pvae_lib.design.inverse.check_target`):
    outside the training range it is refused (``ValueError``, nothing written) unless ``force``;
    for an infeasible target (off the feasible region, or out of range with ``force``) ``warn``
    is called with the nearest feasible target, which is designed instead when ``aim="nearest"``
    (default; ``aim="requested"`` designs the requested target). Every candidate (direct and
    loop result of every start, and the refined designs when ``refine_calls > 0``) is measured
    exactly (:func:`~pvae_lib.design.verify.exact_evaluator`: duct flow for 2-D patterns, the
    LBM for 3-D samples); the designs written are the ``n_designs`` distinct ones with the
    smallest verified error against the designed target. The table and the JSON files give, per
    property ``p``, the requested (``p_target``) and designed target (``p_aimed``), the verified
    (``p_exact``) and predicted (``p_regressor``) value, the target's distance from the requested
    one (``target_distance``, :func:`~pvae_lib.design.verify.scaled_error` units) and each
    design's error against both.
    """
    import pandas as pd

    from pvae_lib.data.io import write_stack
    from pvae_lib.design.inverse import property_names, validate_targets
    from pvae_lib.fileio import write_json_atomic, write_text_atomic

    _check_aim(aim)
    names = property_names(model)
    target = validate_targets(target, names)
    ndim = _check_counts(model, n_designs, starts, refine_calls)
    out = Path(out)
    if (out / "designs.csv").exists() and not overwrite:
        raise ValueError(f"{out / 'designs.csv'} exists; pass --overwrite to replace it")
    if refine_calls and pore_size is None and data != "synthetic":
        raise ValueError("--refine-calls needs --pore-size (the edge of the square pores, px) unless "
                         "--data synthetic")
    from pvae_lib.profiles import get_profile

    prof = profile if not isinstance(profile, (str, type(None))) else get_profile(profile)
    images, props, z0 = _starts(model, data, prof, starts, seed)
    res = design_target(model, target, images, props, profile=prof, n_designs=n_designs, starts=starts,
                        iterations=iterations, loop_iterations=loop_iterations, refine_calls=refine_calls,
                        pore_size=pore_size, z0=z0, seed=seed, force=force, aim=aim, warn=warn)
    check, aimed = res.check, res.aimed
    out.mkdir(parents=True, exist_ok=True)
    if overwrite:  # what a new run replaces: every earlier design, also beyond the new count
        for old in [*out.glob("design_[0-9]*.*"), out / "designs.csv"]:
            if old.is_file() and old.stem.startswith("design"):
                old.unlink()
    method = ("porosity = pore fraction; K11 = periodic duct flow (stokes2d), l.u.²" if ndim == 2 else
              "porosity = pore fraction; K_ii = lattice Boltzmann, flow along array axis i-1 (pvae_lib.lbm), l.u.²")

    def named(values) -> dict:
        return {name: float(v) for name, v in zip(names, values)}

    records = []
    for j, image in enumerate(res.images):
        name = f"design_{j:02d}"
        exact, reg = res.properties[j], res.regressor[j]
        write_stack(image, out / f"{name}.npy", overwrite=True)
        # the TIFF is the 3-D sample: a volume as designed, a cross-section extruded along x1 (axis 0)
        stack = image if ndim == 3 else np.repeat(image[None], image.shape[0], axis=0)
        write_stack(stack, out / f"{name}.tif", overwrite=True)
        _picture(image, out / f"{name}.png", "  ".join(f"{n}={v:.3g}" for n, v in zip(names, exact)))
        record = {"design": name, "stage": str(res.stage[j]),
                  **{f"{n}_target": v for n, v in zip(names, target[0])},
                  **{f"{n}_aimed": v for n, v in zip(names, aimed)}, "target_distance": res.distance,
                  **{f"{n}_exact": v for n, v in zip(names, exact)}, "error_verified": float(res.error[j]),
                  "error_requested": float(res.error_requested[j]),
                  **{f"{n}_regressor": v for n, v in zip(names, reg)},
                  "loss": res.loss[j], "start_index": int(res.start_index[j])}
        records.append(record)
        write_json_atomic(out / f"{name}.json", {
            "design": name, "image": f"{name}.npy", "stage": record["stage"], "target_status": check.status,
            "target": named(target[0]), "aimed": named(aimed), "target_distance": float(res.distance),
            "verified": {**named(exact), "method": method},
            "error_verified": float(res.error[j]), "error_requested": float(res.error_requested[j]),
            "regressor": named(reg),
        })
    table = pd.DataFrame.from_records(records)
    write_text_atomic(out / "designs.csv", table.to_csv(index=False))
    return table


def _picture(image: np.ndarray, path: Path, title: str) -> None:
    """PNG of a design (pore white, solid black): the cross-section, or a volume's three mid-slices."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from pvae_lib.plotting import show_structure

    if image.ndim == 2:
        fig, ax = plt.subplots(figsize=(2.5, 2.5))
        show_structure(ax, image, title=title, fontsize=8)
    else:
        fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
        for axis, ax in enumerate(axes):
            show_structure(ax, np.take(image, image.shape[axis] // 2, axis=axis),
                           title=f"mid-slice normal to x{axis + 1}", fontsize=8)
        fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
