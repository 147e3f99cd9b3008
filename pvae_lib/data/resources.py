"""Data files that ship inside the package: ``pvae_lib/data/shipped/``.

The chapters and the library read these small tables at run time, so they are package data
(``[tool.setuptools.package-data]`` in pyproject.toml) found with :mod:`importlib.resources`:
they are there after any install, editable or not (e.g. ``pip install`` in Colab), and never
looked up next to a repository checkout. ``data/README.md`` says how each file was made.

- ``foam_quick_properties.csv`` — LBM labels of the quick profile's foam sub-volumes
  (:func:`pvae_lib.data.foam_dataset.load_foam_dataset`).
- ``grid_convergence.csv`` — the grid-convergence study of the permeability
  (:func:`pvae_lib.convergence.summarize`).
- ``models/<profile>/`` — the trained models of a profile (:mod:`pvae_lib.experiments.shipped`).
- ``inverse/<profile>/`` — the paper's inverse-design loop over every start
  (:mod:`pvae_lib.experiments.paper_loop`).

The authors' published real-foam labels ship beside them in ``pvae_lib/data/reference/``
(:func:`pvae_lib.data.real_foam.real_foam_path`). Every one of these is found with
:func:`package_data_path`, the one place that knows where package data lives.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["package_data_path", "shipped_path"]

#: Folder of the shipped files inside :mod:`pvae_lib.data`.
SHIPPED = "shipped"


def package_data_path(*parts: str) -> Path:
    """Path of ``pvae_lib/data/<parts...>`` in the installed package (it may not exist).

    E.g. ``package_data_path("reference", "data3D200.csv")``. A regular (not zipped) install
    keeps package data as files on disk, so this is a file-system path.
    """
    return Path(str(resources.files(__package__).joinpath(*parts)))


def shipped_path(name: str) -> Path:
    """Path of the shipped data file ``name`` (e.g. ``"grid_convergence.csv"``).

    Raises ``FileNotFoundError`` naming the files that do ship when ``name`` is not one of them.
    """
    folder = package_data_path(SHIPPED)
    resource = folder / name
    if not resource.is_file():
        shipped = sorted(item.name for item in folder.iterdir() if item.is_file()) if folder.is_dir() else []
        raise FileNotFoundError(f"{name!r} is not a data file shipped with pvae_lib (shipped: {shipped})")
    return resource
