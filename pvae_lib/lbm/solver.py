"""The lattice Boltzmann time loop, compiled with XLA.

``simulate(image, config, axis)`` drives flow along one array axis through a binary image
and returns the steady velocity and density fields. The loop runs inside one
``tf.function(jit_compile=True)`` call per ``check_interval`` steps; between calls the mean
velocity is checked for convergence, NaN/Inf and the Mach number. Runs on a GPU when
TensorFlow sees one (no device is pinned).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..images import as_pore_array, normalize_axis
from .boundaries import apply_zou_he, pressure_gradient, zou_he_plane
from .collision import trt_collide
from .config import LBMConfig
from .observables import moments
from .stencil import CS2, Q
from .streaming import FluidLattice, build_lattice, stream

__all__ = ["LBMResult", "LBMDivergenceError", "simulate", "run_lattice"]


class LBMDivergenceError(RuntimeError):
    """The simulation produced NaN/Inf or exceeded the allowed Mach number."""


@dataclass
class LBMResult:
    """Outcome of one LBM run (lattice units).

    Attributes
    ----------
    converged : bool
        Relative change of the mean velocity per check interval fell below the tolerance.
    steps : int
        Time steps run.
    velocity : ndarray (*shape, 3)
        Velocity field ``u = (sum f e + F/2)/rho`` in the image's orientation; components in
        array-axis order; zero in solid voxels.
    density : ndarray (*shape)
        Density ``rho`` (1 in solid voxels).
    mean_velocity : ndarray (3,)
        Superficial velocity: momentum ``rho u`` summed over fluid nodes / ALL voxels.
    driving_gradient : float
        Magnitude of the driving pressure gradient (force density or ``c_s^2 drho/(X-1)``).
    history : ndarray (k, 2)
        ``(step, superficial velocity along the flow axis)`` at every check.
    seconds : float
        Wall-clock time of the time loop (compilation included).
    axis : int
        Flow axis (array axis).
    config : LBMConfig
    n_fluid : int
    """

    converged: bool
    steps: int
    velocity: np.ndarray
    density: np.ndarray
    mean_velocity: np.ndarray
    driving_gradient: float
    history: np.ndarray
    seconds: float
    axis: int
    config: LBMConfig
    n_fluid: int

    @property
    def mlups(self) -> float:
        """Million lattice (voxel) updates per second, counting every voxel (solid included)."""
        return self.velocity[..., 0].size * self.steps / max(self.seconds, 1e-12) / 1e6


_FORCE_CHUNK = None


def _summary(f, force):
    _, j, u = moments(f, force)
    jsum = tf.reduce_sum(tf.cast(j, tf.float64), axis=1)
    umax2 = tf.reduce_max(tf.reduce_sum(u * u, axis=0))
    finite = tf.reduce_all(tf.math.is_finite(jsum)) & tf.math.is_finite(umax2)
    return jsum, umax2, finite


def _force_chunk_fn():
    global _FORCE_CHUNK
    if _FORCE_CHUNK is None:

        @tf.function(jit_compile=True)
        def chunk(f, index, n_steps, omega_plus, omega_minus, force):
            # State between steps: post-collision populations. One step = stream, then
            # collide (this order lets XLA fuse the gather into the collision loop).
            def body(k, f):
                return k + 1, trt_collide(stream(f, index), omega_plus, omega_minus, force)

            _, f = tf.while_loop(lambda k, f: k < n_steps, body, (tf.constant(0), f))
            return (f, *_summary(stream(f, index), force))

        _FORCE_CHUNK = chunk
    return _FORCE_CHUNK


def _pre_collision(f_post, index, planes=()):
    """Populations after streaming (and the Zou-He planes): the ones moments are taken from."""
    f = stream(f_post, index)
    for plane in planes:
        f = apply_zou_he(f, plane)
    return f


def _pressure_chunk_fn(planes):
    @tf.function(jit_compile=True)
    def chunk(f, index, n_steps, omega_plus, omega_minus):
        def body(k, f):
            return k + 1, trt_collide(_pre_collision(f, index, planes), omega_plus, omega_minus, None)

        _, f = tf.while_loop(lambda k, f: k < n_steps, body, (tf.constant(0), f))
        return (f, *_summary(_pre_collision(f, index, planes), None))

    return chunk


def run_lattice(lattice: FluidLattice, config: LBMConfig, progress: bool = False):
    """Run the time loop on a prepared lattice whose flow axis is array axis 0.

    Returns ``(f, converged, steps, history, seconds, driving_gradient)`` with ``f`` the final
    zero-centred populations (19, N) after streaming and boundary conditions (pre-collision),
    as a tensor.
    """
    dtype = tf.as_dtype(config.dtype)
    n = lattice.n_fluid
    n_voxels = int(np.prod(lattice.shape))
    index = tf.constant(lattice.index)
    wp = tf.constant(config.omega_plus, dtype)
    wm = tf.constant(config.omega_minus, dtype)
    f = tf.zeros((Q, n), dtype=dtype)
    if config.drive == "force":
        gradient = config.force
        force = tf.constant([config.force, 0.0, 0.0], dtype)
        chunk_fn = _force_chunk_fn()
        call = lambda f, k: chunk_fn(f, index, k, wp, wm, force)  # noqa: E731
        planes = []
    else:
        if lattice.shape[0] < 3:
            raise ValueError("a pressure-driven run needs at least 3 layers along the flow axis")
        drho = config.density_difference
        planes = [zou_he_plane(lattice.fluid, lattice.ids, "in", 1.0 + drho / 2),
                  zou_he_plane(lattice.fluid, lattice.ids, "out", 1.0 - drho / 2)]
        gradient = pressure_gradient(drho, lattice.shape[0])
        chunk_fn = _pressure_chunk_fn(planes)
        call = lambda f, k: chunk_fn(f, index, k, wp, wm)  # noqa: E731

    mach2 = (config.max_mach**2) * CS2
    history = []
    steps, converged = 0, False
    previous = None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.max_steps, desc="LBM steps", leave=False)
    start = time.perf_counter()
    try:
        while steps < config.max_steps:
            k = min(config.check_interval, config.max_steps - steps)
            f, jsum, umax2, finite = call(f, tf.constant(k))
            steps += k
            if bar is not None:
                bar.update(k)
            if not bool(finite):
                raise LBMDivergenceError(
                    f"LBM run diverged (NaN/Inf) by step {steps}: increase tau (now {config.tau}), "
                    "lower the force / density difference, or use collision='trt'"
                )
            mach = float(np.sqrt(max(float(umax2), 0.0) / CS2))
            if float(umax2) > mach2:
                raise LBMDivergenceError(
                    f"Mach number {mach:.3f} exceeds max_mach={config.max_mach} at step {steps}: "
                    "lower the driving force / density difference (the flow must stay slow)"
                )
            mean = float(jsum.numpy()[0]) / n_voxels
            history.append((steps, mean))
            if previous is not None and steps >= min(config.min_steps, config.max_steps):
                scale = max(abs(mean), 1e-300)
                if abs(mean - previous) <= config.tolerance * scale or (mean == 0.0 and previous == 0.0):
                    converged = True
                    break
            previous = mean
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    f = _pre_collision(f, index, planes)
    return f, converged, steps, np.array(history, dtype=np.float64).reshape(-1, 2), seconds, gradient


def _solver_orientation(ndim: int, axis: int):
    """Axis permutation putting the flow axis first."""
    return [axis] + [a for a in range(ndim) if a != axis]


def simulate(image, config: LBMConfig | None = None, axis: int | str = 0, progress: bool = False) -> LBMResult:
    """Steady flow through a binary image along one array axis (D3Q19 LBM, paper Appendix A).

    Parameters
    ----------
    image : array_like of bool, 3-D (or 2-D)
        ``True``/1 = pore (fluid). A 2-D image is treated as a 1-voxel-thick, periodic slab
        (2-D flow).
    config : LBMConfig, optional
        Defaults to ``LBMConfig()`` (TRT, tau = 1, body force, periodic faces).
    axis : int or {'x', 'y', 'z'}
        Flow (driving) axis; ``'x'`` = array axis 0.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    LBMResult
        Not-converged runs are returned with ``converged=False`` (no exception here).

    Raises
    ------
    ValueError
        Invalid image (see :func:`pvae_lib.images.as_pore_array`) or no fluid node.
    LBMDivergenceError
        NaN/Inf or Mach number above ``config.max_mach``.
    """
    config = config or LBMConfig()
    pores = as_pore_array(image, ndim=(2, 3))
    ax = normalize_axis(axis, pores.ndim)
    if not pores.any():
        raise ValueError("image has no pore voxel; there is nothing to flow through")
    two_d = pores.ndim == 2
    perm = _solver_orientation(pores.ndim, ax)
    fluid = np.transpose(pores, perm)
    if two_d:
        fluid = fluid[:, :, None]
    flow_rule = "periodic" if config.drive == "force" else "open"
    faces = (flow_rule, config.boundary, "periodic" if two_d else config.boundary)
    lattice = build_lattice(fluid, faces)
    f, converged, steps, history, seconds, gradient = run_lattice(lattice, config, progress)
    force = [config.force, 0.0, 0.0] if config.drive == "force" else None
    drho, j, u = moments(tf.cast(f, tf.float64), force)
    u_nodes = u.numpy().T  # (N, 3) solver components
    j_sum = j.numpy().sum(axis=1)
    rho = lattice.scatter(1.0 + drho.numpy(), fill=1.0)
    vel = lattice.scatter(u_nodes)
    if two_d:
        rho, vel = rho[:, :, 0], vel[:, :, 0, :2]
    inverse = np.argsort(perm)
    rho = np.transpose(rho, inverse)
    vel = np.transpose(vel, list(inverse) + [pores.ndim])
    vel_out = np.zeros_like(vel)
    mean = np.zeros(pores.ndim)
    for c, a in enumerate(perm):  # solver component c is array axis a
        vel_out[..., a] = vel[..., c]
        mean[a] = j_sum[c] / pores.size
    return LBMResult(
        converged=converged,
        steps=steps,
        velocity=vel_out,
        density=rho,
        mean_velocity=mean,
        driving_gradient=float(gradient),
        history=history,
        seconds=seconds,
        axis=ax,
        config=config,
        n_fluid=lattice.n_fluid,
    )
