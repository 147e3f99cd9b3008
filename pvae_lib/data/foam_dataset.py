"""The labelled foam dataset of a profile (paper Section 5.1), rebuilt from its seed.

``foam_quick_properties.csv``, shipped inside the package (:func:`pvae_lib.data.resources.shipped_path`),
holds the LBM labels (porosity ``n_F`` and K11, K22, K33 in lattice units) of the ``quick``
profile's sub-volumes of the Voronoi foam stand-in; the images themselves are not shipped but
regenerated exactly as ``data/README.md`` states (:func:`pvae_lib.data.foam.generate_foams`
with the profile's sizes and seed).
:func:`load_foam_dataset` does that, cuts the sub-volumes in the table's order (columns
``volume, x0, y0, z0``) and checks that the porosity measured on every regenerated sub-volume
equals the table's ``n_F``, so labels and images cannot drift apart.

A profile whose foam settings differ from the shipped table's (:data:`SHIPPED_FOAM`; the
``paper`` profile, a smoke profile, any override) has no shipped labels: its table is
``artifacts_dir(profile.name, "foam")/properties.csv``, made by the same pipeline as the shipped
one (``pvae generate foam`` + ``pvae label --solver lbm``; :func:`foam_label_commands`), either
from the command line or by ``load_foam_dataset(profile, build=True)``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .container import Dataset
from .properties import PERMEABILITY_COLUMNS, VOLUME_PROPERTIES
from .resources import shipped_path

__all__ = ["default_foam_csv", "foam_config_from_profile", "attach_subvolumes", "load_foam_dataset",
           "SHIPPED_FOAM", "foam_settings", "has_shipped_labels", "foam_run_dir", "foam_label_commands",
           "build_foam_labels", "foam_label_config", "foam_label_table", "foam_volumes",
           "FOAM_VOLUMES_FORMAT"]



def default_foam_csv() -> Path:
    """The shipped ``foam_quick_properties.csv`` (package data: ``pvae_lib/data/shipped/``)."""
    return shipped_path("foam_quick_properties.csv")


#: Settings ``foam_quick_properties.csv`` was made with (``data/README.md``: the quick profile).
SHIPPED_FOAM = {"foam_volume_size": 128, "foam_replicas": 7, "foam_subvolume_size": 32, "foam_stride": 32,
                "foam_strains": (0.0, 0.15, 0.25, 0.35, 0.5), "foam_cells_per_subvolume": 2.0,
                "foam_porosity": 0.85, "seed": 2025, "lbm_max_steps": 20_000, "lbm_tolerance": 1e-6}


def foam_settings(profile, seed: int | None = None) -> dict:
    """Everything the foam images and labels of ``profile`` depend on (keys of :data:`SHIPPED_FOAM`)."""
    d = profile.data
    return {"foam_volume_size": int(d.foam_volume_size), "foam_replicas": int(d.foam_replicas),
            "foam_subvolume_size": int(d.foam_subvolume_size),
            "foam_stride": int(d.foam_stride), "foam_strains": tuple(float(s) for s in d.foam_strains),
            "foam_cells_per_subvolume": float(d.foam_cells_per_subvolume), "foam_porosity": float(d.foam_porosity),
            "seed": int(profile.seed if seed is None else seed), "lbm_max_steps": int(profile.lbm.max_steps),
            "lbm_tolerance": float(profile.lbm.tolerance)}


def has_shipped_labels(profile, seed: int | None = None) -> bool:
    """Whether the shipped ``foam_quick_properties.csv`` labels this profile's foams (same settings and seed)."""
    return foam_settings(profile, seed) == SHIPPED_FOAM


def foam_run_dir(profile) -> Path:
    """Dataset folder of a profile's own foam labels: ``artifacts_dir(profile.name, "foam")``."""
    from ..results import artifacts_dir

    return artifacts_dir(profile.name, "foam")


def _label_settings(profile) -> dict:
    """The foam labels' solver settings that differ from :data:`pvae_lib.lbm.config.RUN_DEFAULTS`."""
    return {"max_steps": int(profile.lbm.max_steps), "tolerance": float(profile.lbm.tolerance)}


def _label_flags(profile) -> list[str]:
    settings = _label_settings(profile)
    return ["--solver", "lbm", "--axis", "x,y,z", "--tensor", "--max-steps", str(settings["max_steps"]),
            "--tolerance", f"{settings['tolerance']:g}"]


def foam_label_commands(profile, seed: int | None = None, folder=None) -> list[str]:
    """The two shell commands that make ``folder/properties.csv`` for ``profile`` (as ``data/README.md``)."""
    d = profile.data
    seed = profile.seed if seed is None else int(seed)
    folder = Path(folder) if folder is not None else foam_run_dir(profile)
    cfg = foam_config_from_profile(d)
    strains = ",".join(f"{float(s):g}" for s in d.foam_strains)
    return [f"pvae generate foam --size {cfg.size} --cell-size {cfg.cell_size:g} --porosity {cfg.porosity:g} "
            f"--strains {strains} --sub {d.foam_subvolume_size} --stride {d.foam_stride} --seed {seed} "
            f"--replicas {int(d.foam_replicas)} --out {folder}",
            f"pvae label {folder} " + " ".join(_label_flags(profile)) + " --every 5"]


def _expected_rows(profile) -> int:
    from ..profiles import foam_subvolume_count

    return foam_subvolume_count(profile)


def _dataset_matches(folder: Path, profile, seed: int) -> bool | None:
    """``None``: no dataset in ``folder``; else whether it was generated with the profile's settings."""
    from dataclasses import asdict

    from .container import open_dataset

    if not (folder / "images.npy").is_file():
        return None
    d = profile.data
    try:
        meta = open_dataset(folder, properties=False).provenance
    except (OSError, ValueError):
        return False
    return (meta.get("config") == asdict(foam_config_from_profile(d)) and meta.get("seed") == seed
            and meta.get("replicas", 1) == int(d.foam_replicas) and meta.get("sub_size") == int(d.foam_subvolume_size) and meta.get("stride") == int(d.foam_stride)
            and [float(x) for x in meta.get("strains", [])] == [float(x) for x in d.foam_strains])


def build_foam_labels(profile, seed: int | None = None, folder=None, progress: bool = True) -> Path:
    """Generate and LBM-label the profile's foam sub-volumes, resumably; return ``properties.csv``.

    Runs exactly what :func:`foam_label_commands` prints (:func:`pvae_lib.data.foam.write_foam_dataset`,
    then :func:`pvae_lib.data.labels.label_dataset` with the LBM settings the ``pvae label`` flags
    give), with progress bars. An interrupted call resumes where it stopped, and the command-line
    ``pvae label`` can take over (same settings). Costs one 3-D LBM run per sub-volume and axis.
    """
    from .foam import write_foam_dataset
    from .labels import label_dataset

    d = profile.data
    seed = profile.seed if seed is None else int(seed)
    folder = Path(folder) if folder is not None else foam_run_dir(profile)
    if not _dataset_matches(folder, profile, seed):
        write_foam_dataset(folder, config=foam_config_from_profile(d), strains=tuple(d.foam_strains),
                           sub_size=d.foam_subvolume_size, stride=d.foam_stride, seed=seed,
                           replicas=int(d.foam_replicas), overwrite=True, progress=progress,
                           foams=foam_volumes(profile, seed, progress=progress))
    label_dataset(folder, solver="lbm", axes=(0, 1, 2), tensor=True, every=5, workers=1,
                  lbm_config=foam_label_config(profile), progress=progress)
    return folder / "properties.csv"


def foam_label_config(profile):
    """The :class:`~pvae_lib.lbm.config.LBMConfig` of a profile's foam labels.

    Exactly what the ``pvae label`` flags of :func:`foam_label_commands` give (TRT, tau = 1, body
    force, periodic faces; ``profile.lbm.max_steps`` and ``profile.lbm.tolerance``), so a chapter
    that recomputes a label runs the same solver settings as the label table.
    """
    from ..lbm.config import run_config

    return run_config(**_label_settings(profile))


def foam_label_table(profile=None, seed: int | None = None, build: bool = False,
                     progress: bool = False) -> pd.DataFrame:
    """The LBM label table of a profile's foam sub-volumes (one row per sub-volume).

    The shipped ``foam_quick_properties.csv`` when the profile's foam settings are those of
    :data:`SHIPPED_FOAM`, else the profile's own table (made by :func:`build_foam_labels` when
    ``build`` is true; otherwise a missing table raises ``FileNotFoundError`` naming the commands).

    Returns
    -------
    pandas.DataFrame
        Columns ``case, n_F, strain, volume, x0, y0, z0, Permeability_x|y|z`` (K in l.u.).
    """
    from ..profiles import get_profile
    from .properties import read_properties

    profile = profile or get_profile()
    seed = profile.seed if seed is None else int(seed)
    csv = default_foam_csv() if has_shipped_labels(profile, seed) else _profile_csv(profile, seed, build, progress)
    return read_properties(csv).reset_index(drop=True)


def _profile_csv(profile, seed: int, build: bool, progress: bool) -> Path:
    folder = foam_run_dir(profile)
    csv = folder / "properties.csv"
    expected = _expected_rows(profile)
    matches = _dataset_matches(folder, profile, seed)
    n_rows = 0
    if matches and csv.is_file():
        from .properties import read_properties

        n_rows = len(read_properties(csv))
        if n_rows == expected:
            return csv
    if build:
        return build_foam_labels(profile, seed, folder, progress=progress)
    if matches is False:
        found = f"{folder} holds foams made with other settings (the first command replaces them)"
    else:
        found = f"{csv} has {n_rows} of {expected} rows" if csv.is_file() else f"{csv} does not exist"
    commands = foam_label_commands(profile, seed, folder)
    if matches is False:
        commands[0] += " --overwrite"
    elif matches:
        commands = commands[1:]  # the images are there: only the labels are missing
    joined = "\n    ".join(commands)
    raise FileNotFoundError(
        f"no foam labels for profile {profile.name!r}: the shipped foam_quick_properties.csv labels only "
        f"the quick profile's foams, and {found}. Make them ({expected} sub-volumes of "
        f"{profile.data.foam_subvolume_size}³, one 3-D LBM run per axis each) with\n    {joined}\n"
        f"(the label command resumes after an interruption), or call load_foam_dataset(profile, build=True).")


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


#: version of the cached foam volumes: bump it when :mod:`pvae_lib.data.foam` draws other images from a seed
FOAM_VOLUMES_FORMAT = 1


def foam_volumes(profile, seed: int | None = None, progress: bool = False) -> list:
    """The profile's foams at every strain (:func:`~pvae_lib.data.foam.generate_foam_replicas`), cached.

    Generated from the seed once (the quick profile's 35 volumes of 128³ take about 40 s on 2
    cores) and stored in ``artifacts_dir(profile.name, "foam")`` under the digest of their key (the
    generator's settings, strains, seed, replicas and :data:`FOAM_VOLUMES_FORMAT`; bit-packed, about
    9 MB for quick), so a later call, in this or another process, only reads them. A file that
    cannot be read is generated again; it is written atomically.

    Returns
    -------
    list of FoamVolume
        Volume ``r * len(strains) + k`` is foam ``r`` at ``strains[k]``.
    """
    import dataclasses

    from ..cache import canonical, key_digest
    from ..fileio import atomic_path
    from ..results import artifacts_dir
    from .foam import FoamVolume, generate_foam_replicas

    d = profile.data
    seed = profile.seed if seed is None else int(seed)
    config = foam_config_from_profile(d)
    strains = tuple(float(s) for s in d.foam_strains)
    key = canonical({"config": dataclasses.asdict(config), "strains": strains, "seed": seed,
                     "replicas": int(d.foam_replicas), "format": FOAM_VOLUMES_FORMAT})
    path = artifacts_dir(profile.name, "foam") / f"volumes_{key_digest(key, 12)}.npz"
    fields = ("strain", "radius", "porosity", "target_porosity")
    if path.is_file():
        try:
            with np.load(path) as f:
                shape = tuple(int(n) for n in f["shape"])
                bits = np.unpackbits(f["bits"], count=int(np.prod(shape))).reshape(shape).astype(bool)
                return [FoamVolume(image=bits[i], **{k: float(f[k][i]) for k in fields}) for i in range(shape[0])]
        except (OSError, ValueError, KeyError):
            pass  # unreadable (an interrupted copy, another format): generate again
    volumes = generate_foam_replicas(config, strains, seed=seed, replicas=int(d.foam_replicas), progress=progress)
    images = np.stack([v.image for v in volumes])
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, shape=np.asarray(images.shape), bits=np.packbits(images),
                 **{k: np.asarray([getattr(v, k) for v in volumes], float) for k in fields})
    return volumes


def load_foam_dataset(profile=None, csv: str | os.PathLike | None = None, seed: int | None = None,
                      progress: bool = False, build: bool = False) -> Dataset:
    """Regenerate the profile's foams from the seed and attach their LBM labels.

    Parameters
    ----------
    profile : Profile, optional
        Sizes (``profile.data.foam_*``) and seed (default ``get_profile()``).
    csv : path, optional
        Label table. Default: :func:`default_foam_csv` when the profile's settings are those of
        the shipped table (:func:`has_shipped_labels`), else the profile's own
        ``artifacts_dir(profile.name, "foam")/properties.csv``.
    seed : int, optional
        Default ``profile.seed`` (2025 for the shipped table).
    build : bool
        When the profile's own table is missing or incomplete, make it
        (:func:`build_foam_labels`, with progress bars) instead of raising.

    Raises
    ------
    FileNotFoundError
        The profile has no shipped labels and its own table is missing or incomplete (and
        ``build`` is false); the message names the commands that make it.

    Returns
    -------
    Dataset
        :class:`~pvae_lib.data.container.Dataset` of the sub-volumes in table order (their
        porosity equals the table's ``n_F``, checked), ``names = ("n", "k11", "k22", "k33")``,
        the regenerated foams in ``volumes`` and the foam settings in ``provenance``.
    """
    from ..profiles import get_profile
    from .properties import read_properties

    profile = profile or get_profile()
    section = profile.data
    seed = profile.seed if seed is None else int(seed)
    if csv is None:
        table = foam_label_table(profile, seed, build=build, progress=progress)
    else:
        table = read_properties(csv).reset_index(drop=True)
    missing = {"volume", "x0", "y0", "z0", "strain", *PERMEABILITY_COLUMNS} - set(table.columns)
    if missing:
        raise ValueError(f"the foam table lacks the columns {sorted(missing)}")
    volumes = foam_volumes(profile, seed, progress=progress)
    images = attach_subvolumes(volumes, table, section.foam_subvolume_size)
    provenance = {"kind": "foam", **foam_settings(profile, seed)}
    return Dataset(images=images, properties=table, provenance=provenance, names=VOLUME_PROPERTIES, volumes=volumes)
