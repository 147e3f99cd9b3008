"""Short Optuna study of the pVAE hyper-parameters (latent size, beta, lambda).

The paper ran 50 Optuna trials of 50 epochs each to choose the latent dimension
(N_l = 250). :func:`tune_pvae` runs the same kind of search at teaching scale: a few trials,
a few epochs, a subset of the data, a seeded TPE sampler. The objective is the validation
loss of the property term plus the per-voxel reconstruction error, so trials with different
beta/lambda are comparable.

The study lives in Optuna's storage: by default a SQLite file ``optuna.db`` in a run folder
(``artifacts_dir(profile, "tuning")``), so a killed study resumes with the trials still
missing, and several worker processes can work on one study (``workers=N`` starts N - 1
more on this machine). On a cluster, give a PostgreSQL URL
(``storage="postgresql://user:password@host/db"``) and start workers on other machines
with ``python -m pvae_lib.models.tuning RUN_DIR STUDY_NAME STORAGE_URL`` (``RUN_DIR`` on a
shared file system; it holds the data subset and the settings of the study).
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..cache import data_fingerprint, key_digest
from ..profiles import get_profile

__all__ = ["tune_pvae", "open_study", "optimize_study", "run_worker"]


def open_study(study_name: str, storage: str, seed: int = 0, heartbeat: bool = True):
    """Create or load the study ``study_name`` in ``storage`` (minimised, seeded TPE sampler).

    Parameters
    ----------
    storage : str
        Optuna storage URL: ``sqlite:///path/optuna.db`` (one machine) or
        ``postgresql://user:password@host/db`` (several machines).
    seed : int
        Seed of this process's TPE sampler (give each worker process its own); the number
        of trials already in the study is added, so a resumed session draws new points.
    heartbeat : bool
        Trials send a heartbeat every 60 s; a trial whose process was killed is marked
        failed after 120 s and run again (:class:`optuna.storages.RetryFailedTrialCallback`).
    """
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kwargs = {}
    with warnings.catch_warnings():  # heartbeats and retries are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if heartbeat and hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):  # optuna >= 4.9
            kwargs = dict(heartbeat_interval=60, grace_period=120,
                          heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2))
        elif heartbeat:
            kwargs = dict(heartbeat_interval=60, grace_period=120,
                          failed_trial_callback=optuna.storages.RetryFailedTrialCallback(max_retry=2))
        rdb = optuna.storages.RDBStorage(storage, **kwargs)
    study = optuna.create_study(study_name=study_name, storage=rdb, direction="minimize", load_if_exists=True)
    # a resumed session continues the sampler's sequence instead of repeating its first draws
    sampler = optuna.samplers.TPESampler(seed=int(seed) + len(study.get_trials(deepcopy=False)))
    return optuna.load_study(study_name=study_name, storage=rdb, sampler=sampler)


def _complete(study) -> int:
    import optuna

    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


def optimize_study(study, objective, n_trials: int) -> None:
    """Run trials of ``objective`` until ``study`` holds ``n_trials`` completed trials.

    Safe with several processes on one study: each stops when the shared count is reached
    (:class:`optuna.study.MaxTrialsCallback`); after a kill, only the missing trials run.
    """
    import optuna

    missing = n_trials - _complete(study)
    if missing > 0:
        done = optuna.study.MaxTrialsCallback(n_trials, states=(optuna.trial.TrialState.COMPLETE,))
        study.optimize(objective, n_trials=missing, callbacks=[done])


def _load_objective(spec: dict, run_dir: Path):
    """The objective named in ``spec`` (``"module:function"``), built from the run folder."""
    module, _, name = spec["objective"].partition(":")
    return getattr(importlib.import_module(module), name)(run_dir, spec)


def run_worker(run_dir, study_name: str, storage: str, index: int = 1) -> int:
    """One worker process on a study: ``python -m pvae_lib.models.tuning RUN_DIR STUDY STORAGE [INDEX]``.

    Reads the settings (``study.json``) and data (``data.npz``) that :func:`tune_pvae` left in
    ``run_dir`` and runs trials until the study holds its number of completed trials.
    Returns the number of completed trials.
    """
    run_dir = Path(run_dir)
    spec = json.loads((run_dir / "study.json").read_text(encoding="utf-8"))
    study = open_study(study_name, storage, seed=int(spec["seed"]) + 1000 * int(index))
    optimize_study(study, _load_objective(spec, run_dir), int(spec["n_trials"]))
    return _complete(study)


def run_study(run_dir, spec: dict, *, study_name: str, storage: str, workers: int = 1, data: dict | None = None):
    """Write ``spec`` (and ``data``) to ``run_dir``, then run the study with ``workers`` processes.

    This process is worker 0; ``workers - 1`` more are started with :func:`run_worker` and
    awaited. Returns the study.
    """
    from ..fileio import atomic_path, write_json_atomic

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if data is not None:
        with atomic_path(run_dir / "data.npz", suffix=".npz") as tmp:
            np.savez(tmp, **data)
    write_json_atomic(run_dir / "study.json", spec)
    study = open_study(study_name, storage, seed=int(spec["seed"]))
    procs = [subprocess.Popen([sys.executable, "-m", "pvae_lib.models.tuning", str(run_dir), study_name, storage,
                               str(i)]) for i in range(1, int(workers))]
    try:
        optimize_study(study, _load_objective(spec, run_dir), int(spec["n_trials"]))
    finally:
        codes = [p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"{sum(1 for c in codes if c)} tuning worker process(es) failed (exit codes {codes})")
    return study


def _pvae_objective(run_dir: Path, spec: dict):
    """The objective of :func:`tune_pvae`, rebuilt from the run folder (also in worker processes)."""
    from .training import train_pvae

    with np.load(run_dir / "data.npz") as f:
        x, y = f["x"], f["y"]
    profile = get_profile(spec["profile"])
    n_vox = int(np.prod(x.shape[1:]))
    latent_dims, beta_range, lam_range = spec["latent_dims"], spec["beta_range"], spec["lam_range"]
    epochs, seed = int(spec["epochs"]), int(spec["seed"])

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

    return objective


def tune_pvae(images, properties, profile=None, n_trials: int | None = None, epochs: int | None = None,
              n_samples: int = 600, latent_dims=(16, 32, 64, 128), beta_range=(0.1, 2.0),
              lam_range=(1e3, 1e6), seed: int | None = None, *, storage: str | None = None,
              study_name: str | None = None, run_dir=None, workers: int = 1):
    """Run a small Optuna study; return ``(study, table)`` (table: a pandas DataFrame of trials).

    Each trial trains a VAE for ``epochs`` epochs, a regressor on mu, and one joint epoch on
    ``n_samples`` samples, and reports ``val_recon / n_voxels + val_prop`` (lower is better).

    Parameters
    ----------
    storage : str, optional
        Optuna storage URL; default ``sqlite:///RUN_DIR/optuna.db``. A PostgreSQL URL
        (``postgresql://user:password@host/db``) lets workers on other machines join.
    study_name : str, optional
        Default: ``pvae-<profile>-<digest>``, the digest of the data subset and every
        setting, so a changed setup starts a new study and an unchanged one resumes.
    run_dir : path, optional
        Run folder (default ``artifacts_dir(profile.name, "tuning")``): ``optuna.db``,
        ``study.json`` (settings) and ``data.npz`` (the data subset, for worker processes).
    workers : int
        Processes working on the study at once on this machine (this one included).
        Worker processes use ``get_profile(profile.name)``.

    Notes
    -----
    The study stops at ``n_trials`` *completed* trials: calling again after a kill runs
    only the missing ones, and calling again after completion trains nothing.
    """
    from ..results import artifacts_dir

    profile = profile or get_profile()
    seed = profile.seed if seed is None else int(seed)
    n_trials = n_trials or profile.pvae.tuning_trials
    epochs = epochs or profile.pvae.tuning_epochs
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    x = np.asarray(images)
    y = np.asarray(properties, dtype=float)
    idx = np.random.default_rng(seed).permutation(len(x))[:n_samples]
    x, y = x[idx], y[idx]
    spec = {"objective": "pvae_lib.models.tuning:_pvae_objective", "profile": profile.name, "seed": seed,
            "n_trials": int(n_trials), "epochs": int(epochs), "n_samples": int(len(x)),
            "latent_dims": [int(d) for d in latent_dims], "beta_range": [float(v) for v in beta_range],
            "lam_range": [float(v) for v in lam_range]}
    # the study's name is the digest of everything but the trial count (more trials extend a study)
    key = {**{k: v for k, v in spec.items() if k != "n_trials"}, "data": data_fingerprint(x, y)}
    study_name = study_name or f"pvae-{profile.name}-{key_digest(key, 12)}"
    run_dir = Path(run_dir) if run_dir is not None else artifacts_dir(profile.name, "tuning")
    storage = storage or f"sqlite:///{Path(run_dir).absolute() / 'optuna.db'}"
    study = run_study(run_dir, spec, study_name=study_name, storage=storage, workers=workers,
                      data={"x": x, "y": y})
    table = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs", "state"))
    if "state" in table:
        table = table[table["state"] == "COMPLETE"].drop(columns="state").reset_index(drop=True)
    return study, table


if __name__ == "__main__":  # a worker process: python -m pvae_lib.models.tuning RUN_DIR STUDY STORAGE [INDEX]
    if len(sys.argv) not in (4, 5):
        print("usage: python -m pvae_lib.models.tuning RUN_DIR STUDY_NAME STORAGE_URL [INDEX]", file=sys.stderr)
        sys.exit(2)
    run_worker(*sys.argv[1:4], index=int(sys.argv[4]) if len(sys.argv) == 5 else 1)
