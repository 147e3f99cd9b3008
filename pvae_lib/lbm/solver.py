"""The lattice Boltzmann time loop, compiled with XLA.

``simulate(image, config, axis)`` drives flow along one array axis through a binary image
and returns the steady velocity and density fields. The loop runs inside one
``tf.function(jit_compile=True)`` call per ``check_interval`` steps; between calls the mean
velocity is checked for convergence, NaN/Inf and the Mach number. Runs on a GPU when
TensorFlow sees one (no device is pinned).

``simulate_batch(images, config, axis)`` runs several images of one shape in ONE compiled
call: the fluid nodes store no geometry, so the samples' lattices are joined into one lattice
(their disjoint union, streaming indices offset per sample) that the same compiled step
advances; the mean velocity is checked per sample (segment sums over a node -> sample map).
On a GPU this fills the device with one large gather instead of many small ones.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..images import as_pore_array, normalize_axis
from .boundaries import ZouHePlane, apply_zou_he, pressure_gradient, zou_he_plane
from .collision import trt_collide
from .config import LBMConfig
from .observables import moments
from .stencil import CS2, Q
from .streaming import FluidLattice, build_lattice, stream

__all__ = ["LBMResult", "LBMDivergenceError", "simulate", "simulate_batch", "run_lattice"]


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
        Wall-clock time of the time loop (compilation included); for a result of
        :func:`simulate_batch`, that of the whole batch (shared by its samples).
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


def _summary(f, force, segments=None, n_segments=None):
    """Momentum sum, largest ``|u|^2`` and finiteness of the lattice, or per sample.

    Without ``segments``: ``jsum`` (3,), scalar ``umax2`` and ``finite``. With ``segments``
    (node -> sample number, (N,)) and ``n_segments`` samples: ``jsum`` (B, 3), ``umax2`` (B,)
    and ``finite`` (B,).
    """
    _, j, u = moments(f, force)
    if segments is None:
        jsum = tf.reduce_sum(tf.cast(j, tf.float64), axis=1)
        umax2 = tf.reduce_max(tf.reduce_sum(u * u, axis=0))
        finite = tf.reduce_all(tf.math.is_finite(jsum)) & tf.math.is_finite(umax2)
        return jsum, umax2, finite
    jsum = tf.math.unsorted_segment_sum(tf.transpose(tf.cast(j, tf.float64)), segments, n_segments)
    umax2 = tf.math.unsorted_segment_max(tf.reduce_sum(u * u, axis=0), segments, n_segments)
    finite = tf.math.is_finite(tf.reduce_sum(jsum, axis=1)) & tf.math.is_finite(umax2)
    return jsum, umax2, finite


def _force_chunk_fn():
    global _FORCE_CHUNK
    if _FORCE_CHUNK is None:

        @tf.function(jit_compile=True)
        def chunk(f, index, n_steps, omega_plus, omega_minus, force, segments=None, n_segments=None):
            # State between steps: post-collision populations. One step = stream, then
            # collide (this order lets XLA fuse the gather into the collision loop).
            def body(k, f):
                return k + 1, trt_collide(stream(f, index), omega_plus, omega_minus, force)

            _, f = tf.while_loop(lambda k, f: k < n_steps, body, (tf.constant(0), f))
            return (f, *_summary(stream(f, index), force, segments, n_segments))

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
    def chunk(f, index, n_steps, omega_plus, omega_minus, segments=None, n_segments=None):
        def body(k, f):
            return k + 1, trt_collide(_pre_collision(f, index, planes), omega_plus, omega_minus, None)

        _, f = tf.while_loop(lambda k, f: k < n_steps, body, (tf.constant(0), f))
        return (f, *_summary(_pre_collision(f, index, planes), None, segments, n_segments))

    return chunk


def _zou_he_planes(lattices, offsets, config: LBMConfig):
    """Inlet and outlet planes of a pressure drive (none for a body force).

    Several lattices (a batch) are joined into one plane per side, node numbers shifted by
    each lattice's ``offset`` in the joined lattice.
    """
    if config.drive == "force":
        return []
    if lattices[0].shape[0] < 3:
        raise ValueError("a pressure-driven run needs at least 3 layers along the flow axis")
    drho = config.density_difference
    planes = []
    for side, density in (("in", 1.0 + drho / 2), ("out", 1.0 - drho / 2)):
        parts = [zou_he_plane(lat.fluid, lat.ids, side, density) for lat in lattices]
        if len(parts) == 1:
            planes.append(parts[0])
        else:
            ids = np.concatenate([p.node_ids + o for p, o in zip(parts, offsets)])
            planes.append(ZouHePlane(ids, parts[0].normal, density))
    return planes


def _chunk_call(config: LBMConfig, shape, index, planes, segments=None, n_segments=None):
    """``call(f, k)`` running ``k`` compiled steps, and the driving gradient magnitude."""
    dtype = tf.as_dtype(config.dtype)
    wp = tf.constant(config.omega_plus, dtype)
    wm = tf.constant(config.omega_minus, dtype)
    if config.drive == "force":
        gradient = config.force
        force = tf.constant([config.force, 0.0, 0.0], dtype)
        chunk_fn = _force_chunk_fn()
        return (lambda f, k: chunk_fn(f, index, k, wp, wm, force, segments, n_segments)), gradient
    gradient = pressure_gradient(config.density_difference, shape[0])
    chunk_fn = _pressure_chunk_fn(planes)
    return (lambda f, k: chunk_fn(f, index, k, wp, wm, segments, n_segments)), gradient


def _check_health(finite: bool, umax2: float, steps: int, config: LBMConfig, where: str = ""):
    """Raise :class:`LBMDivergenceError` on NaN/Inf or a Mach number above ``config.max_mach``."""
    if not finite:
        raise LBMDivergenceError(
            f"LBM run diverged (NaN/Inf) by step {steps}{where}: increase tau (now {config.tau}), "
            "lower the force / density difference, or use collision='trt'"
        )
    mach = float(np.sqrt(max(umax2, 0.0) / CS2))
    if umax2 > (config.max_mach**2) * CS2:
        raise LBMDivergenceError(
            f"Mach number {mach:.3f} exceeds max_mach={config.max_mach} at step {steps}{where}: "
            "lower the driving force / density difference (the flow must stay slow)"
        )


def _settled(mean: float, previous, steps: int, config: LBMConfig) -> bool:
    """The stopping rule: relative change of the mean velocity over one check interval."""
    if previous is None or steps < min(config.min_steps, config.max_steps):
        return False
    scale = max(abs(mean), 1e-300)
    return abs(mean - previous) <= config.tolerance * scale or (mean == 0.0 and previous == 0.0)


def _progress_bar(progress: bool, config: LBMConfig, desc: str = "LBM steps"):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.max_steps, desc=desc, leave=False)


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
    f = tf.zeros((Q, n), dtype=dtype)
    planes = _zou_he_planes([lattice], [0], config)
    call, gradient = _chunk_call(config, lattice.shape, index, planes)

    history = []
    steps, converged = 0, False
    previous = None
    bar = _progress_bar(progress, config)
    start = time.perf_counter()
    try:
        while steps < config.max_steps:
            k = min(config.check_interval, config.max_steps - steps)
            f, jsum, umax2, finite = call(f, tf.constant(k))
            steps += k
            if bar is not None:
                bar.update(k)
            _check_health(bool(finite), float(umax2), steps, config)
            mean = float(jsum.numpy()[0]) / n_voxels
            history.append((steps, mean))
            if _settled(mean, previous, steps, config):
                converged = True
                break
            previous = mean
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    f = _pre_collision(f, index, planes)
    return f, converged, steps, np.array(history, dtype=np.float64).reshape(-1, 2), seconds, gradient


def _run_lattices(lattices, config: LBMConfig, progress: bool = False):
    """Run lattices of one shape together as one joined lattice (see :func:`simulate_batch`).

    Each sample follows exactly the stopping rule of :func:`run_lattice`: its populations are
    taken at the check where it converged (later steps of the joined lattice do not change
    them), so it ends after the same number of steps as a run of its own.

    Returns ``(fs, converged, steps, histories, seconds, driving_gradient)``: per-sample lists
    of pre-collision populations (19, N_b) tensors, bools, step counts and histories; the wall
    time of the whole batched loop.
    """
    dtype = tf.as_dtype(config.dtype)
    counts = np.array([lat.n_fluid for lat in lattices], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    total = int(counts.sum())
    if total * Q >= 2**31:
        raise ValueError(f"{total} fluid nodes in the batch is too many for a 32-bit streaming index")
    # Flat pull index of the joined lattice: entry d * n_b + s of sample b (population d of
    # its node s) becomes d * total + offset_b + s; samples never exchange populations.
    joined = np.empty((Q, total), dtype=np.int64)
    for lat, o, n in zip(lattices, offsets, counts):
        local = lat.index.reshape(Q, n).astype(np.int64)
        joined[:, o:o + n] = (local // n) * total + o + local % n
    index = tf.constant(joined.reshape(-1).astype(np.int32))
    n_samples = len(lattices)
    segments = tf.constant(np.repeat(np.arange(n_samples, dtype=np.int32), counts))
    planes = _zou_he_planes(lattices, offsets, config)
    call, gradient = _chunk_call(config, lattices[0].shape, index, planes, segments, n_samples)
    n_voxels = int(np.prod(lattices[0].shape))

    f = tf.zeros((Q, total), dtype=dtype)
    histories = [[] for _ in lattices]
    previous = [None] * n_samples
    converged = [False] * n_samples
    steps_of = [0] * n_samples
    final = [None] * n_samples  # post-collision populations at each sample's own end
    steps = 0
    bar = _progress_bar(progress, config, f"LBM steps ({n_samples} samples)")
    start = time.perf_counter()
    try:
        while steps < config.max_steps and any(x is None for x in final):
            k = min(config.check_interval, config.max_steps - steps)
            f, jsum, umax2, finite = call(f, tf.constant(k))
            steps += k
            if bar is not None:
                bar.update(k)
            jsum, umax2, finite = jsum.numpy(), umax2.numpy(), finite.numpy()
            for b in range(n_samples):
                if final[b] is not None:
                    continue
                _check_health(bool(finite[b]), float(umax2[b]), steps, config, f" in batch sample {b}")
                mean = float(jsum[b, 0]) / n_voxels
                histories[b].append((steps, mean))
                if _settled(mean, previous[b], steps, config):
                    converged[b] = True
                    steps_of[b] = steps
                    final[b] = f[:, offsets[b]:offsets[b] + counts[b]]
                previous[b] = mean
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    for b in range(n_samples):
        if final[b] is None:  # reached max_steps
            steps_of[b] = steps
            final[b] = f[:, offsets[b]:offsets[b] + counts[b]]
    f = _pre_collision(tf.concat(final, axis=1), index, planes)
    fs = [f[:, offsets[b]:offsets[b] + counts[b]] for b in range(n_samples)]
    histories = [np.array(h, dtype=np.float64).reshape(-1, 2) for h in histories]
    return fs, converged, steps_of, histories, seconds, gradient


def _solver_orientation(ndim: int, axis: int):
    """Axis permutation putting the flow axis first."""
    return [axis] + [a for a in range(ndim) if a != axis]


def _lattice_for(pores: np.ndarray, ax: int, config: LBMConfig):
    """The fluid lattice of a checked pore image with the flow axis ``ax`` turned to axis 0."""
    two_d = pores.ndim == 2
    perm = _solver_orientation(pores.ndim, ax)
    fluid = np.transpose(pores, perm)
    if two_d:
        fluid = fluid[:, :, None]
    flow_rule = "periodic" if config.drive == "force" else "open"
    faces = (flow_rule, config.boundary, "periodic" if two_d else config.boundary)
    return build_lattice(fluid, faces)


def _result(pores, ax, lattice, f, converged, steps, history, seconds, gradient, config) -> LBMResult:
    """Fields in the image's orientation from the final populations ``f`` (19, N) of ``lattice``."""
    two_d = pores.ndim == 2
    perm = _solver_orientation(pores.ndim, ax)
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

    See Also
    --------
    simulate_batch : several images of one shape in one compiled call.
    """
    config = config or LBMConfig()
    pores = as_pore_array(image, ndim=(2, 3))
    ax = normalize_axis(axis, pores.ndim)
    if not pores.any():
        raise ValueError("image has no pore voxel; there is nothing to flow through")
    lattice = _lattice_for(pores, ax, config)
    f, converged, steps, history, seconds, gradient = run_lattice(lattice, config, progress)
    return _result(pores, ax, lattice, f, converged, steps, history, seconds, gradient, config)


def _check_batch(images, ndim=(2, 3)) -> list[np.ndarray]:
    """Check a batch of binary images: non-empty, each valid, all of one shape.

    Returns the images as ``bool`` arrays; raises ``ValueError`` naming the offending sample.
    """
    if isinstance(images, np.ndarray) and images.ndim in (3, 4) and images.dtype != object:
        images = list(images)
    elif not isinstance(images, (list, tuple)):
        try:
            images = list(images)
        except TypeError:
            raise ValueError("images must be a sequence of binary images (or one stacked array)") from None
    if len(images) == 0:
        raise ValueError("the batch is empty: give at least one image")
    batch = [as_pore_array(img, ndim=ndim, name=f"images[{b}]") for b, img in enumerate(images)]
    shapes = sorted({p.shape for p in batch})
    if len(shapes) > 1:
        raise ValueError(
            f"all images of a batch must have the same shape, got {shapes}; run different shapes "
            "in separate batches"
        )
    return batch


def simulate_batch(images, config: LBMConfig | None = None, axis: int | str = 0,
                   progress: bool = False) -> list[LBMResult]:
    """Steady flow through several binary images of one shape, in one compiled call.

    The samples' fluid lattices are joined into one lattice (a disjoint union: no population
    streams between samples) that the compiled time loop of :func:`simulate` advances as a
    whole; the convergence check is made per sample. A sample that has converged keeps being
    updated with the others, but its result is taken at the check where it converged, so it
    equals ``simulate(images[b], config, axis)`` (same steps, history and stopping decision; the
    fields to floating-point rounding of the per-sample sums, in practice identical). The loop
    ends when every sample has converged or at ``config.max_steps``.

    Parameters
    ----------
    images : sequence of array_like of bool, each 3-D (or each 2-D), all of one shape
        ``True``/1 = pore (fluid); a stacked array is split along its first axis. 2-D images
        are 1-voxel-thick periodic slabs as in :func:`simulate`.
    config : LBMConfig, optional
        One configuration for all samples; defaults to ``LBMConfig()``.
    axis : int or {'x', 'y', 'z'}
        Flow (driving) axis of every sample; ``'x'`` = array axis 0.
    progress : bool
        Show a tqdm progress bar (steps of the batch).

    Returns
    -------
    list of LBMResult
        In the order of ``images``. ``seconds`` of every result is the wall-clock time of the
        whole batched loop (compilation included), so a result's ``mlups`` understates the
        batch's throughput, which is ``sum(voxels x steps) / seconds``.

    Raises
    ------
    ValueError
        Empty batch, different shapes, an invalid image or one without a pore voxel (the
        message names the sample) -- raised before any lattice is built.
    LBMDivergenceError
        NaN/Inf or Mach number above ``config.max_mach`` in any sample still running (the
        whole batch stops).

    Notes
    -----
    Memory grows with the total number of fluid nodes (19 populations each, plus the gather
    index); the batch must stay below 2**31 / 19 fluid nodes in all (32-bit index).
    """
    config = config or LBMConfig()
    batch = _check_batch(images)
    ax = normalize_axis(axis, batch[0].ndim)
    for b, pores in enumerate(batch):
        if not pores.any():
            raise ValueError(f"images[{b}] has no pore voxel; there is nothing to flow through")
    total = sum(int(np.count_nonzero(p)) for p in batch)
    if total * Q >= 2**31:
        raise ValueError(
            f"{total} fluid nodes in the batch is too many for a 32-bit streaming index; "
            "split the batch"
        )
    if config.drive == "pressure" and batch[0].shape[ax] < 3:
        raise ValueError("a pressure-driven run needs at least 3 layers along the flow axis")
    lattices = [_lattice_for(pores, ax, config) for pores in batch]
    fs, converged, steps, histories, seconds, gradient = _run_lattices(lattices, config, progress)
    return [
        _result(pores, ax, lattice, f, conv, n, hist, seconds, gradient, config)
        for pores, lattice, f, conv, n, hist in zip(batch, lattices, fs, converged, steps, histories)
    ]
