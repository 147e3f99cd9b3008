"""D3Q19 lattice Boltzmann permeability engine in TensorFlow (paper Appendices A and B).

Modules (one job each): ``stencil`` (D3Q19 velocities/weights), ``config`` (``LBMConfig``),
``equilibrium`` (Eq. 17), ``collision`` (BGK/TRT), ``forcing`` (Guo), ``streaming`` (fluid-only
pull streaming), ``boundaries`` (bounce-back, walls, Zou-He), ``observables`` (moments),
``solver`` (compiled time loop; ``simulate_batch`` runs several samples in one call),
``permeability`` (Darcy, Eqs. 22-25), ``numpy_reference`` (plain NumPy cross-check) and
``peer`` (the same run in lbmpy, optional). Its throughput (MLUPS) on random sphere packs is
measured by :mod:`pvae_lib.experiments.throughput`.

Note: ``pvae_lib.lbm.permeability`` is the *function* (re-exported here); the module of the
same name is ``importlib.import_module('pvae_lib.lbm.permeability')``.
"""
from __future__ import annotations

from .config import MAGIC_TRT, LBMConfig
from .numpy_reference import numpy_simulate
from .permeability import (
    NotConvergedError,
    PermeabilityResult,
    TensorResult,
    permeability,
    permeability_batch,
    permeability_tensor,
    to_physical,
)
from .solver import LBMDivergenceError, LBMResult, simulate, simulate_batch

__all__ = [
    "LBMConfig",
    "MAGIC_TRT",
    "simulate",
    "simulate_batch",
    "LBMResult",
    "LBMDivergenceError",
    "permeability",
    "permeability_batch",
    "permeability_tensor",
    "to_physical",
    "PermeabilityResult",
    "TensorResult",
    "NotConvergedError",
    "numpy_simulate",
]
