"""Labelling: porosity and permeability of each sample, in parallel, resumable on disk.

Two solvers:

``"stokes2d"``
    Exact K11 of extruded structures (:func:`pvae_lib.stokes2d.stokes2d_permeability`):
    a sparse solve on the 2-D cross-section, milliseconds per sample. Only the extrusion
    axis x (array axis 0) of pattern datasets, or any axis along which a 3-D sample is
    extruded.
``"lbm"``
    The 3-D D3Q19 lattice Boltzmann solver (:func:`pvae_lib.lbm.permeability.permeability`)
    for general 3-D samples (foams), any axis. Seconds to minutes per sample.

Values are in lattice units (l.u., voxel spacing squared); ``Permeability_x`` is K11 for
flow along array axis 0.
"""
from __future__ import annotations

import os
import time
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from ..images import normalize_axis
from .properties import CASE, POROSITY, permeability_column, read_properties, write_properties
from .synthetic import extrude

__all__ = ["SOLVERS", "label_sample", "label_images", "label_dataset", "parse_axes"]

SOLVERS = ("stokes2d", "lbm")

#: Below this many samples the stokes2d labelling runs in this process (starting worker
#: processes costs about a second).
PARALLEL_MIN_SAMPLES = 1000


def parse_axes(axes) -> tuple[int, ...]:
    """``"x"``, ``"x,y,z"``, ``0``, ``("x", 1)`` ... -> sorted unique array axes of a 3-D sample."""
    if isinstance(axes, (str, int, np.integer)):
        axes = [a for a in str(axes).replace(" ", "").split(",") if a] if isinstance(axes, str) else [axes]
    out = sorted({normalize_axis(int(a) if str(a).lstrip("-").isdigit() else a, 3) for a in axes})
    if not out:
        raise ValueError("no axis given; use e.g. 'x' or 'x,y,z'")
    return tuple(out)


def _lbm_value(result) -> float:
    for attr in ("permeability", "k", "K"):
        if hasattr(result, attr) and not callable(getattr(result, attr)):
            return float(getattr(result, attr))
    return float(result)


def label_sample(image, *, solver: str = "stokes2d", axes=(0,), extruded_length: int | None = None,
                 lbm_config=None) -> dict:
    """Porosity and permeabilities of one sample.

    Parameters
    ----------
    image : ndarray of bool
        A 2-D pattern (with ``extruded_length``: the sample is the pattern extruded along x1)
        or a 3-D sample. ``True`` = pore.
    solver : {"stokes2d", "lbm"}
    axes : sequence of int
        Flow axes (array axes of the 3-D sample; 0 = x).
    extruded_length : int, optional
        Extrusion length for 2-D patterns (needed by the LBM; stokes2d ignores it).
    lbm_config : optional
        Passed to :func:`pvae_lib.lbm.permeability.permeability` as ``config``.

    Returns
    -------
    dict
        ``{"n_F": ..., "Permeability_x": ..., ...}`` (l.u.).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    image = np.asarray(image, dtype=bool)
    out = {POROSITY: np.count_nonzero(image) / image.size}
    pattern = image.ndim == 2
    for axis in axes:
        if solver == "stokes2d":
            from ..stokes2d import stokes2d_permeability

            if pattern and axis != 0:
                raise ValueError(
                    f"stokes2d gives only the extrusion axis x (0) of a pattern dataset, not axis {axis}; use solver='lbm'"
                )
            value = stokes2d_permeability(image, axis=axis)
        else:
            from ..lbm.permeability import permeability

            sample = extrude(image, extruded_length) if pattern else image
            value = _lbm_value(permeability(sample, axis=axis, config=lbm_config) if lbm_config is not None
                               else permeability(sample, axis=axis))
        out[permeability_column(axis)] = float(value)
    return out


def _label_chunk(images: np.ndarray, solver: str, axes, extruded_length, lbm_config) -> list[dict]:
    return [label_sample(im, solver=solver, axes=axes, extruded_length=extruded_length, lbm_config=lbm_config)
            for im in images]


def _chunks(n: int, size: int):
    for start in range(0, n, size):
        yield start, min(n, start + size)


def _iter_labels(images, cases, *, solver, axes, extruded_length, lbm_config, workers, block):
    """Yield ``(cases_block, rows_block)`` in order, computing blocks in worker processes."""
    cases = np.asarray(cases, dtype=np.int64)
    parallel = workers > 1 and solver == "stokes2d" and cases.size >= PARALLEL_MIN_SAMPLES
    if not parallel:
        for a, b in _chunks(cases.size, block):
            sub = cases[a:b]
            yield sub, _label_chunk(np.asarray(images[sub]), solver, axes, extruded_length, lbm_config)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context(_start_method()))
    piece = max(1, block // workers)
    try:
        for a, b in _chunks(cases.size, block):
            sub = cases[a:b]
            if pool is not None:
                try:
                    futures = [pool.submit(_label_chunk, np.asarray(images[sub[i:j]]), solver, axes,
                                           extruded_length, lbm_config) for i, j in _chunks(sub.size, piece)]
                    rows = [row for f in futures for row in f.result()]
                except BrokenProcessPool:
                    # e.g. a script without `if __name__ == "__main__":` under "spawn": go on serially
                    pool.shutdown(cancel_futures=True)
                    pool = None
            if pool is None:
                rows = _label_chunk(np.asarray(images[sub]), solver, axes, extruded_length, lbm_config)
            yield sub, rows
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _start_method() -> str:
    """``fork`` when it is safe (one thread, no TensorFlow loaded), else ``spawn``."""
    if os.name == "posix" and threading.active_count() == 1 and "tensorflow" not in sys.modules:
        return "fork"
    return "spawn"


def label_images(
    images,
    *,
    solver: str = "stokes2d",
    axes=(0,),
    extruded_length: int | None = None,
    lbm_config=None,
    workers: int = 2,
    progress: bool = True,
    block: int = 500,
) -> pd.DataFrame:
    """Label a batch of samples in memory; returns the property table (authors' columns).

    Parameters
    ----------
    images : ndarray of bool, (N, H, W) patterns or (N, D, H, W) samples
    workers : int
        Worker processes for ``stokes2d`` (used from :data:`PARALLEL_MIN_SAMPLES` samples on).
    progress : bool
        Show a ``tqdm.auto`` bar.

    Returns
    -------
    pandas.DataFrame
        Columns ``case, n_F, Permeability_*`` with ``case = 0..N-1``.
    """
    from tqdm.auto import tqdm

    axes = parse_axes(axes)
    images = np.asarray(images, dtype=bool)
    rows = []
    with tqdm(total=len(images), desc=f"labelling ({solver})", disable=not progress, unit="sample") as bar:
        for cases, block_rows in _iter_labels(images, np.arange(len(images)), solver=solver, axes=axes,
                                              extruded_length=extruded_length, lbm_config=lbm_config,
                                              workers=workers, block=block):
            rows.extend({CASE: int(c), **r} for c, r in zip(cases, block_rows))
            bar.update(len(cases))
    return pd.DataFrame(rows, columns=[CASE, POROSITY, *map(permeability_column, axes)])


def label_dataset(
    folder: str | os.PathLike,
    *,
    solver: str = "stokes2d",
    axes=(0,),
    output: str = "properties.csv",
    every: int = 500,
    workers: int = 2,
    lbm_config=None,
    limit: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Label a dataset folder (see :mod:`pvae_lib.data.container`), resumably.

    ``folder/output`` (default ``properties.csv``) holds only completely labelled rows. It is
    rewritten atomically every ``every`` samples, so an interrupted run loses at most the
    current block and a later call continues with the samples that are still missing.

    Parameters
    ----------
    folder : path
        Dataset folder with ``images.npy`` (and ``meta.json``).
    solver : {"stokes2d", "lbm"}
    axes : str or sequence
        Flow axes, e.g. ``"x"`` or ``"x,y,z"``.
    output : str
        File name of the table inside ``folder``.
    every : int
        Samples per atomic checkpoint.
    limit : int, optional
        Label only the first ``limit`` cases (e.g. an LBM check of a large set).

    Returns
    -------
    pandas.DataFrame
        The full table written to ``folder/output``.
    """
    from tqdm.auto import tqdm

    from .container import open_dataset

    axes = parse_axes(axes)
    data = open_dataset(folder)
    path = Path(folder) / output
    columns = [CASE, POROSITY, *map(permeability_column, axes)]
    n_total = len(data) if limit is None else min(int(limit), len(data))
    if path.is_file():
        done = read_properties(path, n_images=len(data))
        missing = [c for c in columns if c not in done.columns]
        if missing:
            raise ValueError(
                f"{path} exists without columns {missing}; label into another file (output=..., CLI: --output) "
                "or delete it to start again"
            )
    else:
        done = pd.DataFrame(columns=columns)
    todo = np.setdiff1d(np.arange(n_total), done[CASE].to_numpy(dtype=np.int64))
    samples_csv = Path(folder) / "samples.csv"  # per-sample descriptors (e.g. foam strain), copied over
    extra = pd.read_csv(samples_csv).set_index(CASE) if samples_csv.is_file() else None
    frames = [done] if len(done) else []
    start = time.perf_counter()
    with tqdm(total=n_total, initial=n_total - todo.size, desc=f"labelling {Path(folder).name} ({solver})",
              disable=not progress, unit="sample") as bar:
        for cases, rows in _iter_labels(data.images, todo, solver=solver, axes=axes,
                                        extruded_length=data.extruded_length, lbm_config=lbm_config,
                                        workers=workers, block=max(1, int(every))):
            block = pd.DataFrame([{CASE: int(c), **r} for c, r in zip(cases, rows)])
            if extra is not None:
                block = block.join(extra, on=CASE)
            frames.append(block)
            table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
            write_properties(table, path)
            frames = [table]
            bar.update(len(cases))
    if not path.is_file():  # nothing to do and no file yet (empty selection)
        write_properties(done, path)
    table = read_properties(path, n_images=len(data))
    table.attrs["seconds"] = time.perf_counter() - start
    table.attrs["labelled"] = int(todo.size)
    return table
