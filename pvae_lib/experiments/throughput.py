"""Throughput of the LBM engine in MLUPS (million lattice updates per second).

MLUPS count EVERY voxel (solid included): ``voxels x steps / seconds``, so the fluid-only
storage of the TensorFlow solver shows up as a speed-up on porous media. The plain NumPy
reference (``numpy_reference.py``) is measured in the same call on the same structure.
Used by ``benchmarks/lbm_throughput.py`` and ``pvae bench lbm``.
"""
from __future__ import annotations

import time

import numpy as np

from ..data.spheres import random_sphere_pack
from ..lbm.config import LBMConfig

__all__ = ["run_benchmark", "time_to_permeability"]


def _device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU ({len(gpus)})" if gpus else "CPU"


def run_benchmark(size: int = 64, steps: int = 200, numpy_steps: int = 10, porosity: float = 0.6,
                  config: LBMConfig | None = None, seed: int = 0, numpy: bool = True) -> dict:
    """Measure TensorFlow and NumPy MLUPS on a random sphere pack of edge ``size``.

    The TensorFlow run is compiled first (one short warm-up run), then timed over ``steps``
    steps. Returns a dict with ``size, voxels, porosity, steps, tf_mlups, tf_seconds,
    numpy_mlups, numpy_seconds, numpy_steps, device``.
    """
    from ..lbm.numpy_reference import numpy_simulate
    from ..lbm.solver import simulate

    image = random_sphere_pack(size, porosity, rng=np.random.default_rng(seed))
    base = config or LBMConfig()
    timed = base.replace(max_steps=steps, check_interval=steps, min_steps=steps, tolerance=1e-300)
    warm = base.replace(max_steps=steps, check_interval=steps, min_steps=steps, tolerance=1e-300)
    simulate(image, warm, 0)  # compile
    t0 = time.perf_counter()
    run = simulate(image, timed, 0)
    wall = time.perf_counter() - t0
    out = {
        "size": size,
        "voxels": int(image.size),
        "porosity": float(image.mean()),
        "steps": steps,
        "tf_mlups": run.mlups,
        "tf_seconds": run.seconds,
        "tf_wall_seconds": wall,
        "device": _device(),
        "collision": base.collision,
        "dtype": base.dtype,
    }
    if numpy:
        ref = numpy_simulate(image, base, steps=numpy_steps)
        out.update(numpy_mlups=ref.mlups, numpy_seconds=ref.seconds, numpy_steps=numpy_steps)
        out["speedup"] = out["tf_mlups"] / ref.mlups
    return out


def time_to_permeability(image, config: LBMConfig | None = None) -> dict:
    """Wall-clock time to converged ``K_xx, K_yy, K_zz`` (three runs, compilation included)."""
    from ..lbm.permeability import permeability

    t0 = time.perf_counter()
    results = [permeability(image, axis, config) for axis in range(3)]
    return {
        "K": [r.K for r in results],
        "steps": [r.steps for r in results],
        "seconds": time.perf_counter() - t0,
        "porosity": results[0].porosity,
    }
