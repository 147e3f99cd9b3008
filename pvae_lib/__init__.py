"""pvae_lib: the library behind the book *Inverse design of porous metamaterials with a pVAE*.

Array convention everywhere: ``True``/1 = pore (fluid), ``False``/0 = solid.
Array axis 0 is the x1 (flow) direction unless a function says otherwise.

``import pvae_lib`` never starts TensorFlow: it fixes TensorFlow's runtime settings first
(:mod:`pvae_lib.runtime`) and exports only TensorFlow-free helpers. The LBM
(:mod:`pvae_lib.lbm`) and the Keras models (:mod:`pvae_lib.models`) load TensorFlow when imported.
"""
from __future__ import annotations

from .runtime import configure_runtime, runtime_summary

# Before anything imports TensorFlow: fixed thread counts, oneDNN off, quiet C++ logs
# (pvae_lib.runtime explains why each makes learned results reproducible).
configure_runtime()
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
