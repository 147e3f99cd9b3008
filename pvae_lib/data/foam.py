"""Open-cell foams from a random Voronoi tessellation, under uniaxial compression.

A **stand-in** for the paper's μ-CT scans of an open-cell viscoelastic foam (Section 5.1,
Figs. 18-20), which are not public. The model is deliberately simple and stated plainly:

1. *Cells*: Poisson-distributed seed points (density ``cell_size**-3``) in a box that is
   periodic in every direction; the ligaments are the edges of their Voronoi tessellation
   (an open-cell foam: struts along the cell edges, no membranes).
2. *Compression*: uniaxial compressive strain ``ε`` along array axis 0 (x1) with the lateral
   faces constrained, as in the experiment. The strut network is mapped **affinely**,
   ``x1 -> (1 - ε) x1`` (real struts bend and buckle; here the cells simply flatten), so the
   cells become oblate and the flow anisotropic (K11 < K22 ≈ K33).
3. *Solid volume is conserved*: with lateral constraint the volume shrinks by ``1 - ε``, so the
   porosity drops to ``n(ε) = 1 - (1 - n0) / (1 - ε)`` (:func:`compressed_porosity`).
4. *Voxelisation*: a voxel is solid if its centre lies within distance ``r`` of a strut (a
   cylinder with round ends). The distance field to the struts is computed once (k-d tree
   on points spaced ≤ 0.25 voxel along each strut), so the radius giving the target porosity
   is exactly a quantile of that field: the bisection on ``r`` has a closed form.

Every compression state shows the *same* material: one tessellation in a reference box of
length ``size / (1 - max strain)`` along x1; at strain ``ε`` the first ``size / (1 - ε)`` of it
is compressed into the ``size``³ volume. Several independent foams (``replicas``, like the
paper's several specimens) come from one seed: foam ``r`` from :func:`foam_rng` ``(seed, r)``.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.spatial import Voronoi, cKDTree

__all__ = [
    "FoamConfig",
    "FoamVolume",
    "compressed_porosity",
    "voronoi_struts",
    "foam_distance_field",
    "generate_foams",
    "foam_rng",
    "generate_foam_replicas",
    "write_foam_dataset",
]

#: The compression levels of the paper's foam specimen (Fig. 18b, 20).
PAPER_STRAINS = (0.0, 0.15, 0.25, 0.35, 0.50)


@dataclass(frozen=True)
class FoamConfig:
    """Parameters of the Voronoi foam.

    Attributes
    ----------
    size : int
        Edge of each (compressed) voxel volume, voxels.
    cell_size : float
        Mean seed spacing, voxels (seed density ``cell_size**-3``).
    porosity : float
        Porosity ``n0`` of the uncompressed foam (open-cell polymer foams: 0.8-0.97).
    margin_cells : float
        Periodic padding of the seeds (in cells) so that the cells near the faces are exact.
    """

    size: int = 96
    cell_size: float = 16.0
    porosity: float = 0.85
    margin_cells: float = 1.5


@dataclass
class FoamVolume:
    """One compression state: ``image`` (bool, ``True`` = pore), strain, strut radius (voxels)."""

    strain: float
    image: np.ndarray
    radius: float
    porosity: float
    target_porosity: float


def compressed_porosity(porosity0: float, strain: float) -> float:
    """Porosity after laterally constrained compression at conserved solid volume.

    ``n(ε) = 1 - (1 - n0) / (1 - ε)``; e.g. ``n0 = 0.85`` gives 0.70 at ``ε = 0.5``.
    """
    if not 0 <= strain < 1:
        raise ValueError(f"strain must be in [0, 1), got {strain}")
    n = 1.0 - (1.0 - porosity0) / (1.0 - strain)
    if n <= 0:
        raise ValueError(f"strain {strain} would close every pore of a foam with porosity {porosity0}")
    return n


def voronoi_struts(box, cell_size: float, rng, margin_cells: float = 2.0) -> np.ndarray:
    """Edges of a periodic Poisson-Voronoi tessellation: struts of an open-cell foam.

    Parameters
    ----------
    box : sequence of 3 float
        Period of the tessellation along each axis (voxels).
    cell_size : float
        Mean seed spacing (voxels).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (M, 2, 3)
        Strut end points; every strut touching ``[-margin, box + margin]`` is included.
    """
    box = np.asarray(box, dtype=float)
    n_seeds = max(4, int(rng.poisson(np.prod(box) / cell_size**3)))
    seeds = rng.uniform(0, box, size=(n_seeds, 3))
    margin = margin_cells * cell_size
    shifts = np.stack(np.meshgrid(*([-1, 0, 1],) * 3, indexing="ij"), -1).reshape(-1, 3) * box
    tiled = (seeds[None] + shifts[:, None]).reshape(-1, 3)
    keep = np.all((tiled > -2 * margin) & (tiled < box + 2 * margin), axis=1)
    vor = Voronoi(tiled[keep])
    pairs = set()
    for ridge in vor.ridge_vertices:
        if -1 in ridge:
            continue
        for a, b in zip(ridge, ridge[1:] + ridge[:1]):
            pairs.add((a, b) if a < b else (b, a))
    pairs = np.array(sorted(pairs), dtype=np.int64)
    ends = vor.vertices[pairs]  # (M, 2, 3)
    inside = np.all((ends > -margin) & (ends < box + margin), axis=(1, 2))
    return ends[inside]


def _strut_points(struts: np.ndarray, spacing: float = 0.3) -> np.ndarray:
    lengths = np.linalg.norm(struts[:, 1] - struts[:, 0], axis=1)
    counts = np.maximum(2, np.ceil(lengths / spacing).astype(int) + 1)
    idx = np.repeat(np.arange(len(struts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    t = (np.arange(idx.size) - first) / (counts[idx] - 1)
    return struts[idx, 0] + t[:, None] * (struts[idx, 1] - struts[idx, 0])


def foam_distance_field(struts: np.ndarray, shape, max_distance: float, workers: int = 2) -> np.ndarray:
    """Distance (voxels) from each voxel centre to the nearest strut (``inf`` beyond ``max_distance``)."""
    shape = tuple(int(s) for s in shape)
    lo = -max_distance
    hi = np.asarray(shape) + max_distance
    near = np.all((struts.max(axis=1) > lo) & (struts.min(axis=1) < hi), axis=1)
    tree = cKDTree(_strut_points(struts[near]))
    grids = np.meshgrid(*[np.arange(s) + 0.5 for s in shape], indexing="ij")
    centres = np.stack([g.ravel() for g in grids], axis=1)
    d, _ = tree.query(centres, k=1, distance_upper_bound=max_distance, workers=workers)
    return d.reshape(shape)


def generate_foams(config: FoamConfig | None = None, strains=PAPER_STRAINS, rng=None,
                   progress: bool = False, max_strain: float | None = None) -> list[FoamVolume]:
    """One Voronoi foam seen at several compressive strains (along x1 = array axis 0).

    Parameters
    ----------
    config : FoamConfig
    strains : sequence of float
        Engineering compressive strains in [0, 1) (paper: 0, 0.15, 0.25, 0.35, 0.50).
    rng : numpy.random.Generator or int or None
    max_strain : float, optional
        Strain that sets the reference box (default ``max(strains)``). Give the full set's
        maximum to regenerate a single state of a larger run exactly (same seed).

    Returns
    -------
    list of FoamVolume
        ``image`` of shape ``(size, size, size)``, ``True`` = pore; ``porosity`` measured,
        ``target_porosity`` from :func:`compressed_porosity` (they agree to one voxel).
    """
    from tqdm.auto import tqdm

    config = config or FoamConfig()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    strains = tuple(float(s) for s in strains)
    if not strains:
        raise ValueError("give at least one strain")
    eps_max = max(strains) if max_strain is None else float(max_strain)
    if eps_max < max(strains):
        raise ValueError(f"max_strain={max_strain} is below the largest strain {max(strains)}")
    size = int(config.size)
    box = (size / (1.0 - eps_max), size, size)
    struts = voronoi_struts(box, config.cell_size, rng, config.margin_cells)
    out = []
    for eps in tqdm(strains, desc="foams", disable=not progress):
        target = compressed_porosity(config.porosity, eps)
        deformed = struts * np.array([1.0 - eps, 1.0, 1.0])
        reach = config.cell_size / 4
        while True:  # distances beyond `reach` are inf; widen until the quantile is finite
            d = foam_distance_field(deformed, (size,) * 3, max_distance=reach)
            radius = float(np.quantile(d, 1.0 - target))  # exact "bisection": porosity(r) = P(d > r)
            if np.isfinite(radius) or reach > size:
                break
            reach *= 2
        image = d > radius
        out.append(FoamVolume(strain=eps, image=image, radius=radius,
                              porosity=float(image.mean()), target_porosity=target))
    return out


def foam_rng(seed: int, replica: int = 0) -> np.random.Generator:
    """Random generator of independent foam ``replica`` of a dataset with ``seed``.

    Foam 0 uses ``default_rng(seed)`` (a one-foam dataset is the foam of ``seed``); foam
    ``r >= 1`` uses ``default_rng((seed, r))``, an independent stream.
    """
    if int(replica) < 0:
        raise ValueError(f"replica must be >= 0, got {replica}")
    return np.random.default_rng(int(seed) if int(replica) == 0 else (int(seed), int(replica)))


def generate_foam_replicas(config: FoamConfig | None = None, strains=PAPER_STRAINS, seed: int = 0,
                           replicas: int = 1, progress: bool = False) -> list[FoamVolume]:
    """``replicas`` independent foams, each at every strain: volume ``r * len(strains) + k`` is foam ``r`` at
    ``strains[k]`` (:func:`generate_foams` with :func:`foam_rng` ``(seed, r)``)."""
    from tqdm.auto import tqdm

    if int(replicas) < 1:
        raise ValueError(f"replicas must be >= 1 (CLI: --replicas), got {replicas}")
    out = []
    for r in tqdm(range(int(replicas)), desc="foam replicas", disable=not progress or int(replicas) == 1):
        out += generate_foams(config, strains, rng=foam_rng(seed, r), progress=progress and int(replicas) == 1)
    return out


def write_foam_dataset(
    folder: str | os.PathLike,
    *,
    config: FoamConfig | None = None,
    strains=PAPER_STRAINS,
    sub_size: int = 32,
    stride: int = 32,
    seed: int = 0,
    replicas: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    foams=None,
) -> dict:
    """Generate the foams, cut ``sub_size``³ sub-volumes with ``stride`` (Fig. 19), save a dataset.

    Writes ``images.npy`` (N, s, s, s), ``meta.json`` and ``samples.csv``
    (``case, strain, replica, volume, x0, y0, z0``: the compression state, the independent
    foam, the volume index of :func:`generate_foam_replicas` and the corner of each
    sub-volume); ``pvae label`` copies these columns into ``properties.csv``.

    ``foams`` takes the volumes of ``generate_foam_replicas(config, strains, seed=seed,
    replicas=replicas)`` when the caller already has them (e.g. the profile's cached
    :func:`pvae_lib.data.foam_dataset.foam_volumes`); their number, strains and size are checked.

    Returns
    -------
    dict
        ``meta`` as written (strains, strut radii, porosities, number of samples).
    """
    from pathlib import Path

    from ..fileio import write_text_atomic
    from .container import create_dataset
    from .subvolumes import subvolume_origins

    config = config or FoamConfig()
    if foams is None:
        foams = generate_foam_replicas(config, strains, seed=seed, replicas=replicas, progress=progress)
    else:
        want = [float(x) for x in strains] * int(replicas)
        if [float(f.strain) for f in foams] != want or any(f.image.shape != (config.size,) * 3 for f in foams):
            raise ValueError(f"foams: expected {int(replicas)} replicas of {config.size}³ foams at strains "
                             f"{[float(x) for x in strains]}, got {len(foams)} volumes at strains "
                             f"{[float(f.strain) for f in foams]}")
    n_strains = len(foams) // int(replicas)
    shape = foams[0].image.shape
    origins = subvolume_origins(shape, sub_size, stride)
    n = len(origins) * len(foams)
    meta = {
        "kind": "foam",
        "generator": "pvae_lib.data.foam.write_foam_dataset",
        "config": asdict(config),
        "seed": int(seed),
        "replicas": int(replicas),
        "sub_size": int(sub_size),
        "stride": int(stride),
        "strains": [f.strain for f in foams[:n_strains]],
        "strut_radius": [f.radius for f in foams],
        "volume_porosity": [f.porosity for f in foams],
        "command": f"pvae generate foam --size {config.size} --cell-size {config.cell_size} "
                   f"--porosity {config.porosity} --strains {','.join(str(f.strain) for f in foams[:n_strains])} "
                   f"--sub {sub_size} --stride {stride} --seed {seed}"
                   + (f" --replicas {int(replicas)}" if int(replicas) > 1 else ""),
    }
    rows = []
    s = int(sub_size)
    with create_dataset(folder, (n, s, s, s), meta=meta, overwrite=overwrite) as images:
        case = 0
        for v, foam in enumerate(foams):
            for x0, y0, z0 in origins:
                images[case] = foam.image[x0:x0 + s, y0:y0 + s, z0:z0 + s]
                rows.append({"case": case, "strain": foam.strain, "replica": v // n_strains, "volume": v,
                             "x0": x0, "y0": y0, "z0": z0})
                case += 1
    write_text_atomic(Path(folder) / "samples.csv", pd.DataFrame(rows).to_csv(index=False))
    meta["n_samples"] = n
    return meta
