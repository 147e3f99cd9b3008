"""The profile's synthetic square-pore dataset, generated, labelled and cached once.

Every chapter that needs the synthetic data (CNN, pVAE, latent space, inverse design) calls
:func:`load_synthetic_dataset`; the first call generates the patterns (paper Section 4.1),
labels K11 with the exact extruded-flow solver and caches everything in
``artifacts_dir(profile.name, "synthetic")``; later calls read the cache.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..cache import is_current
from ..fileio import file_lock
from ..profiles import Profile, get_profile
from ..results import artifacts_dir
from .container import IMAGES, PROPERTIES_CSV, open_dataset, save_dataset
from .labels import label_dataset
from .properties import POROSITY, permeability_column, property_values
from .synthetic import extrude, generate_synthetic

__all__ = ["SyntheticDataset", "load_synthetic_dataset", "synthetic_seed"]

#: Mixed with the profile seed so that the synthetic set has its own random stream.
_STREAM = 41


@dataclass
class SyntheticDataset:
    """The synthetic square-pore dataset of one profile.

    Attributes
    ----------
    images : ndarray of bool, (N, H, W)
        2-D patterns, ``True`` = pore; sample ``i`` is ``extrude(images[i])`` (x1 = axis 0).
    porosity : ndarray of float, (N,)
        :math:`n^F` (paper Eq. 1).
    k11 : ndarray of float, (N,)
        Intrinsic permeability K11 along the extrusion axis in l.u. (exact extruded Stokes flow).
    seed : int
        Seed of the generator (``numpy.random.default_rng([seed, 41])``).
    properties : pandas.DataFrame
        The authors' table: ``case, n_F, Permeability_x``.
    folder : Path
        Cache folder (a dataset folder, see :mod:`pvae_lib.data.container`).
    params : dict
        Generator parameters.
    """

    images: np.ndarray
    porosity: np.ndarray
    k11: np.ndarray
    seed: int
    properties: pd.DataFrame
    folder: Path
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.images)

    #: the properties the synthetic models are mapped to (:data:`~pvae_lib.data.properties.PROPERTIES`)
    NAMES = ("n", "k11")

    def values(self, names=NAMES) -> np.ndarray:
        """(N, P) array of the properties ``names`` (default ``n, K11``) from :attr:`properties`."""
        return property_values(self.properties, names)

    def sample(self, i: int, length: int | None = None) -> np.ndarray:
        """3-D sample ``i``: the pattern extruded along axis 0 (default: a cube)."""
        return extrude(self.images[i], length)


def synthetic_seed(profile: Profile) -> int:
    """The seed recorded for a profile's synthetic set (the profile seed)."""
    return int(profile.seed)


def _params(profile: Profile) -> dict:
    d = profile.data
    return {
        "kind": "synthetic",
        "n_samples": d.synthetic_samples,
        "image_size": d.synthetic_image_size,
        "pore_size": d.synthetic_pore_size,
        "min_pores": d.synthetic_min_pores,
        "max_pores": d.synthetic_max_pores,
        "seed": synthetic_seed(profile),
        "rng": f"numpy.random.default_rng([seed, {_STREAM}])",
    }


def load_synthetic_dataset(profile: Profile | str | None = None, *, cache: bool = True,
                           workers: int | None = None, progress: bool = True) -> SyntheticDataset:
    """Generate (or read from cache) and label the profile's synthetic dataset.

    Parameters
    ----------
    profile : Profile or str, optional
        Default :func:`pvae_lib.get_profile` (``$PVAE_PROFILE``). Sizes come from
        ``profile.data`` (quick: 3000 patterns of 40², 4² pores; paper: 48,831 of 100²).
    cache : bool
        Reuse / write ``artifacts_dir(profile.name, "synthetic")``. With ``False`` the set is
        generated and labelled in a temporary folder and nothing is kept.
    workers : int, optional
        Processes for the labelling (default ``profile.data.label_workers``).

    Returns
    -------
    SyntheticDataset
    """
    import tempfile

    profile = get_profile(profile) if not isinstance(profile, Profile) else profile
    params = _params(profile)
    workers = profile.data.label_workers if workers is None else int(workers)
    if cache:
        folder = artifacts_dir(profile.name, "synthetic")
        ctx = file_lock(folder / ".lock")
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="pvae-synthetic-")
        folder = Path(tmp.name)
        ctx = contextlib.nullcontext()
    try:
        with ctx:
            fresh = True
            if (folder / IMAGES).is_file():
                meta = open_dataset(folder).meta
                fresh = not is_current({k: meta.get(k) for k in params}, params)
            if fresh:
                rng = np.random.default_rng([params["seed"], _STREAM])
                images, counts = generate_synthetic(
                    params["n_samples"], params["image_size"], params["pore_size"],
                    params["min_pores"], params["max_pores"], rng=rng, return_counts=True)
                save_dataset(folder, images, meta=params, extruded_length=params["image_size"], overwrite=True)
            table = label_dataset(folder, solver="stokes2d", axes=(0,), workers=workers, progress=progress,
                                  every=max(500, params["n_samples"] // 20))
            data = open_dataset(folder, mmap=False)
        if len(table) != len(data):
            raise RuntimeError(f"{folder / PROPERTIES_CSV}: {len(table)} rows for {len(data)} images")
        return SyntheticDataset(
            images=np.asarray(data.images),
            porosity=table[POROSITY].to_numpy(),
            k11=table[permeability_column(0)].to_numpy(),
            seed=params["seed"],
            properties=table,
            folder=folder,
            params=params,
        )
    finally:
        if tmp is not None:
            tmp.cleanup()
