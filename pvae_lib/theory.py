"""Numerical checks of the variational theory behind the (p)VAE (paper Section 3.2, Eqs. 4-10).

Everything here is plain NumPy/SciPy so that each step of the derivation of the evidence
lower bound (ELBO) can be *checked* with numbers, not only derived:

* Kullback-Leibler (KL) divergences: discrete, diagonal Gaussian, full-covariance Gaussian,
  the closed form against a standard normal prior (paper Eq. 7b) and a Monte-Carlo estimate.
* :class:`LinearGaussianModel`, the one latent-variable model whose evidence
  :math:`\\log p(x)` and posterior :math:`p(z|x)` are exact, so that
  :math:`\\log p(x) - \\mathrm{ELBO}(q) = D_\\mathrm{KL}[q(z)\\,\\|\\,p(z|x)]` can be verified.
* The reparameterisation trick (pathwise gradient), the score-function gradient and
  central finite differences to compare them against.

Conventions: Gaussians with diagonal covariance are given by their mean ``mu`` and the
natural logarithm of their variances ``log_var`` (what a VAE encoder outputs); the last axis
is the latent axis and leading axes are batch axes. KL divergences and log densities are in
nats. Random numbers come from a :class:`numpy.random.Generator` passed in as ``rng``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import linalg

__all__ = [
    "MonteCarloEstimate",
    "discrete_kl",
    "gaussian_kl",
    "gaussian_kl_standard_normal",
    "mvn_kl",
    "diag_gaussian_log_pdf",
    "sample_diag_gaussian",
    "monte_carlo_kl",
    "LinearGaussianModel",
    "QuadraticSineObjective",
    "reparameterized_gradient",
    "score_function_gradient",
    "finite_difference_gradient",
]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte-Carlo average with its standard error.

    Attributes
    ----------
    mean : float or numpy.ndarray
        Sample average of the estimator.
    stderr : float or numpy.ndarray
        Standard error of ``mean``: sample standard deviation / sqrt(``n_samples``).
    n_samples : int
        Number of independent samples averaged.
    """

    mean: float | np.ndarray
    stderr: float | np.ndarray
    n_samples: int


def _as_float(a) -> np.ndarray:
    return np.asarray(a, dtype=float)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return rng


def _check_n(n_samples) -> int:
    n = int(n_samples)
    if n < 2:
        raise ValueError(f"n_samples must be >= 2 to estimate a standard error, got {n_samples}")
    return n


# ---------------------------------------------------------------------------------------------
# KL divergences
# ---------------------------------------------------------------------------------------------
def discrete_kl(p, q) -> float:
    """KL divergence :math:`D_\\mathrm{KL}[p\\|q] = \\sum_i p_i \\log(p_i/q_i)` of two discrete distributions.

    Parameters
    ----------
    p, q : array_like, shape (n,)
        Probabilities (non-negative, each summing to 1 within 1e-9). Terms with
        ``p_i = 0`` contribute 0; ``q_i = 0`` where ``p_i > 0`` gives ``inf``.

    Returns
    -------
    float
        The divergence in nats, >= 0 (Gibbs' inequality, a consequence of Jensen's inequality).
    """
    p, q = _as_float(p), _as_float(q)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"p and q must be 1-D of equal length, got shapes {p.shape} and {q.shape}")
    for name, a in (("p", p), ("q", q)):
        if np.any(a < 0) or abs(a.sum() - 1.0) > 1e-9:
            raise ValueError(f"{name} must be non-negative and sum to 1 (sum = {a.sum():.12g})")
    support = p > 0
    if np.any(q[support] == 0):
        return float("inf")
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def gaussian_kl(mu1, log_var1, mu2, log_var2):
    """KL divergence between two Gaussians with diagonal covariance.

    .. math::
        D_\\mathrm{KL}[\\mathcal N(\\mu_1,\\sigma_1^2)\\|\\mathcal N(\\mu_2,\\sigma_2^2)]
        = \\tfrac12\\sum_j\\Big(\\log\\frac{\\sigma_{2j}^2}{\\sigma_{1j}^2}
        + \\frac{\\sigma_{1j}^2 + (\\mu_{1j}-\\mu_{2j})^2}{\\sigma_{2j}^2} - 1\\Big)

    Parameters
    ----------
    mu1, log_var1 : array_like, shape (..., J)
        Mean and log-variance of the first distribution (``q``).
    mu2, log_var2 : array_like, broadcastable to (..., J)
        Mean and log-variance of the second distribution (``p``).

    Returns
    -------
    float or numpy.ndarray, shape (...)
        The divergence in nats, summed over the last (latent) axis.
    """
    mu1, lv1, mu2, lv2 = map(_as_float, (mu1, log_var1, mu2, log_var2))
    terms = lv2 - lv1 + (np.exp(lv1) + (mu1 - mu2) ** 2) * np.exp(-lv2) - 1.0
    out = 0.5 * np.sum(terms, axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def gaussian_kl_standard_normal(mu, log_var):
    """KL divergence of :math:`\\mathcal N(\\mu, \\mathrm{diag}\\,\\sigma^2)` from the prior :math:`\\mathcal N(0, I)`.

    .. math::
        D_\\mathrm{KL}[q\\|p] = -\\tfrac12 \\sum_{j=1}^J \\big(1 + \\log\\sigma_j^2 - \\sigma_j^2 - \\mu_j^2\\big)

    This is the regularisation term of the VAE loss. Note the sign: the paper's Eq. (7)
    subtracts the sum :math:`\\tfrac12\\sum(1+\\log\\sigma^2-\\sigma^2-\\mu^2)`, which equals
    :math:`-D_\\mathrm{KL}`; the ELBO is reconstruction term *minus* this KL divergence.

    Parameters
    ----------
    mu, log_var : array_like, shape (..., J)
        Encoder mean and log-variance.

    Returns
    -------
    float or numpy.ndarray, shape (...)
        The divergence in nats, summed over the last axis; zero iff ``mu == 0`` and ``log_var == 0``.
    """
    mu, lv = _as_float(mu), _as_float(log_var)
    out = -0.5 * np.sum(1.0 + lv - np.exp(lv) - mu ** 2, axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def mvn_kl(mean1, cov1, mean2, cov2) -> float:
    """KL divergence between two multivariate Gaussians with full covariance matrices.

    .. math::
        D_\\mathrm{KL} = \\tfrac12\\big(\\mathrm{tr}(\\Sigma_2^{-1}\\Sigma_1)
        + (\\mu_2-\\mu_1)^\\top\\Sigma_2^{-1}(\\mu_2-\\mu_1) - J
        + \\log\\det\\Sigma_2 - \\log\\det\\Sigma_1\\big)

    Parameters
    ----------
    mean1, mean2 : array_like, shape (J,)
    cov1, cov2 : array_like, shape (J, J)
        Symmetric positive-definite covariance matrices.

    Returns
    -------
    float
        The divergence in nats.
    """
    m1, m2 = _as_float(mean1), _as_float(mean2)
    c1, c2 = np.atleast_2d(_as_float(cov1)), np.atleast_2d(_as_float(cov2))
    j = m1.shape[0]
    if m1.shape != (j,) or m2.shape != (j,) or c1.shape != (j, j) or c2.shape != (j, j):
        raise ValueError(f"inconsistent shapes: means {m1.shape}, {m2.shape}; covariances {c1.shape}, {c2.shape}")
    l1 = linalg.cholesky(c1, lower=True)
    l2 = linalg.cholesky(c2, lower=True)
    a = linalg.solve_triangular(l2, l1, lower=True)  # L2^-1 L1: tr(S2^-1 S1) = ||a||_F^2
    b = linalg.solve_triangular(l2, m2 - m1, lower=True)
    logdet = 2.0 * (np.sum(np.log(np.diag(l2))) - np.sum(np.log(np.diag(l1))))
    return float(0.5 * (np.sum(a * a) + b @ b - j + logdet))


def diag_gaussian_log_pdf(z, mu, log_var):
    """Log density of :math:`\\mathcal N(\\mu, \\mathrm{diag}\\,e^{\\log\\sigma^2})` at ``z``.

    Parameters
    ----------
    z : array_like, shape (..., J)
    mu, log_var : array_like, broadcastable to (..., J)

    Returns
    -------
    numpy.ndarray, shape (...)
        Log density in nats, summed over the last axis.
    """
    z, mu, lv = map(_as_float, (z, mu, log_var))
    return -0.5 * np.sum(_LOG_2PI + lv + (z - mu) ** 2 * np.exp(-lv), axis=-1)


def sample_diag_gaussian(mu, log_var, n_samples: int, rng: np.random.Generator):
    """Draw ``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` (the reparameterisation, paper Eq. 7).

    Parameters
    ----------
    mu, log_var : array_like, shape (J,)
    n_samples : int
    rng : numpy.random.Generator

    Returns
    -------
    z, eps : numpy.ndarray, shape (n_samples, J)
        The samples and the standard-normal noise they were made from.
    """
    mu, lv = _as_float(mu), _as_float(log_var)
    eps = _check_rng(rng).standard_normal((int(n_samples), mu.shape[-1]))
    return mu + np.exp(0.5 * lv) * eps, eps


def _mc_average(draw: Callable[[int], np.ndarray], n_samples: int, chunk: int) -> MonteCarloEstimate:
    """Average ``draw(m)`` (values of m i.i.d. samples) over n_samples, in memory-bounded chunks."""
    n = _check_n(n_samples)
    total = 0.0
    total_sq = 0.0
    done = 0
    while done < n:
        m = min(chunk, n - done)
        values = draw(m)
        total = total + values.sum(axis=0)
        total_sq = total_sq + (values ** 2).sum(axis=0)
        done += m
    mean = total / n
    var = np.maximum(total_sq / n - mean ** 2, 0.0) * n / (n - 1)
    return MonteCarloEstimate(mean=mean, stderr=np.sqrt(var / n), n_samples=n)


def monte_carlo_kl(mu1, log_var1, mu2, log_var2, n_samples: int, rng: np.random.Generator,
                   chunk: int = 8192) -> MonteCarloEstimate:
    """Monte-Carlo estimate of :math:`D_\\mathrm{KL}[q\\|p] = \\mathbb E_q[\\log q(z) - \\log p(z)]`.

    Both ``q = N(mu1, exp(log_var1))`` and ``p = N(mu2, exp(log_var2))`` are diagonal
    Gaussians; samples are drawn from ``q``. The estimate is unbiased and its standard error
    decreases like ``n_samples ** -0.5``.

    Parameters
    ----------
    mu1, log_var1 : array_like, shape (J,)
        The sampling distribution ``q``.
    mu2, log_var2 : array_like, shape (J,)
        The reference distribution ``p``.
    n_samples : int
        Number of samples from ``q`` (>= 2).
    rng : numpy.random.Generator
    chunk : int, optional
        Samples drawn at a time (bounds memory to about ``chunk * J`` floats).

    Returns
    -------
    MonteCarloEstimate
        Estimate (nats) and its standard error.
    """
    _check_rng(rng)

    def draw(m):
        z, _ = sample_diag_gaussian(mu1, log_var1, m, rng)
        return diag_gaussian_log_pdf(z, mu1, log_var1) - diag_gaussian_log_pdf(z, mu2, log_var2)

    est = _mc_average(draw, n_samples, chunk)
    return MonteCarloEstimate(float(est.mean), float(est.stderr), est.n_samples)


# ---------------------------------------------------------------------------------------------
# A latent-variable model with an exact evidence and posterior
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearGaussianModel:
    """Linear-Gaussian latent variable model (probabilistic PCA), the "VAE with a linear decoder".

    .. math::
        p(z) = \\mathcal N(0, I_J), \\qquad p(x|z) = \\mathcal N(Wz + b, \\sigma^2 I_D),

    so that the evidence :math:`p(x) = \\mathcal N(b, WW^\\top + \\sigma^2 I)` and the posterior
    :math:`p(z|x) = \\mathcal N\\big(\\Lambda^{-1} W^\\top(x-b)/\\sigma^2, \\Lambda^{-1}\\big)` with
    :math:`\\Lambda = I + W^\\top W/\\sigma^2` are known exactly (the paper's Eq. 4 with a
    linear decoder). Everything that is intractable for a neural decoder can be computed here.

    Parameters
    ----------
    weight : numpy.ndarray, shape (D, J)
        Decoder matrix ``W``.
    bias : numpy.ndarray, shape (D,)
        Decoder offset ``b``.
    noise_std : float
        Observation noise standard deviation ``sigma`` > 0.
    """

    weight: np.ndarray
    bias: np.ndarray
    noise_std: float

    def __post_init__(self):
        w = np.atleast_2d(_as_float(self.weight))
        b = _as_float(self.bias).reshape(-1)
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise ValueError(f"weight must be (D, J) and bias (D,), got {w.shape} and {b.shape}")
        if not (np.isfinite(self.noise_std) and self.noise_std > 0):
            raise ValueError(f"noise_std must be a positive number, got {self.noise_std}")
        w.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", b)
        object.__setattr__(self, "noise_std", float(self.noise_std))

    @classmethod
    def random(cls, data_dim: int, latent_dim: int, noise_std: float, rng: np.random.Generator,
               ) -> "LinearGaussianModel":
        """A model with i.i.d. standard-normal ``W`` (scaled by ``1/sqrt(J)``) and ``b``."""
        rng = _check_rng(rng)
        w = rng.standard_normal((data_dim, latent_dim)) / np.sqrt(latent_dim)
        return cls(w, rng.standard_normal(data_dim), noise_std)

    @property
    def data_dim(self) -> int:
        """Dimension ``D`` of the observations."""
        return self.weight.shape[0]

    @property
    def latent_dim(self) -> int:
        """Dimension ``J`` of the latent space."""
        return self.weight.shape[1]

    def _x(self, x) -> np.ndarray:
        x = _as_float(x)
        if x.shape != (self.data_dim,):
            raise ValueError(f"x must have shape ({self.data_dim},), got {x.shape}")
        return x

    def sample(self, n_samples: int, rng: np.random.Generator):
        """Draw ``(x, z)`` pairs from the joint ``p(x, z)``; arrays of shape (n, D) and (n, J)."""
        rng = _check_rng(rng)
        z = rng.standard_normal((int(n_samples), self.latent_dim))
        x = z @ self.weight.T + self.bias + self.noise_std * rng.standard_normal((int(n_samples), self.data_dim))
        return x, z

    def log_likelihood(self, x, z):
        """Decoder log density :math:`\\log p(x|z)` (nats) for ``z`` of shape (..., J)."""
        x, z = self._x(x), _as_float(z)
        r = x - z @ self.weight.T - self.bias
        s2 = self.noise_std ** 2
        return -0.5 * (self.data_dim * (_LOG_2PI + np.log(s2)) + np.sum(r * r, axis=-1) / s2)

    def log_joint(self, x, z):
        """:math:`\\log p(x, z) = \\log p(x|z) + \\log p(z)` (paper Eq. 4), nats."""
        z = _as_float(z)
        return self.log_likelihood(x, z) - 0.5 * np.sum(_LOG_2PI + z * z, axis=-1)

    def marginal(self):
        """Mean ``b`` and covariance ``W W^T + sigma^2 I`` of the evidence ``p(x)``."""
        cov = self.weight @ self.weight.T + self.noise_std ** 2 * np.eye(self.data_dim)
        return self.bias.copy(), cov

    def log_marginal(self, x) -> float:
        """Exact log evidence :math:`\\log p(x)` (nats)."""
        x = self._x(x)
        mean, cov = self.marginal()
        chol = linalg.cholesky(cov, lower=True)
        r = linalg.solve_triangular(chol, x - mean, lower=True)
        return float(-0.5 * (self.data_dim * _LOG_2PI + r @ r) - np.sum(np.log(np.diag(chol))))

    def posterior(self, x):
        """Exact posterior ``p(z|x)``: its mean (J,) and full covariance (J, J)."""
        x = self._x(x)
        s2 = self.noise_std ** 2
        precision = np.eye(self.latent_dim) + self.weight.T @ self.weight / s2
        cov = linalg.inv(precision)
        cov = 0.5 * (cov + cov.T)
        return cov @ (self.weight.T @ (x - self.bias)) / s2, cov

    def optimal_diagonal_q(self, x, beta: float = 1.0):
        """The diagonal Gaussian ``q`` that maximises the beta-weighted ELBO (paper Eq. 10, lambda = 0).

        Maximises :math:`\\mathbb E_q[\\log p(x|z)] - \\beta D_\\mathrm{KL}[q\\|p(z)]` over
        :math:`q = \\mathcal N(\\mu, \\mathrm{diag}\\,\\sigma^2)`. The optimum is
        :math:`\\mu = (W^\\top W + \\beta\\sigma_n^2 I)^{-1} W^\\top (x-b)` and
        :math:`1/\\sigma_j^2 = 1 + \\|w_j\\|^2/(\\beta\\sigma_n^2)`: a larger ``beta`` acts like a
        larger observation noise and pulls ``q`` towards the prior. For ``beta = 1`` this is the
        mean-field (closest diagonal) approximation of the exact posterior.

        Returns
        -------
        mu, log_var : numpy.ndarray, shape (J,)
        """
        x = self._x(x)
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta}")
        bs2 = beta * self.noise_std ** 2
        gram = self.weight.T @ self.weight
        mu = linalg.solve(gram + bs2 * np.eye(self.latent_dim), self.weight.T @ (x - self.bias), assume_a="pos")
        log_var = -np.log1p(np.diag(gram) / bs2)
        return mu, log_var

    def expected_log_likelihood(self, x, q_mu, q_log_var) -> float:
        """Exact reconstruction term :math:`\\mathbb E_q[\\log p(x|z)]` (paper Eq. 5a) for a diagonal ``q``."""
        x, mu, lv = self._x(x), _as_float(q_mu), _as_float(q_log_var)
        r = x - self.bias - self.weight @ mu
        s2 = self.noise_std ** 2
        trace = np.sum(np.exp(lv) * np.sum(self.weight ** 2, axis=0))  # tr(W diag(s) W^T)
        return float(-0.5 * (self.data_dim * (_LOG_2PI + np.log(s2)) + (r @ r + trace) / s2))

    def elbo(self, x, q_mu, q_log_var, n_samples: int | None = None,
             rng: np.random.Generator | None = None, beta: float = 1.0):
        """Evidence lower bound of a diagonal Gaussian ``q = N(q_mu, exp(q_log_var))`` (paper Eqs. 5, 7).

        :math:`\\mathrm{ELBO} = \\mathbb E_q[\\log p(x|z)] - \\beta D_\\mathrm{KL}[q\\|p(z)]`
        (``beta = 1`` is the ELBO proper; other values give the beta-VAE objective of Eq. 10).

        Parameters
        ----------
        x : array_like, shape (D,)
        q_mu, q_log_var : array_like, shape (J,)
        n_samples : int, optional
            ``None`` (default): exact value, from closed forms. Otherwise a Monte-Carlo
            estimate of :math:`\\mathbb E_q[\\log p(x|z) + \\beta(\\log p(z) - \\log q(z))]`
            with reparameterised samples (needs ``rng``).
        rng : numpy.random.Generator, optional
        beta : float, optional

        Returns
        -------
        float or MonteCarloEstimate
            The ELBO in nats (<= ``log_marginal(x)`` for ``beta = 1``).
        """
        x, mu, lv = self._x(x), _as_float(q_mu), _as_float(q_log_var)
        if n_samples is None:
            return self.expected_log_likelihood(x, mu, lv) - beta * gaussian_kl_standard_normal(mu, lv)
        if rng is None:
            raise ValueError("a Monte-Carlo ELBO (n_samples given) needs rng=np.random.default_rng(seed)")
        _check_rng(rng)

        def draw(m):
            z, _ = sample_diag_gaussian(mu, lv, m, rng)
            log_prior = -0.5 * np.sum(_LOG_2PI + z * z, axis=-1)
            return self.log_likelihood(x, z) + beta * (log_prior - diag_gaussian_log_pdf(z, mu, lv))

        est = _mc_average(draw, n_samples, 8192)
        return MonteCarloEstimate(float(est.mean), float(est.stderr), est.n_samples)

    def elbo_gaussian(self, x, q_mean, q_cov) -> float:
        """Exact ELBO of a Gaussian ``q = N(q_mean, q_cov)`` with a *full* covariance.

        The exact posterior belongs to this family, and for ``q = p(z|x)`` the ELBO equals
        ``log_marginal(x)``.
        """
        x, m, c = self._x(x), _as_float(q_mean), np.atleast_2d(_as_float(q_cov))
        r = x - self.bias - self.weight @ m
        s2 = self.noise_std ** 2
        expected_ll = -0.5 * (self.data_dim * (_LOG_2PI + np.log(s2))
                              + (r @ r + np.trace(self.weight @ c @ self.weight.T)) / s2)
        j = self.latent_dim
        return float(expected_ll - mvn_kl(m, c, np.zeros(j), np.eye(j)))

    def kl_to_posterior(self, x, q_mu, q_log_var) -> float:
        """:math:`D_\\mathrm{KL}[q\\|p(z|x)]` for a diagonal ``q``: the gap ``log p(x) - ELBO``."""
        mean, cov = self.posterior(x)
        return mvn_kl(_as_float(q_mu), np.diag(np.exp(_as_float(q_log_var))), mean, cov)


# ---------------------------------------------------------------------------------------------
# Gradients of expectations: reparameterisation, score function, finite differences
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuadraticSineObjective:
    """Test integrand :math:`f(z) = \\sum_j \\sin z_j + \\tfrac12 z^\\top A z` with a closed-form Gaussian expectation.

    For :math:`z\\sim\\mathcal N(\\mu, \\mathrm{diag}\\,\\sigma^2)`:
    :math:`\\mathbb E[f] = \\sum_j \\sin\\mu_j\\, e^{-\\sigma_j^2/2} + \\tfrac12(\\mu^\\top A\\mu + \\sum_j A_{jj}\\sigma_j^2)`.

    Parameters
    ----------
    matrix : numpy.ndarray, shape (J, J)
        Symmetric matrix ``A``.
    """

    matrix: np.ndarray

    def __post_init__(self):
        a = np.atleast_2d(_as_float(self.matrix))
        if a.shape[0] != a.shape[1]:
            raise ValueError(f"matrix must be square, got {a.shape}")
        a = 0.5 * (a + a.T)
        a.setflags(write=False)
        object.__setattr__(self, "matrix", a)

    @classmethod
    def random(cls, dim: int, rng: np.random.Generator) -> "QuadraticSineObjective":
        """An objective with a random symmetric ``A`` of unit-order entries."""
        g = _check_rng(rng).standard_normal((dim, dim)) / np.sqrt(dim)
        return cls(g + g.T)

    def value(self, z):
        """:math:`f(z)` for ``z`` of shape (..., J)."""
        z = _as_float(z)
        return np.sum(np.sin(z), axis=-1) + 0.5 * np.einsum("...i,ij,...j->...", z, self.matrix, z)

    def grad(self, z):
        """:math:`\\nabla f(z) = \\cos z + A z`, same shape as ``z``."""
        z = _as_float(z)
        return np.cos(z) + z @ self.matrix

    def expectation(self, mu, log_var) -> float:
        """Exact :math:`\\mathbb E_{\\mathcal N(\\mu, e^{\\log\\sigma^2})}[f(z)]`."""
        mu, var = _as_float(mu), np.exp(_as_float(log_var))
        return float(np.sum(np.sin(mu) * np.exp(-0.5 * var))
                     + 0.5 * (mu @ self.matrix @ mu + np.diag(self.matrix) @ var))


def reparameterized_gradient(grad_f: Callable[[np.ndarray], np.ndarray], mu, log_var, n_samples: int,
                             rng: np.random.Generator | None = None, eps=None):
    """Pathwise (reparameterisation-trick) gradient of :math:`\\mathbb E_{q}[f(z)]` w.r.t. ``mu`` and ``log_var``.

    With :math:`z = \\mu + e^{\\frac12\\log\\sigma^2}\\varepsilon`, :math:`\\varepsilon\\sim\\mathcal N(0, I)`
    (paper, text before Eq. 7), the expectation no longer depends on the parameters through
    the sampling distribution, and

    .. math::
        \\nabla_\\mu \\mathbb E[f] = \\mathbb E_\\varepsilon[\\nabla f(z)], \\qquad
        \\partial_{\\log\\sigma_j^2} \\mathbb E[f] = \\mathbb E_\\varepsilon[\\partial_j f(z)\\,\\tfrac12\\sigma_j\\varepsilon_j].

    (The gradient with respect to :math:`\\log\\sigma_j` is twice the ``log_var`` one.)

    Parameters
    ----------
    grad_f : callable
        Maps ``z`` of shape (n, J) to :math:`\\nabla f(z)` of shape (n, J).
    mu, log_var : array_like, shape (J,)
    n_samples : int
        Number of samples ``L`` (>= 2).
    rng : numpy.random.Generator, optional
        Source of ``eps`` (needed unless ``eps`` is given).
    eps : array_like, shape (n_samples, J), optional
        Fixed noise ("common random numbers"), e.g. to compare with finite differences of the
        same sample average.

    Returns
    -------
    grad_mu, grad_log_var : MonteCarloEstimate
        Estimates (arrays of shape (J,)) with their standard errors.
    """
    mu, lv = _as_float(mu), _as_float(log_var)
    n = _check_n(n_samples)
    if eps is None:
        if rng is None:
            raise ValueError("give rng=np.random.default_rng(seed) or eps")
        eps = _check_rng(rng).standard_normal((n, mu.shape[-1]))
    eps = _as_float(eps)
    if eps.shape != (n, mu.shape[-1]):
        raise ValueError(f"eps must have shape ({n}, {mu.shape[-1]}), got {eps.shape}")
    sigma = np.exp(0.5 * lv)
    g = _as_float(grad_f(mu + sigma * eps))
    per_sample = (g, g * 0.5 * sigma * eps)
    out = []
    for v in per_sample:
        out.append(MonteCarloEstimate(v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(n), n))
    return out[0], out[1]


def score_function_gradient(f: Callable[[np.ndarray], np.ndarray], mu, log_var, n_samples: int,
                            rng: np.random.Generator):
    """Score-function (REINFORCE) gradient of :math:`\\mathbb E_q[f(z)]` w.r.t. ``mu`` and ``log_var``.

    Uses :math:`\\nabla\\mathbb E_q[f] = \\mathbb E_q[f(z)\\nabla\\log q(z)]`, which needs only
    values of ``f`` (no derivatives) but typically has a far larger variance than
    :func:`reparameterized_gradient`; shown for comparison.

    Parameters
    ----------
    f : callable
        Maps ``z`` of shape (n, J) to values of shape (n,).
    mu, log_var : array_like, shape (J,)
    n_samples : int
    rng : numpy.random.Generator

    Returns
    -------
    grad_mu, grad_log_var : MonteCarloEstimate
    """
    mu, lv = _as_float(mu), _as_float(log_var)
    n = _check_n(n_samples)
    z, eps = sample_diag_gaussian(mu, lv, n, _check_rng(rng))
    fz = _as_float(f(z))[:, None]
    sigma = np.exp(0.5 * lv)
    # d log q / d mu = eps / sigma ; d log q / d log_var = (eps^2 - 1) / 2
    per_sample = (fz * eps / sigma, fz * 0.5 * (eps ** 2 - 1.0))
    out = [MonteCarloEstimate(v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(n), n) for v in per_sample]
    return out[0], out[1]


def finite_difference_gradient(fun: Callable[[np.ndarray], float], x, step: float = 1e-5) -> np.ndarray:
    """Central finite-difference gradient of a scalar function.

    :math:`\\partial_i F \\approx (F(x + h e_i) - F(x - h e_i)) / (2h)`, error :math:`O(h^2)`.

    Parameters
    ----------
    fun : callable
        Scalar function of a 1-D array.
    x : array_like, shape (n,)
        Point of evaluation.
    step : float, optional
        Step ``h``.

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    x = _as_float(x).copy()
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    grad = np.empty_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + step
        up = float(fun(x))
        x[i] = old - step
        down = float(fun(x))
        x[i] = old
        grad[i] = (up - down) / (2.0 * step)
    return grad
