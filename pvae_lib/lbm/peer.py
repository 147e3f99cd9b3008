"""An independent LBM as a peer: the same permeability run with lbmpy (optional extra ``peer``).

``pip install "pvae-lib[peer]"`` installs `lbmpy <https://pycodegen.pages.i10git.cs.fau.de/lbmpy/>`_
(it generates and compiles C kernels with pystencils; a C compiler is needed). The run mirrors
:func:`pvae_lib.lbm.permeability` with its default configuration: D3Q19, TRT with the magic
parameter 3/16, Guo body force along ``axis``, all faces periodic, half-way bounce-back
(lbmpy's ``NoSlip``) on every solid voxel, same ``tau``, same stopping rule.

One correction is applied: the velocity field that lbmpy 2.0's ``LatticeBoltzmannStep`` writes
with the Guo force carries the force density ``g`` once more than the physical velocity (on
plane Poiseuille flow, where TRT with Lambda = 3/16 is exact at the nodes, every node reads
``u_exact + g``; ``tests/test_grid_convergence.py`` checks it). :func:`lbmpy_permeability`
subtracts ``g`` at every fluid node. Without that correction lbmpy's ``K`` is too large by
``nu * porosity`` l.u. -- about 10 % on a 40³ sphere pack at ``tau = 1``. (The reason: lbmpy
keeps the post-collision populations between steps and takes its moments from them, and the
Guo force adds ``F`` to the momentum in every collision.)

:func:`lbmpy_throughput` times lbmpy's time loop alone, in MLUPS as
:mod:`pvae_lib.experiments.throughput` counts them (``benchmarks/lbm_throughput.py`` puts it next to
the library's), and can return the velocity field read the way :func:`pvae_lib.lbm.simulate`
reads it; started from the same rest state, that field equals the library's after the same
number of steps.
"""
from __future__ import annotations

import time

import numpy as np

from ..images import as_pore_array, normalize_axis, porosity
from .config import LBMConfig

__all__ = ["INSTALL_HINT", "lbmpy_available", "lbmpy_permeability", "lbmpy_throughput"]

#: The advice in the ImportError raised when lbmpy is missing.
INSTALL_HINT = ('install the optional extra "peer": pip install "pvae-lib[peer]" '
                "(lbmpy >= 2.0; it compiles C kernels, so a C compiler is needed too)")


def lbmpy_available() -> bool:
    """True when lbmpy can be imported (the ``peer`` extra is installed)."""
    try:
        import lbmpy  # noqa: F401
    except ImportError:
        return False
    return True


def _require_lbmpy() -> None:
    """Import lbmpy or raise an ImportError that names the extra to install."""
    try:
        import lbmpy  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"the lbmpy peer needs lbmpy, which is not installed: {INSTALL_HINT}") from exc


def _lbmpy_step(pores: np.ndarray, ax: int, config: LBMConfig, dtype: str | None = None, threads: int = 1):
    """lbmpy's ``LatticeBoltzmannStep`` of the module's scheme on ``pores``, flow along ``ax``.

    D3Q19 TRT (``config.tau``, ``config.magic``), Guo force density ``config.force`` along
    ``ax``, all faces periodic, ``NoSlip`` (half-way bounce-back) on every solid voxel.
    ``dtype`` None keeps lbmpy's own code-generation defaults (float64); ``threads > 1``
    compiles the kernels with OpenMP on that many threads. The kernels are generated and
    compiled here.
    """
    _require_lbmpy()
    import sympy as sp
    from lbmpy import ForceModel, LBMConfig as PeerConfig, LBStencil, Method, Stencil
    from lbmpy.boundaries import NoSlip
    from lbmpy.lbstep import LatticeBoltzmannStep
    from lbmpy.relaxationrates import relaxation_rate_from_magic_number

    if config.collision != "trt" or config.drive != "force" or config.boundary != "periodic":
        raise ValueError("the lbmpy peer runs TRT with a body force and periodic faces only")
    force = [0.0, 0.0, 0.0]
    force[ax] = config.force
    omega = 1.0 / config.tau
    omega_odd = float(relaxation_rate_from_magic_number(omega, sp.Rational(config.magic).limit_denominator(10_000)))
    peer = PeerConfig(stencil=LBStencil(Stencil.D3Q19), method=Method.TRT, relaxation_rates=[omega, omega_odd],
                      force=tuple(force), force_model=ForceModel.GUO, compressible=True)
    kwargs = {}
    if dtype is not None or threads > 1:
        from pystencils import CreateKernelConfig

        kernel_config = CreateKernelConfig(default_dtype=dtype or "float64")
        if threads > 1:  # the stream-collide kernel; lbmpy's boundary kernel stays serial
            kernel_config.cpu.openmp.enable = True
            kernel_config.cpu.openmp.num_threads = int(threads)
        kwargs["config"] = kernel_config
    step = LatticeBoltzmannStep(domain_size=pores.shape, periodicity=(True, True, True), lbm_config=peer, **kwargs)
    solid = ~pores
    shape = np.array(pores.shape)

    def mask(*xyz):  # cell-centre coordinates, ghost layers included
        idx = [np.floor(c).astype(int) % shape[a] for a, c in enumerate(xyz)]
        return solid[tuple(idx)]

    step.boundary_handling.set_boundary(NoSlip(), mask_callback=mask)
    return step


def _start_at_rest(step, force) -> None:
    """Put every population at the rest equilibrium ``w_i``, the library's initial state.

    lbmpy initialises the populations at equilibrium with ``u - F/(2 rho)`` so that the velocity
    it reads is the one given; giving ``F/2`` (``rho = 1``) therefore yields ``u_eq = 0``, the
    rest state that :func:`pvae_lib.lbm.simulate` starts from (zero population deviations).
    """
    dh = step.data_handling
    for a, g in enumerate(force):
        dh.fill(step.velocity_data_name, g / 2.0, value_idx=a, ghost_layers=True, inner_ghost_layers=True)
    dh.fill(step.density_data_name, 1.0, ghost_layers=True, inner_ghost_layers=True)
    step.set_pdf_fields_from_macroscopic_values()


def _library_velocity(step, pores: np.ndarray, force) -> np.ndarray:
    """Velocity of lbmpy's current state read as :func:`pvae_lib.lbm.simulate` reads it.

    lbmpy keeps post-collision populations between steps; the library streams them once more
    (pull, half-way bounce-back from solid neighbours, periodic faces) and takes
    ``u = (sum_i f_i e_i + F/2) / rho`` of the result. Returns ``(*shape, 3)`` in l.u.,
    components in array-axis order, zero in solid voxels (float64).
    """
    stencil = np.array(step.method.stencil, dtype=int)
    f = np.asarray(step.data_handling.gather_array(step.pdf_array_name, ghost_layers=False), dtype=np.float64)
    if getattr(step.lbm_config, "zero_centered", True):  # lbmpy 2.0 stores f_i - w_i by default
        f = f + np.array([float(w) for w in step.method.weights])
    opposite = [int(np.flatnonzero((stencil == -c).all(axis=1))[0]) for c in stencil]
    solid = ~pores
    pre = np.empty_like(f)
    for i, c in enumerate(stencil):
        shift = tuple(int(x) for x in c)
        pulled = np.roll(f[..., i], shift, axis=(0, 1, 2))
        from_solid = np.roll(solid, shift, axis=(0, 1, 2))
        pre[..., i] = np.where(from_solid, f[..., opposite[i]], pulled)
    rho = pre.sum(axis=-1)
    u = (pre @ stencil.astype(np.float64) + 0.5 * np.asarray(force, dtype=np.float64)) / rho[..., None]
    return np.where(pores[..., None], u, 0.0)


def lbmpy_throughput(image, steps: int = 200, axis: int | str = 0, config: LBMConfig | None = None,
                     warmup: int = 10, threads: int = 1, dtype: str | None = None,
                     return_velocity: bool = False) -> dict:
    """Time lbmpy's time-step loop alone on a 3-D image: MLUPS of the peer LBM.

    The scheme is that of :func:`lbmpy_permeability` (D3Q19 TRT, Guo force along ``axis``, all
    faces periodic, ``NoSlip`` on every solid voxel, same ``tau`` and ``magic``), started from
    rest like :func:`pvae_lib.lbm.simulate`. Kernel generation and compilation (``setup_seconds``)
    and ``warmup`` time steps (which also compile the boundary kernel) run first and are not
    timed; then ``steps`` steps run in one ``LatticeBoltzmannStep.run`` call, timed with
    :func:`time.perf_counter`. There is no convergence check.

    Parameters
    ----------
    image : array_like of bool, 3-D
        ``True`` = pore.
    steps : int
        Timed time steps (>= 1).
    axis : int or {'x', 'y', 'z'}
        Flow axis (array axis 0 = x).
    config : LBMConfig, optional
        ``tau``, ``magic`` and ``force`` are used (``collision`` must be ``'trt'``, ``drive``
        ``'force'``, ``boundary`` ``'periodic'``); ``dtype`` unless given below.
    warmup : int
        Untimed time steps before the timed ones (>= 1).
    threads : int
        1: serial kernels (lbmpy's default); more: the stream-collide kernel runs with OpenMP
        on that many threads.
    dtype : {'float32', 'float64'}, optional
        Floating point type of lbmpy's populations; default ``config.dtype`` (the library's
        default is float32), so both codes run in the same precision.
    return_velocity : bool
        Also return ``velocity``: the field after ``warmup + steps`` steps, read as
        :func:`pvae_lib.lbm.simulate` reads it (see the module note), array ``(*shape, 3)``, l.u.

    Returns
    -------
    dict
        ``steps`` (timed steps), ``warmup_steps``, ``seconds`` (s, the timed loop),
        ``setup_seconds`` (s, kernel generation, compilation and boundary setup), ``voxels``
        (all lattice nodes = ``image.size``), ``fluid_nodes``, ``porosity``, ``mlups``
        (``voxels * steps / seconds / 1e6``, every voxel counted, solid included -- the
        definition of :func:`pvae_lib.experiments.throughput.run_benchmark`), ``fluid_mlups`` (fluid
        nodes only), ``threads``, ``dtype``, ``lbmpy_version``; ``velocity`` if asked for.

    Raises
    ------
    ImportError
        lbmpy is not installed (the message says ``pip install "pvae-lib[peer]"``).
    ValueError
        Invalid image, ``steps``, ``warmup``, ``threads`` or ``dtype``, or a configuration
        the peer does not run.
    """
    _require_lbmpy()
    import lbmpy

    for name, value in (("steps", steps), ("warmup", warmup), ("threads", threads)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    config = config or LBMConfig()
    dtype = dtype or config.dtype
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    pores = as_pore_array(image, ndim=3)
    ax = normalize_axis(axis, 3)
    if not pores.any():
        raise ValueError("image has no pore voxel; there is nothing to flow through")
    force = [0.0, 0.0, 0.0]
    force[ax] = config.force
    t0 = time.perf_counter()
    step = _lbmpy_step(pores, ax, config, dtype=dtype, threads=int(threads))
    _start_at_rest(step, force)
    step.run(int(warmup))
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    step.run(int(steps))
    seconds = time.perf_counter() - t0
    fluid = int(np.count_nonzero(pores))
    out = {
        "steps": int(steps),
        "warmup_steps": int(warmup),
        "seconds": seconds,
        "setup_seconds": setup,
        "voxels": int(pores.size),
        "fluid_nodes": fluid,
        "porosity": float(pores.mean()),
        "mlups": pores.size * steps / max(seconds, 1e-12) / 1e6,
        "fluid_mlups": fluid * steps / max(seconds, 1e-12) / 1e6,
        "threads": int(threads),
        "dtype": dtype,
        "lbmpy_version": str(getattr(lbmpy, "__version__", "unknown")),
    }
    if return_velocity:
        out["velocity"] = _library_velocity(step, pores, force)
    return out


def lbmpy_permeability(image, axis: int | str = 0, config: LBMConfig | None = None) -> dict:
    """Permeability ``K_ii`` (l.u.) of a periodic 3-D image with lbmpy's D3Q19 TRT.

    Parameters
    ----------
    image : array_like of bool, 3-D
        ``True`` = pore.
    axis : int or {'x', 'y', 'z'}
        Flow axis (array axis 0 = x).
    config : LBMConfig, optional
        ``tau``, ``magic``, ``force``, ``tolerance``, ``check_interval``, ``min_steps`` and
        ``max_steps`` are used (``collision`` must be ``'trt'``, ``drive`` ``'force'``,
        ``boundary`` ``'periodic'``).

    Returns
    -------
    dict
        ``K`` (l.u., superficial velocity over all voxels), ``K_uncorrected`` (lbmpy's velocity
        field as written, see the module note), ``porosity``, ``steps``, ``seconds``,
        ``converged``.

    Raises
    ------
    ImportError
        lbmpy is not installed (the message says ``pip install "pvae-lib[peer]"``).
    """
    config = config or LBMConfig()
    pores = as_pore_array(image, ndim=3)
    ax = normalize_axis(axis, 3)
    t0 = time.perf_counter()
    step = _lbmpy_step(pores, ax, config)
    nu = config.viscosity
    steps, previous, converged, u_sup = 0, None, False, 0.0
    while steps < config.max_steps:
        step.run(config.check_interval)
        steps += config.check_interval
        u = np.asarray(step.velocity[:, :, :, ax], dtype=float)
        u_sup = float(np.where(pores, u, 0.0).sum() / pores.size)
        if previous is not None and steps >= config.min_steps:
            if abs(u_sup - previous) <= config.tolerance * abs(u_sup):
                converged = True
                break
        previous = u_sup
    phi = porosity(pores)
    K_raw = nu * u_sup / config.force
    return {
        "K": K_raw - nu * phi,
        "K_uncorrected": K_raw,
        "porosity": phi,
        "steps": steps,
        "seconds": time.perf_counter() - t0,
        "converged": converged,
    }
