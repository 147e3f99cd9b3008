"""Microstructure data: generators, readers/writers, datasets on disk, labelling.

Submodules (import what you need; nothing heavy is imported here):

- :mod:`~pvae_lib.data.io` — ``read_image``, ``write_stack`` (``.npy``, TIFF, slice folders).
- :mod:`~pvae_lib.data.synthetic` — ``generate_synthetic``, ``extrude`` (paper Section 4.1).
- :mod:`~pvae_lib.data.spheres` — ``random_sphere_pack``: periodic packs of overlapping spheres (LBM tests).
- :mod:`~pvae_lib.data.foam` — Voronoi open-cell foams under uniaxial compression (stand-in for Section 5.1).
- :mod:`~pvae_lib.data.subvolumes` — cutting n³ sub-volumes with a stride (paper Fig. 19).
- :mod:`~pvae_lib.data.properties` — the authors' property CSV (``case, n_F, ..., Permeability_x|y|z``).
- :mod:`~pvae_lib.data.container` — dataset folders (``images.npy`` + ``meta.json`` + ``properties.csv``).
- :mod:`~pvae_lib.data.labels` — porosity / permeability labelling, parallel and resumable.
- :mod:`~pvae_lib.data.datasets` — ``load_synthetic_dataset`` (generated, labelled and cached once).
- :mod:`~pvae_lib.data.pipeline` — ``tf.data`` streaming from a dataset folder.
- :mod:`~pvae_lib.data.summary` — Table 3 statistics and the n–K scatter (Fig. 6).
- :mod:`~pvae_lib.data.resources` — ``shipped_path``: data files shipped inside the package.
- :mod:`~pvae_lib.data.real_foam` — the authors' real-foam labels (micro-CT, packaged), Kozeny–Carman,
  anisotropy and the log K–n comparison (Fig. 29).
"""
from __future__ import annotations

from .container import Dataset
from .datasets import load_synthetic_dataset
from .io import read_image, write_stack
from .real_foam import anisotropy, fit_exponential, fit_kozeny_carman, kozeny_carman, load_real_foam, plot_k_vs_n
from .resources import shipped_path
from .synthetic import extrude, generate_synthetic

__all__ = ["Dataset", "load_synthetic_dataset", "read_image", "write_stack", "extrude", "generate_synthetic",
           "load_real_foam", "kozeny_carman", "fit_kozeny_carman", "fit_exponential", "anisotropy", "plot_k_vs_n", "shipped_path"]
