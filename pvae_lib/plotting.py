"""Shared figure conventions of the book: one colour for pores, legible sizes.

Every image of a microstructure in the book is drawn with :func:`show_structure`:
**pore (True / 1) white, solid (False / 0) black** (:data:`PORE_CMAP`, fixed range 0-1, so a
grey level in a decoder output reads as a pore probability). Figures are sized for the book's
text column (about 750 px): at most :data:`BOOK_WIDTH` inches wide at 100 dpi, fonts of at least
10 pt (:func:`use_book_style`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["PORE_CMAP", "BOOK_WIDTH", "BOOK_RC", "use_book_style", "show_structure", "middle_slice"]

#: Colormap of every structure image: 0 (solid) black, 1 (pore) white.
PORE_CMAP = "gray"

#: Width in inches of a full-width figure (100 dpi: 800 px, about the text column).
BOOK_WIDTH = 8.0

#: Matplotlib settings of the book's figures (see :func:`use_book_style`).
BOOK_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10.5,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "figure.titlesize": 11,
    "image.cmap": PORE_CMAP,
    "image.interpolation": "nearest",
}


def use_book_style() -> None:
    """Apply :data:`BOOK_RC` to matplotlib (call once at the top of a chapter)."""
    import matplotlib as mpl

    mpl.rcParams.update(BOOK_RC)


def middle_slice(image, axis: int = -1) -> np.ndarray:
    """The central 2-D slice of a 3-D volume along ``axis`` (2-D images are returned as is)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        return image
    if image.ndim != 3:
        raise ValueError(f"expected a 2-D image or a 3-D volume, got shape {image.shape}")
    return np.take(image, image.shape[axis] // 2, axis=axis)


def show_structure(ax, image, title: str | None = None, fontsize: float = 10, frame: bool = True):
    """Draw a binary (or probability) image with pore white and solid black.

    Parameters
    ----------
    ax : matplotlib Axes
    image : array_like (H, W), or (H, W, 1); values in [0, 1], 1 = pore
    title : str, optional
    fontsize : float
        Title font size in points.
    frame : bool
        Keep a thin grey frame (default), so that an all-pore (white) image stays visible on
        the white page; ticks are always hidden.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    img = np.asarray(image, dtype=float)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    im = ax.imshow(img, cmap=PORE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(frame)
        spine.set_color("0.6")
        spine.set_linewidth(0.6)
    if title is not None:
        ax.set_title(title, fontsize=fontsize)
    return im
