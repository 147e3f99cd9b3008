"""The whole inverse-design experiment of paper Section 4.5 in one call (used by the chapter).

1. ``n_targets`` random targets uniform in :func:`~pvae_lib.design.inverse.target_box`.
2. Starts: the ``n_starts`` training samples nearest each target (scaled property space).
3. Stage "direct": every start optimised on ``regressor(z)`` (cheap dense network).
4. Loop stages (``profile.design.loop_modes``): the best direct start of each target refined
   on the paper's ``regressor(encoder(decoder(z)))`` loss (Fig. 4, ``"loop"``) and/or on the
   same loop with the decoded image binarised by a straight-through estimator
   (``"loop_binary"``) - the expensive stages.
5. Designs = decoded, binarised (0.5) best latent vectors of both stages; their n and K11 by the
   CNN surrogate (paper protocol) and by the exact solver (porosity + duct flow).
6. Feasibility of every target (:func:`~pvae_lib.design.evaluate.feasible_mask`) and R² for all,
   feasible and infeasible targets.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .evaluate import evaluate_designs, feasible_mask, r2_scores
from .interpolation import binarize
from .inverse import InverseResult, inverse_design, optimize_latent, predict_properties, random_targets, target_box
from .latent import decode, encode_dataset

__all__ = ["InverseStudy", "run_inverse_study", "r2_table"]


@dataclass
class InverseStudy:
    """Everything the inverse-design chapter shows.

    Attributes
    ----------
    targets : (T, 2); box : (2, 2) target box; feasible : (T,) bool
    direct : InverseResult of the direct stage (all starts)
    loops : dict loop mode -> OptimizationResult of that refinement (one row per target)
    designs : dict stage -> (T, H, W) bool designed structures (stages ``"direct"`` + loop modes)
    tables : dict stage -> DataFrame from :func:`~pvae_lib.design.evaluate.evaluate_designs`
    seconds : dict of wall times (``direct``, each loop mode, ``optimisation`` = direct + the
        first loop mode, ``evaluation``, ``total``)
    """

    targets: np.ndarray
    box: np.ndarray
    feasible: np.ndarray
    direct: InverseResult
    loops: dict
    designs: dict
    tables: dict
    seconds: dict
    train_properties: np.ndarray


def r2_table(study: InverseStudy):
    """R² of n and K11 per stage, measurement (surrogate / exact) and target subset."""
    import pandas as pd

    rows = []
    subsets = {"all": np.ones(len(study.targets), bool), "feasible": study.feasible, "infeasible": ~study.feasible}
    for stage, df in study.tables.items():
        for which in ("surrogate", "exact"):
            if f"n_{which}" not in df:
                continue
            for name, mask in subsets.items():
                if mask.sum() < 2:
                    continue
                r2 = r2_scores(df.loc[mask, ["n_target", "k11_target"]].to_numpy(),
                               df.loc[mask, [f"n_{which}", f"k11_{which}"]].to_numpy())
                rows.append({"stage": stage, "measured by": which, "targets": name, "count": int(mask.sum()),
                             "R2 n": r2[0], "R2 K11": r2[1],
                             "median log10 err": float(np.nanmedian(df.loc[mask, f"log_mse_{which}"]))})
    return pd.DataFrame(rows)


def run_inverse_study(model, images, properties, cnn=None, profile=None, n_targets: int | None = None,
                      rng=None, progress: bool = True, feasibility: str = "envelope",
                      loop_modes=None) -> InverseStudy:
    """Run paper Section 4.5 at the profile's scale (see the module docstring).

    Parameters
    ----------
    model : trained pVAE mapped to (n, K11)
    images : (N, H, W) bool training structures; properties : (N, 2) their n and K11 (l.u.²)
    cnn : CNN surrogate (``get_trained_cnn()``), optional
    profile : sizes (``profile.design``), default ``get_profile()``
    loop_modes : loop stages to run (default ``profile.design.loop_modes``)
    """
    from pvae_lib.profiles import get_profile

    profile = profile if profile is not None else get_profile()
    ds = profile.design
    rng = rng if rng is not None else np.random.default_rng(profile.seed)
    t0 = time.perf_counter()
    box = target_box(profile)
    targets = random_targets(n_targets or ds.n_targets, box, rng)
    properties = np.asarray(properties, dtype=np.float64)
    mu = encode_dataset(model, images)
    direct = inverse_design(model, targets, mu, properties, n_starts=ds.n_starts, mode="direct",
                            learning_rate=ds.learning_rate, tol=ds.tol, patience=ds.patience,
                            max_iterations=ds.max_iterations, batch_size=max(ds.batch_size, len(targets) * ds.n_starts),
                            progress=progress)
    t_direct = time.perf_counter()
    loops, seconds = {}, {"direct": direct.seconds}
    for mode in loop_modes if loop_modes is not None else ds.loop_modes:
        loops[mode] = optimize_latent(model, direct.best_z(), targets, mode=mode, learning_rate=ds.loop_learning_rate,
                                      tol=ds.tol, patience=min(ds.patience, ds.loop_max_iterations),
                                      max_iterations=ds.loop_max_iterations, batch_size=ds.batch_size,
                                      progress=progress)
        seconds[mode] = loops[mode].seconds
    first = next(iter(loops), None)
    seconds["optimisation"] = (t_direct - t0) + (seconds[first] if first else 0.0)
    designs = {"direct": binarize(decode(model, direct.best_z()))}
    reg = {"direct": direct.best_predicted()}
    for mode, res in loops.items():
        designs[mode] = binarize(decode(model, res.z))
        reg[mode] = predict_properties(model, res.z, mode=mode)
    feasible = feasible_mask(targets, properties, method=feasibility)
    t_ex = time.perf_counter()
    tables = {stage: evaluate_designs(designs[stage], targets, cnn=cnn, exact=True, regressor_pred=reg[stage],
                                      feasible=feasible, n_jobs=ds.exact_jobs, progress=progress)
              for stage in designs}
    t_end = time.perf_counter()
    seconds.update(evaluation=t_end - t_ex, total=t_end - t0)
    return InverseStudy(targets, box, feasible, direct, loops, designs, tables, seconds, properties)
