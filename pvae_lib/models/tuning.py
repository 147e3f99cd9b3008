"""Short Optuna study of the pVAE hyper-parameters (latent size, beta, lambda).

The paper ran 50 Optuna trials of 50 epochs each to choose the latent dimension
(N_l = 250). :func:`tune_pvae` runs the same kind of search at teaching scale: a few trials,
a few epochs, a subset of the data, a seeded TPE sampler. The objective is the validation
loss of the property term plus the per-voxel reconstruction error, so trials with different
beta/lambda are comparable.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..profiles import get_profile

__all__ = ["tune_pvae"]


def tune_pvae(images, properties, profile=None, n_trials: int | None = None, epochs: int | None = None,
              n_samples: int = 600, latent_dims=(16, 32, 64, 128), beta_range=(0.1, 2.0),
              lam_range=(1e3, 1e6), seed: int | None = None):
    """Run a small Optuna study; return ``(study, table)`` (table: a pandas DataFrame of trials).

    Each trial trains a VAE for ``epochs`` epochs, a regressor on mu, and one joint epoch on
    ``n_samples`` samples, and reports ``val_recon / n_voxels + val_prop`` (lower is better).
    """
    import optuna

    from .training import train_pvae

    profile = profile or get_profile()
    seed = profile.seed if seed is None else int(seed)
    n_trials = n_trials or profile.pvae.tuning_trials
    epochs = epochs or profile.pvae.tuning_epochs
    x = np.asarray(images)
    y = np.asarray(properties, dtype=float)
    idx = np.random.default_rng(seed).permutation(len(x))[:n_samples]
    x, y = x[idx], y[idx]
    n_vox = int(np.prod(x.shape[1:]))

    def objective(trial):
        sec = dataclasses.replace(
            profile.pvae,
            latent_dim=trial.suggest_categorical("latent_dim", list(latent_dims)),
            beta=trial.suggest_float("beta", *beta_range, log=True),
            lam=trial.suggest_float("lam", *lam_range, log=True),
            epochs_vae=epochs, epochs_regressor=max(epochs, 5), epochs_joint=1,
        )
        res = train_pvae(x, y, profile=profile, section=sec, seed=seed, print_every=None)
        h = res.stages["joint"].history
        score = h["val_recon"][-1] / n_vox + h["val_prop"][-1]
        trial.set_user_attr("r2_mean", float(np.mean(list(res.r2.values()))))
        return float(score)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    table = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs"))
    return study, table
