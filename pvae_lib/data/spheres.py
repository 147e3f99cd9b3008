"""Random packs of overlapping solid spheres: the 3-D test structures of the LBM chapter and benchmarks."""
from __future__ import annotations

import numpy as np

__all__ = ["random_sphere_pack"]


def random_sphere_pack(size: int, porosity: float = 0.6, radius: float | None = None, rng=None) -> np.ndarray:
    """Periodic random pack of (overlapping) solid spheres in a cube; ``True`` = pore.

    Sphere centres are drawn uniformly in the cube, one at a time, until the porosity drops
    to ``porosity`` or below; distances wrap around the faces, so the pack is periodic.

    Parameters
    ----------
    size : int
        Edge of the cube (voxels).
    porosity : float
        Porosity (pore fraction) to reach, in (0, 1); the result lies just below it.
    radius : float, optional
        Sphere radius (voxels). Default ``max(size / 10, 2)``.
    rng : numpy.random.Generator or int, optional
        Random source, or a seed for :func:`numpy.random.default_rng`.

    Returns
    -------
    ndarray of bool, shape (size, size, size)
        ``True`` = pore; axis 0 = x1.

    See Also
    --------
    pvae_lib.experiments.throughput.run_benchmark : MLUPS measured on these packs.
    pvae_lib.data.foam.generate_foams : open-cell foams, the book's other 3-D structures.
    """
    if int(size) < 1:
        raise ValueError(f"size must be a positive number of voxels, got {size}")
    if not 0.0 < float(porosity) < 1.0:
        raise ValueError(f"porosity must lie in (0, 1), got {porosity}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    radius = radius or max(size / 10.0, 2.0)
    grid = np.indices((size,) * 3, dtype=np.float32)
    pores = np.ones((size,) * 3, dtype=bool)
    while pores.mean() > porosity:
        c = rng.uniform(0, size, 3)
        d2 = sum(((grid[a] - c[a] + size / 2) % size - size / 2) ** 2 for a in range(3))
        pores &= d2 > radius**2
    return pores
