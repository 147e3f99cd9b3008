"""Intrinsic permeability from LBM runs and Darcy's law (paper Appendix B, Eqs. 22-25).

``K_ii = nu <u_i> / |grad_i p|`` (Eq. 22, lattice units) where ``<u_i>`` is the *superficial*
velocity: the momentum summed over the fluid nodes divided by the number of ALL voxels (solid
included), i.e. porosity x mean pore velocity, as Darcy's law requires. With a body-force
drive the force density ``g`` plays the role of ``-dp/dx``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..images import as_pore_array, normalize_axis, percolates, periodic_label, porosity, require_pore_space
from .config import LBMConfig
from .solver import LBMResult, _check_batch, simulate, simulate_batch

__all__ = [
    "PermeabilityResult",
    "TensorResult",
    "NotConvergedError",
    "permeability",
    "permeability_batch",
    "permeability_tensor",
    "darcy_permeability",
    "percolates_periodic",
    "to_physical",
]


class NotConvergedError(RuntimeError):
    """An LBM run hit ``max_steps`` before the mean velocity settled."""


@dataclass
class PermeabilityResult:
    """One diagonal permeability component.

    Attributes
    ----------
    K : float
        Permeability ``K_ii`` in lattice units (l.u., voxel edge squared); 0 if no pore path
        connects the two faces normal to ``axis``.
    axis : int
        Flow axis (array axis; 0 = x).
    porosity : float
    converged : bool
    percolates : bool
    steps : int
    seconds : float
    mean_velocity : ndarray (3,)
        Superficial velocity (whole-volume average), l.u.
    simulation : LBMResult or None
        The full run (``None`` when skipped because nothing percolates).
    """

    K: float
    axis: int
    porosity: float
    converged: bool
    percolates: bool
    steps: int
    seconds: float
    mean_velocity: np.ndarray
    simulation: LBMResult | None = field(default=None, repr=False)

    def __float__(self) -> float:
        return float(self.K)


@dataclass
class TensorResult:
    """Symmetric permeability tensor (l.u.) and the runs behind it."""

    K: np.ndarray
    K_raw: np.ndarray
    porosity: float
    converged: bool
    steps: int
    seconds: float
    method: str
    runs: dict = field(default_factory=dict, repr=False)


def darcy_permeability(mean_velocity: float, gradient: float, viscosity: float) -> float:
    """Paper Eq. 22: ``K = nu <u> / |grad p|`` (lattice units, reference density 1)."""
    return float(viscosity * mean_velocity / gradient)


def percolates_periodic(pores: np.ndarray, axis: int) -> bool:
    """Like :func:`pvae_lib.images.percolates`, but the faces parallel to ``axis`` wrap around.

    Pore clusters touching across a periodic face are merged (:func:`pvae_lib.images.periodic_label`)
    before checking that one cluster touches both faces normal to ``axis``.
    """
    labels, n, _ = periodic_label(pores, [a for a in range(pores.ndim) if a != axis])
    if n == 0:
        return False
    inlet, outlet = np.unique(np.take(labels, 0, axis=axis)), np.unique(np.take(labels, -1, axis=axis))
    return bool(np.intersect1d(inlet[inlet > 0], outlet[outlet > 0]).size)


def _flows(pores, axis, config) -> bool:
    if config.boundary == "periodic":
        return percolates_periodic(pores, axis)
    return percolates(pores, axis)


def _check(image, config: LBMConfig):
    pores = as_pore_array(image, ndim=(2, 3))
    if pores.all() and config.boundary != "noslip":
        raise ValueError(
            f"image is all pore (no solid voxel); with boundary={config.boundary!r} side faces "
            f"(CLI: --boundary {config.boundary}) nothing resists the flow and the permeability is "
            "unbounded: add solid voxels or use boundary='noslip' (CLI: --boundary noslip) for a duct"
        )
    require_pore_space(pores, allow_all_pore=config.boundary == "noslip")
    return pores


def _not_converged(sim: LBMResult, what: str) -> NotConvergedError:
    hist = sim.history[:, 1]
    change = abs(hist[-1] - hist[-2]) / max(abs(hist[-1]), 1e-300) if len(hist) > 1 else float("nan")
    return NotConvergedError(
        f"{what} did not converge in {sim.steps} steps (last relative change {change:.2e} per "
        f"{sim.config.check_interval} steps, tolerance {sim.config.tolerance:.1e}); raise "
        "max_steps (CLI: --max-steps), loosen tolerance (CLI: --tolerance), or use a larger tau "
        "with collision='trt' (CLI: --tau, --collision trt)"
    )


def permeability(
    image,
    axis: int | str = 0,
    config: LBMConfig | None = None,
    *,
    require_convergence: bool = True,
    progress: bool = False,
) -> PermeabilityResult:
    """Diagonal permeability ``K_ii`` of a binary image by LBM (paper Eq. 22).

    Parameters
    ----------
    image : array_like, 3-D (or 2-D, treated as a periodic one-voxel slab)
        ``True``/1 = pore, ``False``/0 = solid.
    axis : int or {'x', 'y', 'z'}
        Flow direction (array axis; ``'x'`` = 0).
    config : LBMConfig, optional
        Collision, drive, boundary and stopping rule; default ``LBMConfig()``.
    require_convergence : bool
        If True (default) a run that reaches ``max_steps`` raises :class:`NotConvergedError`;
        if False it is returned with ``converged=False``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    PermeabilityResult
        ``float(result)`` is ``K`` in lattice units (l.u.); the superficial velocity is
        averaged over the WHOLE volume, solid voxels included. ``K = 0`` (no run) when no pore
        path connects the faces normal to ``axis`` (with ``boundary='periodic'`` paths may
        wrap around the faces parallel to the flow).

    Raises
    ------
    ValueError
        Non-binary values, NaN, wrong rank, no pore voxel or no solid voxel.
    NotConvergedError
        See ``require_convergence``.
    LBMDivergenceError
        The run became unstable (NaN or Mach number above ``config.max_mach``).

    See Also
    --------
    permeability_batch : several images of one shape in one compiled call.
    """
    config = config or LBMConfig()
    pores = _check(image, config)
    ax = normalize_axis(axis, pores.ndim)
    if not _flows(pores, ax, config):
        return _no_flow(pores, ax)
    sim = simulate(pores, config, ax, progress=progress)
    if require_convergence and not sim.converged:
        raise _not_converged(sim, f"LBM run along axis {ax}")
    return _from_run(sim, ax, porosity(pores))


def _no_flow(pores, ax) -> PermeabilityResult:
    """``K = 0`` without a run: no pore path connects the faces normal to ``ax``."""
    return PermeabilityResult(0.0, ax, porosity(pores), True, False, 0, 0.0, np.zeros(pores.ndim))


def _from_run(sim, ax, phi) -> PermeabilityResult:
    """Darcy's K (l.u.) from a finished run along ``ax``."""
    K = darcy_permeability(sim.mean_velocity[ax], sim.driving_gradient, sim.config.viscosity)
    return PermeabilityResult(K, ax, phi, sim.converged, True, sim.steps, sim.seconds, sim.mean_velocity, sim)


def permeability_batch(
    images,
    axis: int | str = 0,
    config: LBMConfig | None = None,
    *,
    require_convergence: bool = True,
    progress: bool = False,
) -> list[PermeabilityResult]:
    """Diagonal permeability ``K_ii`` (l.u.) of several images of one shape, in one compiled call.

    The batched form of :func:`permeability`: element ``b`` of the result equals
    ``permeability(images[b], axis, config)``. The percolating samples run together in
    :func:`pvae_lib.lbm.solver.simulate_batch` (one joined lattice, convergence checked per
    sample); a sample with no pore path between the faces normal to ``axis`` gets ``K = 0``
    without a run, as in :func:`permeability`.

    Parameters
    ----------
    images : sequence of array_like, each 3-D (or each 2-D), all of one shape
        ``True``/1 = pore, ``False``/0 = solid; a stacked array is split along its first axis.
    axis : int or {'x', 'y', 'z'}
        Flow direction (array axis; ``'x'`` = 0), the same for every sample.
    config : LBMConfig, optional
        One configuration for all samples; default ``LBMConfig()``.
    require_convergence : bool
        If True (default) raise :class:`NotConvergedError` when any sample reaches
        ``max_steps`` (after the whole batch has run); if False such samples are returned with
        ``converged=False``.
    progress : bool
        Show a progress bar (steps of the batch).

    Returns
    -------
    list of PermeabilityResult
        In the order of ``images``; ``K`` in lattice units (l.u.), superficial velocity over
        ALL voxels. ``seconds`` is the wall time of the whole batched loop (shared).

    Raises
    ------
    ValueError
        Empty batch, images of different shapes, or any image that :func:`permeability`
        rejects (non-binary, NaN, wrong rank, no pore voxel, no solid voxel); the message
        names the sample. Raised before any LBM step is run.
    NotConvergedError
        See ``require_convergence``; the message names the first non-converged sample.
    LBMDivergenceError
        A sample became unstable (NaN or Mach number above ``config.max_mach``).
    """
    config = config or LBMConfig()
    batch = _check_batch(images)
    for b, pores in enumerate(batch):
        try:
            _check(pores, config)
        except ValueError as err:
            raise ValueError(f"images[{b}]: {err}") from err
    ax = normalize_axis(axis, batch[0].ndim)
    flowing = [b for b, pores in enumerate(batch) if _flows(pores, ax, config)]
    results = [_no_flow(pores, ax) for pores in batch]
    if not flowing:
        return results
    sims = simulate_batch([batch[b] for b in flowing], config, ax, progress=progress)
    if require_convergence:
        for b, sim in zip(flowing, sims):
            if not sim.converged:
                raise _not_converged(sim, f"LBM run along axis {ax} of images[{b}]")
    for b, sim in zip(flowing, sims):
        results[b] = _from_run(sim, ax, results[b].porosity)
    return results


def _kuhn_off_diagonals(diagonal, runs, nu):
    """Paper Eq. 23 (Kuhn et al.): off-diagonal K from free-slip runs by least squares.

    For the run driven along ``j`` (gradient vector ``G`` with only ``G_j`` non-zero) Eq. 23
    reads ``A(G) [K12, K13, K23] = nu <u> - diag(K) G`` (gradients as driving magnitudes,
    ``-grad p``); the three runs are stacked and solved by least squares.
    """
    pairs = [(0, 1), (0, 2), (1, 2)]
    rows, rhs = [], []
    for j, sim in runs.items():
        G = np.zeros(3)
        G[j] = sim.driving_gradient
        for i in range(3):
            row = np.zeros(3)
            for p, (a, b) in enumerate(pairs):
                if i == a:
                    row[p] = G[b]
                elif i == b:
                    row[p] = G[a]
            rows.append(row)
            rhs.append(nu * sim.mean_velocity[i] - diagonal[i] * G[i])
    solution, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    K = np.diag(np.asarray(diagonal, dtype=float))
    for p, (a, b) in enumerate(pairs):
        K[a, b] = K[b, a] = solution[p]
    return K


def permeability_tensor(
    image,
    config: LBMConfig | None = None,
    *,
    require_convergence: bool = True,
    progress: bool = False,
) -> TensorResult:
    """Symmetric permeability tensor (l.u.) of a 3-D image.

    * ``config.boundary == 'periodic'``: one run per axis ``j``; ``K_ij = nu <u_i> / g_j`` gives
      every column directly; the result is the symmetric part ``(K + K^T)/2`` (``K_raw`` keeps
      the unsymmetrised matrix, whose asymmetry measures the numerical error).
    * ``'noslip'`` or ``'freeslip'`` (the paper's method, Appendix B): the diagonal from no-slip
      runs (Eq. 22) and the off-diagonals from free-slip runs by Eq. 23 solved with least
      squares. Walls stop any net transverse flow of a periodic body-force run, so use
      ``drive='pressure'`` with this method for meaningful off-diagonals.

    Axes along which nothing percolates get zero rows/columns (no run).

    Returns
    -------
    TensorResult
        ``K`` (3 x 3, symmetric, l.u.), ``K_raw``, porosity, converged, total steps, seconds.
    """
    config = config or LBMConfig()
    pores = _check(image, config)
    if pores.ndim != 3:
        raise ValueError(f"permeability_tensor needs a 3-D image, got shape {pores.shape}")
    nu = config.viscosity
    phi = porosity(pores)
    flowing = [_flows(pores, j, config) for j in range(3)]

    def run(j, cfg):
        sim = simulate(pores, cfg, j, progress=progress)
        if require_convergence and not sim.converged:
            raise _not_converged(sim, f"LBM run along axis {j} (boundary={cfg.boundary})")
        return sim

    runs = {}
    if config.boundary == "periodic":
        K_raw = np.zeros((3, 3))
        for j in range(3):
            if flowing[j]:
                sim = runs[("periodic", j)] = run(j, config)
                K_raw[:, j] = nu * sim.mean_velocity / sim.driving_gradient
        K = 0.5 * (K_raw + K_raw.T)
        method = "periodic body force: K_ij = nu <u_i> / g_j"
    else:
        noslip = config.replace(boundary="noslip")
        freeslip = config.replace(boundary="freeslip")
        diagonal = np.zeros(3)
        free_runs = {}
        for j in range(3):
            if flowing[j]:
                sim = runs[("noslip", j)] = run(j, noslip)
                diagonal[j] = nu * sim.mean_velocity[j] / sim.driving_gradient
                free_runs[j] = runs[("freeslip", j)] = run(j, freeslip)
        K = _kuhn_off_diagonals(diagonal, free_runs, nu) if free_runs else np.diag(diagonal)
        K_raw = K.copy()
        method = "Kuhn et al.: no-slip diagonal (Eq. 22), free-slip off-diagonals (Eq. 23)"
    for j in range(3):
        if not flowing[j]:
            K[j, :] = K[:, j] = 0.0
    sims = list(runs.values())
    return TensorResult(
        K=K,
        K_raw=K_raw,
        porosity=phi,
        converged=all(s.converged for s in sims),
        steps=sum(s.steps for s in sims),
        seconds=sum(s.seconds for s in sims),
        method=method,
        runs=runs,
    )


def to_physical(K, voxel_size, axis: int | str | None = None):
    """Lattice permeability to m² (paper Eq. 25): ``K_ij [m²] = K_ij [l.u.] dx_i dx_j``.

    Parameters
    ----------
    K : float, PermeabilityResult or array (3, 3)
        Permeability in lattice units.
    voxel_size : float or sequence of 3 floats
        Voxel edge length(s) in metres (per array axis).
    axis : int or {'x','y','z'}, optional
        Axis of a scalar ``K`` when ``voxel_size`` differs per axis (taken from a
        ``PermeabilityResult`` automatically).
    """
    dx = np.asarray(voxel_size, dtype=float)
    if not np.all(np.isfinite(dx)) or np.any(dx <= 0):
        raise ValueError(f"voxel_size must be positive (metres), got {voxel_size!r}")
    if isinstance(K, PermeabilityResult):
        axis = K.axis if axis is None else axis
        K = K.K
    K_arr = np.asarray(K, dtype=float)
    if K_arr.ndim == 0:
        if dx.ndim == 0:
            return float(K_arr * dx * dx)
        if axis is None:
            raise ValueError("give axis= for a scalar K with a per-axis voxel_size")
        d = dx[normalize_axis(axis, dx.size)]
        return float(K_arr * d * d)
    if K_arr.ndim != 2 or K_arr.shape[0] != K_arr.shape[1]:
        raise ValueError(f"K must be a scalar or a square matrix, got shape {K_arr.shape}")
    d = np.broadcast_to(dx, (K_arr.shape[0],))
    return K_arr * np.outer(d, d)
