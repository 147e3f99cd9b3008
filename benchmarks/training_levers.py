"""Learned figures of the CNN or the pVAE trained from scratch with changed settings (issue 9's levers).

    python benchmarks/training_levers.py pvae --seed 2027 --set epochs_joint=200
    python benchmarks/training_levers.py cnn --seed 2025 --set epochs=200 width=0.75
    python benchmarks/training_levers.py pvae --continue-joint 80 --set lam=3e5

Trains with the profile's section (``Profile.cnn`` or ``Profile.pvae``) changed by ``--set
field=value`` (any field of the section; values are parsed as the field's type), on the
profile's synthetic data drawn with ``--seed``, never from the shipped models, in a build
folder of its own (``<build>/levers/<model>_<seed>_<settings>``, so runs resume and never touch
the book's cache). Prints one JSON line ``RESULT {...}``: the settings and the figures the
chapters report (test-set R² of n and K11; for the pVAE also the binarised reconstruction's
voxel accuracy and porosity error).

``--continue-joint N`` is the cheap probe: it takes the book's pVAE (shipped or cached, as the
chapter does) and runs N more epochs of stage 3 (joint training) with the changed settings,
instead of training all three stages again. It tells whether a longer or differently weighted
joint stage helps; the from-scratch run is what a new profile must be measured with.

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


def _parse_settings(section, items):
    changes = {}
    fields = {f.name for f in dataclasses.fields(section)}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"--set wants field=value, got {item!r}")
        key, value = item.split("=", 1)
        if key not in fields:
            raise SystemExit(f"--set {key}: no such field of {type(section).__name__} (fields: {sorted(fields)})")
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
    parser.add_argument("model", choices=("cnn", "pvae"))
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--seed", type=int, default=None, help="data and training seed (default: the profile's)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="changes of the profile's cnn or pvae section")
    parser.add_argument("--continue-joint", type=int, default=0, metavar="N",
                        help="pVAE only: N more joint epochs on the book's pVAE instead of training from scratch")
    args = parser.parse_args(argv)
    if args.continue_joint and args.model != "pvae":
        parser.error("--continue-joint is for the pvae")
    from pvae_lib.profiles import get_profile
    from pvae_lib.results import build_dir

    profile = get_profile(args.profile)
    seed = profile.seed if args.seed is None else int(args.seed)
    if args.continue_joint and seed != profile.seed:  # there is no book pVAE for another seed to continue
        parser.error(f"--continue-joint continues the book's pVAE (seed {profile.seed}); drop --seed {seed}")
    section = profile.cnn if args.model == "cnn" else profile.pvae
    changes = _parse_settings(section, args.set)
    tag = "_".join(f"{k}={v}" for k, v in changes.items()) or "profile"
    if args.continue_joint:
        tag = f"continue{args.continue_joint}_{tag}"
    work = build_dir() / "levers" / f"{args.model}_{seed}_{tag}"
    if not args.continue_joint:  # train from scratch, in a cache of its own
        os.environ["PVAE_SHIPPED_MODELS"] = "0"
        os.environ["PVAE_ARTIFACTS"] = str(work)
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.experiments import get_trained_cnn, get_trained_pvae
    from pvae_lib.models.evaluation import reconstruction_metrics
    from pvae_lib.models.metrics import r2_score
    from pvae_lib.models.training import split_indices, train_joint

    changed = dataclasses.replace(section, **changes)
    run = dataclasses.replace(profile, seed=seed, **{args.model: changed}) if not args.continue_joint else \
        dataclasses.replace(profile, seed=seed)
    t0 = time.perf_counter()
    data = load_synthetic_dataset(run, progress=False)
    result = {"model": args.model, "seed": seed, "settings": changes, "continue_joint": args.continue_joint}
    if args.model == "cnn":
        _, _, info = get_trained_cnn(run, print_every=20)
        result.update(r2_n=info["r2"]["n"], r2_k11=info["r2"]["k11"], train_time_s=info["train_time_s"])
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
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
