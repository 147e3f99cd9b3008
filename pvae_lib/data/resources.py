"""Data files that ship inside the package: ``pvae_lib/data/shipped/``.

The chapters and the library read these small tables at run time, so they are package data
(``[tool.setuptools.package-data]`` in pyproject.toml) found with :mod:`importlib.resources`:
they are there after any install, editable or not (e.g. ``pip install`` in Colab), and never
looked up next to a repository checkout. ``data/README.md`` says how each file was made.

- ``foam_quick_properties.csv`` — LBM labels of the quick profile's foam sub-volumes
  (:func:`pvae_lib.data.foam_dataset.load_foam_dataset`).
- ``grid_convergence.csv`` — the grid-convergence study of the permeability
  (:func:`pvae_lib.convergence.summarize`).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_path"]

#: Folder of the shipped files inside :mod:`pvae_lib.data`.
SHIPPED = "shipped"


def shipped_path(name: str) -> Path:
    """Path of the shipped data file ``name`` (e.g. ``"grid_convergence.csv"``).

    Raises ``FileNotFoundError`` naming the files that do ship when ``name`` is not one of them.
    """
    folder = resources.files(__package__).joinpath(SHIPPED)
    resource = folder.joinpath(name)
    if not resource.is_file():
        shipped = sorted(item.name for item in folder.iterdir() if item.is_file()) if folder.is_dir() else []
        raise FileNotFoundError(f"{name!r} is not a data file shipped with pvae_lib (shipped: {shipped})")
    # a regular (not zipped) install: the resource is a file on disk
    return Path(str(resource))
