"""The optimiser of the training loops: Adam with a constant (plateau) or cosine learning-rate schedule."""
from __future__ import annotations

import keras

__all__ = ["make_optimizer"]


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
