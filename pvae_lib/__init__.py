"""pvae_lib: the library behind the book *Inverse design of porous metamaterials with a pVAE*.

Array convention everywhere: ``True``/1 = pore (fluid), ``False``/0 = solid.
Array axis 0 is the x1 (flow) direction unless a function says otherwise.

``import pvae_lib`` never starts TensorFlow: it fixes TensorFlow's runtime settings first
(:mod:`pvae_lib.runtime`) and exports only TensorFlow-free helpers. The LBM
(:mod:`pvae_lib.lbm`) and the Keras models (:mod:`pvae_lib.models`) load TensorFlow when imported.
"""
from __future__ import annotations

import os as _os
import sys as _sys

from .runtime import configure_runtime, runtime_summary

# SciPy's OpenBLAS (the sparse solver of the exact labels) reads OPENBLAS_CORETYPE when it loads
_BLAS_FIRST = "OPENBLAS_CORETYPE" not in _os.environ and "scipy.linalg" in _sys.modules
# Before anything imports TensorFlow: fixed thread counts, oneDNN off, OpenBLAS' kernels, quiet C++
# logs (pvae_lib.runtime explains why each makes labels and learned results reproducible).
_RUNTIME = configure_runtime()
if _BLAS_FIRST and _RUNTIME["OPENBLAS_CORETYPE"]:  # None: PVAE_BLAS_CORE=native, no pin wanted
    import warnings

    warnings.warn("scipy.linalg was imported before pvae_lib, so OpenBLAS chose its kernels by this CPU: exact "
                  "labels may differ from the shipped ones in the last bit, and the shipped models then do not "
                  "match the data (import pvae_lib before scipy, or set OPENBLAS_CORETYPE=Haswell; "
                  "pvae_lib.runtime says why)", RuntimeWarning, stacklevel=2)
if runtime_summary()["tensorflow_imported_first"]:
    import warnings

    warnings.warn("TensorFlow was imported before pvae_lib, so pvae_lib's thread, oneDNN and instruction-set "
                  "settings did not apply: learned results will not reproduce the book's (import pvae_lib "
                  "before tensorflow or keras; pvae_lib.runtime says why)", RuntimeWarning, stacklevel=2)

__version__ = "0.1.0"

#: Public repository of the book: a copy of ``repository.url`` in _config.yml, written by
#: ``python .ci/sync_notebooks.py`` (the installed package cannot read _config.yml).
REPOSITORY_URL = "https://github.com/pvae-book/pvae-book"

from .images import as_pore_array, porosity, percolates  # noqa: E402
from .profiles import Profile, get_profile  # noqa: E402
from .results import record_results, read_results  # noqa: E402
from .stokes2d import stokes2d_permeability  # noqa: E402

__all__ = [
    "__version__",
    "REPOSITORY_URL",
    "as_pore_array",
    "porosity",
    "percolates",
    "Profile",
    "get_profile",
    "record_results",
    "read_results",
    "stokes2d_permeability",
]
