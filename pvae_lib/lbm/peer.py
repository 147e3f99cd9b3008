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
``nu * porosity`` l.u. -- about 10 % on a 40³ sphere pack at ``tau = 1``.
"""
from __future__ import annotations

import time

import numpy as np

from ..images import as_pore_array, normalize_axis, porosity
from .config import LBMConfig

__all__ = ["lbmpy_available", "lbmpy_permeability"]


def lbmpy_available() -> bool:
    """True when lbmpy can be imported (the ``peer`` extra is installed)."""
    try:
        import lbmpy  # noqa: F401
    except ImportError:
        return False
    return True


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
    """
    import sympy as sp
    from lbmpy import ForceModel, LBMConfig as PeerConfig, LBStencil, Method, Stencil
    from lbmpy.boundaries import NoSlip
    from lbmpy.lbstep import LatticeBoltzmannStep
    from lbmpy.relaxationrates import relaxation_rate_from_magic_number

    config = config or LBMConfig()
    if config.collision != "trt" or config.drive != "force" or config.boundary != "periodic":
        raise ValueError("the lbmpy peer runs TRT with a body force and periodic faces only")
    pores = as_pore_array(image, ndim=3)
    ax = normalize_axis(axis, 3)
    force = [0.0, 0.0, 0.0]
    force[ax] = config.force
    omega = 1.0 / config.tau
    omega_odd = float(relaxation_rate_from_magic_number(omega, sp.Rational(config.magic).limit_denominator(10_000)))
    peer = PeerConfig(stencil=LBStencil(Stencil.D3Q19), method=Method.TRT, relaxation_rates=[omega, omega_odd],
                      force=tuple(force), force_model=ForceModel.GUO, compressible=True)
    t0 = time.perf_counter()
    step = LatticeBoltzmannStep(domain_size=pores.shape, periodicity=(True, True, True), lbm_config=peer)
    solid = ~pores
    shape = np.array(pores.shape)

    def mask(*xyz):  # cell-centre coordinates, ghost layers included
        idx = [np.floor(c).astype(int) % shape[a] for a, c in enumerate(xyz)]
        return solid[tuple(idx)]

    step.boundary_handling.set_boundary(NoSlip(), mask_callback=mask)
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
