"""Staged training of the pVAE (paper Section 3.2, last paragraphs).

1. :func:`train_vae` -- the VAE alone (reconstruction + beta KL) at a small learning rate
   (paper: 1.2e-4).
2. :func:`train_regressor` -- the regressor pre-trained on the frozen latent means mu
   (encoder and decoder untouched; mu is computed once, so this stage is cheap).
3. :func:`train_joint` -- joint fine-tuning of encoder + regressor with the full loss (Eq. 10)
   while the decoder stays frozen (transfer learning; the paper's choice) or, with
   ``joint_train_decoder``, trained along (the quick profile's choice).

:func:`train_pvae` runs 2-3 (and 1 unless a trained VAE is passed). Every stage uses Adam,
ReduceLROnPlateau, EarlyStopping, a best-``val_loss`` checkpoint (``.keras``) that is restored
at the end, and a NaN stop that keeps the last good checkpoint. The data are split 80/10/10
with the seed; properties are min-max scaled with a scaler stored in the model
(``PVAE.property_scaler``). Input pipelines use ``tf.data`` with prefetch.
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from ..profiles import PVAESection, get_profile
from .callbacks import EpochPrinter, SafeCheckpoint, StopOnNaN, load_best_or_raise
from .checks import as_image_batch, as_targets
from .inputs import lateral_swap, make_dataset
from .metrics import r2_score
from .optim import make_optimizer
from .pvae import PVAE, build_pvae, build_regressor
from .scaling import MinMaxScaler
from .seeding import seeded, split_indices

__all__ = ["StageResult", "PVAEResult", "train_vae", "train_regressor", "train_joint", "train_pvae",
           "make_dataset", "split_indices"]


@dataclasses.dataclass
class StageResult:
    """One training stage: the trained (best) model, its history and timing."""

    model: keras.Model
    history: dict
    train_time_s: float
    samples_per_s: float
    epochs_run: int
    stopped_on_nan: bool


@dataclasses.dataclass
class PVAEResult:
    """Outcome of :func:`train_pvae`."""

    model: PVAE
    stages: dict  # "vae" (if trained here), "regressor", "joint" -> StageResult
    r2: dict  # test-set R² per property (physical units)
    y_test: np.ndarray
    y_pred: np.ndarray
    split: dict


def _callbacks(ckpt: Path, patience: int, verbose: int, print_every: int, prefix: str, extra, keys,
               schedule: str = "plateau"):
    stopper = StopOnNaN()
    cbs = [stopper, SafeCheckpoint(ckpt, monitor="val_loss", save_best_only=True)]
    if schedule == "plateau":
        cbs += [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(1, patience // 2),
                                                  min_lr=1e-6),
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience)]
    if verbose == 0 and print_every is not None:
        cbs.append(EpochPrinter(print_every, prefix=prefix, keys=keys))
    return stopper, cbs + list(extra or [])


def _steps(n: int, batch_size: int) -> int:
    return max(1, -(-int(n) // int(batch_size)))


def _workdir(out_dir):
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="pvae_train_")
        return tmp, Path(tmp.name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return None, out


def _check_images(images):
    x = as_image_batch(images)[..., 0]
    if x.shape[1] < 1 or min(x.shape[1:]) < 25:
        raise ValueError(f"images of shape {x.shape[1:]} are too small for the pVAE (>= 25 voxels per axis)")
    return x


def _mixed_precision(enabled: bool):
    import tensorflow as tf

    if enabled and tf.config.list_physical_devices("GPU"):
        keras.mixed_precision.set_global_policy("mixed_float16")
        return True
    return False


def _symmetric(x) -> bool:
    """Whether the D4 augmentation applies: square 2-D images, or volumes with equal lateral axes."""
    return (x.ndim == 3 and x.shape[1] == x.shape[2]) or (x.ndim == 4 and x.shape[2] == x.shape[3])


def train_vae(images, profile=None, section: PVAESection | None = None, seed: int | None = None, split=None,
              out_dir=None, verbose: int = 0, print_every: int = 0, callbacks=None, deterministic: bool = True,
              mixed_precision: bool = False, epochs: int | None = None) -> StageResult:
    """Stage 1: train the VAE (no regressor) on binary images (N, H, W[, D]).

    Loss: recon (BCE summed over voxels) + beta KL (Eq. 7-8). Returns the best model
    (lowest ``val_loss``) as a :class:`PVAE` with ``regressor=None``.
    """
    profile = profile or get_profile()
    section = section or profile.pvae
    seed = profile.seed if seed is None else int(seed)
    x = _check_images(images)
    i_tr, i_va, _ = split if split is not None else split_indices(len(x), seed)
    tmp, work = _workdir(out_dir)
    ckpt = work / ".vae_best.keras"
    ckpt.unlink(missing_ok=True)
    stopper, cbs = _callbacks(ckpt, section.patience, verbose, print_every, "VAE ", callbacks,
                              ("loss", "recon", "kl", "val_loss"), section.schedule)
    n_epochs = epochs or section.epochs_vae
    used_mp = False
    try:
        with seeded(seed, deterministic):
            used_mp = _mixed_precision(mixed_precision)
            model = build_pvae(x.shape[1:], section.latent_dim, section.base_filters, n_properties=0,
                               beta=section.beta, lam=section.lam, seed=seed, name="vae")
            model.compile(optimizer=make_optimizer(section.learning_rate, section.schedule, n_epochs,
                                                   _steps(len(i_tr), section.batch_size)))
            t0 = time.perf_counter()
            train_ds = make_dataset(x[i_tr], batch_size=section.batch_size, shuffle=True, seed=seed,
                                    augment=section.augment and _symmetric(x))
            hist = model.fit(train_ds, shuffle=False,
                             validation_data=make_dataset(x[i_va], batch_size=256),
                             epochs=n_epochs, callbacks=cbs, verbose=verbose)
            dt = time.perf_counter() - t0
        n_ep = len(hist.history.get("loss", []))
        best = load_best_or_raise(ckpt, stopper)
    finally:
        if used_mp:
            keras.mixed_precision.set_global_policy("float32")
        ckpt.unlink(missing_ok=True)
        if tmp is not None:
            tmp.cleanup()
    return StageResult(best, _hist(hist), dt, len(i_tr) * max(n_ep, 1) / dt, n_ep, stopper.stopped_on_nan)


def _hist(hist) -> dict:
    return {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def train_regressor(vae: PVAE, images, y_scaled, split, profile=None, section: PVAESection | None = None,
                    seed: int | None = None, out_dir=None, verbose: int = 0, print_every: int = 0,
                    callbacks=None, deterministic: bool = True, epochs: int | None = None) -> StageResult:
    """Stage 2: fit a new regressor mu -> scaled properties on the frozen encoder's means.

    The encoder and decoder are not changed (mu is computed once). Returns the best regressor.
    """
    profile = profile or get_profile()
    section = section or profile.pvae
    seed = profile.seed if seed is None else int(seed)
    i_tr, i_va = split[0], split[1]
    mu_tr, mu_va = vae.encode_mean(images[i_tr]), vae.encode_mean(images[i_va])
    tmp, work = _workdir(out_dir)
    ckpt = work / ".regressor_best.keras"
    ckpt.unlink(missing_ok=True)
    stopper, cbs = _callbacks(ckpt, section.patience, verbose, print_every, "regressor ", callbacks,
                              ("loss", "val_loss"), section.schedule)
    n_epochs = epochs or section.epochs_regressor
    try:
        with seeded(seed, deterministic):
            reg = build_regressor(vae.latent_dim, y_scaled.shape[1], section.regressor_units,
                                  section.regressor_output)
            reg.compile(optimizer=make_optimizer(section.learning_rate_regressor, section.schedule, n_epochs,
                                                 _steps(len(i_tr), section.batch_size)), loss="mse")
            t0 = time.perf_counter()
            hist = reg.fit(mu_tr, y_scaled[i_tr], validation_data=(mu_va, y_scaled[i_va]),
                           epochs=n_epochs, batch_size=section.batch_size, shuffle=True,
                           callbacks=cbs, verbose=verbose)
            dt = time.perf_counter() - t0
        n_ep = len(hist.history.get("loss", []))
        best = load_best_or_raise(ckpt, stopper)
    finally:
        ckpt.unlink(missing_ok=True)
        if tmp is not None:
            tmp.cleanup()
    return StageResult(best, _hist(hist), dt, len(i_tr) * max(n_ep, 1) / dt, n_ep, stopper.stopped_on_nan)


def train_joint(model: PVAE, images, y_scaled, split, profile=None, section: PVAESection | None = None,
                seed: int | None = None, out_dir=None, verbose: int = 0, print_every: int = 0, callbacks=None,
                deterministic: bool = True, epochs: int | None = None, swap=None) -> StageResult:
    """Stage 3: joint fine-tuning (Eq. 10) of encoder and regressor.

    The paper freezes the decoder here (``section.joint_train_decoder=False``, the ``paper``
    profile). The ``quick`` profile trains it too, so that the reconstruction term can follow
    the encoder while the property term reorganises the latent means; with a frozen decoder the
    reconstructions of the small quick-scale model lose what stage 1 gained.
    """
    profile = profile or get_profile()
    section = section or profile.pvae
    seed = profile.seed if seed is None else int(seed)
    i_tr, i_va = split[0], split[1]
    tmp, work = _workdir(out_dir)
    ckpt = work / ".pvae_best.keras"
    ckpt.unlink(missing_ok=True)
    stopper, cbs = _callbacks(ckpt, section.patience, verbose, print_every, "joint ", callbacks,
                              ("loss", "recon", "kl", "prop", "val_loss", "val_prop"), section.schedule)
    n_epochs = epochs or section.epochs_joint
    try:
        with seeded(seed, deterministic):
            model.decoder.trainable = section.joint_train_decoder
            model.compile(optimizer=make_optimizer(section.learning_rate_joint, section.schedule, n_epochs,
                                                   _steps(len(i_tr), section.batch_size)))
            t0 = time.perf_counter()
            train_ds = make_dataset(images[i_tr], y_scaled[i_tr], section.batch_size, shuffle=True, seed=seed,
                                    augment=section.augment and _symmetric(images), swap=swap)
            hist = model.fit(train_ds, shuffle=False,
                             validation_data=make_dataset(images[i_va], y_scaled[i_va], 256),
                             epochs=n_epochs, callbacks=cbs, verbose=verbose)
            dt = time.perf_counter() - t0
        n_ep = len(hist.history.get("loss", []))
        best = load_best_or_raise(ckpt, stopper)
        best.decoder.trainable = section.joint_train_decoder
    finally:
        ckpt.unlink(missing_ok=True)
        if tmp is not None:
            tmp.cleanup()
    return StageResult(best, _hist(hist), dt, len(i_tr) * max(n_ep, 1) / dt, n_ep, stopper.stopped_on_nan)


def train_pvae(images, properties, names=None, vae: PVAE | None = None, profile=None,
               section: PVAESection | None = None, seed: int | None = None, out_dir=None, verbose: int = 0,
               print_every: int = 0, callbacks=None, deterministic: bool = True, mixed_precision: bool = False,
               joint: bool = True) -> PVAEResult:
    """Staged pVAE training (stages 1-3 above); stage 1 is skipped when ``vae`` is given.

    Parameters
    ----------
    images : array_like (N, H, W) or (N, D, H, W)
        Binary images, 1 = pore.
    properties : array_like (N,) or (N, P)
        Target properties, e.g. columns ``(n, K11)`` with K in lattice units.
    names : sequence of str, optional
        Property names (default ``("n", "k11", ...)``), stored in ``property_scaler.names``.
    vae : PVAE, optional
        A trained stage-1 VAE to start from (transfer learning); its weights are copied, it is
        not modified.
    mixed_precision : bool
        Train stage 1 with float16 arithmetic when a GPU is present (ignored on CPU).
    joint : bool
        Run stage 3 (default); ``False`` stops after the regressor pre-training.

    Returns
    -------
    PVAEResult
        With the test-set R² per property in physical units.
    """
    profile = profile or get_profile()
    section = section or profile.pvae
    seed = profile.seed if seed is None else int(seed)
    x = _check_images(images)
    y = as_targets(properties, len(x), name="properties")
    names = tuple(names) if names is not None else ("n", "k11", "k22", "k33")[: y.shape[1]]
    if len(names) != y.shape[1]:
        raise ValueError(f"{len(names)} names for {y.shape[1]} property columns")
    if section.augment and x.ndim == 3 and set(names) - {"n", "k11"}:
        raise ValueError(f"section.augment flips/transposes the images, which changes {set(names) - {'n', 'k11'}}; "
                         "set augment=False for these properties")
    # volumes: the lateral symmetries swap K22 and K33 with the image (pvae_lib.data.symmetry)
    swap = lateral_swap(names) if section.augment and x.ndim == 4 else None
    split = split_indices(len(x), seed)
    i_tr, i_va, i_te = split
    stages = {}
    if vae is None:
        stages["vae"] = train_vae(x, profile, section, seed, split, out_dir, verbose, print_every, callbacks,
                                  deterministic, mixed_precision)
        vae = stages["vae"].model
    elif tuple(vae.image_shape[:-1]) != x.shape[1:]:
        raise ValueError(f"the VAE expects images of shape {vae.image_shape[:-1]}, got {x.shape[1:]}")
    y_fit = y[i_tr]
    if swap is not None:  # K22 and K33 share one range, so that swapping scaled columns is exact
        perm = list(range(y.shape[1]))
        perm[swap[0]], perm[swap[1]] = swap[1], swap[0]
        y_fit = np.concatenate([y_fit, y_fit[:, perm]])
    scaler = MinMaxScaler(names=names).fit(y_fit)
    ys = scaler.transform(y)
    stages["regressor"] = train_regressor(vae, x, ys, split, profile, section, seed, out_dir, verbose,
                                          print_every * 2 if print_every else print_every, callbacks, deterministic)
    model = build_pvae(x.shape[1:], vae.latent_dim, section.base_filters, n_properties=y.shape[1],
                       beta=section.beta, lam=section.lam, property_scaler=scaler, seed=seed, name="pvae",
                       regressor_units=section.regressor_units, regressor_output=section.regressor_output)
    if len(model.encoder.weights) != len(vae.encoder.weights):
        raise ValueError("the VAE's architecture does not match section.base_filters / latent_dim")
    model.encoder.set_weights(vae.encoder.get_weights())
    model.decoder.set_weights(vae.decoder.get_weights())
    model.regressor.set_weights(stages["regressor"].model.get_weights())
    if joint:
        stages["joint"] = train_joint(model, x, ys, split, profile, section, seed, out_dir, verbose, print_every,
                                      callbacks, deterministic, swap=swap)
        model = stages["joint"].model
        model.property_scaler = scaler
    y_pred = model.predict_properties(x[i_te])
    r2 = dict(zip(names, (float(v) for v in r2_score(y[i_te], y_pred))))
    return PVAEResult(model, stages, r2, y[i_te], y_pred, {"train": i_tr, "val": i_va, "test": i_te})
