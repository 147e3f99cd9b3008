"""Levers on the 2-D pVAE's reconstruction figures that need no training: binarisation rule, symmetrisation.

    python benchmarks/reconstruction_levers.py                      # the shipped (book) pVAE
    python benchmarks/reconstruction_levers.py --models FOLDER --seed 2026 --set epochs_vae=240 epochs_joint=200

Scores the binarised reconstructions of the test split (voxel accuracy, porosity MAE and R², as
:func:`pvae_lib.models.evaluation.score_reconstructions`) under each binarisation rule of
:mod:`pvae_lib.binarize`, twice: decoded once (what the chapter reports, and what an inverse
design gets: one latent vector, one decoding), and averaged over the eight symmetries of the
square (each turned or mirrored image encoded and decoded, the probabilities turned back and
averaged before binarising). The second is an ensemble of eight reconstructions; it says how
much of the decoder's error is noise that averaging removes, but it does not make one decoding
sharper, so it is no figure for the designs.

``--models FOLDER`` reads the models a run of ``benchmarks/seed_spread.py`` trained (its
``seed_<seed>`` folder, with the ``--set`` it was run with); without it, the shipped models.
Prints one JSON line per variant and writes nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np


def symmetric_probabilities(model, images, batch_size: int = 256) -> np.ndarray:
    """Decoded pore probabilities averaged over the eight symmetries of the square (turned back first)."""
    from pvae_lib.models.inputs import D4_SIZE, d4_transform

    def turn(batch, k):  # d4_transform acts on axes (0, 1): move the sample axis out of the way
        return np.ascontiguousarray(np.moveaxis(d4_transform(np.moveaxis(batch, 0, 2), k), 2, 0))

    x = np.asarray(images, np.float32)[..., None]
    total = np.zeros(x.shape, np.float64)
    for k in range(D4_SIZE):
        xk = turn(x, k)
        pk = np.concatenate([np.asarray(model.decode(model.encode_mean(xk[s:s + batch_size]))).reshape(
            xk[s:s + batch_size].shape) for s in range(0, len(xk), batch_size)])
        total += turn(pk, (4 - k) % 4 if k < 4 else k)  # the inverse: back-turn, or the reflection itself
    return (total / D4_SIZE)[..., 0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="quick or paper (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--models", default=None, metavar="FOLDER",
                        help="a seed folder of benchmarks/seed_spread.py (default: the shipped models)")
    parser.add_argument("--seed", type=int, default=None, help="the seed the models were trained with")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="the pvae settings the models were trained with (as given to seed_spread.py --set)")
    args = parser.parse_args(argv)
    if args.models is not None and not Path(args.models).is_dir():
        parser.error(f"--models {args.models}: no such folder")
    if args.models is None and (args.seed is not None or args.set):
        parser.error("--seed and --set name models trained elsewhere: give their --models folder")
    if args.models is not None:  # before pvae_lib reads them
        os.environ["PVAE_ARTIFACTS"], os.environ["PVAE_SHIPPED_MODELS"] = str(Path(args.models).resolve()), "0"
    from pvae_lib.profiles import get_profile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from training_levers import parse_settings

    profile = get_profile(args.profile)
    try:
        changes = parse_settings(profile.pvae, args.set)
    except ValueError as err:
        parser.error(str(err))
    profile = dataclasses.replace(profile, seed=profile.seed if args.seed is None else args.seed,
                                  pvae=dataclasses.replace(profile.pvae, **changes))
    from pvae_lib.binarize import RULES
    from pvae_lib.data.datasets import load_synthetic_dataset
    from pvae_lib.experiments import get_trained_pvae
    from pvae_lib.models.evaluation import score_reconstructions
    from pvae_lib.models.training import split_indices

    data = load_synthetic_dataset(profile, progress=False)
    if args.models is not None:  # measure what is there; never train in its place
        from pvae_lib.experiments.zoo import model_key, models_dir

        info = models_dir(profile) / "pvae_n_k11_info.json"
        stored = json.loads(info.read_text(encoding="utf-8")).get("key") if info.is_file() else None
        if stored != json.loads(json.dumps(model_key("pvae_n_k11", profile, data))):
            parser.error(f"--models {args.models} holds no (n, K11) pVAE for seed {profile.seed} with settings "
                         f"{changes or 'of the profile'}: give the --seed and --set it was trained with")
    model = get_trained_pvae(profile, properties=("n", "k11"))
    x = data.images[split_indices(len(data.images), profile.seed)[2]]
    once = np.asarray(model.decode(model.encode_mean(x.astype(np.float32)[..., None]))).reshape(x.shape)
    averaged = symmetric_probabilities(model, x)
    for decoding, prob in (("once", once), ("8 symmetries", averaged)):
        for rule in RULES:
            score = score_reconstructions(x, prob, rule=rule)
            print(json.dumps({"seed": profile.seed, "settings": changes, "decoding": decoding, "rule": rule,
                              **{k: round(v, 6) for k, v in score.items() if k != "rule"}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
