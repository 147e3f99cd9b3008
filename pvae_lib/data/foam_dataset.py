"""The labelled quick-profile foam dataset (paper Section 5.1), rebuilt from its seed.

``data/foam_quick_properties.csv`` ships the LBM labels (porosity ``n_F`` and K11, K22, K33 in
lattice units) of the sub-volumes of the Voronoi foam stand-in; the images themselves are not
shipped but regenerated exactly as ``data/README.md`` states (:func:`pvae_lib.data.foam.generate_foams`
with the profile's sizes and seed). :func:`load_foam_dataset` does that, cuts the sub-volumes
in the table's order (columns ``volume, x0, y0, z0``) and checks that the porosity measured on
every regenerated sub-volume equals the table's ``n_F``, so labels and images cannot drift apart.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FoamDataset", "default_foam_csv", "foam_config_from_profile", "attach_subvolumes", "load_foam_dataset"]

#: Property columns of the shipped table, in the order the book trains on them.
K_COLUMNS = ("Permeability_x", "Permeability_y", "Permeability_z")


@dataclass
class FoamDataset:
    """Foam sub-volumes with their labels.

    Attributes
    ----------
    images : ndarray of bool, shape (N, s, s, s)
        ``True`` = pore; array axis 0 = x1 = compression and K11 flow axis.
    table : pandas.DataFrame
        The shipped label table (one row per image, same order).
    volumes : list of FoamVolume
        The regenerated full foam volumes, one per strain.
    """

    images: np.ndarray
    table: pd.DataFrame
    volumes: list

    @property
    def porosity(self) -> np.ndarray:
        return self.table["n_F"].to_numpy(float)

    @property
    def strain(self) -> np.ndarray:
        return self.table["strain"].to_numpy(float)

    @property
    def permeability(self) -> np.ndarray:
        """(N, 3) array of K11, K22, K33 in lattice units (l.u.)."""
        return self.table[list(K_COLUMNS)].to_numpy(float)

    def properties(self) -> np.ndarray:
        """(N, 4) array ``(n, K11, K22, K33)`` for the pVAE."""
        return np.column_stack([self.porosity, self.permeability])


def default_foam_csv() -> Path:
    """``data/foam_quick_properties.csv`` of the repository (next to the package)."""
    return Path(__file__).resolve().parents[2] / "data" / "foam_quick_properties.csv"


def foam_config_from_profile(section):
    """:class:`~pvae_lib.data.foam.FoamConfig` of a profile's ``data`` section (cell size = sub / cells)."""
    from .foam import FoamConfig

    return FoamConfig(size=int(section.foam_volume_size),
                      cell_size=float(section.foam_subvolume_size) / float(section.foam_cells_per_subvolume),
                      porosity=float(section.foam_porosity))


def attach_subvolumes(volumes, table: pd.DataFrame, sub_size: int, atol: float = 1e-12) -> np.ndarray:
    """Cut the sub-volume of every table row (``volume, x0, y0, z0``) and check its porosity.

    Parameters
    ----------
    volumes : sequence of ndarray or FoamVolume
        The full foam volumes, indexed by the table's ``volume`` column.
    table : pandas.DataFrame
        Needs columns ``volume, x0, y0, z0, n_F`` (and ``strain`` if ``volumes`` are FoamVolume).
    sub_size : int
        Sub-volume edge (voxels).

    Returns
    -------
    ndarray of bool, shape (len(table), s, s, s)

    Raises
    ------
    ValueError
        A row's window leaves the volume, its strain differs from the volume's, or the
        measured porosity differs from ``n_F`` by more than ``atol`` (images and labels
        do not belong together).
    """
    s = int(sub_size)
    arrays = [np.asarray(getattr(v, "image", v), dtype=bool) for v in volumes]
    out = np.empty((len(table), s, s, s), dtype=bool)
    for i, row in enumerate(table.itertuples(index=False)):
        v, x0, y0, z0 = int(row.volume), int(row.x0), int(row.y0), int(row.z0)
        if not 0 <= v < len(arrays):
            raise ValueError(f"row {i}: volume {v} does not exist ({len(arrays)} volumes)")
        vol = arrays[v]
        if x0 < 0 or y0 < 0 or z0 < 0 or any(o + s > n for o, n in zip((x0, y0, z0), vol.shape)):
            raise ValueError(f"row {i}: a {s}-voxel window at {(x0, y0, z0)} leaves the volume {vol.shape}")
        strain = getattr(volumes[v], "strain", None)
        if strain is not None and hasattr(row, "strain") and abs(float(row.strain) - float(strain)) > 1e-9:
            raise ValueError(f"row {i}: strain {row.strain} but volume {v} has strain {strain}")
        out[i] = vol[x0:x0 + s, y0:y0 + s, z0:z0 + s]
        n = float(out[i].mean())
        if abs(n - float(row.n_F)) > atol:
            raise ValueError(f"row {i}: regenerated porosity {n:.6f} differs from the table's n_F {row.n_F:.6f}; "
                             "the images do not match the labels (seed, sizes or generator changed?)")
    return out


def load_foam_dataset(profile=None, csv: str | os.PathLike | None = None, seed: int | None = None,
                      progress: bool = False) -> FoamDataset:
    """Regenerate the profile's foams from the seed and attach the shipped LBM labels.

    Parameters
    ----------
    profile : Profile, optional
        Sizes (``profile.data.foam_*``) and seed (default ``get_profile()``).
    csv : path, optional
        Label table (default :func:`default_foam_csv`, made for the ``quick`` profile).
    seed : int, optional
        Default ``profile.seed`` (2025 for the shipped table).

    Returns
    -------
    FoamDataset
        Sub-volumes in table order; their porosity equals the table's ``n_F`` (checked).
    """
    from ..profiles import get_profile
    from .foam import generate_foams
    from .properties import read_properties

    profile = profile or get_profile()
    section = profile.data
    seed = profile.seed if seed is None else int(seed)
    table = read_properties(csv or default_foam_csv()).reset_index(drop=True)
    missing = {"volume", "x0", "y0", "z0", "strain", *K_COLUMNS} - set(table.columns)
    if missing:
        raise ValueError(f"the foam table lacks the columns {sorted(missing)}")
    strains = tuple(float(s) for s in section.foam_strains)
    volumes = generate_foams(foam_config_from_profile(section), strains, rng=np.random.default_rng(seed),
                             progress=progress)
    images = attach_subvolumes(volumes, table, section.foam_subvolume_size)
    return FoamDataset(images=images, table=table, volumes=volumes)
