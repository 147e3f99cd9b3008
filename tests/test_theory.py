"""Tests of pvae_lib.theory: KL divergences, the ELBO and gradient estimators."""
from __future__ import annotations

import numpy as np
import pytest

from pvae_lib import theory as th


def _random_diag(rng, dim, scale=1.0):
    return scale * rng.standard_normal(dim), 0.5 * rng.standard_normal(dim)


# --- KL divergences ---------------------------------------------------------------------------
def test_discrete_kl_nonnegative_and_zero_iff_equal():
    rng = np.random.default_rng(0)
    for _ in range(50):
        p, q = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
        assert th.discrete_kl(p, q) > 0
        assert th.discrete_kl(p, p) == pytest.approx(0.0, abs=1e-15)
    assert th.discrete_kl([0.5, 0.5], [1.0, 0.0]) == float("inf")
    with pytest.raises(ValueError, match="sum to 1"):
        th.discrete_kl([0.5, 0.6], [0.5, 0.5])


@pytest.mark.parametrize("dim", [1, 3, 32])
def test_gaussian_kl_matches_full_covariance_formula(dim):
    rng = np.random.default_rng(dim)
    mu1, lv1 = _random_diag(rng, dim)
    mu2, lv2 = _random_diag(rng, dim)
    expected = th.mvn_kl(mu1, np.diag(np.exp(lv1)), mu2, np.diag(np.exp(lv2)))
    assert th.gaussian_kl(mu1, lv1, mu2, lv2) == pytest.approx(expected, rel=1e-10)


def test_standard_normal_kl_is_special_case_and_batched():
    rng = np.random.default_rng(1)
    mu, lv = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    kl = th.gaussian_kl_standard_normal(mu, lv)
    assert kl.shape == (4,)
    np.testing.assert_allclose(kl, th.gaussian_kl(mu, lv, 0.0, 0.0), rtol=1e-12)
    assert np.all(kl > 0)


def test_gaussian_kl_zero_iff_equal_and_asymmetric():
    rng = np.random.default_rng(2)
    mu, lv = _random_diag(rng, 4)
    assert th.gaussian_kl(mu, lv, mu, lv) == pytest.approx(0.0, abs=1e-14)
    assert th.gaussian_kl_standard_normal(np.zeros(3), np.zeros(3)) == 0.0
    mu2, lv2 = _random_diag(rng, 4)
    a, b = th.gaussian_kl(mu, lv, mu2, lv2), th.gaussian_kl(mu2, lv2, mu, lv)
    assert a > 0 and b > 0 and abs(a - b) > 1e-3
    # Perturbing any single component makes it strictly positive.
    for j in range(4):
        bumped = mu.copy()
        bumped[j] += 1e-3
        assert th.gaussian_kl(bumped, lv, mu, lv) > 0


@pytest.mark.parametrize("dim", [1, 4, 64])
def test_monte_carlo_kl_agrees_with_closed_form(dim):
    rng = np.random.default_rng(10 + dim)
    mu1, lv1 = _random_diag(rng, dim)
    mu2, lv2 = _random_diag(rng, dim, scale=0.5)
    exact = th.gaussian_kl(mu1, lv1, mu2, lv2)
    est = th.monte_carlo_kl(mu1, lv1, mu2, lv2, 20_000, rng, chunk=3000)
    assert est.n_samples == 20_000
    assert abs(est.mean - exact) < 5 * est.stderr
    assert est.stderr < 0.05 * exact


def test_monte_carlo_standard_error_shrinks_like_inverse_sqrt_n():
    rng = np.random.default_rng(3)
    mu, lv = _random_diag(rng, 8)
    small = th.monte_carlo_kl(mu, lv, 0.0 * mu, 0.0 * lv, 1_000, rng)
    large = th.monte_carlo_kl(mu, lv, 0.0 * mu, 0.0 * lv, 100_000, rng)
    assert large.stderr / small.stderr == pytest.approx(0.1, rel=0.2)


def test_rng_must_be_generator():
    with pytest.raises(TypeError, match="Generator"):
        th.monte_carlo_kl([0.0], [0.0], [0.0], [0.0], 10, rng=0)


# --- Linear-Gaussian model: ELBO <= log p(x), gap = KL(q || p(z|x)) ------------------------------
@pytest.fixture
def model_and_x():
    rng = np.random.default_rng(4)
    model = th.LinearGaussianModel.random(data_dim=6, latent_dim=3, noise_std=0.5, rng=rng)
    x, _ = model.sample(1, rng)
    return model, x[0]


def test_log_marginal_matches_scipy(model_and_x):
    from scipy.stats import multivariate_normal

    model, x = model_and_x
    mean, cov = model.marginal()
    assert model.log_marginal(x) == pytest.approx(multivariate_normal(mean, cov).logpdf(x), rel=1e-12)


def test_posterior_is_bayes_rule(model_and_x):
    """log p(z|x) = log p(x, z) - log p(x) at arbitrary z."""
    model, x = model_and_x
    mean, cov = model.posterior(x)
    from scipy.stats import multivariate_normal

    z = np.random.default_rng(5).standard_normal((7, model.latent_dim))
    np.testing.assert_allclose(multivariate_normal(mean, cov).logpdf(z),
                               model.log_joint(x, z) - model.log_marginal(x), rtol=1e-10)


def test_elbo_gap_equals_kl_to_posterior(model_and_x):
    model, x = model_and_x
    rng = np.random.default_rng(6)
    log_px = model.log_marginal(x)
    for _ in range(10):
        mu, lv = _random_diag(rng, model.latent_dim)
        elbo = model.elbo(x, mu, lv)
        assert elbo < log_px
        assert log_px - elbo == pytest.approx(model.kl_to_posterior(x, mu, lv), rel=1e-9, abs=1e-10)


def test_monte_carlo_elbo_agrees_with_exact(model_and_x):
    model, x = model_and_x
    rng = np.random.default_rng(7)
    mu, lv = _random_diag(rng, model.latent_dim)
    exact = model.elbo(x, mu, lv)
    est = model.elbo(x, mu, lv, n_samples=20_000, rng=rng)
    assert abs(est.mean - exact) < 5 * est.stderr
    beta_est = model.elbo(x, mu, lv, n_samples=20_000, rng=rng, beta=4.0)
    assert abs(beta_est.mean - model.elbo(x, mu, lv, beta=4.0)) < 5 * beta_est.stderr
    with pytest.raises(ValueError, match="rng"):
        model.elbo(x, mu, lv, n_samples=10)


def test_exact_posterior_closes_the_gap(model_and_x):
    model, x = model_and_x
    mean, cov = model.posterior(x)
    assert model.elbo_gaussian(x, mean, cov) == pytest.approx(model.log_marginal(x), rel=1e-12)
    # The MC estimate of log p(x,z) - log q(z) under the exact posterior has zero variance.
    z = np.random.default_rng(8).multivariate_normal(mean, cov, size=5)
    from scipy.stats import multivariate_normal

    ratio = model.log_joint(x, z) - multivariate_normal(mean, cov).logpdf(z)
    np.testing.assert_allclose(ratio, model.log_marginal(x), rtol=1e-10)


def test_diagonal_posterior_reached_by_mean_field():
    """With orthogonal decoder columns the posterior is diagonal and the gap closes in the VAE family."""
    rng = np.random.default_rng(9)
    q, _ = np.linalg.qr(rng.standard_normal((5, 2)))
    model = th.LinearGaussianModel(q * np.array([2.0, 0.7]), rng.standard_normal(5), 0.3)
    x = model.sample(1, rng)[0][0]
    mu, lv = model.optimal_diagonal_q(x)
    assert model.elbo(x, mu, lv) == pytest.approx(model.log_marginal(x), rel=1e-12)
    assert model.kl_to_posterior(x, mu, lv) == pytest.approx(0.0, abs=1e-10)


def test_mean_field_optimum_is_a_maximum(model_and_x):
    model, x = model_and_x
    mu, lv = model.optimal_diagonal_q(x)
    best = model.elbo(x, mu, lv)
    assert best < model.log_marginal(x)  # correlated posterior: mean-field gap > 0
    rng = np.random.default_rng(10)
    for _ in range(20):
        assert model.elbo(x, mu + 0.05 * rng.standard_normal(mu.size), lv + 0.05 * rng.standard_normal(lv.size)) < best
    mean, _ = model.posterior(x)
    np.testing.assert_allclose(mu, mean, rtol=1e-10)


def test_beta_trades_rate_for_distortion(model_and_x):
    model, x = model_and_x
    rates, recon = [], []
    for beta in (0.25, 1.0, 4.0, 16.0):
        mu, lv = model.optimal_diagonal_q(x, beta=beta)
        rates.append(th.gaussian_kl_standard_normal(mu, lv))
        recon.append(model.expected_log_likelihood(x, mu, lv))
        # stationary point of the beta objective
        grad = th.finite_difference_gradient(
            lambda p: model.elbo(x, p[:mu.size], p[mu.size:], beta=beta), np.concatenate([mu, lv]))
        assert np.max(np.abs(grad)) < 1e-5
    assert np.all(np.diff(rates) < 0) and np.all(np.diff(recon) < 0)


def test_model_validates_inputs():
    with pytest.raises(ValueError, match="noise_std"):
        th.LinearGaussianModel(np.ones((2, 1)), np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="bias"):
        th.LinearGaussianModel(np.ones((2, 1)), np.zeros(3), 1.0)
    model = th.LinearGaussianModel(np.ones((2, 1)), np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="shape"):
        model.log_marginal(np.zeros(3))


# --- gradients ------------------------------------------------------------------------------
def test_finite_difference_gradient_of_quadratic():
    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    x = np.array([0.3, -0.7])
    np.testing.assert_allclose(th.finite_difference_gradient(lambda v: 0.5 * v @ a @ v, x), a @ x, rtol=1e-8)


def test_objective_expectation_matches_monte_carlo():
    rng = np.random.default_rng(11)
    f = th.QuadraticSineObjective.random(4, rng)
    mu, lv = _random_diag(rng, 4)
    z, _ = th.sample_diag_gaussian(mu, lv, 200_000, rng)
    values = f.value(z)
    assert abs(values.mean() - f.expectation(mu, lv)) < 5 * values.std() / np.sqrt(values.size)
    np.testing.assert_allclose(
        f.grad(z[:3]), [th.finite_difference_gradient(f.value, zi) for zi in z[:3]], rtol=1e-7, atol=1e-8)


def test_reparameterized_gradient_matches_finite_differences():
    rng = np.random.default_rng(12)
    dim = 5
    f = th.QuadraticSineObjective.random(dim, rng)
    mu, lv = _random_diag(rng, dim)
    exact = th.finite_difference_gradient(lambda p: f.expectation(p[:dim], p[dim:]), np.concatenate([mu, lv]))
    g_mu, g_lv = th.reparameterized_gradient(f.grad, mu, lv, 50_000, rng)
    assert np.all(np.abs(g_mu.mean - exact[:dim]) < 5 * g_mu.stderr + 1e-9)
    assert np.all(np.abs(g_lv.mean - exact[dim:]) < 5 * g_lv.stderr + 1e-9)


def test_reparameterized_gradient_is_exact_derivative_of_sample_average():
    """With common random numbers the pathwise gradient is the derivative of the sample mean."""
    rng = np.random.default_rng(13)
    dim, n = 3, 64
    f = th.QuadraticSineObjective.random(dim, rng)
    mu, lv = _random_diag(rng, dim)
    eps = rng.standard_normal((n, dim))

    def sample_mean(p):
        return f.value(p[:dim] + np.exp(0.5 * p[dim:]) * eps).mean()

    fd = th.finite_difference_gradient(sample_mean, np.concatenate([mu, lv]), step=1e-6)
    g_mu, g_lv = th.reparameterized_gradient(f.grad, mu, lv, n, eps=eps)
    np.testing.assert_allclose(np.concatenate([g_mu.mean, g_lv.mean]), fd, rtol=1e-6, atol=1e-8)


def test_score_function_gradient_unbiased_but_noisier():
    rng = np.random.default_rng(14)
    dim = 3
    f = th.QuadraticSineObjective.random(dim, rng)
    mu, lv = _random_diag(rng, dim)
    exact = th.finite_difference_gradient(lambda p: f.expectation(p[:dim], p[dim:]), np.concatenate([mu, lv]))
    s_mu, s_lv = th.score_function_gradient(f.value, mu, lv, 200_000, rng)
    r_mu, _ = th.reparameterized_gradient(f.grad, mu, lv, 200_000, rng)
    assert np.all(np.abs(s_mu.mean - exact[:dim]) < 5 * s_mu.stderr)
    assert np.all(np.abs(s_lv.mean - exact[dim:]) < 5 * s_lv.stderr)
    assert np.all(s_mu.stderr > r_mu.stderr)
