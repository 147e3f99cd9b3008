"""Read and write binary pore images: ``.npy``, multi-page TIFF, or a folder of 2-D slices.

Every reader returns ``True`` = pore (fluid), ``False`` = solid, whatever the file's convention.
The file's convention is an explicit argument ``pore``:

``"nonzero"``
    Binary data where every non-zero value is pore (the library's own convention, and the
    default for ``.npy``).
``"zero"``
    Binary data where 0 is pore and non-zero is solid (the authors' square-pore images).
``"bright"``
    Gray-scale (or binary) data: Otsu's threshold splits the gray levels; the bright phase
    (values above the threshold) is pore.
``"dark"``
    As ``"bright"`` but the dark phase is pore (e.g. CT scans where the solid foam is
    bright: the authors' foam images store solid = 1).

Decisions on awkward input (each raises ``ValueError`` naming the file otherwise):

* 16-bit (or float) gray slices are **accepted**: binarisation works on the gray values.
  With ``pore="nonzero"|"zero"`` they must be binary (two values at most); gray-scale needs
  ``pore="bright"|"dark"``.
* RGB/RGBA slices (and RGB TIFF stacks) are accepted **only if the colour channels are
  identical** (a gray image saved in colour, common for BMP exports); the first channel is
  used and alpha is ignored. Gray + alpha is read as gray.
  Truly coloured slices are rejected: segment them first.
* Slices of a folder must all have the same size; the first slice that differs is named.
* In a folder, files without an image extension (``.bmp .png .tif .tiff``) are ignored;
  a file with an image extension that cannot be decoded is an error naming that file.

Stacks of slices are stacked along array axis 0, in natural order of the file names
(``s2.png`` before ``s10.png``).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..binarize import _as_image, _gray_levels, fixed_threshold, otsu
from ..fileio import atomic_path, save_npy_atomic
from ..images import as_pore_array

__all__ = [
    "PORE_CONVENTIONS",
    "IMAGE_SUFFIXES",
    "read_image",
    "write_stack",
    "natural_key",
    "list_slices",
]

PORE_CONVENTIONS = ("nonzero", "zero", "bright", "dark")
IMAGE_SUFFIXES = (".bmp", ".png", ".tif", ".tiff")
_TIFF = (".tif", ".tiff")


def natural_key(name: str | os.PathLike) -> list:
    """Sort key that orders embedded numbers numerically (``s2`` before ``s10``)."""
    parts = re.split(r"(\d+)", Path(name).name.lower())
    return [int(p) if p.isdigit() else p for p in parts]


def _check_convention(pore: str) -> str:
    if pore not in PORE_CONVENTIONS:
        raise ValueError(f"pore must be one of {PORE_CONVENTIONS}, got {pore!r}")
    return pore


def _pore_phase(data, pore: str, *, name: str, threshold: float | None) -> np.ndarray:
    """Apply the file's convention ``pore`` (module docstring) to ``data``: bool, ``True`` = pore.

    Gray-scale conventions go to the rules of :mod:`pvae_lib.binarize` (``"bright"``/``"dark"``:
    :func:`~pvae_lib.binarize.otsu`, or :func:`~pvae_lib.binarize.fixed_threshold` at
    ``threshold``); the binary ones (``"nonzero"``/``"zero"``) are checked to be binary here.
    The shape is kept (no channel axis is dropped).
    """
    pore = _check_convention(pore)
    if threshold is not None and pore not in ("bright", "dark"):
        raise ValueError(f"a threshold needs pore='bright' or pore='dark' (CLI: --pore bright|dark), not {pore!r}")
    if threshold is not None:
        return fixed_threshold(data, threshold, pore=pore, name=name, squeeze_channel=False)
    if pore in ("bright", "dark"):
        return otsu(data, pore=pore, name=name, squeeze_channel=False)
    arr = _as_image(data, name, squeeze_channel=False)
    levels = _gray_levels(arr)
    # binary: one value, or two of which one is 0 (0/1, 0/255, -1/0, ...)
    if levels.size > 2 or (levels.size == 2 and 0 not in levels):
        raise ValueError(
            f"{name}: not a binary 0/non-zero image (gray levels {levels[:6].tolist()}"
            f"{'...' if levels.size > 6 else ''}); threshold it with Otsu's method: pore='bright' or "
            "pore='dark' (CLI: --pore bright or --pore dark), or at a gray level of your choice "
            "(CLI: --threshold VALUE)"
        )
    return (arr != 0) if pore == "nonzero" else (arr == 0)


def _drop_channels(data: np.ndarray, path: Path) -> np.ndarray:
    """Colour/alpha samples in the last axis -> gray; raise naming ``path`` if truly coloured."""
    if data.shape[-1] == 2:  # gray + alpha
        return data[..., 0]
    rgb = data[..., :3]
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 0], rgb[..., 2]):
        return rgb[..., 0]
    raise ValueError(
        f"{path}: colour (RGB) image with differing channels; convert it to gray-scale or "
        "segment it first (pvae_lib reads gray or binary slices only)"
    )


def _gray_slice(data: np.ndarray, path: Path) -> np.ndarray:
    """Reduce one decoded slice to 2-D gray values, or raise naming ``path``."""
    if data.ndim == 2:
        return data
    if data.ndim == 3 and data.shape[-1] in (2, 3, 4):
        return _drop_channels(data, path)
    raise ValueError(f"{path}: expected a 2-D gray-scale slice, got shape {data.shape}")


def _read_tiff(path: Path) -> tuple[np.ndarray, bool]:
    """Pages of a TIFF as an array, and whether its last axis holds colour samples."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        return np.asarray(series.asarray()), series.axes.endswith("S")


def _read_one_slice(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() in _TIFF:
            data, colour = _read_tiff(path)
            if colour:
                data = _drop_channels(data, path)
            if data.ndim != 2:
                raise ValueError(f"{path}: a slice folder must hold 2-D slices, this TIFF has shape {data.shape}")
        else:
            import imageio.v3 as iio

            data = iio.imread(path, plugin="pillow")
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure is reported with the file name
        raise ValueError(f"{path}: cannot be read as an image ({type(exc).__name__}: {exc})") from exc
    return _gray_slice(np.asarray(data), path)


def list_slices(folder: str | os.PathLike) -> list[Path]:
    """Image files (``.bmp .png .tif .tiff``) in ``folder``, in natural order of their names."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
             and p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=natural_key)


def _read_folder(folder: Path) -> np.ndarray:
    files = list_slices(folder)
    if not files:
        others = sorted(p.name for p in folder.iterdir())[:5]
        raise ValueError(
            f"{folder}: no image slices ({', '.join(IMAGE_SUFFIXES)}) in this folder"
            + (f"; it holds {others}" if others else " (it is empty)")
        )
    first = _read_one_slice(files[0])
    stack = np.empty((len(files), *first.shape), dtype=first.dtype)
    stack[0] = first
    for i, path in enumerate(files[1:], start=1):
        data = _read_one_slice(path)
        if data.shape != first.shape:
            raise ValueError(
                f"{path}: slice size {data.shape} differs from {first.shape} of the first slice {files[0].name}"
            )
        if data.dtype != stack.dtype:
            stack = stack.astype(np.result_type(stack.dtype, data.dtype))
        stack[i] = data
    return stack


def _read_npy(path: Path) -> np.ndarray:
    """A numeric array from a ``.npy`` file, or ``ValueError`` saying what the file is instead."""
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file (it does not start with NumPy's .npy header); "
                         "save the array with numpy.save, or give a .tif/.png/.bmp file or a folder of slices")
    try:
        data = np.load(path, allow_pickle=False, mmap_mode="r")
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(f"{path}: holds Python objects, not numbers; save a numeric array "
                             "(bool or integers, nonzero = pore)") from None
        raise ValueError(f"{path}: cannot be read as a .npy array ({exc}); the file may be cut off") from None
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{path}: cannot be read as a .npy array ({type(exc).__name__}: {exc})") from None
    if data.dtype.fields is not None or not (data.dtype == bool or np.issubdtype(data.dtype, np.number)):
        raise ValueError(f"{path}: holds {data.dtype} values, not numbers; save a bool or numeric array")
    try:
        return np.asarray(data)
    except Exception as exc:  # noqa: BLE001 - e.g. a file shorter than its header says
        raise ValueError(f"{path}: cannot be read as a .npy array ({exc}); the file may be cut off") from None


def read_image(path: str | os.PathLike, *, pore: str = "nonzero", threshold: float | None = None) -> np.ndarray:
    """Read a binary pore image from ``.npy``, a (multi-page) TIFF, a PNG/BMP, or a slice folder.

    Parameters
    ----------
    path : str or path-like
        ``*.npy``; ``*.tif``/``*.tiff`` (pages stacked along axis 0); a single ``.png``/``.bmp``;
        or a folder of 2-D slices (natural order of file names, stacked along axis 0).
    pore : {"nonzero", "zero", "bright", "dark"}
        The file's convention for the pore phase (see the module docstring). Gray-scale data
        needs ``"bright"`` or ``"dark"`` (Otsu threshold).
    threshold : float, optional
        Fixed gray level instead of Otsu's: pore is ``value > threshold`` (``"bright"``) or
        ``value <= threshold`` (``"dark"``); only with ``"bright"``/``"dark"``
        (see :func:`pvae_lib.binarize.fixed_threshold`).

    Returns
    -------
    numpy.ndarray of bool
        ``True`` = pore, shape ``(n_slices, H, W)`` for stacks or ``(H, W)`` for one slice.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Empty folders, mixed slice sizes, undecodable files, colour images, gray-scale data
        with a binary convention; the message names the file.
    """
    _check_convention(pore)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        data = _read_folder(path)
    else:
        suffix = path.suffix.lower()
        if suffix == ".npy":
            data = _read_npy(path)
        elif suffix in _TIFF:
            try:
                data, colour = _read_tiff(path)
            except Exception as exc:  # noqa: BLE001
                raise ValueError(f"{path}: cannot be read as a TIFF ({type(exc).__name__}: {exc})") from exc
            if colour:
                data = _drop_channels(data, path)
        elif suffix in IMAGE_SUFFIXES:
            data = _read_one_slice(path)
        else:
            raise ValueError(
                f"{path}: unsupported file type {path.suffix!r}; use .npy, .tif/.tiff, .png, .bmp or a folder of slices"
            )
    return _pore_phase(data, pore, name=str(path), threshold=threshold)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _encode(image: np.ndarray, pore: str) -> np.ndarray:
    if pore not in ("bright", "dark", "nonzero", "zero"):
        raise ValueError(f"pore must be 'bright' (pore = 255) or 'dark' (pore = 0), got {pore!r}")
    bright = pore in ("bright", "nonzero")
    return np.where(image, 255, 0).astype(np.uint8) if bright else np.where(image, 0, 255).astype(np.uint8)


def write_stack(
    image,
    path: str | os.PathLike,
    *,
    pore: str = "bright",
    overwrite: bool = False,
    prefix: str = "slice_",
    suffix: str = ".png",
) -> Path:
    """Write a pore image atomically as ``.npy``, a multi-page TIFF, or a folder of slices.

    Parameters
    ----------
    image : array_like of bool
        2-D or 3-D pore image (``True`` = pore); 3-D stacks are split along axis 0.
    path : str or path-like
        ``*.npy`` (bool array, read back with ``pore="nonzero"``), ``*.tif``/``*.tiff``
        (uint8 pages) or a folder (one ``{prefix}{i:04d}{suffix}`` per slice, ``suffix`` in
        ``.png .bmp .tif``).
    pore : {"bright", "dark"}
        For TIFF and slices: pore is written as 255 (``"bright"``, read back with
        ``pore="bright"`` or ``"nonzero"``) or as 0 (``"dark"``, the authors' square-pore
        convention, read back with ``"dark"``/``"zero"``). Ignored for ``.npy``.
    overwrite : bool
        Replace an existing file or folder. Otherwise an existing target is an error.

    Returns
    -------
    pathlib.Path
        ``path``. Files appear complete or not at all; a folder is written to a temporary
        sibling folder and renamed into place.
    """
    pores = as_pore_array(image, ndim=(2, 3))
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    kind = path.suffix.lower()
    if kind == ".npy":
        return save_npy_atomic(path, pores)
    if kind in _TIFF:
        import tifffile

        with atomic_path(path) as tmp:
            tifffile.imwrite(tmp, _encode(pores, pore), photometric="minisblack")
        return path
    if kind:
        raise ValueError(f"{path}: unsupported output type {path.suffix!r}; use .npy, .tif/.tiff or a folder name")
    if suffix.lower() not in (".png", ".bmp", ".tif", ".tiff"):
        raise ValueError(f"slice suffix must be .png, .bmp or .tif, got {suffix!r}")
    data = _encode(pores, pore)
    if data.ndim == 2:
        data = data[None]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        width = max(4, len(str(len(data) - 1)))
        for i, page in enumerate(data):
            target = tmp_dir / f"{prefix}{i:0{width}d}{suffix}"
            if suffix.lower() in _TIFF:
                import tifffile

                tifffile.imwrite(target, page, photometric="minisblack")
            else:
                import imageio.v3 as iio

                iio.imwrite(target, page)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            _remove(old)
            os.replace(path, old)
            os.replace(tmp_dir, path)
            _remove(old)
        else:
            os.replace(tmp_dir, path)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return path
