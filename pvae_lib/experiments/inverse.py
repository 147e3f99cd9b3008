"""The whole inverse-design experiment of paper Section 4.5 in one call (used by the chapter).

1. ``n_targets`` random targets uniform in :func:`~pvae_lib.design.inverse.target_box`.
2. Starts: the ``n_starts`` training samples nearest each target (scaled property space).
3. Stage "direct": every start optimised on ``regressor(z)`` (cheap dense network).
4. Loop stages (``profile.design.loop_modes``), the expensive ones: the paper's protocol,
   ``"loop"``, optimises every start as drawn on the ``regressor(encoder(decoder(z)))`` loss (Fig. 4)
   - computed once per key and stored (:mod:`pvae_lib.experiments.paper_loop`; shipped for the
   quick profile); beyond the paper, ``"loop_binary"`` refines the ``loop_binary_starts`` best direct
   starts of each target on the same loop with the decoded image binarised by a straight-through
   estimator (quick: the best one, for the CPU budget). A loop stage's design is its start with
   the lowest loop loss.
5. Designs = decoded, binarised (:data:`~pvae_lib.binarize.DECODED_RULE`) best latent vectors of both
   stages; their n and K11 by the CNN surrogate (paper protocol) and by the exact solver
   (porosity + duct flow).
6. Feasibility of every target (:func:`~pvae_lib.design.evaluate.feasible_mask`) and R² for all,
   feasible and infeasible targets.

Beyond the paper, :func:`verify_and_refine` measures every candidate of every stage exactly
(:func:`~pvae_lib.design.verify.select_verified`; each start as drawn included), keeps the best
verified one and refines it in image space (:func:`~pvae_lib.design.refine.refine_designs`) toward
the target, or for an infeasible target toward the nearest feasible one; :func:`protocol_table` scores the
protocols side by side, with the nearest training structure as the yardstick.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..binarize import DECODED_RULE, binarize
from ..design.evaluate import evaluate_designs, feasible_mask, nearest_feasible, r2_scores
from ..design.inverse import (InverseResult, OptimizationResult, initial_guesses, inverse_design, optimize_latent,
                              latent_properties, random_targets, target_box)

__all__ = ["InverseStudy", "run_inverse_study", "r2_table", "VerifiedStudy", "verify_and_refine",
           "protocol_table", "show_protocols", "LoopDesigns", "loop_and_verify"]


@dataclass
class InverseStudy:
    """Everything the inverse-design chapter shows.

    Attributes
    ----------
    targets : (T, 2); box : (2, 2) target box; feasible : (T,) bool
    direct : InverseResult of the direct stage (all starts)
    loops : dict loop mode -> OptimizationResult of that refinement (one row per target: of the
        starts looped, the one with the lowest loop loss)
    loop_z : dict loop mode -> (T, c, d) the stage's candidates for the verified selection: for
        ``"loop_binary"`` all ``loop_binary_starts`` looped starts; for the paper's ``"loop"`` its
        lowest-loss start and the start with the smallest verified error (the best of all ``k``)
    paper_loop : :class:`~pvae_lib.experiments.paper_loop.PaperLoop` of the ``"loop"`` stage, if run
    designs : dict stage -> (T, H, W) bool designed structures (stages ``"direct"`` + loop modes)
    tables : dict stage -> DataFrame from :func:`~pvae_lib.design.evaluate.evaluate_designs`
    start_z : (T, k, d) latent means of the ``k`` start structures of every target (the training
        structures nearest the target, encoded): step 0 of the direct stage
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
    loop_z: dict = field(default_factory=dict)
    start_z: np.ndarray | None = None
    paper_loop: object = None


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
                      loop_modes=None, ship_paper_loop: bool = False) -> InverseStudy:
    """Run paper Section 4.5 at the profile's scale (see the module docstring).

    Parameters
    ----------
    model : trained pVAE mapped to (n, K11)
    images : (N, H, W) bool training structures; properties : (N, 2) their n and K11 (l.u.²)
    cnn : CNN surrogate (``get_trained_cnn()``), optional
    profile : sizes (``profile.design``), default ``get_profile()``
    loop_modes : loop stages to run (default ``profile.design.loop_modes``)
    ship_paper_loop : write the paper loop into the package's shipped folder
        (:func:`~pvae_lib.experiments.paper_loop.load_or_run_paper_loop`)
    """
    from .paper_loop import load_or_run_paper_loop, starts_by_index
    from pvae_lib.profiles import get_profile

    profile = profile if profile is not None else get_profile()
    ds = profile.design
    rng = rng if rng is not None else np.random.default_rng(profile.seed)
    t0 = time.perf_counter()
    box = target_box(profile)
    targets = random_targets(n_targets or ds.n_targets, box, rng)
    properties = np.asarray(properties, dtype=np.float64)
    mu = model.encode_mean(images)
    direct = inverse_design(model, targets, mu, properties, n_starts=ds.n_starts, mode="direct",
                            optimizer=ds.optimizer, learning_rate=ds.learning_rate, tol=ds.tol, patience=ds.patience,
                            max_iterations=ds.max_iterations, batch_size=max(ds.batch_size, len(targets) * ds.n_starts),
                            progress=progress)
    t_direct = time.perf_counter()
    start_z = mu[direct.start_index]  # (T, n_starts, d): the starts as drawn
    loops, loop_z, seconds, paper = {}, {}, {"direct": direct.seconds}, None
    k = max(1, min(int(ds.loop_binary_starts), ds.n_starts))
    order = np.argsort(direct.loss, axis=1, kind="stable")[:, :k]  # (T, k) best direct starts first
    z0 = np.take_along_axis(direct.z, order[:, :, None], axis=1)
    for mode in loop_modes if loop_modes is not None else ds.loop_modes:
        if mode == "loop":  # the paper's protocol: every start as drawn
            paper = load_or_run_paper_loop(model, start_z, targets, profile, progress=progress, ship=ship_paper_loop,
                                           starts=starts_by_index(images, direct.start_index))
            loops[mode] = paper.as_result()
            loop_z[mode] = np.stack([paper.z_best, paper.z_verified], axis=1)
            seconds[mode] = paper.seconds
            continue
        res = optimize_latent(model, z0.reshape(-1, z0.shape[-1]), np.repeat(targets, k, axis=0), mode=mode,
                              optimizer=ds.optimizer, learning_rate=ds.loop_learning_rate, tol=ds.tol,
                              patience=min(ds.patience, ds.loop_max_iterations),
                              max_iterations=ds.loop_max_iterations, batch_size=ds.batch_size,
                              progress=progress)
        loops[mode] = _best_row_per_target(res, len(targets), k)
        loop_z[mode] = res.z.reshape(len(targets), k, -1)
        seconds[mode] = res.seconds
    first = next(iter(loops), None)
    seconds["optimisation"] = (t_direct - t0) + (seconds[first] if first else 0.0)
    designs = {"direct": binarize(model.decode(direct.best_z()), DECODED_RULE)}
    reg = {"direct": direct.best_predicted()}
    for mode, res in loops.items():
        designs[mode] = binarize(model.decode(res.z), DECODED_RULE)
        reg[mode] = latent_properties(model, res.z, mode=mode)
    feasible = feasible_mask(targets, properties, method=feasibility)
    t_ex = time.perf_counter()
    tables = {stage: evaluate_designs(designs[stage], targets, cnn=cnn, exact=True, regressor_pred=reg[stage],
                                      feasible=feasible, n_jobs=ds.exact_jobs, progress=progress)
              for stage in designs}
    t_end = time.perf_counter()
    seconds.update(evaluation=t_end - t_ex, total=t_end - t0)
    return InverseStudy(targets, box, feasible, direct, loops, designs, tables, seconds, properties, loop_z,
                        start_z, paper)


def _best_row_per_target(res: OptimizationResult, n_targets: int, k: int) -> OptimizationResult:
    """Of ``k`` consecutive rows per target, the one with the lowest loss (``k = 1``: unchanged)."""
    if k == 1:
        return res
    loss = res.loss.reshape(n_targets, k)
    rows = np.arange(n_targets) * k + np.argmin(loss, axis=1)
    return OptimizationResult(z=res.z[rows], loss=res.loss[rows], steps=res.steps[rows],
                              stop_reason=res.stop_reason[rows], history=res.history, seconds=res.seconds)


@dataclass
class VerifiedStudy:
    """The designs of an :class:`InverseStudy` measured, chosen and refined with the exact solver.

    Attributes
    ----------
    verified : :class:`~pvae_lib.design.verify.VerifiedSelection` over every candidate: every start
        as it was drawn before any step (its decoded latent mean), every start after the direct
        stage, and every loop stage's candidates (:attr:`InverseStudy.loop_z`)
    refined : :class:`~pvae_lib.design.refine.RefineResult` of the verified designs, refined toward
        ``goals``
    goals : (T, 2) what the refinement aimed at: the target itself when feasible, else the nearest
        feasible target (:func:`~pvae_lib.design.evaluate.nearest_feasible`)
    nearest : (T,) index of the training structure nearest each target (the lookup yardstick)
    table : DataFrame from :func:`protocol_table`
    cache : the :class:`~pvae_lib.design.verify.PropertyCache` filled on the way
    novelty : dict protocol -> (T,) pixel distance of its designs to the nearest training structure
        (:func:`~pvae_lib.design.novelty.nearest_training_distance`, symmetries of the square included)
    seconds : ``pipeline`` = direct stage + verified selection + refinement [s], the designer's cost
        without the loop stages (which the paper's protocol adds)
    """

    verified: object
    refined: object
    nearest: np.ndarray
    table: object
    cache: object
    novelty: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    goals: np.ndarray | None = None


def verify_and_refine(study: InverseStudy, model, profile=None, stage: str | None = None,
                      cache=None, train_images=None, progress: bool = False) -> VerifiedStudy:
    """Verified selection and exact refinement of a study's designs (beyond the paper).

    Parameters
    ----------
    study : :class:`InverseStudy` from :func:`run_inverse_study`
    model : the pVAE the study used (its ``decode`` and property scaler)
    profile : sizes (``profile.design.refine_calls``, ``refine_moves_per_round``; the generator's
        pore size and pore counts), default ``get_profile()``
    stage : the gradient stage whose regressor pick is the first row of the table (default: the
        first loop stage, else ``"direct"``)
    cache : :class:`~pvae_lib.design.verify.PropertyCache`, optional (a new one by default)
    train_images : (N, H, W) bool training structures, optional: with them the table says how
        far each protocol's designs are from the nearest one (novelty)

    Returns
    -------
    VerifiedStudy
    """
    from pvae_lib.profiles import get_profile

    from ..design.refine import refine_designs
    from ..design.verify import PropertyCache, select_verified

    profile = profile if profile is not None else get_profile()
    ds = profile.design
    cache = cache if cache is not None else PropertyCache()
    z_all, labels = [], []
    if study.start_z is not None:  # step 0: each start as drawn
        z_all.append(np.asarray(study.start_z, np.float32))
        labels += ["start"] * study.start_z.shape[1]
    z_all.append(np.asarray(study.direct.z, np.float32))
    labels += ["direct"] * study.direct.z.shape[1]
    for mode, z in study.loop_z.items():
        z_all.append(np.asarray(z, np.float32))
        labels += [mode] * z.shape[1]
    verified = select_verified(model, study.targets, np.concatenate(z_all, axis=1), labels=labels, cache=cache,
                               progress=progress)
    # an infeasible target is refined toward the nearest feasible one;
    # the table still scores every design against the target asked for
    goals = np.array(study.targets, dtype=np.float64)
    try:
        far = ~np.asarray(study.feasible, bool)
        goals[far] = nearest_feasible(goals[far], study.train_properties)
    except ValueError:  # too few structures per porosity level for a band
        pass
    refined = refine_designs(verified.images, goals, model.property_scaler,
                             profile.data.synthetic_pore_size, cache=cache, max_calls=ds.refine_calls,
                             moves_per_round=ds.refine_moves_per_round,
                             n_squares=(profile.data.synthetic_min_pores, profile.data.synthetic_max_pores),
                             tol=ds.refine_tol, rng=profile.seed, progress=progress)
    nearest = initial_guesses(study.train_properties, study.targets, 1, model=model)[:, 0]
    stage = stage or next(iter(study.loops), "direct")
    pick = f"regressor's pick ({stage})"
    achieved = {
        pick: study.tables[stage][["n_exact", "k11_exact"]].to_numpy(),
        "verified selection": verified.properties,
        "+ exact refinement": refined.properties,
        "nearest training structure": study.train_properties[nearest],
    }
    novelty = {}
    if train_images is not None:
        from ..design.novelty import nearest_training_distance

        designs = {pick: study.designs[stage], "verified selection": verified.images,
                   "+ exact refinement": refined.images}
        novelty = {name: nearest_training_distance(im, train_images)[0] for name, im in designs.items()}
        novelty["nearest training structure"] = np.zeros(len(study.targets), dtype=np.int64)
    seconds = {"pipeline": study.seconds["direct"] + verified.seconds["total"] + refined.seconds["total"]}
    table = protocol_table(study.targets, achieved, study.feasible, novelty or None)
    return VerifiedStudy(verified, refined, nearest, table, cache, novelty, seconds, goals)


def protocol_table(targets, achieved: dict, feasible, novelty: dict | None = None):
    """R² of n and K11 and the median relative K11 error of several design protocols.

    Parameters
    ----------
    targets : (T, 2) targets (porosity, K11 [l.u.²])
    achieved : dict protocol name -> (T, 2) exact properties of its designs
    feasible : (T,) bool feasible targets
    novelty : dict protocol name -> (T,) pixel distance of its designs to the nearest training
        structure, optional

    Returns
    -------
    DataFrame, one row per protocol; columns ``(subset, metric)`` with subsets ``"feasible
    targets"`` and ``"all targets"`` and metrics ``"R² n"``, ``"R² K11"``, ``"median |K/K*-1|"``
    and, with ``novelty``, ``"copies of training"`` (share of designs at distance 0) and
    ``"median px to training"``.
    """
    import pandas as pd

    targets = np.asarray(targets, float)
    feasible = np.asarray(feasible, bool)
    rows = {}
    for name, props in achieved.items():
        props = np.asarray(props, float)
        row = {}
        for subset, mask in (("feasible targets", feasible), ("all targets", np.ones_like(feasible))):
            if mask.sum() < 2:
                continue
            r2 = r2_scores(targets[mask], props[mask])
            row[(subset, "R² n")], row[(subset, "R² K11")] = float(r2[0]), float(r2[1])
            row[(subset, "median |K/K*-1|")] = float(np.median(np.abs(props[mask, 1] / targets[mask, 1] - 1)))
            if novelty is not None and name in novelty:
                dist = np.asarray(novelty[name])[mask]
                row[(subset, "copies of training")] = float(np.mean(dist == 0))
                row[(subset, "median px to training")] = float(np.median(dist))
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


#: how :func:`show_protocols` writes each metric of :func:`protocol_table`
_PROTOCOL_FORMATS = {"R² n": "{:.4f}", "R² K11": "{:.4f}", "median |K/K*-1|": "{:.4f}",
                     "copies of training": "{:.0%}", "median px to training": "{:.0f}"}


def show_protocols(table, subset: str = "feasible targets"):
    """One subset of a :func:`protocol_table` for reading: metrics as rows, protocols as columns.

    R² and the median relative error with four decimals, the share of copies in percent, the
    pixel distance in whole pixels (a pandas ``Styler``; its ``.data`` is the numbers).

    Parameters
    ----------
    table : DataFrame from :func:`protocol_table`
    subset : ``"feasible targets"`` or ``"all targets"``
    """
    if subset not in table.columns.get_level_values(0):
        raise ValueError(f"no {subset!r} in the table (subsets: {sorted(set(table.columns.get_level_values(0)))}); "
                         "a subset needs at least two targets")
    shown = table[subset].T.rename_axis(subset)
    styler = shown.style
    for metric, fmt in _PROTOCOL_FORMATS.items():
        if metric in shown.index:
            styler = styler.format(fmt, subset=([metric], slice(None)))
    return styler


@dataclass
class LoopDesigns:
    """Designs of :func:`loop_and_verify`: the paper's loop from the nearest training samples, checked exactly.

    Attributes
    ----------
    targets : (T, P) the targets, physical units
    selection : :class:`~pvae_lib.design.verify.VerifiedSelection` over the ``2 k`` candidates per
        target (labels ``"start"``: the nearest training samples as drawn, ``"loop"``: after the loop)
    start_labels : (T, k, P) labels of the training samples the starts were encoded from, nearest first
    loop_steps : (T * k,) optimisation steps of each start
    solver_calls : distinct structures the exact evaluator measured
    seconds : wall time of the whole study (s)
    """

    targets: np.ndarray
    selection: object
    start_labels: np.ndarray
    loop_steps: np.ndarray
    solver_calls: int
    seconds: float

    @property
    def lookup(self) -> np.ndarray:
        """(T, P) labels of each target's nearest training sample (the yardstick: a lookup table)."""
        return self.start_labels[:, 0]

    @property
    def start_properties(self) -> np.ndarray:
        """(T, k, P) exact properties of the decoded starts as drawn (the first ``k`` candidates)."""
        return self.selection.all_properties[:, :self.start_labels.shape[1]]

    def median_relative_error(self, which: str = "design", columns=slice(1, None)) -> float:
        """Median of ``|p / p* - 1|`` over the targets and the property ``columns`` (default: all but
        porosity) for the verified designs (``"design"``) or the nearest training samples (``"lookup"``)."""
        if which not in ("design", "lookup"):
            raise ValueError(f"which must be 'design' or 'lookup', got {which!r}")
        got = self.selection.properties if which == "design" else self.lookup
        return float(np.median(np.abs(got[:, columns] / self.targets[:, columns] - 1)))


def loop_and_verify(model, targets, train_latent, train_properties, evaluator, n_starts: int, profile=None,
                    rule: str = DECODED_RULE) -> LoopDesigns:
    """The paper's loop (decode, re-encode, regress; Fig. 4) from the ``n_starts`` nearest training samples
    of every target, then every candidate checked by an exact evaluator and the best verified one kept.

    The candidates of a target are its starts as drawn (the decoded latent means of its nearest
    training samples) and the same starts after the loop; each is decoded, binarised by ``rule``
    and measured once (:class:`~pvae_lib.design.verify.PropertyCache`). Works for any number of
    properties: the foam chapter uses it with :func:`~pvae_lib.design.verify.lbm_evaluator` on
    ``(n, K11, K22, K33)``.

    Parameters
    ----------
    model : :class:`~pvae_lib.models.pvae.PVAE`
    targets : (T, P) target properties in the model's order (physical units)
    train_latent : (N, d) latent means of the training samples; train_properties : (N, P) their labels
    evaluator : callable ``images -> (M, P)``, the exact properties in the model's order
    n_starts : starts per target (paper: 100)
    profile : the loop's learning rate, stopping rule and step budget come from ``profile.design``
        (``loop_learning_rate``, ``tol``, ``patience``, ``loop_max_iterations``)
    rule : binarisation of the decoded candidates (:func:`pvae_lib.binarize.binarize`)

    Returns
    -------
    LoopDesigns
    """
    from ..profiles import get_profile
    from ..design.verify import PropertyCache, select_verified

    t0 = time.perf_counter()
    ds = (profile or get_profile()).design
    targets = np.asarray(targets, dtype=np.float64)
    train_latent = np.asarray(train_latent, dtype=np.float32)
    train_properties = np.asarray(train_properties, dtype=np.float64)
    k = min(int(n_starts), len(train_latent))
    res = inverse_design(model, targets, train_latent, train_properties, n_starts=k, mode="loop",
                         learning_rate=ds.loop_learning_rate, tol=ds.tol,
                         patience=min(ds.patience, ds.loop_max_iterations), max_iterations=ds.loop_max_iterations)
    start_z = train_latent[res.start_index]  # (T, k, d): the starts as drawn
    cache = PropertyCache(evaluator)
    sel = select_verified(model, targets, np.concatenate([start_z, res.z], axis=1),
                          labels=["start"] * k + ["loop"] * k, cache=cache, rule=rule)
    return LoopDesigns(targets, sel, train_properties[res.start_index], np.asarray(res.steps), cache.calls,
                       time.perf_counter() - t0)
