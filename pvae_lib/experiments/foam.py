"""The 3-D pVAE of the foam study (paper Section 5.2), trained once and cached (or shipped).

:func:`~pvae_lib.profiles.foam_pvae_section` gives its :class:`~pvae_lib.profiles.PVAESection`
(``quick``: :data:`~pvae_lib.profiles.QUICK_FOAM_PVAE`, with the lateral-symmetry augmentation of
:mod:`pvae_lib.data.symmetry`). :func:`get_trained_foam_pvae` trains it with
:func:`~pvae_lib.models.training.train_pvae` (80/10/10 split with the profile seed) and saves model +
test predictions in ``artifacts_dir(profile.name, "models")`` under a key of every training setting
and a fingerprint of the data (:func:`foam_model_key`), so a second call only loads; the quick
profile's model ships with the package (:mod:`pvae_lib.experiments.shipped`) and is restored from
there when its key matches. ``python -m pvae_lib.experiments.foam`` trains it from the shell.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from ..cache import canonical, data_fingerprint, key_digest
from ..data.properties import VOLUME_PROPERTIES
from ..fileio import atomic_path, file_lock, write_json_atomic
from ..profiles import foam_pvae_section, get_profile
from ..results import artifacts_dir
from .zoo import _read_info, save_model_atomic

if TYPE_CHECKING:  # TensorFlow is loaded only when a model is trained or loaded
    from ..models.pvae import PVAE

__all__ = ["FoamPVAE", "foam_model_key", "foam_cache_paths", "get_trained_foam_pvae",
           "load_foam_training_data"]

@dataclasses.dataclass
class FoamPVAE:
    """A trained foam pVAE with its test-split predictions (physical units: n, K in l.u.).

    ``model`` is a :class:`~pvae_lib.models.pvae.PVAE` (trained or loaded): encode and decode with
    its ``encode_mean`` / ``decode``.
    """

    model: PVAE
    r2: dict
    split: dict
    y_test: np.ndarray
    y_pred: np.ndarray
    train_time_s: float
    epochs: dict
    best_epochs: dict  # epoch (1-based) of the lowest val_loss per stage: the restored checkpoint
    loaded: bool
    source: str = "trained"  # "trained" (here, from scratch) or "shipped" (pvae_lib.experiments.shipped)
    provenance: dict = dataclasses.field(default_factory=dict)  # of a shipped model: command, machine, date

    def symmetrized_r2(self, images, batch_size: int = 64) -> dict:
        """Test R² of the regressor averaged over the eight lateral symmetries (no retraining).

        Each test sub-volume is turned by the eight symmetries that leave the compression axis
        x1 alone (:mod:`pvae_lib.data.symmetry`), encoded and regressed; the predictions of
        the odd quarter turns have K22 and K33 exchanged back and the eight are averaged
        (:func:`pvae_lib.models.inputs.symmetric_properties`). The average is exactly
        equivariant, as the labels are; a design decodes and regresses one latent vector and
        does not get it.

        Parameters
        ----------
        images : (N, D, H, W) the sub-volumes this model was trained on (``self.split`` indexes them)
        batch_size : sub-volumes per encoder call (the last bits of a prediction depend on it)

        Returns
        -------
        dict
            ``{name: R²}`` for n, K11, K22, K33 (dimensionless), on ``self.split["test"]``
            against ``self.y_test``.
        """
        from ..models.inputs import lateral_swap, symmetric_properties
        from ..models.metrics import r2_score

        x = np.asarray(images)[np.asarray(self.split["test"])]
        pred = symmetric_properties(self.model.predict_properties, x, batch_size=batch_size,
                                    swap=lateral_swap(VOLUME_PROPERTIES))
        return {p: float(v) for p, v in zip(VOLUME_PROPERTIES, r2_score(self.y_test, pred))}


def load_foam_training_data(profile=None, progress: bool = False):
    """The foam dataset of the profile and its ``(N, 4)`` targets ``(n, K11, K22, K33)``: what the foam pVAE trains on."""
    from ..data.foam_dataset import load_foam_dataset

    data = load_foam_dataset(profile or get_profile(), progress=progress, build=True)
    return data, data.values(VOLUME_PROPERTIES)


def foam_model_key(images, properties, profile=None, section=None, names=VOLUME_PROPERTIES) -> dict:
    """Cache key of the foam pVAE: every training setting, the seed, the names and the data's fingerprint."""
    profile = profile or get_profile()
    section = section or foam_pvae_section(profile)
    return canonical({"section": dataclasses.asdict(section), "seed": profile.seed, "names": list(names),
                      "data": data_fingerprint(images, properties)})


def foam_cache_paths(key: dict, profile=None) -> dict:
    """Cache files of the foam pVAE with ``key``: ``{"keras", "test", "info"}`` -> path (named by the key's digest)."""
    profile = profile or get_profile()
    folder = artifacts_dir(profile.name, "models")
    digest = key_digest(key, 12)
    return {kind: folder / f"foam_pvae_{digest}{ext}" for kind, ext in
            (("keras", ".keras"), ("test", ".npz"), ("info", ".json"))}


def _restore_shipped_foam(profile, key, paths) -> bool:
    """Copy the shipped foam pVAE into the cache files ``paths`` if it was trained under ``key``."""
    from .shipped import MODEL_FILES, restore_shipped

    targets = dict(zip(MODEL_FILES["foam_pvae"], (paths["keras"], paths["test"], paths["info"])))
    return restore_shipped(profile.name, "foam_pvae", key, paths["keras"].parent, targets)


def get_trained_foam_pvae(images, properties, profile=None, section=None, names=VOLUME_PROPERTIES,
                          print_every: int = 10, retrain: bool = False) -> FoamPVAE:
    """Load the foam pVAE for these data and settings (cache, then the shipped model), or train and cache it.

    The quick profile's foam pVAE ships with the package (:mod:`pvae_lib.experiments.shipped`:
    ``python -m pvae_lib.experiments.shipped --profile quick`` trains it); it is used only when its
    key (:func:`foam_model_key`) equals the one computed here, and ``PVAE_SHIPPED_MODELS=0``
    trains from scratch instead (a cached copy of the shipped model is then ignored too).

    Parameters
    ----------
    images : ndarray (N, s, s, s)
        Foam sub-volumes, ``True`` = pore.
    properties : ndarray (N, P)
        ``(n, K11, K22, K33)`` with K in lattice units.
    section : PVAESection, optional
        Default :func:`foam_pvae_section`.
    """
    import keras

    from ..models.pvae import PVAE  # noqa: F401 - registers the class for loading
    from ..models.training import train_pvae
    from .shipped import shipped_enabled

    profile = profile or get_profile()
    section = section or foam_pvae_section(profile)
    key = foam_model_key(images, properties, profile, section, names)
    paths = foam_cache_paths(key, profile)
    path, info_path, npz_path = paths["keras"], paths["info"], paths["test"]
    with file_lock(path.parent / ".foam_pvae.lock"):
        info = _read_info(info_path) if not retrain else None
        if info is not None and info.get("source") == "shipped" and not shipped_enabled():
            info = None  # the switch asks for a model trained here
        if info is None and not retrain and _restore_shipped_foam(profile, key, paths):
            info = _read_info(info_path)
        if info is not None and path.is_file() and npz_path.is_file():
            arrays = np.load(npz_path)
            split = {k: arrays[f"split_{k}"] for k in ("train", "val", "test")}
            model = keras.saving.load_model(path, safe_mode=True)
            return FoamPVAE(model, info["r2"], split, arrays["y_test"], arrays["y_pred"], info["train_time_s"],
                            info["epochs"], info["best_epochs"], loaded=True, source=info.get("source", "trained"),
                            provenance=info.get("provenance", {}))
        res = train_pvae(images, properties, names=names, profile=profile, section=section, seed=profile.seed,
                         print_every=print_every)
        train_time = float(sum(s.train_time_s for s in res.stages.values()))
        epochs = {k: int(s.epochs_run) for k, s in res.stages.items()}
        best = {k: int(np.nanargmin(s.history["val_loss"])) + 1 for k, s in res.stages.items()
                if s.history.get("val_loss")}
        save_model_atomic(res.model, path)
        with atomic_path(npz_path, suffix=".npz") as tmp:
            np.savez(tmp, y_test=res.y_test, y_pred=res.y_pred,
                     **{f"split_{k}": np.asarray(v) for k, v in res.split.items()})
        from ..runtime import runtime_summary

        write_json_atomic(info_path, {"key": key, "r2": res.r2, "train_time_s": train_time, "epochs": epochs,
                                      "best_epochs": best, "runtime": runtime_summary()})
        return FoamPVAE(res.model, res.r2, res.split, res.y_test, res.y_pred, train_time, epochs, best, loaded=False,
                        source="trained", provenance={})


#: the command that trains (or loads) the foam pVAE of a profile into the build's cache, with oneDNN on
FOAM_COMMAND = "PVAE_ONEDNN=1 python -m pvae_lib.experiments.foam --profile {profile}"


def train_foam_in_subprocess(profile_name: str, retrain: bool = False, progress: bool = True) -> None:
    """Run :data:`FOAM_COMMAND` in a fresh process (oneDNN on, as in the foam chapter).

    oneDNN is chosen when TensorFlow starts; the synthetic models of the same shipping run train
    with it off, so the foam pVAE trains in its own process. Raises ``RuntimeError`` if it fails.
    """
    import os
    import subprocess
    import sys

    env = {**os.environ, "PVAE_ONEDNN": "1"}
    for name in ("TF_ENABLE_ONEDNN_OPTS",):  # written by this process's pvae_lib import: let the child choose
        env.pop(name, None)
    cmd = [sys.executable, "-m", "pvae_lib.experiments.foam", "--profile", profile_name]
    cmd += ["--retrain"] * bool(retrain) + ["--quiet"] * (not progress)
    if subprocess.run(cmd, env=env).returncode != 0:
        raise RuntimeError(f"training the foam pVAE failed: {' '.join(cmd)}")


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pvae_lib.experiments.foam",
                                     description="Train (or load from the build's cache) the foam pVAE of a profile "
                                                 "on its labelled foam sub-volumes. Run it with PVAE_ONEDNN=1, as the "
                                                 "foam chapter does.")
    parser.add_argument("--profile", default=None, help="profile name (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--retrain", action="store_true", help="train even if the cache holds the model")
    parser.add_argument("--quiet", action="store_true", help="no training progress")
    args = parser.parse_args(argv)
    from .shipped import profile_or_none

    profile = profile_or_none(args.profile)
    if profile is None:
        return 2
    data, targets = load_foam_training_data(profile, progress=not args.quiet)
    res = get_trained_foam_pvae(data.images, targets, profile, print_every=0 if args.quiet else 5,
                                retrain=args.retrain)
    r2 = ", ".join(f"{k} {v:.4f}" for k, v in res.r2.items())
    print(f"foam pVAE ({'loaded' if res.loaded else 'trained'}, {res.train_time_s:.0f} s of training): test R² {r2}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
