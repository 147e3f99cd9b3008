"""Datasets on disk: ``images.npy`` (memory-mapped) + ``meta.json`` + ``properties.csv``.

Layout of a dataset folder::

    DIR/images.npy       bool, (N, H, W) extruded 2-D patterns or (N, D, H, W) 3-D samples
    DIR/meta.json        {"format": "pvae-dataset", "kind": ..., "extruded_length": L or null, ...}
    DIR/properties.csv   case, n_F, ..., Permeability_x[, _y, _z]  (written by labelling)

``True`` = pore. For extruded patterns (the synthetic square-pore set) the 3-D sample ``i`` is
``extrude(images[i], extruded_length)``: array axis 0 of the 3-D sample (x1) is the extrusion
and flow axis; ``images.npy`` stays ``H`` times smaller than the 3-D stack. ``images.npy`` is
opened with ``mmap_mode="r"`` so datasets larger than memory can be read in batches
(:mod:`pvae_lib.data.pipeline`). All files are written atomically.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from ..fileio import atomic_path, write_json_atomic
from ..images import as_pore_array
from .properties import PATTERN_PROPERTIES, VOLUME_PROPERTIES
from .synthetic import extrude

__all__ = ["Dataset", "save_dataset", "create_dataset", "open_dataset", "IMAGES", "META", "PROPERTIES_CSV"]

IMAGES, META, PROPERTIES_CSV = "images.npy", "meta.json", "properties.csv"
FORMAT = "pvae-dataset"


@dataclass
class Dataset:
    """Images with their properties and where they came from: the one dataset type of the library.

    The synthetic square-pore set (:func:`pvae_lib.data.datasets.load_synthetic_dataset`), the
    foam sub-volumes (:func:`pvae_lib.data.foam_dataset.load_foam_dataset`) and any dataset folder
    (:func:`open_dataset`, e.g. a user's labelled micro-CT windows) are all of this type.

    Attributes
    ----------
    images : ndarray (or numpy.memmap) of bool, (N, H, W) extruded 2-D patterns or (N, D, H, W)
        3-D samples; ``True`` = pore, array axis 0 = x1.
    properties : pandas.DataFrame or None
        The authors' property table, one row per image in the same order (``case, n_F, ...,
        Permeability_x[, _y, _z, ...]``); ``None`` for a folder not labelled yet.
    provenance : dict
        How the images were made: generator parameters and seed (``meta.json`` of a folder).
    names : tuple of str
        The properties a model of these data is mapped to (:data:`~pvae_lib.data.properties.PROPERTIES`
        names): ``("n", "k11")`` for extruded patterns, ``("n", "k11", "k22", "k33")`` for foams.
    folder : Path or None
        The dataset folder the images were read from (a cache folder for generated sets).
    volumes : list
        Foams only: the regenerated full foam volumes the sub-volumes were cut from.
    """

    images: np.ndarray
    properties: pd.DataFrame | None = None
    provenance: dict = field(default_factory=dict)
    names: tuple = PATTERN_PROPERTIES
    folder: Path | None = None
    volumes: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def values(self, names=None) -> np.ndarray:
        """(N, P) array of the properties ``names`` (default :attr:`names`) from :attr:`properties`."""
        if self.properties is None:
            where = f"{self.folder} has no {PROPERTIES_CSV}" if self.folder else "the dataset has no properties"
            raise ValueError(f"{where}: label it first (pvae label)")
        from .properties import property_values

        return property_values(self.properties, self.names if names is None else names)

    @property
    def porosity(self) -> np.ndarray:
        """(N,) porosity :math:`n^F` from the table."""
        return self.values(("n",))[:, 0]

    @property
    def k11(self) -> np.ndarray:
        """(N,) K11 (l.u.²) from the table."""
        return self.values(("k11",))[:, 0]

    @property
    def permeability(self) -> np.ndarray:
        """(N, 3) K11, K22, K33 (l.u.²) from the table (3-D samples labelled along every axis)."""
        return self.values(("k11", "k22", "k33"))

    @property
    def strain(self) -> np.ndarray:
        """(N,) compression strain of each foam sub-volume (the table's ``strain`` column)."""
        if self.properties is None or "strain" not in self.properties:
            raise ValueError("the dataset's table has no strain column (only foam sub-volumes have one)")
        return self.properties["strain"].to_numpy(float)

    @property
    def seed(self):
        """Seed of the generator that made the images (``None`` if not recorded)."""
        return self.provenance.get("seed")

    @property
    def extruded_length(self) -> int | None:
        """Length of the extrusion along x1 for 2-D patterns, else ``None``."""
        return self.provenance.get("extruded_length")

    def sample(self, i: int, length: int | None = None) -> np.ndarray:
        """The 3-D sample ``i`` (a pattern extruded along axis 0: default length :attr:`extruded_length`,
        else a cube)."""
        image = np.asarray(self.images[i])
        if image.ndim == 3:
            return image
        return extrude(image, length or self.extruded_length)


def _meta(images_shape, meta: dict | None, extruded_length: int | None) -> dict:
    out = {"format": FORMAT, "version": 1, "pore": "True = pore (fluid)", "x_axis": "array axis 0 of each 3-D sample"}
    out.update(meta or {})
    out["n_samples"] = int(images_shape[0])
    out["sample_shape"] = [int(s) for s in images_shape[1:]]
    out["extruded_length"] = int(extruded_length) if extruded_length else None
    if extruded_length and len(images_shape) != 3:
        raise ValueError("extruded_length is only meaningful for (N, H, W) pattern datasets")
    if not extruded_length and len(images_shape) != 4:
        raise ValueError(f"3-D datasets need images of shape (N, D, H, W), got {tuple(images_shape)}")
    return out


#: Files of a dataset folder that a new dataset replaces (labels of the old images, their
#: settings, per-sample descriptors).
DERIVED = (PROPERTIES_CSV, "properties.json", "samples.csv")


def _prepare(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a dataset folder; choose another folder (CLI: --out)")
    if (folder / IMAGES).exists() and not overwrite:
        raise FileExistsError(f"{folder} already holds a dataset; pass overwrite=True (CLI: --overwrite)")
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite:
        for name in DERIVED:
            (folder / name).unlink(missing_ok=True)


def save_dataset(
    folder: str | os.PathLike,
    images,
    *,
    meta: dict | None = None,
    extruded_length: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``images`` (bool, ``True`` = pore) and ``meta`` to a dataset folder atomically.

    Parameters
    ----------
    images : array_like of bool, (N, H, W) with ``extruded_length`` or (N, D, H, W)
    meta : dict, optional
        Generator, parameters, seed... (JSON-serialisable).
    extruded_length : int, optional
        For 2-D patterns: the length of the extrusion along x1.
    """
    folder = Path(folder)
    pores = as_pore_array(images, ndim=(3, 4), name="images")
    info = _meta(pores.shape, meta, extruded_length)
    _prepare(folder, overwrite)
    with atomic_path(folder / IMAGES) as tmp:
        np.save(tmp, pores)
    write_json_atomic(folder / META, info)
    return folder


@contextlib.contextmanager
def create_dataset(
    folder: str | os.PathLike,
    shape: tuple[int, ...],
    *,
    meta: dict | None = None,
    extruded_length: int | None = None,
    overwrite: bool = False,
) -> Iterator[np.memmap]:
    """Stream a dataset larger than memory to disk: yields a writable ``(N, ...)`` bool memmap.

    Fill it sample by sample inside the ``with`` block; on success the file is renamed into
    place and ``meta.json`` written, on an exception nothing is left behind.
    """
    folder = Path(folder)
    info = _meta(shape, meta, extruded_length)
    _prepare(folder, overwrite)
    with atomic_path(folder / IMAGES) as tmp:
        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=bool, shape=tuple(shape))
        yield array
        array.flush()
        del array
    write_json_atomic(folder / META, info)


def open_dataset(folder: str | os.PathLike, *, mmap: bool = True, properties: bool = True) -> Dataset:
    """Open a dataset folder written by :func:`save_dataset` / ``pvae generate``.

    Parameters
    ----------
    folder : path
    mmap : bool
        Memory-map ``images.npy`` (read lazily) instead of loading it.
    properties : bool
        Read and check ``properties.csv`` (every line, see
        :func:`pvae_lib.data.labels.read_labels`) if present.
    """
    folder = Path(folder)
    if not (folder / IMAGES).is_file():
        raise FileNotFoundError(f"{folder}: not a dataset folder (no {IMAGES}); create one with `pvae generate`")
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8")) if (folder / META).is_file() else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"{folder / META}: not valid JSON ({exc}); regenerate the dataset (pvae generate ... "
                         "--overwrite)") from None
    try:
        images = np.load(folder / IMAGES, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{folder / IMAGES}: cannot be read as a .npy array ({exc}); regenerate the dataset "
                         "(pvae generate ... --overwrite)") from None
    if images.dtype != bool:
        raise ValueError(f"{folder / IMAGES}: expected a bool array (True = pore), got {images.dtype}")
    if not meta:
        meta = {"extruded_length": images.shape[1] if images.ndim == 3 else None}
    props = folder / PROPERTIES_CSV
    table = None
    if properties and props.is_file():
        from .labels import provenance_path, read_labels

        table = read_labels(props, n_images=len(images), require_line_ends=provenance_path(folder).is_file())
    names = VOLUME_PROPERTIES if images.ndim == 4 else PATTERN_PROPERTIES  # 3-D samples: a K per axis
    return Dataset(images=images, properties=table, provenance=meta, names=names, folder=folder)
