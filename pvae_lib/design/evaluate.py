"""Properties of designed structures and how well they meet their targets (paper Figs. 16-17).

Two ways to measure a design (decoded and binarised by :data:`pvae_lib.binarize.DECODED_RULE`):

* the CNN surrogate (paper Section 3.1) - the paper's protocol;
* the exact physics: porosity counted on the image (paper Eq. 1) and K11 from the duct-flow
  solver :func:`pvae_lib.stokes2d.stokes2d_permeability` (the synthetic structures are
  extruded, so fully developed 2-D duct flow is exact).

Feasibility: a target is *feasible* when it lies inside the region of property space that the
training data cover; see :func:`feasible_mask` (the band of the (n, K11) plane for two
properties, the training points' neighbourhood for any number).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "exact_properties",
    "surrogate_properties",
    "r2_scores",
    "feasible_mask",
    "evaluate_designs",
    "log_mse",
    "feasibility_envelope",
    "nearest_feasible",
    "neighbour_radius",
]


def exact_properties(images, n_jobs: int = 1, solver=None, progress: bool = True) -> dict:
    """Porosity and exact K11 (l.u.², periodic duct flow) of binary 2-D cross-sections.

    Parameters
    ----------
    images : (N, H, W) bool, True = pore
    n_jobs : worker processes, passed to :func:`pvae_lib.data.labels.label_images` (which
        picks a start method that is safe with TensorFlow loaded). The solver takes ~2.5 ms per
        40 x 40 image, so processes pay off only for thousands of images.
    solver : callable(image) -> K, optional
        Replaces :func:`pvae_lib.stokes2d.stokes2d_permeability` (runs in this process).

    Returns
    -------
    dict with ``"n"`` (N,) and ``"k11"`` (N,) arrays. A design without pore pixels has K11 = 0.
    """
    from tqdm.auto import tqdm

    from pvae_lib.data.labels import label_images
    from pvae_lib.data.properties import permeability_column

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected a stack of 2-D images (N, H, W), got shape {images.shape}")
    images = images.astype(bool)
    n = images.reshape(len(images), -1).mean(axis=1)
    k = np.zeros(len(images))  # no pore: no flow
    has_pores = n > 0
    if solver is not None:
        k[has_pores] = [float(solver(im)) for im in
                        tqdm(images[has_pores], desc="exact K11", unit="img", disable=not progress)]
    elif has_pores.any():
        table = label_images(images[has_pores], solver="stokes2d", axes=(0,), workers=n_jobs, progress=progress)
        k[has_pores] = table[permeability_column(0)].to_numpy()
    return {"n": n, "k11": k}


def surrogate_properties(cnn, images, batch_size: int = 256) -> np.ndarray:
    """(N, 2) porosity and K11 predicted by the CNN surrogate (paper Section 3.1).

    ``cnn`` may be what :func:`pvae_lib.experiments.zoo.get_trained_cnn` returns - an object with
    ``(model, scaler, info)``; also a ``(model, scaler)`` pair, an object with ``.model`` and
    ``.scaler`` (:class:`~pvae_lib.models.cnn.CNNResult`), or any callable
    ``images -> (N, 2)`` in physical units.
    """
    images = np.asarray(images)
    model = scaler = None
    if isinstance(cnn, (tuple, list)) and len(cnn) in (2, 3):
        model, scaler = cnn[0], cnn[1]
    elif hasattr(cnn, "model") and hasattr(cnn, "scaler"):
        model, scaler = cnn.model, cnn.scaler
    if model is not None:
        from pvae_lib.models.cnn import predict_cnn

        return np.asarray(predict_cnn(model, scaler, images.astype(np.float32), batch_size=batch_size))
    if callable(cnn):
        return np.asarray(cnn(images))
    raise TypeError(f"cannot use {type(cnn).__name__} as a CNN surrogate: pass a CNNResult, (model, scaler) or a callable")


def r2_scores(y_true, y_pred) -> np.ndarray:
    """R² per column (paper Eq. 12), ignoring rows with NaN."""
    from pvae_lib.models.metrics import r2_score

    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    t2 = t[:, None] if t.ndim == 1 else t
    p2 = p[:, None] if p.ndim == 1 else p
    ok = np.all(np.isfinite(t2), axis=1) & np.all(np.isfinite(p2), axis=1)
    return r2_score(t2[ok], p2[ok])


def log_mse(targets, achieved) -> np.ndarray:
    """log10 of the summed squared errors of porosity and K11 per design (paper Fig. 16 colour)."""
    err = (np.asarray(achieved, dtype=np.float64) - np.asarray(targets, dtype=np.float64)) ** 2
    return np.log10(err.sum(axis=1) + 1e-30)


def feasible_mask(targets, train_properties, method: str | None = None, quantiles=(0.005, 0.995),
                  n_bins: int = 30, min_count: int = 5, neighbour_quantile: float = 0.99) -> np.ndarray:
    """Which targets lie in the part of property space covered by the training data.

    Parameters
    ----------
    targets : (T, P) target properties (porosity [-], permeabilities [l.u.²], in the order of
        ``train_properties``' columns)
    train_properties : (N, P) the training data's properties
    method : ``"envelope"`` (the default for P = 2: porosity, K11), ``"hull"`` (P = 2) or
        ``"neighbours"`` (the default for any other P)
        ``"envelope"``: per porosity level, the K11 range between the ``quantiles`` of the
        training samples at that level; the lower and upper envelopes are interpolated
        linearly in n, and a target is feasible when ``n`` lies within the training porosity
        range and its K11 between the envelopes. Porosity levels are the distinct training
        porosities when there are at most ``n_bins`` of them (the synthetic set: n is quantised
        by the pore count), else ``n_bins`` equal-count bins. Levels with fewer than
        ``min_count`` samples are dropped.
        ``"hull"``: inside the convex hull of the (min-max scaled) training points - simpler,
        but it also accepts the empty corners of a curved band.
        ``"neighbours"``: inside the training range and within :func:`neighbour_radius` of a
        training point, after min-max scaling by the training range (any number of properties:
        n, K11, K22, K33, ...).
    neighbour_quantile : for ``"neighbours"``, see :func:`neighbour_radius`

    See Also
    --------
    nearest_feasible : the feasible target nearest each target, by the same rule
    """
    t = np.asarray(targets, dtype=np.float64)
    p = np.asarray(train_properties, dtype=np.float64)
    if t.ndim != 2 or p.ndim != 2 or t.shape[1] != p.shape[1]:
        raise ValueError(f"targets {t.shape} and train_properties {p.shape} must be (T, P) and (N, P)")
    method = _method(method, p.shape[1])
    if method == "neighbours":
        return _neighbours(t, p, neighbour_quantile)["inside"]
    if method == "hull":
        from scipy.spatial import Delaunay

        lo, span = _range(p)
        tri = Delaunay((p - lo) / span)
        return tri.find_simplex((t - lo) / span) >= 0
    centers, lower, upper = feasibility_envelope(p, quantiles=quantiles, n_bins=n_bins, min_count=min_count)
    inside_n = (t[:, 0] >= centers.min()) & (t[:, 0] <= centers.max())
    lo_k = np.interp(t[:, 0], centers, lower)
    hi_k = np.interp(t[:, 0], centers, upper)
    return inside_n & (t[:, 1] >= lo_k) & (t[:, 1] <= hi_k)


def _method(method, n_properties: int) -> str:
    """The feasibility rule: ``method``, checked, or the default for ``n_properties`` columns."""
    if method is None:
        return "envelope" if n_properties == 2 else "neighbours"
    if method not in ("envelope", "hull", "neighbours"):
        raise ValueError(f"method must be 'envelope', 'hull' or 'neighbours', got {method!r}")
    if method != "neighbours" and n_properties != 2:
        raise ValueError(f"method {method!r} works on two properties (porosity, K11); for {n_properties} "
                         "use 'neighbours'")
    return method


def _range(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower end and span (1 where a column is constant) of the training properties ``p``."""
    lo, span = p.min(0), np.ptp(p, 0)
    return lo, np.where(span > 0, span, 1.0)


def neighbour_radius(train_properties, quantile: float = 0.99) -> float:
    """How far from a training point a target still counts as covered (``"neighbours"`` rule).

    The ``quantile`` of the distances from each training point to its nearest other training
    point, in min-max scaled property space (dimensionless): a target closer than this to the
    data is no farther from it than 99 % of the training points are from each other.

    Parameters
    ----------
    train_properties : (N, P) the training data's properties, N >= 2
    quantile : in (0, 1]
    """
    p = np.asarray(train_properties, dtype=np.float64)
    return _neighbours(p[:0], p, quantile)["radius"]


def _neighbours(t: np.ndarray, p: np.ndarray, quantile: float) -> dict:
    """The ``"neighbours"`` rule for targets ``t`` and training points ``p``, with one KD-tree.

    Returns ``inside`` (T,) feasible, ``targets`` and ``points`` min-max scaled by the training
    range, each target's nearest training point (``index``) and its scaled ``distance``, and the
    ``radius`` (:func:`neighbour_radius`).
    """
    if p.ndim != 2 or len(p) < 2:
        raise ValueError(f"need at least two training points (N, P), got shape {p.shape}")
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile must lie in (0, 1], got {quantile}")
    from scipy.spatial import cKDTree

    lo, span = _range(p)
    points, targets = (p - lo) / span, (t - lo) / span
    tree = cKDTree(points)
    distance, index = tree.query(targets)
    spacing, _ = tree.query(points, k=2)  # each training point's distance to its nearest other one
    radius = float(np.quantile(spacing[:, 1], quantile))
    inside = np.all((t >= p.min(0)) & (t <= p.max(0)), axis=1) & (distance <= radius)
    return {"inside": inside, "targets": targets, "points": points, "index": index, "distance": distance,
            "radius": radius}


def feasibility_envelope(train_properties, quantiles=(0.005, 0.995), n_bins: int = 30,
                         min_count: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The K11 band of the training data per porosity level (see :func:`feasible_mask`).

    Returns
    -------
    centers : (L,) porosity levels [-]; lower, upper : (L,) K11 quantiles at each level [l.u.²]
    """
    p = np.asarray(train_properties, dtype=np.float64)
    n, k = p[:, 0], p[:, 1]
    levels = np.unique(np.round(n, 9))
    centers, lower, upper = [], [], []
    if len(levels) <= n_bins:
        groups = [np.isclose(n, lv, atol=1e-9) for lv in levels]
    else:
        edges = np.quantile(n, np.linspace(0, 1, n_bins + 1))
        which = np.clip(np.searchsorted(edges, n, side="right") - 1, 0, n_bins - 1)
        groups = [which == b for b in range(n_bins)]
    for g in groups:
        if g.sum() < min_count:
            continue
        centers.append(n[g].mean())
        lower.append(np.quantile(k[g], quantiles[0]))
        upper.append(np.quantile(k[g], quantiles[1]))
    if not centers:
        raise ValueError("too few training samples per porosity level to build the feasibility envelope")
    return np.asarray(centers), np.asarray(lower), np.asarray(upper)


def nearest_feasible(targets, train_properties, points: int = 2001, method: str | None = None,
                     neighbour_quantile: float = 0.99, **envelope) -> np.ndarray:
    """The feasible target (:func:`feasible_mask`) nearest each target.

    Distance is measured after min-max scaling by the training range, so all properties weigh
    alike. A feasible target is returned unchanged.

    Parameters
    ----------
    targets : (T, P) target properties, columns as in ``train_properties``
    train_properties : (N, P) the training data's properties
    points : for ``"envelope"``, porosity grid points searched between the lowest and highest level
    method : ``"envelope"`` (default for P = 2: porosity, K11) or ``"neighbours"`` (default for
        any other P: the point of the nearest training point's ball of radius
        :func:`neighbour_radius` that is closest to the target - exact, as all balls have one radius -
        moved back along the same ray where it would leave the training range)
    neighbour_quantile : for ``"neighbours"``, see :func:`neighbour_radius`
    envelope : ``quantiles``, ``n_bins``, ``min_count`` as in :func:`feasible_mask`

    Returns
    -------
    (T, P) nearest feasible targets
    """
    t = np.atleast_2d(np.asarray(targets, dtype=np.float64))
    p = np.asarray(train_properties, dtype=np.float64)
    method = _method(method, p.shape[1])
    if method == "hull":
        raise ValueError("nearest_feasible supports 'envelope' and 'neighbours'")
    lo, span = _range(p)
    out = t.copy()
    if method == "neighbours":
        near = _neighbours(t, p, neighbour_quantile)
        inside = near["inside"]
        if inside.all():
            return out
        radius = near["radius"] * (1 - 1e-9)  # strictly inside the ball
        ts, ps = near["targets"][~inside], near["points"]
        d, j = near["distance"][~inside], near["index"][~inside]
        step = (ts - ps[j]) * (radius / d)[:, None]
        # shortened where the ball leaves the training range (the scaled unit box): still inside both
        room = np.where(step > 0, (1 - ps[j]) / np.where(step > 0, step, 1),
                        np.where(step < 0, -ps[j] / np.where(step < 0, step, -1), np.inf))
        scale = np.clip(room.min(axis=1), 0.0, 1.0)
        out[~inside] = np.clip((ps[j] + step * scale[:, None]) * span + lo, p.min(0), p.max(0))  # round-off
        return out
    centers, lower, upper = feasibility_envelope(p, **envelope)
    grid_n = np.unique(np.concatenate([np.linspace(centers.min(), centers.max(), points), centers]))
    grid_lo, grid_hi = np.interp(grid_n, centers, lower), np.interp(grid_n, centers, upper)
    inside = feasible_mask(t, p, **envelope)
    for i in np.flatnonzero(~inside):
        k = np.clip(t[i, 1], grid_lo, grid_hi)
        d2 = ((grid_n - t[i, 0]) / span[0]) ** 2 + ((k - t[i, 1]) / span[1]) ** 2
        j = int(np.argmin(d2))
        out[i] = grid_n[j], k[j]
    return out


def evaluate_designs(images, targets, cnn=None, exact: bool = True, regressor_pred=None,
                     feasible=None, n_jobs: int = 1, progress: bool = True):
    """Table of every design: targets, properties by surrogate / exact solver / regressor, log-MSE.

    Parameters
    ----------
    images : (T, H, W) bool binarised designs (one per target)
    targets : (T, 2) porosity, K11
    cnn : CNN surrogate (see :func:`surrogate_properties`), optional
    exact : compute porosity and K11 with the exact solver
    regressor_pred : (T, 2) the pVAE regressor's own prediction, optional
    feasible : (T,) bool from :func:`feasible_mask`, optional

    Returns
    -------
    pandas.DataFrame with columns ``n_target, k11_target`` and, as available,
    ``n_surrogate, k11_surrogate, log_mse_surrogate, n_exact, k11_exact, log_mse_exact,
    n_regressor, k11_regressor, feasible``.
    """
    import pandas as pd

    targets = np.asarray(targets, dtype=np.float64)
    df = pd.DataFrame({"n_target": targets[:, 0], "k11_target": targets[:, 1]})
    if cnn is not None:
        s = surrogate_properties(cnn, images)
        df["n_surrogate"], df["k11_surrogate"] = s[:, 0], s[:, 1]
        df["log_mse_surrogate"] = log_mse(targets, s)
    if exact:
        e = exact_properties(images, n_jobs=n_jobs, progress=progress)
        df["n_exact"], df["k11_exact"] = e["n"], e["k11"]
        df["log_mse_exact"] = log_mse(targets, np.column_stack([e["n"], e["k11"]]))
    if regressor_pred is not None:
        r = np.asarray(regressor_pred)
        df["n_regressor"], df["k11_regressor"] = r[:, 0], r[:, 1]
    if feasible is not None:
        df["feasible"] = np.asarray(feasible, dtype=bool)
    return df
