"""The profile's synthetic square-pore dataset, generated, labelled and cached once.

Every chapter that needs the synthetic data (CNN, pVAE, latent space, inverse design) calls
:func:`load_synthetic_dataset`; the first call generates the patterns (paper Section 4.1),
labels K11 with the exact extruded-flow solver and caches everything in
``artifacts_dir(profile.name, "synthetic")``; later calls read the cache.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from ..cache import is_current
from ..fileio import file_lock
from ..profiles import Profile, get_profile
from ..results import artifacts_dir
from .container import IMAGES, PROPERTIES_CSV, Dataset, open_dataset, save_dataset
from .labels import label_dataset
from .properties import PATTERN_PROPERTIES
from .synthetic import generate_synthetic

__all__ = ["load_synthetic_dataset", "synthetic_seed"]

#: Mixed with the profile seed so that the synthetic set has its own random stream.
_STREAM = 41


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
                           workers: int | None = None, progress: bool = True) -> Dataset:
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
    Dataset
        :class:`~pvae_lib.data.container.Dataset` with ``names = ("n", "k11")``; its
        ``provenance`` holds the generator's parameters and seed.
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
                meta = open_dataset(folder).provenance
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
        return Dataset(images=np.asarray(data.images), properties=table, provenance=params, names=PATTERN_PROPERTIES,
                       folder=folder)
    finally:
        if tmp is not None:
            tmp.cleanup()
