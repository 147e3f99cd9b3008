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
flow along array axis 0. With ``tensor=True`` (``pvae label --tensor``, LBM, 3-D samples, all
three axes) the same three runs also give the off-diagonal components
(:func:`pvae_lib.lbm.permeability.permeability_tensor`): ``Permeability_xy|xz|yz`` and
``K_asymmetry`` (see :mod:`pvae_lib.data.properties`), at no extra cost with periodic boundaries.

:func:`label_dataset` labels a dataset folder: resumable, locked against a second run on the
same folder, with the solver and its settings stored next to the labels
(``properties.json``), and its work spread over a Dask cluster (:mod:`dask.distributed`:
a local cluster of worker processes, or an existing scheduler, e.g. one started on a SLURM
cluster with ``dask-jobqueue``). Results stream to ``properties.csv`` as tasks finish; a task
lost with a worker is run again elsewhere by Dask, and every case is written once.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import itertools
import json
import math
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
from .properties import (ASYMMETRY, CASE, OFF_DIAGONAL_COLUMNS, PERMEABILITY_COLUMNS, POROSITY, permeability_column,
                         read_properties, write_properties)
from .synthetic import extrude

__all__ = ["SOLVERS", "label_sample", "label_images", "label_dataset", "parse_axes", "label_settings",
           "label_columns", "read_labels", "dask_client", "provenance_path", "lock_path"]

SOLVERS = ("stokes2d", "lbm")

#: Below this many samples the stokes2d labelling runs in this process (starting worker
#: processes costs about a second).
PARALLEL_MIN_SAMPLES = 1000

#: A checkpoint is also written when this many seconds passed since the last one (slow LBM
#: samples would otherwise wait for ``every`` results).
CHECKPOINT_SECONDS = 30.0

#: Format tag of the settings file written next to the labels.
LABELS_FORMAT = "pvae-labels"


def parse_axes(axes) -> tuple[int, ...]:
    """``"x"``, ``"x,y,z"``, ``0``, ``("x", 1)`` ... -> sorted unique array axes of a 3-D sample."""
    if isinstance(axes, (str, int, np.integer)):
        axes = [a for a in str(axes).replace(" ", "").split(",") if a] if isinstance(axes, str) else [axes]
    out = sorted({normalize_axis(int(a) if str(a).lstrip("-").isdigit() else a, 3) for a in axes})
    if not out:
        raise ValueError("no axis given; use e.g. 'x' or 'x,y,z'")
    return tuple(out)


def label_columns(axes=(0,), tensor: bool = False) -> list[str]:
    """Columns of a label table: ``case, n_F``, one permeability per axis (and the tensor's extra columns)."""
    columns = [CASE, POROSITY, *map(permeability_column, parse_axes(axes))]
    return columns + [*OFF_DIAGONAL_COLUMNS, ASYMMETRY] if tensor else columns


def _check_tensor(solver: str, axes, tensor: bool) -> None:
    if tensor and (solver != "lbm" or tuple(axes) != (0, 1, 2)):
        raise ValueError(f"the full tensor (CLI: --tensor) needs --solver lbm and --axis x,y,z; got --solver {solver} "
                         f"--axis {','.join('xyz'[a] for a in axes)}")


def label_sample(image, *, solver: str = "stokes2d", axes=(0,), extruded_length: int | None = None,
                 lbm_config=None, tensor: bool = False) -> dict:
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
    tensor : bool
        Full tensor (``solver="lbm"``, ``axes=(0, 1, 2)``): the three runs of
        :func:`~pvae_lib.lbm.permeability.permeability_tensor` give the diagonal (the same
        values as three :func:`~pvae_lib.lbm.permeability.permeability` calls) and the
        off-diagonal components.

    Returns
    -------
    dict
        ``{"n_F": ..., "Permeability_x": ..., ...}`` (l.u.).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    _check_tensor(solver, parse_axes(axes), tensor)
    image = np.asarray(image, dtype=bool)
    out = {POROSITY: np.count_nonzero(image) / image.size}
    pattern = image.ndim == 2
    if tensor:
        from ..lbm.permeability import permeability_tensor

        sample = extrude(image, extruded_length) if pattern else image
        res = permeability_tensor(sample, config=lbm_config)
        # the diagonal of the unsymmetrised tensor: exactly K_ii of a single run along i
        out.update({permeability_column(i): float(res.K_raw[i, i]) for i in range(3)})
        out.update({c: float(res.K[a, b]) for c, (a, b) in zip(OFF_DIAGONAL_COLUMNS, ((0, 1), (0, 2), (1, 2)))})
        scale = float(np.max(np.diag(res.K_raw)))
        out[ASYMMETRY] = float(np.max(np.abs(res.K_raw - res.K_raw.T)) / scale) if scale > 0 else 0.0
        return out
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
            value = permeability(sample, axis=axis, config=lbm_config).K
        out[permeability_column(axis)] = float(value)
    return out


def _label_chunk(images: np.ndarray, solver: str, axes, extruded_length, lbm_config, tensor=False) -> list[dict]:
    return [label_sample(im, solver=solver, axes=axes, extruded_length=extruded_length, lbm_config=lbm_config,
                         tensor=tensor) for im in images]


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


def provenance_path(folder, output: str = "properties.csv") -> Path:
    """The settings file of a label table: ``properties.csv`` -> ``properties.json``."""
    return Path(folder) / (Path(output).stem + ".json")


def lock_path(folder, output: str = "properties.csv") -> Path:
    """The lock file held while ``folder/output`` is labelled (hidden, next to it)."""
    return Path(folder) / f".{output}.lock"


def label_settings(solver: str = "stokes2d", axes=(0,), lbm_config=None, tensor: bool = False) -> dict:
    """What determines the labels: solver, axes and solver settings (stored with the labels).

    Returns
    -------
    dict
        ``{"solver", "axes", "settings"}`` (and ``"tensor": True`` for a full-tensor table);
        for ``"lbm"`` the settings are every field of the :class:`~pvae_lib.lbm.config.LBMConfig`
        used, for ``"stokes2d"`` its boundary.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS} (CLI: --solver), got {solver!r}")
    if solver == "lbm":
        from ..lbm.config import LBMConfig

        settings = dataclasses.asdict(lbm_config if lbm_config is not None else LBMConfig())
    else:
        settings = {"boundary": "periodic"}
    out = {"solver": solver, "axes": ["xyz"[a] for a in parse_axes(axes)], "settings": settings}
    if tensor:
        _check_tensor(solver, parse_axes(axes), tensor)
        out["tensor"] = True
    return out


def _describe(settings: dict) -> str:
    text = f"--solver {settings.get('solver')} --axis {','.join(settings.get('axes', []))}"
    if settings.get("tensor"):
        text += " --tensor"
    if settings.get("solver") == "lbm":
        text += " with LBM settings " + ", ".join(f"{k}={v}" for k, v in sorted(settings["settings"].items()))
    return text


def _check_settings(stored: dict, wanted: dict, csv_path: Path, json_path: Path) -> None:
    """Refuse to resume a label table made with other settings."""
    keys = ("solver", "axes", "settings", "tensor")
    if all(stored.get(k, False) == wanted.get(k, False) for k in keys):
        return
    diff = [k for k in keys if stored.get(k, False) != wanted.get(k, False)]
    detail = ""
    if "settings" in diff and stored.get("solver") == wanted["solver"]:
        old, new = stored.get("settings") or {}, wanted["settings"]
        changed = [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        detail = f" (changed: {', '.join(changed)})"
    raise ValueError(
        f"{csv_path} was labelled with {_describe(stored)}; this run asks for {_describe(wanted)}{detail}. "
        f"Resuming would mix settings in one table: run with the same settings to resume, pass "
        f"--overwrite (overwrite=True) to relabel from scratch, or label into another file with --output"
        f" (settings: {json_path.name})"
    )


_NUMERIC = (CASE, POROSITY, *PERMEABILITY_COLUMNS)


def read_labels(path, *, n_images: int | None = None, require_line_ends: bool = True) -> pd.DataFrame:
    """Read a label table, checking every line first; errors name the line.

    Checks each data line has one value per column, that ``case``, ``n_F`` and the
    permeabilities are finite numbers, and (``require_line_ends``) that the last line ends
    with a line break - tables written by :func:`label_dataset` always do, so a last line
    without one was cut off (e.g. ``25,0.2,0`` from ``25,0.2,0.0131...``). Then
    :func:`~pvae_lib.data.properties.read_properties` checks ranges and cases.

    Raises
    ------
    ValueError
        ``"{path} line N: ..."`` for the first bad line.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    fix = "delete that line (or the file) and run `pvae label` again to relabel what is missing"
    if not lines:
        raise ValueError(f"{path} is empty (no header line); delete it and run `pvae label` again")
    if require_line_ends and not text.endswith("\n"):
        raise ValueError(f"{path} line {len(lines)} is cut off (no line end: the file was truncated); {fix}")
    rows = list(csv.reader(lines))
    header = [c.strip() for c in rows[0]]
    numeric = [(i, c) for i, c in enumerate(header) if c in _NUMERIC]
    for number, fields in enumerate(rows[1:], start=2):
        if len(fields) != len(header):
            raise ValueError(f"{path} line {number} has {len(fields)} values for {len(header)} columns "
                             f"({','.join(header)}): the row is incomplete; {fix}")
        for i, column in numeric:
            try:
                value = float(fields[i])
            except ValueError:
                value = float("nan")
            if not math.isfinite(value):
                raise ValueError(f"{path} line {number}: {column} is {fields[i].strip()!r}, not a finite number; {fix}")
    return read_properties(path, n_images=n_images)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int = 2, client=None):
    """A :class:`distributed.Client`: ``client`` as given, one connected to ``scheduler``, or a local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``), e.g. of a ``dask-jobqueue``
        ``SLURMCluster`` (see README). Workers need ``pvae_lib`` installed.
    workers : int
        Worker processes of the local cluster (one thread each) when no scheduler is given.
    client : distributed.Client, optional
        Used as is (not closed).

    Yields
    ------
    distributed.Client
    """
    if client is not None:
        yield client
        return
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            own = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({exc}); "
                             "start one (dask scheduler, or a dask-jobqueue cluster) or leave --scheduler out "
                             "for a local cluster") from None
        try:
            yield own
        finally:
            own.close()
        return
    cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    try:
        with Client(cluster) as own:
            yield own
    finally:
        cluster.close()


def _label_task(images, cases, solver, axes, extruded_length, lbm_config, quiet_tf=True, tensor=False) -> list[dict]:
    """One Dask task: label ``images`` (cases ``cases``); returns rows with their case."""
    if solver == "lbm":
        from ..runtime import import_tensorflow

        import_tensorflow(quiet=quiet_tf)
    return [{CASE: int(c), **label_sample(im, solver=solver, axes=axes, extruded_length=extruded_length,
                                          lbm_config=lbm_config, tensor=tensor)}
            for c, im in zip(cases, np.asarray(images))]


def _dask_rows(client, images, todo, *, task_size, solver, axes, extruded_length, lbm_config, quiet_tf,
               tensor=False):
    """Yield the rows of finished tasks (in completion order) from a Dask cluster.

    At most a few tasks per worker thread are in flight, so the images sent to the cluster
    stay a small window of the dataset.
    """
    from distributed import as_completed

    blocks = iter([todo[a:b] for a, b in _chunks(todo.size, task_size)])
    threads = sum(client.nthreads().values()) or 1

    def submit(sub):
        return client.submit(_label_task, np.asarray(images[sub]), sub, solver, axes, extruded_length, lbm_config,
                             quiet_tf, tensor, pure=False)

    inflight = {submit(sub) for sub in itertools.islice(blocks, 2 * threads + 1)}
    done = as_completed(list(inflight))
    try:
        for future in done:
            rows = future.result()
            inflight.discard(future)
            future.release()
            nxt = next(blocks, None)
            if nxt is not None:
                new = submit(nxt)
                inflight.add(new)
                done.add(new)
            yield rows
    finally:
        if inflight:
            client.cancel(list(inflight))


def _serial_rows(images, todo, *, block, solver, axes, extruded_length, lbm_config, tensor=False):
    for a, b in _chunks(todo.size, block):
        sub = todo[a:b]
        yield [{CASE: int(c), **r} for c, r in
               zip(sub, _label_chunk(np.asarray(images[sub]), solver, axes, extruded_length, lbm_config, tensor))]


def label_dataset(
    folder: str | os.PathLike,
    *,
    solver: str = "stokes2d",
    axes=(0,),
    output: str = "properties.csv",
    every: int = 500,
    workers: int = 2,
    lbm_config=None,
    tensor: bool = False,
    limit: int | None = None,
    progress: bool = True,
    scheduler: str | None = None,
    client=None,
    wait: bool = False,
    overwrite: bool = False,
    quiet_tf: bool = True,
) -> pd.DataFrame:
    """Label a dataset folder (see :mod:`pvae_lib.data.container`), resumably and safely.

    ``folder/output`` (default ``properties.csv``) holds only completely labelled rows. It is
    rewritten atomically every ``every`` results (and every :data:`CHECKPOINT_SECONDS`), so an
    interrupted run loses at most the results since the last checkpoint and a later call
    continues with the samples that are still missing. While it runs, the folder is locked
    (``.properties.csv.lock``): a second run on the same table refuses (or, with ``wait``,
    waits). The solver and its settings are stored in ``properties.json`` (solver, axes, LBM
    configuration, ``pvae_lib`` version); resuming with other settings refuses. Temporary
    files left by a killed run are removed when the next run starts.

    Work runs in this process (``workers=1``, or fewer than :data:`PARALLEL_MIN_SAMPLES`
    ``stokes2d`` samples) or on Dask: a local cluster of ``workers`` processes, the scheduler
    at ``scheduler``, or ``client``. Rows are the same either way (each sample is labelled by
    the same function; the table is sorted by case).

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
        Results per atomic checkpoint (>= 1).
    workers : int
        Worker processes of the local Dask cluster (>= 1; 1 = no cluster).
    lbm_config : LBMConfig, optional
        Settings of the LBM (default ``LBMConfig()``).
    tensor : bool
        Also the off-diagonal components (``--solver lbm --axis x,y,z`` only; CLI: ``--tensor``):
        columns ``Permeability_xy|xz|yz`` and ``K_asymmetry`` (:func:`label_sample`).
    limit : int, optional
        Label only the first ``limit`` cases (>= 1; e.g. an LBM check of a large set).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    client : distributed.Client, optional
        A client to use as is.
    wait : bool
        Wait for another run that labels the same table instead of refusing.
    overwrite : bool
        Delete an existing table (and its settings) and label from scratch.
    quiet_tf : bool
        Hide TensorFlow's C++ start-up lines in LBM workers.

    Returns
    -------
    pandas.DataFrame
        The full table written to ``folder/output``; ``attrs["labelled"]`` = rows added.

    Raises
    ------
    ValueError
        Bad arguments, a table made with other settings, a damaged table (naming the line).
    pvae_lib.fileio.LockHeldError
        Another run holds the lock and ``wait`` is False.
    """
    from tqdm.auto import tqdm

    from .. import __version__
    from ..fileio import LockHeldError, exclusive_lock, remove_stale_temporaries, write_json_atomic
    from .container import open_dataset

    for name, value in (("every", every), ("workers", workers)):
        if int(value) < 1:
            raise ValueError(f"{name} must be >= 1 (CLI: --{name}), got {value}")
    if limit is not None and int(limit) < 1:
        raise ValueError(f"limit must be >= 1 (CLI: --limit), got {limit}")
    axes = parse_axes(axes)
    wanted = label_settings(solver, axes, lbm_config, tensor)
    folder = Path(folder)
    data = open_dataset(folder, properties=False)
    pattern = data.images.ndim == 3
    if solver == "stokes2d" and pattern and axes != (0,):
        raise ValueError(
            f"{folder} holds 2-D patterns extruded along x: --solver stokes2d gives only --axis x; use --solver lbm "
            f"for --axis {','.join('xyz'[a] for a in axes)}"
        )
    if solver == "stokes2d" and not pattern and len(data):
        from ..stokes2d import cross_section

        for axis in axes:  # fail now, not in a worker after an hour
            try:
                cross_section(data.images[0], axis)
            except ValueError:
                raise ValueError(f"{folder}: sample 0 is not extruded along {'xyz'[axis]}; --solver stokes2d needs "
                                 "extruded samples, use --solver lbm") from None
    path = folder / output
    settings_path = provenance_path(folder, output)
    columns = label_columns(axes, tensor)
    n_total = len(data) if limit is None else min(int(limit), len(data))
    try:
        lock = exclusive_lock(lock_path(folder, output), wait=wait, info=f"labelling {path} ({solver})")
        lock.__enter__()
    except LockHeldError as exc:
        raise RuntimeError(
            f"{path} is being labelled by another run ({exc.holder or 'pid unknown'}); wait for it to finish, "
            "or pass --wait (wait=True) to start when it is done"
        ) from None
    try:
        remove_stale_temporaries(path)
        remove_stale_temporaries(settings_path)
        if overwrite:
            path.unlink(missing_ok=True)
            settings_path.unlink(missing_ok=True)
        stored = json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.is_file() else None
        if path.is_file():
            if stored is None:
                done = read_labels(path, n_images=len(data), require_line_ends=False)
                missing = [c for c in columns if c not in done.columns]
                if missing:
                    raise ValueError(
                        f"{path} exists without columns {missing}; label into another file (output=..., CLI: "
                        "--output) or pass --overwrite (overwrite=True) to start again"
                    )
            else:
                _check_settings(stored, wanted, path, settings_path)
                done = read_labels(path, n_images=len(data))
        else:
            done = pd.DataFrame(columns=columns)
        todo = np.setdiff1d(np.arange(n_total), done[CASE].to_numpy(dtype=np.int64))
        if todo.size and path.is_file() and stored is None:
            raise ValueError(
                f"{path} records no solver settings (written by an older pvae_lib) and misses {todo.size} cases; "
                "pass --overwrite (overwrite=True) to relabel it with known settings, or label into another file "
                "with --output"
            )
        if todo.size or not path.is_file():
            if stored is None:
                write_json_atomic(settings_path, {"format": LABELS_FORMAT, **wanted, "pvae_lib": __version__,
                                                  "table": output, "dataset": data.provenance.get("kind")})
        samples_csv = folder / "samples.csv"  # per-sample descriptors (e.g. foam strain), copied over
        extra = pd.read_csv(samples_csv).set_index(CASE) if samples_csv.is_file() else None
        state = {"table": done, "pending": [], "last": time.perf_counter()}

        def flush():
            if not state["pending"]:
                return
            block = pd.DataFrame(state["pending"])
            if extra is not None:
                block = block.join(extra, on=CASE)
            table = pd.concat([state["table"], block], ignore_index=True) if len(state["table"]) else block
            write_properties(table, path)
            state.update(table=table, pending=[], last=time.perf_counter())

        start = time.perf_counter()
        use_dask = todo.size > 0 and (client is not None or scheduler is not None or (
            int(workers) > 1 and (solver == "lbm" or todo.size >= PARALLEL_MIN_SAMPLES)))
        with tqdm(total=n_total, initial=n_total - todo.size, desc=f"labelling {folder.name} ({solver})",
                  disable=not progress, unit="sample") as bar, contextlib.ExitStack() as stack:
            if use_dask:
                dask = stack.enter_context(dask_client(scheduler, workers, client))
                threads = sum(dask.nthreads().values()) or 1
                size = 1 if solver == "lbm" else max(1, min(int(every), 200, math.ceil(todo.size / (4 * threads))))
                results = _dask_rows(dask, data.images, todo, task_size=size, solver=solver, axes=axes,
                                     extruded_length=data.extruded_length, lbm_config=lbm_config, quiet_tf=quiet_tf,
                                     tensor=tensor)
            else:
                results = _serial_rows(data.images, todo, block=max(1, int(every)), solver=solver, axes=axes,
                                       extruded_length=data.extruded_length, lbm_config=lbm_config, tensor=tensor)
            try:
                for rows in results:
                    state["pending"].extend(rows)
                    bar.update(len(rows))
                    if len(state["pending"]) >= int(every) or time.perf_counter() - state["last"] > CHECKPOINT_SECONDS:
                        flush()
            finally:
                flush()  # keep every finished result, also on an error or Ctrl-C
                results.close()
        if not path.is_file():  # nothing to do and no file yet (empty selection)
            write_properties(done, path)
        table = read_labels(path, n_images=len(data), require_line_ends=stored is not None or todo.size > 0)
    finally:
        lock.__exit__(None, None, None)
    table.attrs["seconds"] = time.perf_counter() - start
    table.attrs["labelled"] = int(todo.size)
    return table
