"""pvae_lib: the library behind the book *Inverse design of porous metamaterials with a pVAE*.

Array convention everywhere: ``True``/1 = pore (fluid), ``False``/0 = solid.
Array axis 0 is the x1 (flow) direction unless a function says otherwise.

Heavy modules (TensorFlow) are imported lazily, so ``import pvae_lib`` is cheap.
"""
from __future__ import annotations

import importlib

from .runtime import configure_runtime

# Before anything imports TensorFlow: fixed thread counts, oneDNN off, quiet C++ logs
# (pvae_lib.runtime explains why each makes learned results reproducible).
configure_runtime()

__version__ = "0.1.0"

#: Public repository of the book: a copy of ``repository.url`` in _config.yml, written by
#: ``python .ci/sync_notebooks.py`` (the installed package cannot read _config.yml).
REPOSITORY_URL = "https://github.com/pvae-book/pvae-book"

from .images import as_pore_array, porosity, percolates  # noqa: E402
from .profiles import Profile, get_profile  # noqa: E402
from .results import record_results, read_results  # noqa: E402

_LAZY = {
    "permeability": "pvae_lib.lbm.permeability",
    "permeability_tensor": "pvae_lib.lbm.permeability",
    "to_physical": "pvae_lib.lbm.permeability",
    "stokes2d_permeability": "pvae_lib.stokes2d",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pvae_lib' has no attribute {name!r}")


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
    *_LAZY,
]
