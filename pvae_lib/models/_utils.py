"""Shared helpers of the model training functions (splits, seeding, NaN stop, input checks)."""
from __future__ import annotations

import contextlib
import math
import time

import keras
import numpy as np

__all__ = ["split_indices", "seeded", "StopOnNaN", "SafeCheckpoint", "EpochPrinter", "as_image_batch", "as_targets",
           "load_best_or_raise", "make_optimizer"]


def split_indices(n: int, seed: int, fractions=(0.8, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled train/validation/test index arrays (paper: 80/10/10)."""
    if n < 3:
        raise ValueError(f"need at least 3 samples for a train/validation/test split, got {n}")
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(fractions[1] * n)))
    n_test = max(1, int(round(fractions[2] * n)))
    n_train = n - n_val - n_test
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]


@contextlib.contextmanager
def seeded(seed: int | None, deterministic: bool = True):
    """Seed Python/NumPy/TensorFlow (``keras.utils.set_random_seed``) for a training run.

    With ``deterministic`` TensorFlow op determinism is switched on for the run and switched
    back off afterwards (it is process-global state).
    """
    import tensorflow as tf

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    was_on = False
    try:
        from tensorflow.python.framework import config as _tfc  # private, used only to restore state
        was_on = bool(_tfc.is_op_determinism_enabled())
    except Exception:  # noqa: BLE001
        _tfc = None
    if deterministic and not was_on:
        tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if deterministic and not was_on and _tfc is not None and hasattr(_tfc, "disable_op_determinism"):
            _tfc.disable_op_determinism()


class StopOnNaN(keras.callbacks.Callback):
    """Stop training when a batch or epoch loss is NaN/Inf (like ``TerminateOnNaN``).

    Sets ``self.stopped_on_nan``; the training functions then restore the last good
    (best) checkpoint written by ``ModelCheckpoint`` before the NaN appeared.
    """

    def __init__(self):
        super().__init__()
        self.stopped_on_nan = False
        self.epoch = None

    def _check(self, logs, epoch=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_on_nan = True
            self.epoch = epoch
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, epoch)
        val = (logs or {}).get("val_loss")
        if val is not None and not math.isfinite(float(val)):
            self.stopped_on_nan = True
            self.epoch = epoch
            self.model.stop_training = True


class SafeCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint`` (best ``monitor``) that never writes a model whose losses are NaN/Inf."""

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        values = [logs.get(self.monitor), logs.get("loss")]
        if any(v is not None and not math.isfinite(float(v)) for v in values):
            return
        super().on_epoch_end(epoch, logs)


class EpochPrinter(keras.callbacks.Callback):
    """One short line every ``every`` epochs, or (``every=0``) a single summary line at the end.

    The summary names the epochs run, the wall time and the best ``val_loss`` with its epoch,
    so a chapter that trains shows one line per stage instead of an epoch log.
    """

    def __init__(self, every: int = 0, prefix: str = "", keys=("loss", "val_loss")):
        super().__init__()
        self.every, self.prefix, self.keys = max(0, int(every)), prefix, keys
        self._t0 = None
        self._best = (math.inf, None)
        self._epochs = 0

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()
        self._best = (math.inf, None)
        self._epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self._epochs = epoch + 1
        val = logs.get("val_loss")
        if val is not None and math.isfinite(float(val)) and float(val) < self._best[0]:
            self._best = (float(val), epoch + 1)
        if self.every and ((epoch + 1) % self.every == 0 or epoch == 0 or self.model.stop_training):
            parts = [f"{k}={logs[k]:.4g}" for k in self.keys if k in logs]
            print(f"{self.prefix}epoch {epoch + 1:3d}  " + "  ".join(parts)
                  + f"  ({time.perf_counter() - self._t0:.0f} s)", flush=True)

    def on_train_end(self, logs=None):
        if self.every:
            return
        best = f", best val_loss {self._best[0]:.4g} at epoch {self._best[1]}" if self._best[1] else ""
        print(f"{self.prefix.strip() or 'training'}: {self._epochs} epochs in "
              f"{time.perf_counter() - self._t0:.0f} s{best}", flush=True)


def make_optimizer(learning_rate: float, schedule: str = "plateau", epochs: int = 1, steps_per_epoch: int = 1):
    """Adam with a constant rate (``"plateau"``: ReduceLROnPlateau lowers it) or a cosine decay.

    ``"cosine"`` decays the rate from ``learning_rate`` to 1 % of it over ``epochs *
    steps_per_epoch`` steps after a warm-up of one epoch from 10 % of it (the training
    functions then run every epoch and keep the best ``val_loss``).
    """
    if schedule == "plateau":
        return keras.optimizers.Adam(learning_rate)
    if schedule != "cosine":
        raise ValueError(f"schedule must be 'plateau' or 'cosine', got {schedule!r}")
    steps = max(2, int(epochs) * int(steps_per_epoch))
    warmup = min(int(steps_per_epoch), steps // 2)
    lr = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.1 * learning_rate, decay_steps=steps - warmup, alpha=0.01,
        warmup_target=learning_rate, warmup_steps=warmup)
    return keras.optimizers.Adam(lr)


def as_image_batch(images, name: str = "images", spatial_ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    """Validate a batch of binary/float images (N, H, W[, D]) and return float32 with a channel axis.

    Accepts bool, 0/1 integers or floats in [0, 1]; a trailing channel axis of size 1 is allowed.
    """
    x = np.asarray(images)
    if x.dtype == object or not (x.dtype == bool or np.issubdtype(x.dtype, np.number)):
        raise TypeError(f"{name} must be a numeric or bool array, got dtype {x.dtype}")
    if x.ndim >= 2 and x.shape[-1] == 1 and x.ndim - 2 in spatial_ndim:
        x = x[..., 0]
    if x.ndim - 1 not in spatial_ndim:
        raise ValueError(f"{name} must have shape (samples, {' or '.join(f'{d} spatial axes' for d in spatial_ndim)}), "
                         f"got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or Inf")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"{name} must be binary (1 = pore, 0 = solid) or in [0, 1]; got range [{x.min()}, {x.max()}]")
    return x[..., None]


def as_targets(targets, n: int, name: str = "targets") -> np.ndarray:
    """Validate targets (N,) or (N, P) with finite values and return (N, P) float64."""
    y = np.asarray(targets, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"{name} must have shape (samples,) or (samples, properties), got {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but there are {n} images; lengths must match")
    bad = ~np.isfinite(y)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])[:5].tolist()
        raise ValueError(f"{name} contain NaN or Inf (e.g. in rows {rows}); remove or fix those samples")
    return y


def load_best_or_raise(path, stopper: StopOnNaN):
    """Load the best checkpoint; raise if training produced NaN before any checkpoint."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        if stopper.stopped_on_nan:
            raise FloatingPointError("training diverged (NaN loss) before a first checkpoint was written; "
                                     "lower the learning rate")
        raise FileNotFoundError(f"no checkpoint was written to {path}")
    return keras.saving.load_model(path, safe_mode=True)
