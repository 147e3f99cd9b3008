"""Keras callbacks of the training loops: stop on NaN, checkpoint only finite models, print epochs."""
from __future__ import annotations

import math
import time

import keras

__all__ = ["StopOnNaN", "SafeCheckpoint", "EpochPrinter", "load_best_or_raise"]


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
