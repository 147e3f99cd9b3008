"""Latent-space analysis: PCA, correlations, KDE (paper Figs. 8-11)."""
import numpy as np
import pytest

from pvae_lib.design.evaluate import feasible_mask, log_mse
from pvae_lib.design.latent import LatentPCA, latent_kde_curves, pc_property_correlation


def _structured(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    # latent data with a known dominant direction (std 5) and a weaker one (std 2), 8-D
    a, b = rng.normal(0, 5, n), rng.normal(0, 2, n)
    noise = rng.normal(0, 0.1, (n, 8))
    u = np.zeros(8); u[0] = u[1] = np.sqrt(0.5)
    w = np.zeros(8); w[2] = 1.0
    X = a[:, None] * u + b[:, None] * w + noise + 3.0
    return X, a, b, u


def test_pca_recovers_known_axes_and_variance():
    X, a, b, u = _structured()
    pca = LatentPCA(n_components=3).fit(X)
    assert abs(abs(pca.components_[0] @ u) - 1) < 1e-3
    np.testing.assert_allclose(pca.explained_variance_[:2], [a.var(ddof=1), b.var(ddof=1)], rtol=0.05)
    assert pca.explained_variance_ratio_[0] > 0.8
    scores = pca.transform(X)
    assert scores.shape == (len(X), 3)
    np.testing.assert_allclose(scores.mean(0), 0, atol=1e-9)
    full = LatentPCA().fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-9)


def test_pc_property_correlation_known():
    X, a, b, _ = _structured()
    scores = LatentPCA().fit_transform(X)
    props = np.column_stack([a, -b])
    corr = pc_property_correlation(scores, props, ("n", "k11"), n_components=4)
    assert list(corr.index) == ["PC1", "PC2", "PC3", "PC4"]
    assert abs(corr.loc["PC1", "n"]) > 0.99 and abs(corr.loc["PC2", "k11"]) > 0.99
    assert abs(corr.loc["PC1", "k11"]) < 0.1 and abs(corr.loc["PC3", "n"]) < 0.1
    with pytest.raises(ValueError, match="length"):
        pc_property_correlation(scores[:5], props, ("n", "k11"))


def test_pca_unfitted_and_bad_shape():
    with pytest.raises(RuntimeError, match="not fitted"):
        LatentPCA().transform(np.zeros((3, 2)))
    with pytest.raises(ValueError):
        LatentPCA().fit(np.zeros(5))


def test_kde_curves_integrate_to_one():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(500, 3)) * [1, 2, 0.5]
    mu[:, 2] = 0.0  # a collapsed dimension must not break
    grid, dens = latent_kde_curves(mu, points=400)
    assert dens.shape == (3, 400)
    dx = grid[1] - grid[0]
    np.testing.assert_allclose(dens[:2].sum(1) * dx, 1.0, atol=0.02)
    np.testing.assert_allclose(dens[2].sum() * dx, 1.0)


def test_feasibility_split_constructed_band():
    rng = np.random.default_rng(0)
    levels = np.arange(0.10, 0.41, 0.01)
    n = np.repeat(levels, 50)
    k = n + rng.uniform(-0.05, 0.05, n.size)  # band K = n +- 0.05
    train = np.column_stack([n, k])
    targets = np.array([[0.25, 0.25], [0.30, 0.32], [0.25, 0.40], [0.25, 0.05], [0.45, 0.45], [0.05, 0.05]])
    expected = [True, True, False, False, False, False]
    assert feasible_mask(targets, train).tolist() == expected
    hull = feasible_mask(targets, train, method="hull")
    assert hull[:2].all() and not hull[4:].any()
    with pytest.raises(ValueError, match="method"):
        feasible_mask(targets, train, method="kde")


def test_log_mse():
    out = log_mse([[0.1, 1.0]], [[0.2, 1.0]])
    np.testing.assert_allclose(out, [np.log10(0.01)])


def test_group_separation_limits_and_a_known_value():
    from pvae_lib.design.latent import group_separation

    pts = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    assert group_separation(pts, [0, 0, 1, 1]) == pytest.approx(1.0)  # each group on one point
    assert group_separation(pts, [0, 1, 0, 1]) == pytest.approx(0.0)  # both groups centred at (1, 0)
    # 1-D: groups {0, 2} and {4, 6}: within 4, total 20 -> 0.8
    assert group_separation([0.0, 2.0, 4.0, 6.0], ["a", "a", "b", "b"]) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="length"):
        group_separation(pts, [0, 1])
    with pytest.raises(ValueError, match="coincide"):
        group_separation(np.ones((3, 2)), [0, 1, 1])
