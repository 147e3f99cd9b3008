"""Exact refinement of synthetic designs in image space: a discrete local search on square pores.

A decoded, binarised design is close to, but seldom exactly, a member of the synthetic family
(:mod:`pvae_lib.data.synthetic`: square pores of ``pore_size`` pixels at integer positions
inside the image, sharing edges at most, never intersecting; porosity
``n = n_pores * pore_size² / image_size²``). This module

1. **snaps** a design into the family (:func:`squares_from_image`): every position of a
   ``pore_size`` window inside the image is scored by the number of pore pixels it covers;
   windows covering at least ``min_fill`` of their area are taken greedily, fullest first (ties
   in raster order), each one only if it does not intersect a square already taken. The
   snapped design *is* the union of the chosen squares, so blurred edges and stray pixels are
   dropped and partly drawn pores completed; the porosity change this causes is reported
   (:attr:`RefineResult.porosity_snap`). An exact union of non-intersecting squares is
   reproduced pixel for pixel (tested on generated samples);
2. **searches** (:func:`refine_designs`) the neighbourhood of the current set of squares:

   * *shift*: move one square by ``±1 .. ±pore_size`` pixels along a row or a column;
   * *add*: one square at any free position (in bounds, intersecting none);
   * *remove*: one square;

   every candidate obeys the generator's rules, and the pore count stays within
   ``n_squares``. The moves of a design are visited in a random order (``numpy.random.Generator``)
   with the moves that correct the pore count first (add when the porosity is more than half a
   pore below the target, remove when above). Each round takes the next ``moves_per_round``
   moves of every active target, evaluates all targets' candidates in one batch with the exact
   evaluator (through a :class:`~pvae_lib.design.verify.PropertyCache`: each distinct image is
   solved once) and accepts, per target, the best candidate if it lowers the verified error
   (:func:`~pvae_lib.design.verify.scaled_error`, the optimiser's loss). A target stops when
   its whole neighbourhood has been tried without improvement (a local optimum), when it has
   used ``max_calls`` evaluations, or when its error is within ``tol`` of the floor that
   whole-pore porosities allow.

The search never accepts a worse design, so the family design it ends with is at most as far
off as the snapped start. It can still be further off than the (out-of-family) input: the
family's porosity comes in whole pores (steps of ``pore_size² / image_size²``), so a target
between two levels is met only up to the nearer level, and snapping can cost more than the
search recovers. With ``keep_input=True`` (the default) such a target keeps its input design -
a structure the solver has measured, only not a union of squares - so refinement never
returns a worse design than it was given (:attr:`RefineResult.kept_input`; the family design
is still in :attr:`RefineResult.corners` and :attr:`RefineResult.error_family`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .verify import PropertyCache, scaled_error

__all__ = [
    "squares_from_image",
    "image_from_squares",
    "free_positions",
    "check_squares",
    "RefineResult",
    "refine_designs",
]

_DIRECTIONS = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]])


def squares_from_image(image, pore_size: int, min_fill: float = 0.5, max_squares: int | None = None) -> np.ndarray:
    """Non-intersecting ``pore_size`` squares that cover the pore pixels of ``image`` (greedy).

    Parameters
    ----------
    image : (H, W) bool, True = pore
    pore_size : edge of a square pore [px]
    min_fill : a window is a candidate when at least this fraction of its pixels is pore
    max_squares : keep at most this many squares (the fullest), optional

    Returns
    -------
    (K, 2) int64 top-left corners ``(row, col)`` in the order taken.
    """
    image = np.asarray(image, dtype=bool)
    s = int(pore_size)
    H, W = image.shape
    if not 1 <= s <= min(H, W):
        raise ValueError(f"pore_size must be in 1..{min(H, W)}, got {pore_size}")
    c = np.pad(np.cumsum(np.cumsum(image, axis=0, dtype=np.int64), axis=1), ((1, 0), (1, 0)))
    counts = c[s:, s:] - c[:-s, s:] - c[s:, :-s] + c[:-s, :-s]  # (H-s+1, W-s+1) pore pixels per window
    need = int(np.ceil(min_fill * s * s - 1e-9))
    r, q = np.nonzero(counts >= max(need, 1))
    order = np.lexsort((q, r, -counts[r, q]))
    blocked = np.zeros(counts.shape, dtype=bool)
    taken = []
    limit = max_squares if max_squares is not None else len(order)
    for i in order:
        rr, cc = int(r[i]), int(q[i])
        if blocked[rr, cc]:
            continue
        taken.append((rr, cc))
        blocked[max(rr - s + 1, 0):rr + s, max(cc - s + 1, 0):cc + s] = True
        if len(taken) >= limit:
            break
    return np.asarray(taken, dtype=np.int64).reshape(-1, 2)


def image_from_squares(corners, shape, pore_size: int) -> np.ndarray:
    """Bool image ``shape`` with a ``pore_size`` square of pore at every corner ``(K, 2)``."""
    image = np.zeros(shape, dtype=bool)
    s = int(pore_size)
    for r, c in np.asarray(corners, dtype=np.int64).reshape(-1, 2):
        image[r:r + s, c:c + s] = True
    return image


def free_positions(corners, shape, pore_size: int) -> np.ndarray:
    """(H-s+1, W-s+1) bool: corners where one more square fits (in bounds, intersecting none)."""
    s = int(pore_size)
    free = np.ones((shape[0] - s + 1, shape[1] - s + 1), dtype=bool)
    for r, c in np.asarray(corners, dtype=np.int64).reshape(-1, 2):
        free[max(r - s + 1, 0):r + s, max(c - s + 1, 0):c + s] = False
    return free


def _intersect(a, b, s: int) -> np.ndarray:
    """Whether squares of edge ``s`` at corners ``a`` and ``b`` (broadcast, last axis (row, col)) intersect.

    The generator's rule (:func:`pvae_lib.data.synthetic.place_squares`): both offsets below ``s``;
    sharing an edge is allowed.
    """
    return (np.abs(a - b) < s).all(-1)


def check_squares(corners, shape, pore_size: int) -> None:
    """Raise ``ValueError`` unless the squares obey the generator's rules (in bounds, no intersection)."""
    corners = np.asarray(corners, dtype=np.int64).reshape(-1, 2)
    s = int(pore_size)
    if len(corners) and ((corners < 0).any() or (corners[:, 0] > shape[0] - s).any() or (corners[:, 1] > shape[1] - s).any()):
        raise ValueError("a square lies (partly) outside the image")
    clash = _intersect(corners[:, None, :], corners[None, :, :], s)
    np.fill_diagonal(clash, False)
    if clash.any():
        raise ValueError("two squares intersect")


def _moves(corners, shape, s, n_min, n_max, pore_gap, rng):
    """All moves of one state as an (M, 4) int array ``(kind, square, row, col)``, in search order.

    kind 0 = shift square to (row, col), 1 = add a square at (row, col), 2 = remove square.
    """
    K = len(corners)
    groups = {}
    # shifts: 4 directions x distances 1..s per square
    if K:
        steps = (_DIRECTIONS[None, :, :] * np.arange(1, s + 1)[:, None, None]).reshape(-1, 2)  # (4s, 2)
        new = corners[:, None, :] + steps[None]  # (K, 4s, 2)
        inside = (new >= 0).all(-1) & (new[..., 0] <= shape[0] - s) & (new[..., 1] <= shape[1] - s)
        clash = _intersect(new[:, :, None, :], corners[None, None, :, :], s)  # (K, 4s, K)
        clash[np.arange(K), :, np.arange(K)] = False  # a square never clashes with its old self
        ok = inside & ~clash.any(-1)
        i, j = np.nonzero(ok)
        groups["shift"] = np.column_stack([np.zeros_like(i), i, new[i, j, 0], new[i, j, 1]])
    if K < n_max:
        r, c = np.nonzero(free_positions(corners, shape, s))
        groups["add"] = np.column_stack([np.ones_like(r), np.full_like(r, -1), r, c])
    if K > n_min:
        i = np.arange(K)
        groups["remove"] = np.column_stack([np.full_like(i, 2), i, np.zeros_like(i), np.zeros_like(i)])
    # pore-count corrections first, then shifts, then the rest
    first = "add" if pore_gap >= 0.5 else "remove" if pore_gap <= -0.5 else "shift"
    order = [first] + [g for g in ("shift", "add", "remove") if g != first]
    parts = [rng.permutation(groups[g]) for g in order if g in groups and len(groups[g])]
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, 4), dtype=np.int64)


def _apply(corners, move):
    kind, i, r, c = (int(v) for v in move)
    if kind == 0:
        out = corners.copy()
        out[i] = (r, c)
        return out
    if kind == 1:
        return np.vstack([corners, [[r, c]]])
    return np.delete(corners, i, axis=0)


def _apply_image(image, corners, move, s):
    """The image after ``move`` (squares never intersect, so clearing one square's pixels is exact)."""
    kind, i, r, c = (int(v) for v in move)
    out = image.copy()
    if kind != 1:
        r0, c0 = corners[i]
        out[r0:r0 + s, c0:c0 + s] = False
    if kind != 2:
        out[r:r + s, c:c + s] = True
    return out


@dataclass
class RefineResult:
    """Outcome of :func:`refine_designs` for ``T`` targets.

    Attributes
    ----------
    targets : (T, P) targets, physical units (porosity [-], K11 [l.u.²])
    images : (T, H, W) bool refined designs: the union of the squares below, or the input design
        where :attr:`kept_input`
    corners : list of T arrays (K_t, 2): top-left corners of the square pores of the best design
        the search found in the family (``image_from_squares(corners[t], ...)``)
    properties : (T, P) verified properties of the refined designs
    error : (T,) their verified scaled error (``min(error_family, error_input)`` when the input is kept)
    error_family : (T,) verified error of the search's family design
    kept_input : (T,) bool, the input design was returned because it is closer to the target than
        the best family design (``keep_input=True``)
    error_input : (T,) verified error of the input designs (before snapping)
    error_snapped : (T,) verified error right after snapping (the start of the search)
    error_floor : (T,) smallest error the family allows (nearest whole-pore porosity, other
        properties exact)
    porosity_snap : (T,) porosity change caused by snapping (snapped - input)
    solver_calls : (T,) exact evaluations requested by each target that were not cached yet
    accepted : (T,) accepted moves; stop : (T,) ``"local_optimum"``, ``"budget"``, ``"tol"``,
        ``"max_rounds"``
    rounds : search rounds; seconds : ``snap``, ``search``, ``evaluate``, ``total`` [s]
    """

    targets: np.ndarray
    images: np.ndarray
    corners: list
    properties: np.ndarray
    error: np.ndarray
    error_family: np.ndarray
    kept_input: np.ndarray
    error_input: np.ndarray
    error_snapped: np.ndarray
    error_floor: np.ndarray
    porosity_snap: np.ndarray
    solver_calls: np.ndarray
    accepted: np.ndarray
    stop: np.ndarray
    rounds: int
    seconds: dict = field(default_factory=dict)

    def summary(self) -> dict:
        stops, counts = np.unique(self.stop, return_counts=True)
        return {"targets": len(self.targets), "median_error_input": float(np.median(self.error_input)),
                "median_error_snapped": float(np.median(self.error_snapped)),
                "median_error_family": float(np.median(self.error_family)),
                "median_error": float(np.median(self.error)), "kept_input": int(self.kept_input.sum()),
                "solver_calls": int(self.solver_calls.sum()),
                "mean_abs_porosity_snap": float(np.abs(self.porosity_snap).mean()), "rounds": self.rounds,
                **{f"stopped_{k}": int(v) for k, v in zip(stops, counts)},
                "seconds": round(self.seconds.get("total", 0.0), 2)}


def refine_designs(images, targets, scaler, pore_size: int, evaluator=None, cache: PropertyCache | None = None,
                   max_calls: int = 200, moves_per_round: int = 16, max_rounds: int = 1000, tol: float = 0.0,
                   n_squares=(1, None), min_fill: float = 0.5, keep_input: bool = True, rng=None,
                   progress: bool = False) -> RefineResult:
    """Refine binarised designs by exact local search over their square pores (module docstring).

    Parameters
    ----------
    images : (T, H, W) bool designs (True = pore), one per target
    targets : (T, P) targets in physical units (porosity [-], K11 [l.u.²], ...)
    scaler : min-max scaler of the properties (``model.property_scaler``) or a model with one;
        the error is :func:`~pvae_lib.design.verify.scaled_error`
    pore_size : edge of the square pores [px] (``profile.data.synthetic_pore_size``)
    evaluator : exact ``images -> (N, P)``; default :class:`~pvae_lib.design.verify.ComponentDuctFlow`
        (porosity, K11); ignored when ``cache`` is given
    cache : :class:`~pvae_lib.design.verify.PropertyCache` to use and fill, optional
    max_calls : evaluation budget per target (uncached candidate images)
    moves_per_round : candidate moves per target and round (the batch is ``T * moves_per_round``)
    max_rounds : hard cap on rounds
    tol : a target stops once its error is within ``tol`` of the smallest error it can reach: the
        porosity of a design is a whole number of pores, so the floor is the error of the nearest
        attainable porosity with the other properties met (:attr:`RefineResult.error_floor`);
        0 = spend the whole budget
    n_squares : ``(min, max)`` pore count of a design (the generator's ``min_pores, max_pores``);
        ``None`` = no bound (max: as many as fit)
    min_fill : snapping threshold (:func:`squares_from_image`)
    keep_input : return a target's input design where its verified error is lower than that of the
        best family design (module docstring); ``False`` = always the family design
    rng : ``numpy.random.Generator`` or seed for the move order
    progress : show a tqdm bar over rounds

    Returns
    -------
    RefineResult
    """
    t0 = time.perf_counter()
    images = np.asarray(images, dtype=bool)
    if images.ndim != 3:
        raise ValueError(f"images must be (T, H, W) patterns, got shape {images.shape}")
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim == 1:
        targets = targets[None]
    if len(targets) != len(images):
        raise ValueError(f"{len(images)} images for {len(targets)} targets")
    if max_calls < 0 or moves_per_round < 1 or max_rounds < 0:
        raise ValueError("need max_calls >= 0, moves_per_round >= 1, max_rounds >= 0")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    cache = cache if cache is not None else PropertyCache(evaluator)
    s = int(pore_size)
    T, H, W = images.shape
    shape = (H, W)
    n_min = 0 if n_squares[0] is None else int(n_squares[0])
    n_max = H * W if n_squares[1] is None else int(n_squares[1])
    pore_area = s * s / (H * W)
    calls_before = cache.calls
    # the porosity of a design is a whole number of pores: the nearest attainable level, with every
    # other property met, gives the smallest error a target can reach (property 0 = porosity)
    levels = np.arange(n_min, min(n_max, (H // s) * (W // s)) + 1) * pore_area
    attainable = targets.copy()
    if len(levels):
        attainable[:, 0] = levels[np.argmin(np.abs(levels[None, :] - targets[:, :1]), axis=1)]
    floor = scaled_error(attainable, targets, scaler)

    props_in = cache(images)
    err_in = scaled_error(props_in, targets, scaler)
    corners = [squares_from_image(im, s, min_fill=min_fill, max_squares=n_max) for im in images]
    current = np.stack([image_from_squares(c, shape, s) for c in corners]) if T else images.copy()
    props = cache(current)
    err = scaled_error(props, targets, scaler)
    err_snap = err.copy()
    por_snap = np.array([len(c) for c in corners]) * s * s / (H * W) - images.reshape(T, -1).mean(axis=1)
    t_snap = time.perf_counter()
    calls = np.zeros(T, dtype=np.int64)
    accepted = np.zeros(T, dtype=np.int64)
    stop = np.full(T, "", dtype=object)
    stop[err < floor + tol] = "tol"

    def neighbourhood(t):
        gap = (targets[t, 0] - props[t, 0]) / pore_area  # porosity gap in pores (property 0 = porosity)
        return _moves(corners[t], shape, s, n_min, n_max, gap, rng)

    moves = [neighbourhood(t) if not stop[t] else None for t in range(T)]
    pointer = np.zeros(T, dtype=np.int64)
    rounds = 0
    t_eval = 0.0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_rounds, desc="refine (exact local search)", unit="round")
    while rounds < max_rounds:
        active = [t for t in range(T) if not stop[t]]
        if not active:
            break
        owners, cand_corners, cand_images = [], [], []
        for t in active:
            left = max_calls - calls[t]
            if left <= 0:
                stop[t] = "budget"
                continue
            if pointer[t] >= len(moves[t]):
                stop[t] = "local_optimum"
                continue
            take = moves[t][pointer[t]:pointer[t] + min(moves_per_round, left)]
            pointer[t] += len(take)
            for mv in take:
                owners.append(t)
                cand_corners.append(_apply(corners[t], mv))
                cand_images.append(_apply_image(current[t], corners[t], mv, s))
        if not owners:
            break
        rounds += 1
        owners = np.asarray(owners)
        batch = np.stack(cand_images)
        known = np.array([k in cache for k in _batch_keys(batch)])
        t1 = time.perf_counter()
        p = cache(batch)
        t_eval += time.perf_counter() - t1
        np.add.at(calls, owners[~known], 1)
        e = scaled_error(p, targets[owners], scaler)
        e = np.where(np.isfinite(e), e, np.inf)
        for t in np.unique(owners):
            rows = np.flatnonzero(owners == t)
            best = rows[np.argmin(e[rows])]
            if e[best] < err[t]:
                corners[t], current[t], props[t], err[t] = cand_corners[best], cand_images[best], p[best], e[best]
                accepted[t] += 1
                if err[t] < floor[t] + tol:
                    stop[t] = "tol"
                else:
                    moves[t], pointer[t] = neighbourhood(t), 0
        if bar is not None:
            bar.update(1)
            bar.set_postfix(active=len(np.unique(owners)), median_error=f"{np.median(err):.2e}")
    if bar is not None:
        bar.close()
    stop[stop == ""] = "max_rounds"
    err_family = err.copy()
    kept = (err_in < err_family) if keep_input else np.zeros(T, dtype=bool)
    current[kept], props[kept], err[kept] = images[kept], props_in[kept], err_in[kept]
    t_end = time.perf_counter()
    seconds = {"snap": t_snap - t0, "search": t_end - t_snap, "evaluate": t_eval, "total": t_end - t0,
               "solver_calls_total": cache.calls - calls_before}
    return RefineResult(targets, current, corners, props, err, err_family, kept, err_in, err_snap, floor,
                        por_snap, calls, accepted,
                        stop.astype(str), rounds, seconds)


def _batch_keys(images):
    from .verify import _keys

    return _keys(images)
