"""The 3-D pVAE of the foam study (paper Section 5.2), trained once and cached.

The foam dataset is tiny (135 labelled sub-volumes in the quick profile), so the pVAE is
shrunk for it: :func:`foam_pvae_section` derives a :class:`~pvae_lib.profiles.PVAESection`
from the profile's (smaller latent space and filters in the ``quick`` profile, no augmentation
because flips and transposes swap K11, K22 and K33). :func:`get_trained_foam_pvae` trains it with
:func:`~pvae_lib.models.training.train_pvae` (80/10/10 split with the profile seed) and saves
model + test predictions in ``artifacts_dir(profile.name, "models")`` under a key of every
training setting and a fingerprint of the data, so a second call only loads.
"""
from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import numpy as np

from ..cache import data_fingerprint, key_digest
from ..fileio import atomic_path, file_lock, write_json_atomic
from ..profiles import get_profile
from ..results import artifacts_dir
from .zoo import save_model_atomic

if TYPE_CHECKING:  # TensorFlow is loaded only when a model is trained or loaded
    from .pvae import PVAE

__all__ = ["FoamPVAE", "foam_pvae_section", "get_trained_foam_pvae"]

FOAM_PROPERTIES = ("n", "k11", "k22", "k33")


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


def foam_pvae_section(profile=None):
    """pVAE sizes for the foam data: ``profile.pvae`` with the profile's ``foam_pvae`` changes.

    ``quick`` (:data:`~pvae_lib.profiles.QUICK_FOAM_PVAE`): latent 32, base filters 8, batch 4
    (108 training samples give 27 steps per epoch), beta 0.01 and lam 1e4 (the small set cannot
    afford a strong prior), no augmentation, the paper's 16-16-4 regressor.
    ``paper``: the profile's section with latent 128 (paper Section 5.2) and augmentation off.
    A smoke profile (:func:`~pvae_lib.profiles.smoke_profile`) caps the epochs again afterwards.
    """
    from ..profiles import cap_counts

    profile = profile or get_profile()
    sec = dataclasses.replace(profile.pvae, **dict(profile.foam_pvae))
    return cap_counts(sec, "pvae") if profile.smoke else sec


def get_trained_foam_pvae(images, properties, profile=None, section=None, names=FOAM_PROPERTIES,
                          print_every: int = 10, retrain: bool = False) -> FoamPVAE:
    """Load the cached foam pVAE for these data and settings, or train and cache it.

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

    from .pvae import PVAE  # noqa: F401 - registers the class for loading
    from .training import train_pvae

    profile = profile or get_profile()
    section = section or foam_pvae_section(profile)
    if section.augment:
        raise ValueError("augmentation flips/transposes the foams and swaps K11, K22, K33; set augment=False")
    key = {"section": dataclasses.asdict(section), "seed": profile.seed, "names": list(names),
           "data": data_fingerprint(images, properties)}
    digest = key_digest(key, 12)
    folder = artifacts_dir(profile.name, "models")
    path, info_path, npz_path = (folder / f"foam_pvae_{digest}{ext}" for ext in (".keras", ".json", ".npz"))
    with file_lock(folder / ".foam_pvae.lock"):
        if not retrain and path.is_file() and info_path.is_file() and npz_path.is_file():
            info = json.loads(info_path.read_text(encoding="utf-8"))
            arrays = np.load(npz_path)
            split = {k: arrays[f"split_{k}"] for k in ("train", "val", "test")}
            model = keras.saving.load_model(path, safe_mode=True)
            return FoamPVAE(model, info["r2"], split, arrays["y_test"], arrays["y_pred"], info["train_time_s"],
                            info["epochs"], info["best_epochs"], loaded=True)
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
        write_json_atomic(info_path, {"key": key, "r2": res.r2, "train_time_s": train_time, "epochs": epochs,
                                      "best_epochs": best})
        return FoamPVAE(res.model, res.r2, res.split, res.y_test, res.y_pred, train_time, epochs, best, loaded=False)
