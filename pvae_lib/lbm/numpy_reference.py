"""Plain NumPy D3Q19 solver with the same physics as the TensorFlow one (for checks and benchmarks).

Dense arrays ``(19, X, Y, Z)``, ``np.roll`` streaming, periodic faces, body-force drive along
array axis 0, half-way bounce-back on solid voxels, BGK/TRT collision with Guo forcing.
Deliberately simple: it is the readable reference, not the fast path.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..images import as_pore_array
from .config import LBMConfig
from .stencil import CS2, E, OPPOSITE, W

__all__ = ["NumpyResult", "numpy_simulate"]


@dataclass
class NumpyResult:
    """Velocity field ``(X, Y, Z, 3)``, superficial mean velocity ``(3,)``, steps and seconds."""

    velocity: np.ndarray
    mean_velocity: np.ndarray
    steps: int
    seconds: float

    @property
    def mlups(self) -> float:
        """Million voxel updates per second (every voxel counted)."""
        return self.velocity[..., 0].size * self.steps / max(self.seconds, 1e-12) / 1e6


def _dot_e(vectors):
    """``e_i . v`` for every direction: (19, X, Y, Z) from a (3, X, Y, Z) field."""
    return np.stack([sum(int(E[i, a]) * vectors[a] for a in range(3) if E[i, a]) if E[i].any()
                     else np.zeros_like(vectors[0]) for i in range(len(E))])


def _moments(f, force):
    rho = f.sum(axis=0)
    j = np.stack([f[E[:, a] == 1].sum(axis=0) - f[E[:, a] == -1].sum(axis=0) for a in range(3)])
    j += 0.5 * force[:, None, None, None]
    return rho, j, j / rho


def numpy_simulate(image, config: LBMConfig | None = None, steps: int = 1000) -> NumpyResult:
    """Run ``steps`` time steps of force-driven flow along array axis 0 with periodic faces.

    Parameters
    ----------
    image : array_like of bool, 3-D
        ``True``/1 = pore.
    config : LBMConfig, optional
        Uses ``tau``, ``collision``, ``magic``, ``force`` and ``dtype``; other fields are ignored.
    steps : int
        Number of time steps (no convergence check).
    """
    config = config or LBMConfig()
    fluid = as_pore_array(image, ndim=3)
    dtype = np.dtype(config.dtype)
    w = W.astype(dtype)[:, None, None, None]
    e = E.astype(dtype)
    force = np.array([config.force, 0.0, 0.0], dtype=dtype)
    wp, wm = config.omega_plus, config.omega_minus
    solid = ~fluid
    # populations arriving at x along e_i come from x - e_i; bounce back if that voxel is solid
    from_solid = np.stack([np.roll(solid, shift=tuple(E[i]), axis=(0, 1, 2)) for i in range(len(E))])
    f = np.broadcast_to(w, (len(E),) + fluid.shape).astype(dtype)
    eu_f = np.einsum("ia,a->i", e, force)[:, None, None, None]
    start = time.perf_counter()
    for _ in range(steps):
        rho, _, u = _moments(f, force)
        eu = _dot_e(u)
        uu = (u * u).sum(axis=0)
        feq = w * rho * (1 + eu / CS2 + eu**2 / (2 * CS2**2) - uu / (2 * CS2))
        uf = force[0] * u[0] + force[1] * u[1] + force[2] * u[2]
        s_even = w * (eu * eu_f / CS2**2 - uf / CS2)
        s_odd = w * eu_f / CS2
        f_opp, feq_opp = f[OPPOSITE], feq[OPPOSITE]
        post = (
            f
            - wp * 0.5 * ((f + f_opp) - (feq + feq_opp))
            - wm * 0.5 * ((f - f_opp) - (feq - feq_opp))
            + (1 - wp / 2) * s_even
            + (1 - wm / 2) * s_odd
        )
        streamed = np.stack([np.roll(post[i], shift=tuple(E[i]), axis=(0, 1, 2)) for i in range(len(E))])
        f = np.where(from_solid, post[OPPOSITE], streamed)
        f[:, solid] = w[:, 0, 0, 0, None]  # solid voxels hold the rest state
    seconds = time.perf_counter() - start
    _, j, u = _moments(f, force)
    u = np.where(fluid, u, 0.0)
    j = np.where(fluid, j, 0.0)
    return NumpyResult(
        velocity=np.moveaxis(u, 0, -1).astype(np.float64),
        mean_velocity=j.reshape(3, -1).sum(axis=1).astype(np.float64) / fluid.size,
        steps=steps,
        seconds=seconds,
    )
