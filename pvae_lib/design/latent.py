"""Reading the latent space of a (p)VAE: KDE per dimension, PCA, correlations.

Paper Section 4.3, Figs. 8-11. The functions here work on latent means, not on a model: encode
and decode with the model's own methods, :meth:`PVAE.encode_mean <pvae_lib.models.pvae.PVAE.encode_mean>`
(images (N, H, W[, D]) -> (N, d)) and :meth:`PVAE.decode <pvae_lib.models.pvae.PVAE.decode>`
(latent vectors (N, d) -> images (N, H, W[, D]) in [0, 1]).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "latent_kde_curves",
    "LatentPCA",
    "pc_property_correlation",
    "group_separation",
]


def latent_kde_curves(mu, points: int = 200, max_samples: int | None = 5000, rng=None,
                      grid=None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian KDE of every latent dimension (paper Fig. 8).

    Parameters
    ----------
    mu : array_like, (N, d)
        Latent means of a data set.
    points : int
        Grid points (ignored when ``grid`` is given).
    max_samples : int or None
        Random subsample for speed (KDE cost is N x points per dimension).
    rng : numpy.random.Generator, optional
        For the subsample (default: seed 0).
    grid : array_like, optional
        Evaluation grid; default spans all dimensions with a 10 % margin.

    Returns
    -------
    grid : (points,) ; density : (d, points)
    """
    from scipy.stats import gaussian_kde

    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2 or len(mu) < 2:
        raise ValueError(f"mu must be (N >= 2, d), got shape {mu.shape}")
    if max_samples is not None and len(mu) > max_samples:
        rng = rng if rng is not None else np.random.default_rng(0)
        mu = mu[rng.choice(len(mu), max_samples, replace=False)]
    if grid is None:
        lo, hi = mu.min(), mu.max()
        pad = 0.1 * (hi - lo + 1e-12)
        grid = np.linspace(lo - pad, hi + pad, points)
    grid = np.asarray(grid, dtype=np.float64)
    dens = np.zeros((mu.shape[1], len(grid)))
    for j in range(mu.shape[1]):
        col = mu[:, j]
        if np.ptp(col) < 1e-12:  # collapsed dimension: KDE undefined, show a spike
            dens[j, np.argmin(np.abs(grid - col[0]))] = 1.0 / (grid[1] - grid[0])
            continue
        dens[j] = gaussian_kde(col)(grid)
    return grid, dens


class LatentPCA:
    """Principal component analysis by SVD of the centred data (numpy only).

    Attributes after :meth:`fit`: ``mean_`` (d,), ``components_`` (k, d) rows = principal axes,
    ``explained_variance_`` (k,), ``explained_variance_ratio_`` (k,), ``singular_values_``.
    Component signs are fixed so that the largest-magnitude loading of each axis is positive.
    """

    def __init__(self, n_components: int | None = None):
        self.n_components = n_components

    def fit(self, X) -> "LatentPCA":
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or len(X) < 2:
            raise ValueError(f"X must be (N >= 2, d), got shape {X.shape}")
        k = min(X.shape) if self.n_components is None else int(self.n_components)
        if not 1 <= k <= min(X.shape):
            raise ValueError(f"n_components must be in 1..{min(X.shape)}, got {k}")
        self.mean_ = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
        signs[signs == 0] = 1.0
        vt = vt * signs[:, None]
        var = s**2 / (len(X) - 1)
        total = var.sum()
        self.components_ = vt[:k]
        self.singular_values_ = s[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = var[:k] / total if total > 0 else np.zeros(k)
        return self

    def transform(self, X) -> np.ndarray:
        """Scores (N, k) of ``X`` on the principal axes."""
        if not hasattr(self, "components_"):
            raise RuntimeError("LatentPCA is not fitted; call fit(X) first")
        return (np.asarray(X, dtype=np.float64) - self.mean_) @ self.components_.T

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, scores) -> np.ndarray:
        return np.asarray(scores) @ self.components_ + self.mean_


def pc_property_correlation(scores, properties, property_names=("n", "k11"), n_components: int = 10):
    """Pearson correlation of the first principal components with properties (paper Fig. 11).

    Parameters
    ----------
    scores : (N, k) PCA scores
    properties : (N, P) property values (e.g. porosity, K11)

    Returns
    -------
    pandas.DataFrame, index ``PC1..PCm``, one column per property.
    """
    import pandas as pd

    scores = np.asarray(scores, dtype=np.float64)
    props = np.asarray(properties, dtype=np.float64)
    if props.ndim == 1:
        props = props[:, None]
    if len(scores) != len(props):
        raise ValueError(f"scores and properties differ in length: {len(scores)} vs {len(props)}")
    if props.shape[1] != len(property_names):
        raise ValueError(f"{props.shape[1]} property columns but names {property_names}")
    m = min(n_components, scores.shape[1])
    s = scores[:, :m] - scores[:, :m].mean(axis=0)
    p = props - props.mean(axis=0)
    denom = np.sqrt((s**2).sum(axis=0))[:, None] * np.sqrt((p**2).sum(axis=0))[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(denom > 0, (s.T @ p) / np.where(denom > 0, denom, 1.0), 0.0)
    return pd.DataFrame(corr, index=[f"PC{i + 1}" for i in range(m)], columns=list(property_names))


def group_separation(scores, groups) -> float:
    """Share of the variance of ``scores`` that lies between the groups (e.g. strain levels): 0 to 1.

    ``1 - sum over groups of the squared distances to the group's centroid / total sum of squared
    distances to the overall centroid``: 1 means every group sits on one point (separated
    clusters), 0 means every group has the overall centroid (the groups overlap completely). It
    is the ``R²`` of predicting each point by its group's centroid.

    Parameters
    ----------
    scores : (N, k) points, e.g. PCA scores of latent means
    groups : (N,) group label of each point

    Returns
    -------
    float
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    groups = np.asarray(groups)
    if len(groups) != len(scores):
        raise ValueError(f"scores and groups differ in length: {len(scores)} vs {len(groups)}")
    total = float(((scores - scores.mean(axis=0)) ** 2).sum())
    if total == 0:
        raise ValueError("all points coincide: the separation is undefined")
    within = sum(float(((scores[groups == g] - scores[groups == g].mean(axis=0)) ** 2).sum())
                 for g in np.unique(groups))
    return 1.0 - within / total
