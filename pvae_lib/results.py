"""Machine-readable headline figures of the chapters: ``_build/results.json``.

One JSON object keyed by chapter, each an object of named numbers, e.g.
``{"darcy_lbm": {"poiseuille_rel_error_trt": 0.003, "mlups_64": 45.1}}``.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from .fileio import file_lock, write_json_atomic

__all__ = ["project_root", "build_dir", "results_path", "record_results", "read_results", "artifacts_dir"]


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The folder holding ``_config.yml`` at or above ``start`` (default: the working directory).

    Falls back to ``start`` itself when no ``_config.yml`` is found (e.g. in Colab).
    """
    start = Path(start or os.getcwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder
    return start


def build_dir() -> Path:
    """``$PVAE_BUILD_DIR`` or ``<project root>/_build``."""
    env = os.environ.get("PVAE_BUILD_DIR")
    return Path(env) if env else project_root() / "_build"


def results_path() -> Path:
    """``$PVAE_RESULTS`` or ``<build dir>/results.json``."""
    env = os.environ.get("PVAE_RESULTS")
    return Path(env) if env else build_dir() / "results.json"


def artifacts_dir(profile_name: str, *parts: str) -> Path:
    """Folder for trained models and generated data shared between chapters.

    ``$PVAE_ARTIFACTS`` or ``<build dir>/artifacts``, then ``<profile>/<parts...>``; created
    if missing. A later chapter reuses what an earlier one saved here instead of re-training.
    """
    env = os.environ.get("PVAE_ARTIFACTS")
    root = Path(env) if env else build_dir() / "artifacts"
    folder = root.joinpath(profile_name, *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _as_number(key: str, value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"result {key!r} is {value}; only finite numbers are recorded")
        return value
    if isinstance(value, str):
        return value
    raise TypeError(f"result {key!r} must be a number or string, got {type(value).__name__}")


def read_results(path: str | os.PathLike | None = None) -> dict:
    """Return the recorded results (an empty dict if none yet)."""
    path = Path(path) if path else results_path()
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def record_results(chapter: str, path: str | os.PathLike | None = None, **figures) -> dict:
    """Merge ``figures`` into the entry ``chapter`` of the results file and return that entry.

    The file is locked while it is updated and written atomically, so concurrent chapters
    and interrupted runs never corrupt it.
    """
    path = Path(path) if path else results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: _as_number(k, v) for k, v in figures.items()}
    with file_lock(path.with_suffix(".lock")):
        data = read_results(path)
        data.setdefault(chapter, {}).update(clean)
        write_json_atomic(path, data)
    return data[chapter]
