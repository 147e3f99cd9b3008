"""Learned figures of the CNN, the pVAE or the foam pVAE trained from scratch with changed settings.

    python benchmarks/training_levers.py pvae --seed 2027 --set epochs_joint=200
    python benchmarks/training_levers.py cnn --seed 2025 --set epochs=200 width=0.75
    python benchmarks/training_levers.py pvae --continue-joint 80 --set lam=3e5
    python benchmarks/training_levers.py vae --seed 2027 --set epochs_vae=60 learning_rate=1e-3
    python benchmarks/training_levers.py foam --samples 512 --set latent_dim=128 epochs_vae=30

Trains with the profile's section (``Profile.cnn``, ``Profile.pvae``, or for ``foam`` the foam
pVAE's :func:`~pvae_lib.profiles.foam_pvae_section`) changed by ``--set field=value`` (any field of
the section; values are parsed as the field's type), on the profile's synthetic data drawn with
``--seed`` (``foam``: the profile's labelled foam sub-volumes, ``--samples N`` of them drawn with
the seed), never from the shipped models, in a build
folder of its own (``<build>/levers/<model>_<seed>_<settings>``, so runs resume and never touch
the book's cache). Prints one JSON line ``RESULT {...}``: the settings and the figures the
chapters report (test-set R² of n and K11; for the pVAE also the binarised reconstruction's
voxel accuracy and porosity error; for the foam pVAE R² of n, K11, K22, K33 and the voxel accuracy
and porosity error of the reconstructions binarised by expected porosity, as the foam chapter
reports them, and the voxel accuracy on as many training samples: a decoder that cannot fit its
training data lacks capacity, one that fits them but not the test set lacks data). The foam pVAE
trains with oneDNN on, as in the foam chapter (``PVAE_ONEDNN=1``).

``vae`` trains stage 1 alone (the plain VAE of ``Profile.pvae``, no regressor) and reports its
reconstructions of the test split and of as many training images (voxel accuracy, porosity
error), with its last-epoch training and validation reconstruction losses: the reconstruction
figures are set by this stage (the joint stage moves them by little), so it is the cheap probe of a
lever on them, and a short ``epochs_vae`` probes a lever on how fast the VAE learns.

``--continue-joint N`` is the cheap probe: it takes the book's pVAE (shipped or cached, as the
chapter does) and runs N more epochs of stage 3 (joint training) with the changed settings,
instead of training all three stages again. It tells whether a longer or differently weighted
joint stage helps; the from-scratch run is what a new profile must be measured with.

``--out FILE`` also appends the row (with the command line, the library version and the
runtime: threads, CPU kernels) to the JSON table ``FILE`` (created if missing; written
atomically under a lock, so runs side by side lose no row).

The thread count follows :mod:`pvae_lib.runtime` (``PVAE_THREADS``); figures trained with
another thread count than the CI machine's 2 differ in the last digits.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path


def parse_settings(section, items) -> dict:
    """``{field: value}`` from ``--set`` items ``field=value`` of the dataclass ``section``; ValueError if malformed."""
    changes = {}
    fields = {f.name for f in dataclasses.fields(section)}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set wants field=value, got {item!r}")
        key, value = item.split("=", 1)
        if key not in fields:
            raise ValueError(f"--set {key}: no such field of {type(section).__name__} (fields: {sorted(fields)})")
        old = getattr(section, key)
        if isinstance(old, bool):
            changes[key] = value.lower() in ("1", "true", "yes", "on")
        elif isinstance(old, int):
            changes[key] = int(float(value))
        elif isinstance(old, float):
            changes[key] = float(value)
        elif isinstance(old, tuple):
            changes[key] = tuple(type(old[0])(v) for v in value.split(","))
        else:
            changes[key] = value
    return changes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=("cnn", "pvae", "vae", "foam"))
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--seed", type=int, default=None, help="data and training seed (default: the profile's)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="changes of the profile's cnn or pvae section")
    parser.add_argument("--continue-joint", type=int, default=0, metavar="N",
                        help="pVAE only: N more joint epochs on the book's pVAE instead of training from scratch")
    parser.add_argument("--samples", type=int, default=0, metavar="N",
                        help="foam only: train on N of the profile's labelled sub-volumes (default: all)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="also append the result row to this JSON table (created if missing)")
    args = parser.parse_args(argv)
    if args.out is not None and not Path(args.out).resolve().parent.is_dir():
        parser.error(f"--out {args.out}: its folder does not exist")
    if args.continue_joint and args.model != "pvae":
        parser.error("--continue-joint is for the pvae")
    if args.samples and args.model != "foam":
        parser.error("--samples is for the foam pVAE")
    if args.samples and args.samples < 10 or args.samples < 0:
        parser.error(f"--samples {args.samples}: give at least 10 (8 to train, 1 to validate, 1 to test)")
    if args.model == "foam":
        os.environ.setdefault("PVAE_ONEDNN", "1")  # before pvae_lib starts TensorFlow: 3-D convolutions
    from pvae_lib.profiles import foam_pvae_section, get_profile

    profile = get_profile(args.profile)
    seed = profile.seed if args.seed is None else int(args.seed)
    if args.continue_joint and seed != profile.seed:  # there is no book pVAE for another seed to continue
        parser.error(f"--continue-joint continues the book's pVAE (seed {profile.seed}); drop --seed {seed}")
    section = {"cnn": profile.cnn, "pvae": profile.pvae, "vae": profile.pvae}.get(args.model) or \
        foam_pvae_section(profile)
    try:
        changes = parse_settings(section, args.set)
    except ValueError as err:
        parser.error(str(err))
    work = work_folder(args.model, seed, changes, args.samples, args.continue_joint)
    if not args.continue_joint:  # train from scratch, in a cache of its own
        os.environ["PVAE_SHIPPED_MODELS"] = "0"
        os.environ["PVAE_ARTIFACTS"] = str(work)
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.experiments import get_trained_cnn, get_trained_pvae
    from pvae_lib.models.evaluation import reconstruction_metrics
    from pvae_lib.models.metrics import r2_score
    from pvae_lib.models.training import split_indices, train_joint

    changed = dataclasses.replace(section, **changes)
    if args.model == "foam":
        return report(foam_figures(profile, seed, changed, changes, args.samples), args.out, argv)
    field = "pvae" if args.model == "vae" else args.model
    run = dataclasses.replace(profile, seed=seed, **{field: changed}) if not args.continue_joint else \
        dataclasses.replace(profile, seed=seed)
    t0 = time.perf_counter()
    data = load_synthetic_dataset(run, progress=False)
    result = {"model": args.model, "seed": seed, "settings": changes, "continue_joint": args.continue_joint}
    if args.model == "cnn":
        _, _, info = get_trained_cnn(run, print_every=20)
        result.update(r2_n=info["r2"]["n"], r2_k11=info["r2"]["k11"], train_time_s=info["train_time_s"])
    elif args.model == "vae":
        from pvae_lib.experiments.zoo import training_info

        split = split_indices(len(data.images), run.seed)
        test, train = split[2], split[0][:len(split[2])]  # as many training images: can it fit them?
        model = get_trained_pvae(run, kind="vae", print_every=20)
        rec, rec_train = (reconstruction_metrics(model, data.images[i]) for i in (test, train))
        info = training_info("vae", run)
        history = info["history"]
        result.update(voxel_accuracy=rec["voxel_accuracy"], porosity_mae=rec["porosity_mae"],
                      voxel_accuracy_train=rec_train["voxel_accuracy"],
                      recon_last=history["recon"][-1], val_recon_last=history["val_recon"][-1],
                      kl_last=history["kl"][-1], epochs_run=info["epochs_run"], train_time_s=info["train_time_s"])
    else:
        split = split_indices(len(data.images), run.seed)
        y = data.values(("n", "k11"))
        model = get_trained_pvae(run, properties=("n", "k11"), print_every=20)
        if args.continue_joint:
            scaler = model.property_scaler
            model.lam, model.beta = changed.lam, changed.beta
            stage = train_joint(model, data.images, scaler.transform(y), split, run, changed, run.seed,
                                out_dir=work, epochs=args.continue_joint, print_every=10)
            model = stage.model
            model.property_scaler = scaler
        test = split[2]
        r2 = r2_score(y[test], model.predict_properties(data.images[test]))
        rec = reconstruction_metrics(model, data.images[test])
        result.update(r2_n=float(r2[0]), r2_k11=float(r2[1]), voxel_accuracy=rec["voxel_accuracy"],
                      porosity_mae=rec["porosity_mae"])
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    return report(result, args.out, argv)


def report(result: dict, out=None, argv=None) -> int:
    """Print the ``RESULT`` line of a run and, with ``out``, append it to that JSON table; exit status 0."""
    print("RESULT " + json.dumps(result), flush=True)
    if out is not None:
        append_row(out, result, argv)
    return 0


def append_row(path, row: dict, argv=None) -> None:
    """Append ``row`` to the JSON table ``path`` (``{"rows": [...]}``), atomically and under a lock."""
    import pvae_lib
    from pvae_lib.fileio import file_lock, write_json_atomic
    from pvae_lib.runtime import runtime_summary

    path = Path(path)
    row = {**row, "command": "python benchmarks/training_levers.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "pvae_lib": pvae_lib.__version__, "runtime": runtime_summary()}
    with file_lock(path.with_name(path.name + ".lock")):
        table = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        table.setdefault("rows", []).append(row)
        write_json_atomic(path, table)


def settings_label(changes: dict) -> str:
    """A folder name's part for the settings ``changes``: ``epochs_vae=240_epochs_joint=200``, or ``profile``."""
    return "_".join(f"{k}={v}" for k, v in changes.items()) or "profile"


def work_folder(model: str, seed: int, changes: dict, samples: int = 0, continue_joint: int = 0) -> Path:
    """The build folder of one lever run: ``<build>/levers/<model>_<seed>_<settings>`` (its own model cache)."""
    from pvae_lib.results import build_dir

    tag = settings_label(changes)
    if samples:
        tag = f"samples{samples}_{tag}"
    if continue_joint:
        tag = f"continue{continue_joint}_{tag}"
    return build_dir() / "levers" / f"{model}_{seed}_{tag}"


def foam_figures(profile, seed: int, section=None, changes=None, samples: int = 0) -> dict:
    """Train (or load from the cache in ``$PVAE_ARTIFACTS``) the foam pVAE with ``section`` and seed ``seed``.

    Returns the figures the foam chapter reports: R² of n, K11, K22, K33 on the test split, the
    voxel accuracy and porosity error of the test reconstructions binarised by expected porosity,
    the voxel accuracy on as many training sub-volumes, the all-pore guess's accuracy, and the
    model's cache-key digest, source (``"trained"`` or ``"shipped"``) and training record; and
    ``r2_<p>_symmetrized``: the R² of the predictions averaged over the eight lateral symmetries
    (:meth:`~pvae_lib.experiments.foam.FoamPVAE.symmetrized_r2`).
    ``samples`` > 0 trains on that many of the profile's labelled sub-volumes (drawn with ``seed``).
    """
    import numpy as np

    from pvae_lib.cache import key_digest
    from pvae_lib.data.properties import VOLUME_PROPERTIES
    from pvae_lib.experiments.foam import foam_model_key, get_trained_foam_pvae, load_foam_training_data
    from pvae_lib.models.evaluation import reconstruction_metrics
    from pvae_lib.profiles import foam_pvae_section

    t0 = time.perf_counter()
    section = foam_pvae_section(profile) if section is None else section
    data, y = load_foam_training_data(profile)  # the labels are the profile's (seed 2025 for quick)
    images = data.images
    if samples:
        if samples > len(images):
            raise SystemExit(f"--samples {samples}: choose 10 to {len(images)} (the profile's labelled sub-volumes)")
        keep = np.sort(np.random.default_rng(seed).permutation(len(images))[:samples])
        images, y = images[keep], y[keep]
    run = dataclasses.replace(profile, seed=seed)
    foam = get_trained_foam_pvae(images, y, run, section=section, print_every=20)
    x_test = images[foam.split["test"]]
    x_train = images[np.asarray(foam.split["train"])[:len(x_test)]]  # as many training samples: can it fit them?
    rec = reconstruction_metrics(foam.model, x_test, rule="expected_porosity")
    sym = foam.symmetrized_r2(images)  # as the chapter: averaged over the 8 lateral symmetries, no retraining
    return {"model": "foam", "seed": int(seed), "samples": int(len(images)), "settings": dict(changes or {}),
            **{f"r2_{p}": float(foam.r2[p]) for p in VOLUME_PROPERTIES},
            "recon_voxel_accuracy": rec["voxel_accuracy"], "recon_porosity_mae": rec["porosity_mae"],
            "recon_voxel_accuracy_train":
                reconstruction_metrics(foam.model, x_train, rule="expected_porosity")["voxel_accuracy"],
            "all_pore_accuracy": rec["all_pore_accuracy"],
            **{f"r2_{p}_symmetrized": sym[p] for p in VOLUME_PROPERTIES},
            "epochs": foam.epochs, "train_time_s": foam.train_time_s,
            "key": key_digest(foam_model_key(images, y, run, section)), "source": foam.source,
            "wall_s": round(time.perf_counter() - t0, 1)}


if __name__ == "__main__":
    sys.exit(main())
