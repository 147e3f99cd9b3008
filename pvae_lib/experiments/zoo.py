"""Trained-model cache shared by the chapters.

:func:`get_trained_cnn` and :func:`get_trained_pvae` load the profile's models from
``artifacts_dir(profile.name, "models")`` when present and consistent with the profile's sizes,
else restore the shipped model with the same key (:mod:`pvae_lib.experiments.shipped`; ``quick``
profile), else train them on :func:`pvae_lib.data.datasets.load_synthetic_dataset` and save them
atomically (native ``.keras`` files, ``safe_mode=True`` on load). The stage-1 VAE is trained
once and re-used (transfer learning) by every pVAE, so the latent-space chapter's three
models (VAE, pVAE on ``n``, pVAE on ``n, K11``) cost one VAE training plus two short
regressor/joint stages.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from ..cache import canonical, data_fingerprint, is_current
from ..fileio import atomic_path, file_lock, write_json_atomic
from ..profiles import Profile, get_profile
from ..results import artifacts_dir
from ..runtime import runtime_summary

__all__ = ["get_trained_cnn", "get_trained_pvae", "training_info", "training_record",
           "models_dir", "model_key", "save_model_atomic"]

_FORMAT = 2  # 2: exact D4 augmentation per sample, schedules, fixed runtime


def _profile(profile) -> Profile:
    if profile is None or isinstance(profile, str):
        return get_profile(profile)
    return profile


def models_dir(profile=None) -> Path:
    """Folder of the cached models of ``profile``."""
    return artifacts_dir(_profile(profile).name, "models")




def _fingerprint(ds) -> str:
    return data_fingerprint(ds.images, ds.k11)


#: PVAESection fields that change the stage-1 VAE (the others only affect stages 2-3).
_VAE_FIELDS = ("latent_dim", "base_filters", "epochs_vae", "batch_size", "learning_rate", "beta", "patience",
               "augment", "schedule")


#: fields added to a profile section after models were trained and shipped, with the value that
#: reproduces the earlier behaviour: a key holds such a field only when it differs from that value,
#: so the keys (and the shipped models) of unchanged settings stay valid
_LATER_FIELDS = {"regressor_output": "relu"}


def _key(section, ds, extra: dict, fields=None) -> dict:
    config = canonical(dataclasses.asdict(section))
    config = {k: v for k, v in config.items() if not (k in _LATER_FIELDS and v == _LATER_FIELDS[k])}
    if fields is not None:
        config = {k: v for k, v in config.items() if k in fields}
    return {"format": _FORMAT, "section": config, "data_shape": list(ds.images.shape), "data": _fingerprint(ds),
            **extra}


def model_key(name: str, profile=None, ds=None) -> dict:
    """The cache key of model ``name`` (``"cnn"``, ``"vae"``, ``"pvae_n"``, ``"pvae_n_k11"``, ...).

    A cached or shipped model is used only when its stored key equals this one: the zoo's
    format number, the profile section that trains it, the seed, the shape and the fingerprint
    of the training data ``ds`` (default: the profile's synthetic dataset).
    """
    profile = _profile(profile)
    ds = ds if ds is not None else _dataset(profile)
    if name == "cnn":
        return _key(profile.cnn, ds, {"kind": "cnn", "seed": profile.seed})
    vae_key = _key(profile.pvae, ds, {"kind": "vae", "seed": profile.seed}, _VAE_FIELDS)
    if name == "vae":
        return vae_key
    if not name.startswith("pvae_"):
        raise ValueError(f"unknown model {name!r}: 'cnn', 'vae' or 'pvae_<properties>'")
    return {**_key(profile.pvae, ds, {"kind": name, "seed": profile.seed}), "vae": vae_key}


def _read_info(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def training_info(name: str, profile=None) -> dict:
    """Stored training record of a cached model: ``"cnn"``, ``"vae"``, ``"pvae_n"``, ``"pvae_n_k11"``.

    Holds histories, test R², timings and throughput (samples/s) of the run that made it.
    """
    info = _read_info(models_dir(profile) / f"{name}_info.json")
    if info is None:
        raise FileNotFoundError(f"no cached model {name!r} for this profile; call get_trained_cnn/get_trained_pvae")
    return info


def training_record(name: str, profile=None) -> dict:
    """What a cached model was trained on, as flat numbers/strings for ``record_results``.

    ``name`` as in :func:`training_info`. Keys: ``n_train`` (training samples before
    augmentation), ``epochs`` (epochs run; per stage for a pVAE: ``epochs_vae``,
    ``epochs_regressor``, ``epochs_joint``), ``augment`` (exact symmetry augmentation on),
    ``schedule``, ``threads``/``onednn`` (the runtime that trained it, see
    :mod:`pvae_lib.runtime`) and ``source``: ``"trained"`` (here, from scratch) or ``"shipped"``
    (trained by :data:`pvae_lib.experiments.shipped.COMMAND` and restored from the package).
    """
    profile = _profile(profile)
    info = training_info(name, profile)
    section = profile.cnn if name == "cnn" else profile.pvae
    runtime = info.get("runtime", {})
    out = {"n_train": int(info.get("n_train", 0)), "augment": bool(section.augment), "schedule": section.schedule,
           "threads": str(runtime.get("intra_op_threads", "unknown")), "onednn": str(runtime.get("onednn", "unknown")),
           "source": str(info.get("source", "trained"))}
    if name == "cnn":
        out["epochs"] = int(info["epochs_run"])
    elif name == "vae":
        out["epochs_vae"] = int(info["epochs_run"])
    else:
        vae = training_info("vae", profile)
        out["n_train"] = int(vae.get("n_train", 0))
        out["epochs_vae"] = int(vae["epochs_run"])
        for stage, rec in info["stages"].items():
            out[f"epochs_{stage}"] = int(rec["epochs_run"])
    return out


def _cached_info(profile: Profile, name: str, key: dict, folder: Path, paths) -> dict | None:
    """The cache's training record of model ``name`` if it matches ``key`` (restoring a shipped one), else None.

    Looks in the build's cache first; when that holds no model with this key, a shipped model
    with the same key (:func:`pvae_lib.experiments.shipped.restore_shipped`) is copied into it. With
    ``PVAE_SHIPPED_MODELS=0`` only models trained here count (a restored one is trained over).
    """
    from .shipped import restore_shipped, shipped_enabled

    def current():
        info = _read_info(folder / f"{name}_info.json")
        ok = info is not None and is_current(info.get("key"), key) and all(Path(p).is_file() for p in paths)
        # switched off (PVAE_SHIPPED_MODELS=0): a model restored from the package earlier is not used either
        ok = ok and (shipped_enabled() or info.get("source") != "shipped")
        return info if ok else None

    info = current()
    if info is None and restore_shipped(profile.name, name, key, folder):
        info = current()
    return info


def save_model_atomic(model, path: Path) -> None:
    """Save ``model`` in the native ``.keras`` format without ever leaving a half-written file."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def _dataset(profile):
    from ..data.datasets import load_synthetic_dataset

    return load_synthetic_dataset(profile, progress=False)


def get_trained_cnn(profile=None, verbose: int = 0, print_every: int = 0):
    """The profile's CNN surrogate for ``(n, K11)`` of the synthetic data (paper Section 4.2).

    Returns
    -------
    model : keras.Model
        Maps images (N, H, W, 1) to min-max scaled ``(n, K11)``.
    scaler : MinMaxScaler
        ``scaler.inverse_transform(model.predict(x))`` gives ``n`` and K11 in l.u.;
        :func:`pvae_lib.models.cnn.predict_cnn` does both steps.
    info : dict
        ``r2`` (test set), ``history``, ``train_time_s``, ``samples_per_s``, ``y_test``,
        ``y_pred`` (arrays), ``cached`` (True if loaded).
    """
    import keras

    from ..models.cnn import train_cnn
    from ..models.scaling import MinMaxScaler

    profile = _profile(profile)
    folder = models_dir(profile)
    with file_lock(folder / ".cnn.lock"):
        ds = _dataset(profile)
        key = model_key("cnn", profile, ds)
        paths = [folder / "cnn.keras", folder / "cnn_scaler.json", folder / "cnn_test.npz"]
        info = _cached_info(profile, "cnn", key, folder, paths)
        if info is not None:
            model = keras.saving.load_model(paths[0], safe_mode=True)
            scaler = MinMaxScaler.from_json(paths[1])
            test = np.load(paths[2])
            return model, scaler, {**info, "y_test": test["y_test"], "y_pred": test["y_pred"], "cached": True}
        res = train_cnn(ds.images, np.c_[ds.porosity, ds.k11], profile, seed=profile.seed, out_dir=folder,
                        names=("n", "k11"), verbose=verbose, print_every=print_every)
        with atomic_path(paths[2], suffix=".npz") as tmp:
            np.savez(tmp, y_test=res.y_test, y_pred=res.y_pred)
        info = {"key": key, "r2": res.r2, "history": res.history, "train_time_s": res.train_time_s,
                "samples_per_s": res.samples_per_s, "epochs_run": res.epochs_run, "n_train": len(res.split["train"]),
                "n_test": len(res.split["test"]), "stopped_on_nan": res.stopped_on_nan, "runtime": runtime_summary()}
        write_json_atomic(folder / "cnn_info.json", info)
        return res.model, res.scaler, {**info, "y_test": res.y_test, "y_pred": res.y_pred, "cached": False}


def _stage_info(stage) -> dict:
    return {"history": stage.history, "train_time_s": stage.train_time_s, "samples_per_s": stage.samples_per_s,
            "epochs_run": stage.epochs_run, "stopped_on_nan": stage.stopped_on_nan}


def get_trained_pvae(profile=None, properties=("n", "k11"), kind: str = "pvae", verbose: int = 0,
                     print_every: int = 0):
    """The profile's trained (p)VAE on the synthetic data (paper Section 4.3).

    Parameters
    ----------
    profile : Profile or str, optional
    properties : sequence of str
        Regressor targets, any of ``"n"`` (porosity) and ``"k11"`` (l.u.); ignored for ``kind="vae"``.
    kind : {"pvae", "vae"}
        ``"vae"``: the stage-1 VAE (``regressor=None``); ``"pvae"``: the stage-1 VAE + regressor
        pre-training + joint fine-tuning, starting from the cached VAE weights.

    Returns
    -------
    PVAE
        With ``.encoder``, ``.decoder``, ``.regressor``, ``.property_scaler``; training records
        via :func:`training_info` (name ``"vae"`` or ``"pvae_" + "_".join(properties)``).
    """
    import keras

    from ..data.properties import PATTERN_PROPERTIES
    from ..models.pvae import PVAE  # noqa: F401 - registers the class for loading
    from ..models.training import split_indices, train_pvae, train_vae

    profile = _profile(profile)
    if kind not in ("pvae", "vae"):
        raise ValueError(f"kind must be 'pvae' or 'vae', got {kind!r}")
    properties = tuple(str(p).lower() for p in properties)
    known = PATTERN_PROPERTIES  # the synthetic data's properties (pvae_lib.data.properties)
    if kind == "pvae" and (not properties or any(p not in known for p in properties)):
        raise ValueError(f"properties must be a non-empty subset of {known}, got {properties}")
    folder = models_dir(profile)
    with file_lock(folder / ".pvae.lock"):
        ds = _dataset(profile)
        vae_key = model_key("vae", profile, ds)
        vae_path, vae_info_path = folder / "vae.keras", folder / "vae_info.json"
        if _cached_info(profile, "vae", vae_key, folder, [vae_path]) is not None:
            vae = keras.saving.load_model(vae_path, safe_mode=True)
        else:
            split = split_indices(len(ds.images), profile.seed)
            stage = train_vae(ds.images, profile, seed=profile.seed, split=split, verbose=verbose,
                              print_every=print_every)
            vae = stage.model
            save_model_atomic(vae, vae_path)
            write_json_atomic(vae_info_path, {"key": vae_key, **_stage_info(stage), "n_train": len(split[0]),
                                              "runtime": runtime_summary()})
        if kind == "vae":
            return vae
        name = "pvae_" + "_".join(properties)
        key = model_key(name, profile, ds)
        path, info_path = folder / f"{name}.keras", folder / f"{name}_info.json"
        if _cached_info(profile, name, key, folder, [path, folder / f"{name}_test.npz"]) is not None:
            return keras.saving.load_model(path, safe_mode=True)
        y = ds.values(properties)
        res = train_pvae(ds.images, y, names=properties, vae=vae, profile=profile, seed=profile.seed,
                         verbose=verbose, print_every=print_every)
        save_model_atomic(res.model, path)
        with atomic_path(folder / f"{name}_test.npz", suffix=".npz") as tmp:
            np.savez(tmp, y_test=res.y_test, y_pred=res.y_pred, test_index=res.split["test"])
        write_json_atomic(info_path, {"key": key, "r2": res.r2, "n_train": len(res.split["train"]),
                                      "stages": {k: _stage_info(v) for k, v in res.stages.items()},
                                      "runtime": runtime_summary()})
        return res.model
