"""Verified selection of inverse designs: pick each target's design by its *exact* properties.

The gradient stages of :mod:`~pvae_lib.design.inverse` rank the starts of a target by the
surrogate's loss (the regressor's prediction). The design that is finally built is the
decoded, binarised structure, and its exact properties can differ from the prediction. This
module measures every candidate instead:

1. decode and binarise every candidate latent vector of every target (batched);
2. deduplicate identical images (key = the packed bits of the binary image, exact - no hash
   collisions), so each distinct structure is solved once; a :class:`PropertyCache` keeps the
   results across calls (the refinement of :mod:`~pvae_lib.design.refine` re-uses it);
3. evaluate the distinct images with an *evaluator*, a callable ``evaluator(images) -> (N, P)``
   array of properties in physical units (for the synthetic 2-D patterns: porosity and K11 in
   lattice units², :class:`ComponentDuctFlow` by default; a 3-D LBM evaluator returning any
   number ``P`` of properties plugs in the same way);
4. return, per target, the candidate with the smallest verified error - the optimiser's error:
   mean over the ``P`` properties of the squared difference of the min-max scaled properties
   (``model.property_scaler``), :func:`scaled_error`.

The exact evaluator for extruded 2-D patterns
---------------------------------------------
Fully developed duct flow (:mod:`pvae_lib.stokes2d`) uses a 5-point stencil: pore pixels couple
only to their 4-neighbours, so the pore space splits into 4-connected components (periodic
wrap included) whose flows are independent. ``K11 = sum_c Q_c / (H W)`` with ``Q_c`` the
summed velocity of component ``c`` solved alone. A component that does not wrap around the
periodic faces gives the same ``Q_c`` wherever it sits, so :class:`ComponentDuctFlow` solves
it once on its bounding box padded by one solid pixel and caches ``Q_c`` by its shape. An
isolated square pore, which occurs in almost every synthetic design, is solved once in total.
The result equals :func:`pvae_lib.stokes2d.stokes2d_permeability` of the whole image to
round-off (tested); :func:`duct_flow_evaluator` is the plain whole-image path
(:func:`~pvae_lib.design.evaluate.exact_properties`, optional worker processes).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..images import periodic_label

__all__ = [
    "scaled_error",
    "duct_flow_evaluator",
    "lbm_evaluator",
    "exact_evaluator",
    "ComponentDuctFlow",
    "PropertyCache",
    "VerifiedSelection",
    "stack_candidates",
    "select_verified",
]


def _transform(scaler, props) -> np.ndarray:
    props = np.asarray(props, dtype=np.float64)
    if scaler is None:
        return props
    scaler = getattr(scaler, "property_scaler", scaler)  # a model or its scaler
    shape = props.shape
    return np.asarray(scaler.transform(props.reshape(-1, shape[-1])), dtype=np.float64).reshape(shape)


def scaled_error(properties, targets, scaler=None) -> np.ndarray:
    """Mean squared error of min-max scaled properties (the optimiser's loss, "mean L2").

    Parameters
    ----------
    properties : (..., P) achieved properties in physical units (porosity [-], K11 [l.u.²], ...)
    targets : (..., P) targets, broadcastable against ``properties``
    scaler : min-max scaler with ``transform`` (``model.property_scaler``) or a model that
        has one; ``None`` compares unscaled values.

    Returns
    -------
    (...,) dimensionless error; NaN properties give NaN.
    """
    p = _transform(scaler, properties)
    t = _transform(scaler, np.broadcast_to(np.asarray(targets, dtype=np.float64), np.shape(properties)))
    return np.mean((p - t) ** 2, axis=-1)


def duct_flow_evaluator(n_jobs: int = 1):
    """Whole-image exact evaluator: ``images (N, H, W) bool -> (N, 2)`` porosity and K11 (l.u.²).

    Uses :func:`~pvae_lib.design.evaluate.exact_properties` (periodic duct flow, one sparse solve
    per image, ~2.5-5 ms for 40 x 40; ``n_jobs`` worker processes pay off from thousands of
    images on).
    """
    from .evaluate import exact_properties

    def evaluate(images) -> np.ndarray:
        out = exact_properties(images, n_jobs=n_jobs, progress=False)
        return np.column_stack([out["n"], out["k11"]])

    evaluate.n_properties = 2
    return evaluate




def lbm_evaluator(axes=(0, 1, 2), config=None, batched: bool | None = None):
    """Exact evaluator for 3-D samples: ``images (N, D, H, W) bool -> (N, 1 + len(axes))``.

    Columns: porosity, then the diagonal permeability ``K_aa`` (l.u.²) along each array axis in
    ``axes`` (``(0, 1, 2)``: n, K11, K22, K33, the properties of the foam pVAE), each computed by
    the lattice Boltzmann solver; NaN for an all-solid or all-pore sample, which has no
    permeability (:func:`select_verified` never chooses such a candidate). It plugs into
    :class:`PropertyCache`, :func:`select_verified` and :func:`pvae_lib.design.refine.refine_designs`
    like the duct-flow evaluator of the 2-D patterns.

    Parameters
    ----------
    axes : flow directions (array axes, 0 = x1)
    config : :class:`pvae_lib.lbm.LBMConfig`, default ``LBMConfig()`` (the foam labels' settings:
        :func:`pvae_lib.data.foam_dataset.foam_label_config`)
    batched : run all samples of one axis in one call (:func:`pvae_lib.lbm.permeability_batch`)
        or one by one (:func:`pvae_lib.lbm.permeability`); default: batched on a GPU only - on a
        CPU a batch runs slower than its samples one after another (README, *Performance*)
    """
    axes = tuple(int(a) for a in axes)
    if not axes or any(a not in (0, 1, 2) for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"axes must be distinct array axes of a 3-D sample (0, 1, 2), got {axes}")

    def evaluate(images) -> np.ndarray:
        from pvae_lib.lbm import permeability, permeability_batch

        batch = batched
        if batch is None:
            import tensorflow as tf

            batch = bool(tf.config.list_physical_devices("GPU"))
        images = np.asarray(images, dtype=bool)
        if images.ndim == 5 and images.shape[-1] == 1:
            images = images[..., 0]
        if images.ndim != 4:
            raise ValueError(f"expected a stack of 3-D samples (N, D, H, W), got shape {images.shape}")
        out = np.full((len(images), 1 + len(axes)), np.nan)
        out[:, 0] = images.reshape(len(images), -1).mean(axis=1)
        two_phase = (out[:, 0] > 0) & (out[:, 0] < 1)  # a single-phase block has no permeability: NaN
        solved = images[two_phase]
        for j, axis in enumerate(axes):
            if not len(solved):
                break
            if batch:
                out[two_phase, 1 + j] = [r.K for r in permeability_batch(solved, axis, config)]
            else:
                out[two_phase, 1 + j] = [permeability(im, axis, config).K for im in solved]
        return out

    evaluate.n_properties = 1 + len(axes)
    return evaluate


def exact_evaluator(names=("n", "k11"), ndim: int = 2, config=None):
    """The exact evaluator of one kind of sample, columns in the order of ``names``.

    One evaluator per dataset kind, behind one interface (``images -> (N, P)``, physical units):

    * extruded 2-D patterns (``ndim=2``, the synthetic set): :class:`ComponentDuctFlow`
      (periodic duct flow), which gives ``("n", "k11")``;
    * 3-D samples (``ndim=3``, the foam study): :func:`lbm_evaluator`, any of ``"n"``,
      ``"k11"``, ``"k22"``, ``"k33"`` (one LBM run per permeability).

    Parameters
    ----------
    names : property names of the registry (:data:`pvae_lib.data.properties.PROPERTIES`), a
        model's ``property_scaler.names``
    ndim : 2 (cross-sections ``(N, H, W)``) or 3 (volumes ``(N, D, H, W)``)
    config : :class:`pvae_lib.lbm.LBMConfig` for 3-D samples (default: :func:`lbm_evaluator`'s)

    Raises
    ------
    ValueError
        for properties that kind of sample has no exact solver for here (e.g. K22 of an extruded
        pattern, off-diagonal permeabilities), before any work.
    """
    names = tuple(str(n) for n in names)
    if ndim == 2:
        if names != ("n", "k11"):
            raise ValueError(f"the exact solver of 2-D patterns (extruded duct flow) gives ('n', 'k11'), "
                             f"not {names}")
        return ComponentDuctFlow()
    if ndim != 3:
        raise ValueError(f"ndim must be 2 (cross-sections) or 3 (volumes), got {ndim}")
    diagonal = {"k11": 0, "k22": 1, "k33": 2}
    unknown = [n for n in names if n != "n" and n not in diagonal]
    if unknown or len(set(names)) != len(names) or not names:
        raise ValueError(f"the LBM evaluator of 3-D samples gives n, k11, k22, k33 (each once); cannot give "
                         f"{unknown or names}")
    axes = tuple(diagonal[n] for n in names if n != "n") or (0,)
    lbm = lbm_evaluator(axes=axes, config=config)
    column = {"n": 0, **{name: 1 + axes.index(diagonal[name]) for name in names if name != "n"}}
    order = [column[name] for name in names]

    def evaluate(images) -> np.ndarray:
        return lbm(images)[:, order]

    evaluate.n_properties = len(names)
    return evaluate


def _periodic_components(image: np.ndarray):
    """4-connected components of ``image`` with periodic wrap: ``(labels, count, wraps)``.

    ``wraps[c]`` is True when component ``c + 1`` is joined across a periodic face.
    """
    return periodic_label(image, (0, 1))  # face (4-) connectivity: the 5-point stencil's


class ComponentDuctFlow:
    """Exact porosity and K11 (l.u.²) of 2-D patterns, solved per pore component and cached.

    Same physics and discretisation as :func:`pvae_lib.stokes2d.stokes2d_permeability`
    (periodic faces, walls on pixel faces); see the module docstring for why the split into
    4-connected components is exact. Calling the object maps ``images (N, H, W) bool`` to an
    ``(N, 2)`` array ``[porosity, K11]``.

    Parameters
    ----------
    max_new : when an image has more than this many component shapes not solved before, it is
        solved whole in one sparse solve instead (same result; a small solve costs about as much
        as a whole 40 x 40 one - assembly and factorisation overhead), and the flows of all its
        components are read off that field and cached. ``None``: always per component.

    Attributes
    ----------
    solves : number of sparse solves done so far (per new component shape or whole image)
    images : number of images evaluated so far
    """

    n_properties = 2

    def __init__(self, max_new: int | None = 1):
        self.max_new = max_new
        self._flow: dict = {}
        self.solves = 0
        self.images = 0

    def _solve(self, key, domain, pad: bool) -> float:
        from pvae_lib.stokes2d import duct_velocity

        q = self._flow.get(key)
        if q is None:
            q = float(duct_velocity(np.pad(domain, 1) if pad else domain, boundary="periodic").sum())
            self._flow[key] = q
            self.solves += 1
        return q

    def k11(self, image) -> float:
        """K11 (l.u.²) of one pattern ``(H, W)``; 0 without pores."""
        from scipy import ndimage

        image = np.asarray(image, dtype=bool)
        if not image.any():
            return 0.0
        if image.all():
            raise ValueError("a pattern without solid has no finite duct-flow permeability")
        labels, count, wraps = _periodic_components(image)
        parts = []  # (key, domain, pad, label)
        new = 0
        flow = self._flow
        for c, sl in enumerate(ndimage.find_objects(labels)):
            if sl is None:
                continue
            if wraps[c]:  # position matters through the periodic wrap: key by the full mask
                mask = labels == c + 1
                key, dom, pad = (b"W", np.packbits(mask).tobytes()), mask, False
            else:  # translation invariant: key by the cropped shape, solved with one solid pixel round
                dom, pad = labels[sl] == c + 1, True
                key = (dom.shape, dom.tobytes())
            if key not in flow:
                new += 1
            parts.append((key, dom, pad, c + 1))
        if self.max_new is not None and new > self.max_new:
            # several unseen shapes: one solve of the whole image costs about as much as one small
            # solve (fixed overhead of assembly + factorisation); its field gives every component's flow
            from pvae_lib.stokes2d import duct_velocity

            u = duct_velocity(image, boundary="periodic")
            self.solves += 1
            flows = ndimage.sum_labels(u, labels, index=np.arange(1, count + 1))
            for key, _, _, c in parts:
                self._flow.setdefault(key, float(flows[c - 1]))
            return float(u.mean())
        total = 0.0
        for key, dom, pad, _ in parts:
            q = flow.get(key)
            total += q if q is not None else self._solve(key, dom, pad)
        return total / image.size

    def __call__(self, images) -> np.ndarray:
        images = np.asarray(images, dtype=bool)
        if images.ndim == 4 and images.shape[-1] == 1:
            images = images[..., 0]
        if images.ndim != 3:
            raise ValueError(f"expected a stack of 2-D patterns (N, H, W), got shape {images.shape}")
        self.images += len(images)
        n = images.reshape(len(images), -1).mean(axis=1)
        k = np.array([self.k11(im) for im in images], dtype=np.float64)
        return np.column_stack([n, k])


def _keys(images: np.ndarray) -> list[bytes]:
    packed = np.packbits(images.reshape(len(images), -1), axis=1)
    return [row.tobytes() for row in packed]


class PropertyCache:
    """Exact properties of binary images, each distinct image evaluated once.

    Parameters
    ----------
    evaluator : callable ``images (M, ...) bool -> (M, P)`` properties in physical units;
        default :class:`ComponentDuctFlow` (2-D patterns: porosity, K11 in l.u.²).

    Attributes
    ----------
    calls : images passed to ``evaluator`` so far (= distinct images evaluated)
    hits : lookups answered from the cache
    seconds : wall time spent in ``evaluator``
    """

    def __init__(self, evaluator=None):
        self.evaluator = evaluator if evaluator is not None else ComponentDuctFlow()
        self._store: dict[bytes, np.ndarray] = {}
        self.calls = 0
        self.hits = 0
        self.seconds = 0.0

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, key) -> bool:
        """Whether an image (bool array) or its key (packed bits, bytes) is cached."""
        if not isinstance(key, bytes):
            key = _keys(np.asarray(key, dtype=bool)[None])[0]
        return key in self._store

    def __call__(self, images) -> np.ndarray:
        """``(N, P)`` properties of ``images (N, ...)`` bool; new distinct images are evaluated in one batch."""
        images = np.asarray(images, dtype=bool)
        if len(images) == 0:
            return np.zeros((0, getattr(self.evaluator, "n_properties", 2)))
        keys = _keys(images)
        first: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in self._store and key not in first:
                first[key] = i
        if first:
            t0 = time.perf_counter()
            new = np.asarray(self.evaluator(images[list(first.values())]), dtype=np.float64)
            self.seconds += time.perf_counter() - t0
            if new.ndim == 1:
                new = new[:, None]
            if len(new) != len(first):
                raise ValueError(f"evaluator returned {len(new)} rows for {len(first)} images")
            for key, row in zip(first, new):
                self._store[key] = row
            self.calls += len(first)
        self.hits += len(keys) - len(first)
        return np.stack([self._store[key] for key in keys])


@dataclass
class VerifiedSelection:
    """Result of :func:`select_verified` for ``T`` targets with ``C`` candidates each.

    Attributes
    ----------
    targets : (T, P) targets in physical units (porosity [-], K11 [l.u.²], ...)
    index : (T,) chosen candidate of each target (smallest verified error)
    z : (T, d) its latent vector
    images : (T, H, W) bool its binarised decoded structure (True = pore)
    properties : (T, P) its verified (exact) properties, physical units
    error : (T,) its verified scaled error (:func:`scaled_error`)
    all_properties : (T, C, P) verified properties of every candidate
    all_errors : (T, C) verified scaled error of every candidate
    labels : (C,) name of the stage each candidate column comes from
    counts : ``candidates`` (T*C), ``distinct`` (distinct images among them), ``solver_calls``
        (images passed to the evaluator by this call; cached ones are not re-solved),
        ``component_solves`` (sparse solves, :class:`ComponentDuctFlow` only)
    seconds : ``decode``, ``evaluate``, ``total`` wall times [s]
    """

    targets: np.ndarray
    index: np.ndarray
    z: np.ndarray
    images: np.ndarray
    properties: np.ndarray
    error: np.ndarray
    all_properties: np.ndarray
    all_errors: np.ndarray
    labels: np.ndarray
    counts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def error_of(self, choice) -> np.ndarray:
        """(T,) verified error of another choice of candidate per target (e.g. the surrogate's)."""
        choice = np.asarray(choice, dtype=np.int64)
        return self.all_errors[np.arange(len(choice)), choice]

    def properties_of(self, choice) -> np.ndarray:
        """(T, P) verified properties of another choice of candidate per target."""
        choice = np.asarray(choice, dtype=np.int64)
        return self.all_properties[np.arange(len(choice)), choice]


def stack_candidates(direct, *loops):
    """Candidate latents ``(T, C, d)`` and stage labels ``(C,)`` from the gradient stages.

    Parameters
    ----------
    direct : :class:`~pvae_lib.design.inverse.InverseResult` (all ``k`` starts of every target)
    loops : :class:`~pvae_lib.design.inverse.OptimizationResult` with one row per target
        (the loop refinements of the best direct start), optional

    Returns
    -------
    z : (T, k + len(loops), d); labels : ``["direct"] * k + [loop names]``; also the surrogate's
    choice ``(T,)``: the direct stage's best start (today's protocol when no loop is given,
    else the last loop's row).
    """
    z = [np.asarray(direct.z, dtype=np.float32)]
    labels = ["direct"] * direct.z.shape[1]
    for i, res in enumerate(loops):
        rz = np.asarray(res.z, dtype=np.float32)
        if rz.shape != (direct.z.shape[0], direct.z.shape[2]):
            raise ValueError(f"loop result {i} has z of shape {rz.shape}; expected one row per target "
                             f"{(direct.z.shape[0], direct.z.shape[2])}")
        z.append(rz[:, None, :])
        labels.append(f"loop{i}")
    surrogate = direct.best_index() if not loops else np.full(direct.z.shape[0], len(labels) - 1)
    return np.concatenate(z, axis=1), np.asarray(labels), surrogate


def select_verified(model, targets, z, labels=None, evaluator=None, cache: PropertyCache | None = None,
                    scaler="model", threshold: float | None = None, batch_size: int = 1024, rule: str | None = None,
                    progress: bool = False) -> VerifiedSelection:
    """For every target, the candidate whose binarised decoded structure has the smallest exact error.

    Parameters
    ----------
    model : :class:`~pvae_lib.models.pvae.PVAE` (its ``decode`` and ``property_scaler``)
    targets : (T, P) target properties, physical units (porosity [-], K11 [l.u.²], ...)
    z : (T, C, d) candidate latent vectors (e.g. :func:`stack_candidates`); ``(T, d)`` = one each
    labels : (C,) stage names of the candidate columns, optional
    evaluator : callable ``images -> (N, P)`` exact properties (default :class:`ComponentDuctFlow`);
        ignored when ``cache`` is given
    cache : :class:`PropertyCache` to use and fill (shared with later calls), optional
    scaler : scaler for :func:`scaled_error`; ``"model"`` (default) = ``model.property_scaler``,
        ``None`` = unscaled properties
    threshold : binarisation threshold of the decoder output (1 = pore), for ``rule="threshold"``
    rule : how decoded images are binarised (:func:`pvae_lib.binarize.binarize`); default
        :data:`pvae_lib.binarize.DECODED_RULE` (each image keeps its expected porosity)
    batch_size : latent vectors per decoder call

    Returns
    -------
    VerifiedSelection
    """
    from ..binarize import DECODED_RULE, binarize

    rule = DECODED_RULE if rule is None else rule
    t0 = time.perf_counter()
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim == 1:
        targets = targets[None]
    z = np.asarray(z, dtype=np.float32)
    if z.ndim == 2:
        z = z[:, None, :]
    if z.ndim != 3 or len(z) != len(targets):
        raise ValueError(f"z {z.shape} must be (T, C, d) with T = {len(targets)} targets")
    T, C, d = z.shape
    labels = np.asarray(labels if labels is not None else [f"c{j}" for j in range(C)])
    if len(labels) != C:
        raise ValueError(f"{len(labels)} labels for {C} candidate columns")
    cache = cache if cache is not None else PropertyCache(evaluator)
    if isinstance(scaler, str) and scaler == "model":
        scaler = getattr(model, "property_scaler", None)
    flat = z.reshape(T * C, d)
    parts = []
    starts = range(0, len(flat), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="decode candidates", unit="batch")
    for s in starts:
        decoded = model.decode(flat[s:s + batch_size], batch_size=batch_size)
        parts.append(binarize(decoded, rule=rule, threshold=threshold))
    images = np.concatenate(parts, axis=0)
    t_dec = time.perf_counter()
    calls0, solves0 = cache.calls, getattr(cache.evaluator, "solves", 0)
    keys = _keys(images)
    distinct = len(set(keys))
    props = cache(images)
    t_ev = time.perf_counter()
    P = props.shape[1]
    if P != targets.shape[1]:
        raise ValueError(f"evaluator gives {P} properties but targets have {targets.shape[1]}")
    all_props = props.reshape(T, C, P)
    all_err = scaled_error(all_props, targets[:, None, :], scaler)
    filled = np.where(np.isfinite(all_err), all_err, np.inf)
    index = np.argmin(filled, axis=1)
    rows = np.arange(T)
    chosen = rows * C + index
    counts = {"candidates": T * C, "distinct": distinct, "solver_calls": cache.calls - calls0}
    if hasattr(cache.evaluator, "solves"):
        counts["component_solves"] = cache.evaluator.solves - solves0
    seconds = {"decode": t_dec - t0, "evaluate": t_ev - t_dec, "total": time.perf_counter() - t0}
    return VerifiedSelection(targets, index, z[rows, index], images[chosen], all_props[rows, index],
                             all_err[rows, index], all_props, all_err, labels, counts, seconds)
