"""Memory an LBM run needs, estimated before it starts, and the memory available.

A run stores, per fluid node, the 19 populations (several copies inside the compiled time
loop), the 19-entry streaming index (64-bit while it is built, 32-bit afterwards) and the
node coordinates; per voxel, the node-id map and the velocity and density fields returned.
:func:`lbm_memory_bytes` adds these up; it is meant to refuse a run that cannot fit
*before* minutes are spent building it (a 400³ foam needs tens of GiB), not to be exact.
"""
from __future__ import annotations

import os

import numpy as np

from .stencil import Q

__all__ = ["lbm_memory_bytes", "available_memory_bytes", "check_lbm_memory", "format_bytes", "GIB_NOTICE"]

#: Runs estimated to need at least this many bytes say so before they start (``pvae``).
GIB_NOTICE = 2**30

#: Bytes per fluid node besides the populations: streaming index (int64 while built + int32
#: kept + TensorFlow's copy), coordinates, temporaries of the build, moments in float64.
_PER_NODE = Q * 8 + 2 * Q * 4 + Q + 3 * 8 * 3 + Q * 8 + 6 * 8
#: Copies of the populations alive at once inside the compiled loop (input, streamed, output).
_POPULATION_COPIES = 3
#: Bytes per voxel: node-id map (int64), velocity (3 x float64, twice while reoriented), density.
_PER_VOXEL = 8 + 2 * 3 * 8 + 2 * 8
#: TensorFlow and XLA themselves.
_BASELINE = 600 * 2**20


def lbm_memory_bytes(shape, n_fluid: int | None = None, dtype: str = "float32", runs: int = 1) -> int:
    """Estimated peak memory of one LBM run (bytes).

    Parameters
    ----------
    shape : sequence of int
        Voxels along each axis of the (3-D) lattice.
    n_fluid : int, optional
        Fluid (pore) voxels; default: every voxel.
    dtype : {"float32", "float64"}
        Floating point type of the populations (``LBMConfig.dtype``).
    runs : int
        Runs whose results are kept at the same time (e.g. 3 for a permeability tensor).

    Returns
    -------
    int
        Bytes, TensorFlow's own memory included.
    """
    voxels = int(np.prod([int(s) for s in shape]))
    n = voxels if n_fluid is None else int(n_fluid)
    item = 8 if dtype == "float64" else 4
    per_run = n * (_PER_NODE + _POPULATION_COPIES * Q * item) + voxels * _PER_VOXEL
    # x 1.1: measured peak of a 96³ run at porosity 0.9 was 727 MiB above TensorFlow's
    # baseline against 685 MiB from the sum above (XLA's compiled buffers).
    return int(_BASELINE + 1.1 * per_run + (runs - 1) * voxels * _PER_VOXEL)


def available_memory_bytes() -> int | None:
    """Memory available to a new allocation (``MemAvailable`` of ``/proc/meminfo``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style text."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def check_lbm_memory(shape, n_fluid: int | None = None, dtype: str = "float32", runs: int = 1,
                     available: int | None = None) -> tuple[int, int | None]:
    """Refuse a run that cannot fit (``ValueError``); else return ``(needed, available)`` in bytes.

    Parameters
    ----------
    shape, n_fluid, dtype, runs
        See :func:`lbm_memory_bytes`.
    available : int, optional
        Bytes available (default :func:`available_memory_bytes`).

    Raises
    ------
    ValueError
        The estimate exceeds the available memory; the message gives both numbers.
    """
    needed = lbm_memory_bytes(shape, n_fluid, dtype, runs)
    available = available_memory_bytes() if available is None else int(available)
    if available is not None and needed > available:
        dims = "x".join(str(int(s)) for s in shape)
        raise ValueError(
            f"an LBM run on {dims} voxels needs about {format_bytes(needed)} of memory, but only "
            f"{format_bytes(available)} is available; cut a smaller sub-volume (e.g. 100^3, as the paper) "
            "or use a machine with more memory"
        )
    return needed, available
