"""Interpolation in the latent space: spherical (slerp) and linear (lerp), paper Section 4.4.

``slerp`` follows the great circle between two latent vectors (rescaling the norm linearly
between the two end norms), ``lerp`` the straight chord. Decoding a path and measuring the
properties of the decoded, binarised structures gives paper Fig. 15.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..binarize import DECODED_RULE

__all__ = [
    "slerp",
    "lerp",
    "interpolation_path",
    "decode_path",
    "PathProperties",
    "path_properties",
    "VerifiedWalk",
    "verified_walk",
]

#: Below this angle (radians) between the end vectors slerp falls back to lerp.
PARALLEL_ANGLE = 1e-6


def _as_pair(z0, z1):
    z0 = np.asarray(z0, dtype=np.float64)
    z1 = np.asarray(z1, dtype=np.float64)
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"z0 and z1 must be 1-D vectors of the same length, got shapes {z0.shape} and {z1.shape}")
    if not (np.all(np.isfinite(z0)) and np.all(np.isfinite(z1))):
        raise ValueError("z0 and z1 must be finite")
    return z0, z1


def _as_t(t):
    t_arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t_arr)):
        raise ValueError("t must be finite")
    return t_arr


def lerp(z0, z1, t) -> np.ndarray:
    """Linear interpolation ``(1 - t) z0 + t z1``.

    Parameters
    ----------
    z0, z1 : array_like, shape (d,)
        End points in the latent space.
    t : float or array_like
        Interpolation parameter(s); 0 gives ``z0``, 1 gives ``z1``.

    Returns
    -------
    numpy.ndarray, shape ``t.shape + (d,)``
    """
    z0, z1 = _as_pair(z0, z1)
    t = _as_t(t)[..., None]
    return (1.0 - t) * z0 + t * z1


def slerp(z0, z1, t) -> np.ndarray:
    r"""Spherical linear interpolation between two latent vectors (paper Section 4.4).

    The direction moves along the great circle between :math:`\hat z_0` and :math:`\hat z_1`
    at constant angular speed,

    .. math:: \hat z(t) = \frac{\sin((1-t)\Omega)}{\sin\Omega}\hat z_0 + \frac{\sin(t\Omega)}{\sin\Omega}\hat z_1,
              \quad \cos\Omega = \hat z_0\cdot\hat z_1,

    and the norm goes linearly from :math:`|z_0|` to :math:`|z_1|`, so for two unit vectors the
    whole path stays on the unit sphere and the end points are returned exactly.

    Falls back to :func:`lerp` when the vectors are (nearly) parallel (angle below
    ``PARALLEL_ANGLE``), when either is (nearly) zero, or when they are anti-parallel
    (the great circle is not unique).

    Parameters
    ----------
    z0, z1 : array_like, shape (d,)
    t : float or array_like
        Interpolation parameter(s), vectorised.

    Returns
    -------
    numpy.ndarray, shape ``t.shape + (d,)``
    """
    z0, z1 = _as_pair(z0, z1)
    t = _as_t(t)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    scale = max(n0, n1, 1e-300)
    if n0 <= 1e-12 * scale or n1 <= 1e-12 * scale or min(n0, n1) == 0.0:
        return lerp(z0, z1, t)
    u0, u1 = z0 / n0, z1 / n1
    cos = float(np.clip(np.dot(u0, u1), -1.0, 1.0))
    # angle from atan2 is accurate for small and near-pi angles
    omega = float(np.arctan2(np.linalg.norm(u1 - cos * u0), cos))
    if omega < PARALLEL_ANGLE or np.pi - omega < PARALLEL_ANGLE:
        return lerp(z0, z1, t)
    tt = t[..., None]
    sin = np.sin(omega)
    direction = (np.sin((1.0 - tt) * omega) / sin) * u0 + (np.sin(tt * omega) / sin) * u1
    norm = (1.0 - tt) * n0 + tt * n1
    out = norm * direction
    # exact end points
    out = np.where(tt == 0.0, z0, out)
    return np.where(tt == 1.0, z1, out)


def interpolation_path(z0, z1, steps: int = 100, method: str = "slerp") -> np.ndarray:
    """``steps`` latent vectors from ``z0`` to ``z1`` (both included), shape ``(steps, d)``.

    ``method`` is ``"slerp"`` (paper) or ``"lerp"``.
    """
    if int(steps) != steps or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    t = np.linspace(0.0, 1.0, int(steps))
    if method == "slerp":
        return slerp(z0, z1, t)
    if method == "lerp":
        return lerp(z0, z1, t)
    raise ValueError(f"method must be 'slerp' or 'lerp', got {method!r}")


def decode_path(model, path, batch_size: int = 256) -> np.ndarray:
    """Decode latent vectors with :meth:`PVAE.decode <pvae_lib.models.pvae.PVAE.decode>`; float images in [0, 1]
    without the channel axis, (S, H, W[, D])."""
    return model.decode(path, batch_size=batch_size)


@dataclass(frozen=True)
class PathProperties:
    """Properties of the binarised structures along a latent path.

    Attributes
    ----------
    t : (S,) interpolation parameter
    images : (S, H, W) bool binarised decoded structures (True = pore)
    n_exact : (S,) porosity of the binarised images (paper Eq. 1)
    k11_exact : (S,) K11 from :func:`pvae_lib.stokes2d.stokes2d_permeability` (l.u.²), NaN if not computed
    n_surrogate, k11_surrogate : (S,) CNN surrogate predictions (paper's protocol), NaN without a CNN
    """

    t: np.ndarray
    images: np.ndarray
    n_exact: np.ndarray
    k11_exact: np.ndarray
    n_surrogate: np.ndarray
    k11_surrogate: np.ndarray

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({
            "t": self.t, "n_exact": self.n_exact, "k11_exact": self.k11_exact,
            "n_surrogate": self.n_surrogate, "k11_surrogate": self.k11_surrogate,
        })


def path_properties(model, path, cnn=None, exact: bool = True, rule: str = DECODED_RULE,
                    n_jobs: int = 1, solver=None, progress: bool = False) -> PathProperties:
    """Decode ``path``, binarise (``rule`` of :func:`pvae_lib.binarize.binarize`, default
    :data:`~pvae_lib.binarize.DECODED_RULE`), and measure n and K11 by the CNN surrogate and the exact
    solver."""
    from ..binarize import binarize
    from .evaluate import exact_properties, surrogate_properties

    path = np.asarray(path)
    images = binarize(decode_path(model, path), rule=rule)
    steps = len(path)
    n_exact = images.reshape(steps, -1).mean(axis=1)
    k_exact = np.full(steps, np.nan)
    if exact:
        k_exact = exact_properties(images, n_jobs=n_jobs, solver=solver, progress=progress)["k11"]
    n_sur = np.full(steps, np.nan)
    k_sur = np.full(steps, np.nan)
    if cnn is not None:
        pred = surrogate_properties(cnn, images)
        n_sur, k_sur = pred[:, 0], pred[:, 1]
    return PathProperties(np.linspace(0, 1, steps), images, n_exact, np.asarray(k_exact), n_sur, k_sur)


@dataclass(frozen=True)
class VerifiedWalk:
    """A latent walk whose decoded structures were measured by an exact solver (paper Figs. 15, 27-28).

    Attributes
    ----------
    path : (S, L) latent vectors of the walk
    images : (S, ...) bool binarised decoded structures (True = pore)
    table : pandas.DataFrame indexed by ``step``: ``t``, ``n (image)`` (porosity counted on the
        image), ``<name> <exact_label>`` for every other property (the solver's value, e.g.
        ``k11 LBM``; NaN for an all-pore or all-solid image) and ``<name> regressor`` /
        ``n (regressor)`` (what the model's regressor predicts for the latent vector); names
        as in :data:`~pvae_lib.data.properties.PROPERTIES`
    names : property names, in the order of the evaluator's and the regressor's columns
    exact_label : suffix of the solver's columns (e.g. ``"LBM"``)
    distinct : distinct structures along the walk (each was evaluated once)
    seconds : wall time of the exact evaluations (s)
    """

    path: np.ndarray
    images: np.ndarray
    table: "object"
    names: tuple
    exact_label: str
    distinct: int
    seconds: float

    def exact(self, name: str) -> np.ndarray:
        """The solver's values of property ``name`` along the walk (porosity: counted on the image)."""
        return self.table["n (image)" if name == self.names[0] else f"{name} {self.exact_label}"].to_numpy()

    def towards_end_fraction(self, name: str) -> float:
        """Share of the steps that change ``name`` which move it towards its value at the end of the walk.

        Steps between identical values (the same decoded structure twice) and steps next to a
        NaN are left out; NaN if no step is left. 1.0: the exact value moves monotonically from
        the start to the end of the walk.
        """
        values = self.exact(name)
        d = np.diff(values)
        keep = np.isfinite(d) & (d != 0)
        if not keep.any():
            return float("nan")
        ends = values[np.isfinite(values)]
        trend = np.sign(ends[-1] - ends[0]) if ends.size >= 2 and ends[-1] != ends[0] else 1.0
        return float(np.mean(np.sign(d[keep]) == trend))


def verified_walk(model, z0, z1, steps: int, evaluator, names=("n", "k11", "k22", "k33"), method: str = "slerp",
                  rule: str = DECODED_RULE, exact_label: str = "LBM") -> VerifiedWalk:
    """Walk from ``z0`` to ``z1``, decode and binarise every step, and measure it exactly and by the regressor.

    Every distinct decoded structure is evaluated once (:class:`~pvae_lib.design.verify.PropertyCache`,
    all of them in one call of ``evaluator``), so the exact check of a long walk costs one solver
    run per structure it passes through, not per step.

    Parameters
    ----------
    model : :class:`~pvae_lib.models.pvae.PVAE` (``decode`` and ``predict_properties``)
    z0, z1 : (L,) latent vectors of the walk's ends (e.g. the latent means of two samples)
    steps : points on the walk, ends included (paper: 100)
    evaluator : callable ``images (M, ...) bool -> (M, len(names))`` in physical units, porosity
        first (:func:`~pvae_lib.design.verify.lbm_evaluator` for 3-D samples)
    names : property names of the evaluator's columns, which are also the regressor's outputs
        (:data:`~pvae_lib.data.properties.PROPERTIES`: ``n`` first, then e.g. ``k11``)
    method : ``"slerp"`` (paper) or ``"lerp"``
    rule : binarisation rule of :func:`pvae_lib.binarize.binarize` (default
        :data:`~pvae_lib.binarize.DECODED_RULE`: each decoded image keeps its expected porosity)
    exact_label : suffix of the solver's columns in the table

    Returns
    -------
    VerifiedWalk

    See Also
    --------
    path_properties : the 2-D patterns' walk, measured by the duct-flow solver and the CNN surrogate
    """
    import pandas as pd

    from ..binarize import binarize
    from .verify import PropertyCache

    names = tuple(names)
    path = interpolation_path(z0, z1, steps, method=method)
    images = binarize(model.decode(path), rule=rule)
    predicted = np.asarray(model.predict_properties(path), dtype=np.float64)
    if predicted.shape[1] != len(names):
        raise ValueError(f"the regressor predicts {predicted.shape[1]} properties, names has {len(names)}: {names}")
    porosity = images.reshape(len(images), -1).mean(axis=1)
    exact = np.full((len(images), len(names)), np.nan)
    exact[:, 0] = porosity
    two_phase = (porosity > 0) & (porosity < 1)  # an all-pore or all-solid block has no meaningful K
    cache = PropertyCache(evaluator)
    if two_phase.any():
        exact[two_phase] = cache(images[two_phase])
    table = pd.DataFrame({"t": np.linspace(0.0, 1.0, len(path)), "n (image)": exact[:, 0]},
                         index=pd.RangeIndex(len(path), name="step"))
    for j, name in enumerate(names[1:], start=1):
        table[f"{name} {exact_label}"] = exact[:, j]
    table["n (regressor)"] = predicted[:, 0]
    for j, name in enumerate(names[1:], start=1):
        table[f"{name} regressor"] = predicted[:, j]
    return VerifiedWalk(path, images, table, names, exact_label, cache.calls, cache.seconds)
