"""Grey-scale or probability images -> boolean pore images (``True`` = pore, ``False`` = solid).

Every image of the book that is not already binary passes through one of three named rules:

``"threshold"`` (:func:`fixed_threshold`)
    A fixed level: pore is ``value > threshold`` (default 0.5); any finite gray level works for
    micro-CT data (``pvae-permeability --threshold VALUE``).
``"otsu"`` (:func:`otsu`)
    Otsu's threshold (:func:`skimage.filters.threshold_otsu`) over all voxels, for gray-scale
    scans whose two phases give two peaks in the histogram (``--pore bright|dark``).
``"expected_porosity"`` (:func:`expected_porosity`)
    One threshold per image, chosen so that the binary porosity equals the mean pore
    probability. The rule for every image the pVAE decodes (:data:`DECODED_RULE`): a blurry
    decoding of a foam puts every voxel above 0.5, and even sharp 2-D decodings lose pore voxels
    at 0.5 (the quick pVAE's test reconstructions: porosity error 0.0075 ± 0.0029 at 0.5, 0.0044
    ± 0.0008 by this rule, over three training seeds).

``pore="bright"`` (default) makes the phase above the threshold pore, ``pore="dark"`` the phase
at or below it (e.g. CT scans where the solid is bright). Axis 0 is x1, as everywhere; the
rules never move axes. Images with 3 or more dimensions lose a trailing axis of length 1 (the
decoder's ``(N, H, W, 1)`` output becomes ``(N, H, W)``) unless ``squeeze_channel=False``.

Use :func:`binarize` with ``rule=...``, or the rule's function directly. Reading files and
their binary conventions (``pore="nonzero"|"zero"``) is :func:`pvae_lib.data.io.read_image`,
which calls these rules for gray-scale data.
"""
from __future__ import annotations

import numpy as np

__all__ = ["RULES", "DECODED_RULE", "PORE_PHASES", "binarize", "fixed_threshold", "otsu", "expected_porosity"]

#: Names of the rules accepted by :func:`binarize`, default first.
RULES = ("threshold", "otsu", "expected_porosity")
#: The rule for the decoder's pore probabilities (1 = pore), in 2-D and 3-D alike: reconstructions,
#: designs, interpolation paths and the design loop's binarised forward pass all use it, so a
#: figure of a decoded structure is the structure that is built and measured.
DECODED_RULE = "expected_porosity"
#: Which side of the threshold is pore: ``"bright"`` = above, ``"dark"`` = at or below.
PORE_PHASES = ("bright", "dark")

# Above this many voxels, Otsu's gray levels are found on every k-th slice along axis 0.
_MAX_LEVEL_VOXELS = 50_000_000
# Up to this many distinct gray levels Otsu's threshold is exact (no histogram binning).
_MAX_EXACT_LEVELS = 65_536


def _check_pore(pore: str) -> str:
    if pore not in PORE_PHASES:
        raise ValueError(f"pore must be one of {PORE_PHASES}, got {pore!r}")
    return pore


def _as_image(image, name: str, squeeze_channel: bool) -> np.ndarray:
    """Checked numeric array (bool viewed as 0/1 ``uint8``), channel axis dropped if asked."""
    arr = np.asarray(image)
    if arr.dtype == bool:
        arr = arr.view(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name}: expected numeric image data, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name}: image is empty (shape {arr.shape})")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: image contains NaN or Inf")
    if squeeze_channel and arr.ndim >= 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return arr


def _gray_levels(arr: np.ndarray) -> np.ndarray:
    """Distinct values of ``arr``; of every k-th slice along axis 0 for very large stacks."""
    if arr.size <= _MAX_LEVEL_VOXELS:
        return np.unique(arr)
    return np.unique(arr[:: max(1, arr.shape[0] // 8)])


def _split(arr: np.ndarray, level, pore: str) -> np.ndarray:
    return (arr > level) if pore == "bright" else (arr <= level)


def fixed_threshold(image, threshold: float = 0.5, *, pore: str = "bright", name: str = "image",
                    squeeze_channel: bool = True) -> np.ndarray:
    """Rule ``"threshold"``: pore where the value is above a fixed level.

    For the decoder's per-voxel pore probabilities (the default 0.5: a voxel is pore when it is
    more likely pore than solid) and for micro-CT scans segmented at a gray level of your choice.

    Parameters
    ----------
    image : array_like of numbers
        Any rank. Probabilities in [0, 1] (1 = pore), or gray levels (integer or float, any
        units of the scanner). ``bool`` is read as 0/1.
    threshold : float, default 0.5
        The level, in the units of ``image``. Pore is ``value > threshold`` (``pore="bright"``)
        or ``value <= threshold`` (``pore="dark"``). If ``image`` holds probabilities
        (floating point, every value in [0, 1]) it must lie strictly inside (0, 1).
    pore : {"bright", "dark"}
        Which side of the threshold is pore.
    name : str
        Used in error messages (e.g. the file name).
    squeeze_channel : bool, default True
        Drop a trailing axis of length 1 from images with 3 or more dimensions
        (``(N, H, W, 1) -> (N, H, W)``). ``False`` keeps the shape.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` = pore; the shape of ``image`` (less the channel axis).

    Raises
    ------
    ValueError
        Empty image, NaN/Inf values, a threshold that is not finite, a threshold outside
        (0, 1) for probabilities, an unknown ``pore``.
    TypeError
        Non-numeric data.

    See Also
    --------
    binarize : the entry point naming the rule.
    otsu : the threshold chosen from the histogram.
    expected_porosity : one threshold per image that keeps its mean probability.

    Examples
    --------
    >>> fixed_threshold([[0.2, 0.7]]).tolist()
    [[False, True]]
    """
    pore = _check_pore(pore)
    arr = _as_image(image, name, squeeze_channel)
    if not np.isfinite(threshold):
        raise ValueError(f"{name}: the threshold must be a finite gray level, got {threshold}")
    if (np.issubdtype(arr.dtype, np.floating) and not 0 < threshold < 1
            and arr.min() >= 0 and arr.max() <= 1):
        raise ValueError(
            f"{name}: holds probabilities in [0, 1], so the threshold must lie strictly between 0 and 1 "
            f"(got {threshold}: every voxel would be of one phase)"
        )
    return _split(arr, threshold, pore)


def otsu(image, *, pore: str = "bright", name: str = "image", squeeze_channel: bool = True) -> np.ndarray:
    """Rule ``"otsu"``: pore on one side of Otsu's threshold over all voxels.

    For gray-scale scans (micro-CT, 8- or 16-bit or float) of two phases: Otsu's threshold
    maximises the variance between the two classes of gray levels, so no level has to be chosen.

    Parameters
    ----------
    image : array_like of numbers
        Any rank; integer or float gray levels (any units), or binary values. ``bool`` is read
        as 0/1.
    pore : {"bright", "dark"}
        ``"bright"``: pore is ``value > t``; ``"dark"``: pore is ``value <= t``.
    name : str
        Used in error messages (e.g. the file name).
    squeeze_channel : bool, default True
        Drop a trailing axis of length 1 from images with 3 or more dimensions.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` = pore; the shape of ``image`` (less the channel axis).

    Raises
    ------
    ValueError
        Empty image, NaN/Inf values, an unknown ``pore``.
    TypeError
        Non-numeric data.

    See Also
    --------
    binarize : the entry point naming the rule.
    fixed_threshold : a level of your choice instead of Otsu's.
    skimage.filters.threshold_otsu : the threshold itself.

    Notes
    -----
    Otsu's threshold ``t`` is exact over the distinct gray levels when there are at most 65,536
    of them, else computed on a 4096-bin histogram. An image with only two gray levels is
    split at the lower one. A uniform image is all of one phase: all pore for ``"bright"`` if
    its value is non-zero, for ``"dark"`` if it is zero. Above 50 million voxels the gray
    levels are counted on every k-th slice along axis 0 (k = n_slices // 8).

    Examples
    --------
    >>> otsu([[10, 12, 200, 210]]).tolist()
    [[False, False, True, True]]
    """
    pore = _check_pore(pore)
    arr = _as_image(image, name, squeeze_channel)
    levels = _gray_levels(arr)
    if levels.size == 1:
        value = levels[0]
        # a uniform image: all of one phase; bright pore if the value is non-zero.
        full = bool(value != 0) if pore == "bright" else bool(value == 0)
        return np.full(arr.shape, full)
    if levels.size == 2:
        level = levels[0]
    else:
        from skimage.filters import threshold_otsu

        if levels.size <= _MAX_EXACT_LEVELS:  # exact Otsu over the distinct gray levels (no binning error)
            values, counts = np.unique(arr, return_counts=True)
            level = threshold_otsu(hist=(counts, values.astype(float)))
        else:
            level = threshold_otsu(arr, nbins=4096)
    return _split(arr, level, pore)


def expected_porosity(probabilities, *, name: str = "image", squeeze_channel: bool = True) -> np.ndarray:
    """Rule ``"expected_porosity"``: each image keeps its expected porosity.

    The decoder gives per-voxel pore probabilities ``p`` (1 = pore); their mean is the
    expected porosity of the image. Thresholding at 0.5 turns a blurry, uncertain decoding of a
    highly porous foam into an all-pore block (every voxel is more likely pore than solid).
    Here the ``round(mean(p) * size)`` most probable voxels of each image become pore, the rest
    solid: a per-image threshold, and the binary porosity is within ``1 / size`` of ``mean(p)``.

    Parameters
    ----------
    probabilities : array_like (N, ...) or (N, ..., 1), values in [0, 1]
        A batch of ``N`` images of pore probabilities (dimensionless).
    name : str
        Used in error messages.
    squeeze_channel : bool, default True
        Drop a trailing axis of length 1 from batches with 3 or more dimensions.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` = pore; the shape of ``probabilities`` (less the channel axis). Ties are broken
        in favour of the voxel that comes first in C order.

    Raises
    ------
    ValueError
        Not a batch (fewer than 2 dimensions), empty, NaN/Inf, values outside [0, 1].
    TypeError
        Non-numeric data.

    See Also
    --------
    binarize : the entry point naming the rule.
    fixed_threshold : one threshold (0.5) for every image.

    Examples
    --------
    >>> expected_porosity([[0.9, 0.8, 0.6, 0.7]]).tolist()
    [[True, True, False, True]]
    """
    arr = _as_image(probabilities, name, squeeze_channel)
    p = np.asarray(arr, dtype=np.float64)
    if p.ndim < 2:
        raise ValueError(f"{name}: must be a batch (N, ...), got shape {p.shape}")
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"{name}: values must be finite probabilities in [0, 1], got [{p.min():g}, {p.max():g}]"
        )
    flat = p.reshape(len(p), -1)
    out = np.zeros(flat.shape, dtype=bool)
    n_pore = np.rint(flat.mean(axis=1) * flat.shape[1]).astype(int)
    order = np.argsort(-flat, axis=1, kind="stable")
    for i, k in enumerate(n_pore):
        out[i, order[i, :k]] = True
    return out.reshape(p.shape)


def binarize(image, rule: str = "threshold", *, threshold: float | None = None, pore: str = "bright",
             name: str = "image", squeeze_channel: bool = True) -> np.ndarray:
    """Turn a gray-scale or probability image into a pore image by a named rule.

    Parameters
    ----------
    image : array_like of numbers
        Probabilities in [0, 1] (the decoder's output, 1 = pore) or gray levels; any rank
        (``"expected_porosity"`` needs a batch ``(N, ...)``).
    rule : {"threshold", "otsu", "expected_porosity"}
        ``"threshold"`` (:func:`fixed_threshold`): pore above a fixed level, 0.5 by default.
        ``"otsu"`` (:func:`otsu`): Otsu's threshold, for gray-scale scans.
        ``"expected_porosity"`` (:func:`expected_porosity`): per-image threshold keeping the
        mean probability, the rule for every decoded pVAE image (:data:`DECODED_RULE`).
    threshold : float, optional
        The level of rule ``"threshold"`` (default 0.5), in the units of ``image``; strictly
        inside (0, 1) for probabilities. The other rules choose their own.
    pore : {"bright", "dark"}
        Which side of the threshold is pore (``"expected_porosity"``: ``"bright"`` only, the
        values being pore probabilities).
    name : str
        Used in error messages (e.g. the file name).
    squeeze_channel : bool, default True
        Drop a trailing axis of length 1 from images with 3 or more dimensions
        (``(N, H, W, 1) -> (N, H, W)``).

    Returns
    -------
    numpy.ndarray of bool
        ``True`` = pore, ``False`` = solid; the shape of ``image`` (less the channel axis).

    Raises
    ------
    ValueError
        Unknown rule (the message names the valid ones), a threshold given to a rule that
        chooses its own, and every error of the rule's function.

    See Also
    --------
    fixed_threshold, otsu, expected_porosity : the rules.
    pvae_lib.data.io.read_image : files, with their pore convention.

    Examples
    --------
    >>> binarize([[0.2, 0.7]]).tolist()
    [[False, True]]
    >>> binarize([[10, 12, 200, 210]], "otsu", pore="dark").tolist()
    [[True, True, False, False]]
    """
    if rule not in RULES:
        raise ValueError(f"unknown binarisation rule {rule!r}; the rules are {', '.join(map(repr, RULES))}")
    if rule == "threshold":
        return fixed_threshold(image, 0.5 if threshold is None else threshold, pore=pore, name=name,
                               squeeze_channel=squeeze_channel)
    if threshold is not None:
        raise ValueError(f"rule {rule!r} chooses its own threshold; for a fixed one use rule='threshold'")
    if rule == "otsu":
        return otsu(image, pore=pore, name=name, squeeze_channel=squeeze_channel)
    if _check_pore(pore) != "bright":
        raise ValueError("rule 'expected_porosity' takes pore probabilities (1 = pore): pore must be 'bright'")
    return expected_porosity(image, name=name, squeeze_channel=squeeze_channel)
