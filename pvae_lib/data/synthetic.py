"""Synthetic square-pore microstructures (paper Section 4.1, Fig. 5).

Each sample is a 2-D pattern of ``image_size``² pixels with a random number of square pores
(``pore_size``² pixels each, number uniform in ``[min_pores, max_pores]``) at random integer
positions inside the image. Pores may share edges but never intersect. The 3-D sample is the
pattern extruded along array axis 0 (x1, the flow direction of K11): :func:`extrude`.

Porosity is therefore exactly ``n_pores * pore_size**2 / image_size**2`` (paper Eq. 1).
"""
from __future__ import annotations

import numpy as np

from ..images import as_pore_array

__all__ = ["generate_synthetic", "extrude", "place_squares"]


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def place_squares(
    n_pores: np.ndarray,
    image_size: int,
    pore_size: int,
    rng: np.random.Generator,
    max_rounds: int = 100_000,
) -> np.ndarray:
    """Top-left corners of non-intersecting squares by random sequential rejection sampling.

    All samples are processed together: in each round every unfinished sample draws one
    candidate corner (uniform random integers in ``[0, image_size - pore_size]``), which is
    accepted if it does not intersect any accepted square of that sample (sharing an edge is
    allowed: two squares intersect iff both ``|dr| < pore_size`` and ``|dc| < pore_size``).
    A sample that has drawn ``50 * max(n_pores)`` candidates without finishing (jammed) is
    restarted from scratch.

    Parameters
    ----------
    n_pores : ndarray of int, shape (N,)
        Number of squares wanted in each sample.
    image_size, pore_size : int
        Edge lengths in pixels.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int, shape (N, max(n_pores), 2)
        Corners ``(row, col)``; entries beyond ``n_pores[i]`` are ``-1``.
    """
    n_pores = np.asarray(n_pores, dtype=np.int64)
    n = n_pores.size
    k_max = int(n_pores.max()) if n else 0
    corners = np.full((n, max(k_max, 1), 2), -1, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    tries = np.zeros(n, dtype=np.int64)
    high = image_size - pore_size + 1
    big = 10 * image_size  # far away: never conflicts
    placed = np.full((n, max(k_max, 1), 2), big, dtype=np.int64)
    active = np.flatnonzero(count < n_pores)
    rounds = 0
    while active.size:
        rounds += 1
        if rounds > max_rounds:
            raise RuntimeError("could not place the pores; the image is too crowded for this many pores")
        # one candidate corner per unfinished sample and round
        cand = rng.integers(0, high, size=(active.size, 2))
        sub = placed[active]  # (A, K, 2)
        diff = np.abs(sub - cand[:, None, :])
        clash = np.any((diff[..., 0] < pore_size) & (diff[..., 1] < pore_size), axis=1)
        ok = ~clash
        idx = active[ok]
        slot = count[idx]
        placed[idx, slot] = cand[ok]
        corners[idx, slot] = cand[ok]
        count[idx] += 1
        tries[active] += 1
        jammed = active[(tries[active] > 50 * max(k_max, 1)) & (count[active] < n_pores[active])]
        if jammed.size:
            placed[jammed] = big
            corners[jammed] = -1
            count[jammed] = 0
            tries[jammed] = 0
        active = np.flatnonzero(count < n_pores)
    return corners[:, :k_max]


def generate_synthetic(
    n_samples: int,
    image_size: int = 100,
    pore_size: int = 10,
    min_pores: int = 10,
    max_pores: int = 40,
    rng=None,
    *,
    return_counts: bool = False,
):
    """Random square-pore patterns (paper Section 4.1): ``True`` = pore.

    Parameters
    ----------
    n_samples : int
        Number of patterns.
    image_size : int
        Edge of each pattern in pixels (paper: 100).
    pore_size : int
        Edge of each square pore in pixels (paper: 10).
    min_pores, max_pores : int
        The number of pores of each pattern is uniform in ``[min_pores, max_pores]``
        (inclusive; paper: 10 to 40, drawn with NumPy's ``randint``).
    rng : numpy.random.Generator or int or None
        Random source (or seed). The same seed gives the same patterns.
    return_counts : bool
        Also return the number of pores of each pattern.

    Returns
    -------
    images : ndarray of bool, shape (n_samples, image_size, image_size)
    counts : ndarray of int, shape (n_samples,)
        Only with ``return_counts=True``. Porosity is ``counts * pore_size**2 / image_size**2``.
    """
    n_samples, image_size, pore_size = int(n_samples), int(image_size), int(pore_size)
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    if not 1 <= pore_size <= image_size:
        raise ValueError(f"pore_size must be in [1, image_size={image_size}], got {pore_size}")
    if not 0 <= min_pores <= max_pores:
        raise ValueError(f"need 0 <= min_pores <= max_pores, got {min_pores}, {max_pores}")
    # Random sequential adsorption of squares jams near ~55 % coverage; stay well below.
    if max_pores * pore_size**2 > 0.5 * image_size**2:
        raise ValueError(
            f"max_pores={max_pores} squares of {pore_size}² would cover more than half of a "
            f"{image_size}² image; random placement without overlap would jam"
        )
    rng = _as_rng(rng)
    counts = rng.integers(min_pores, max_pores + 1, size=n_samples)
    corners = place_squares(counts, image_size, pore_size, rng)
    images = np.zeros((n_samples, image_size, image_size), dtype=bool)
    if n_samples and corners.shape[1]:
        off = np.arange(pore_size)
        s_idx, p_idx = np.nonzero(corners[..., 0] >= 0)
        r = corners[s_idx, p_idx, 0]
        c = corners[s_idx, p_idx, 1]
        images[
            s_idx[:, None, None],
            r[:, None, None] + off[None, :, None],
            c[:, None, None] + off[None, None, :],
        ] = True
    return (images, counts) if return_counts else images


def extrude(pattern, length: int | None = None) -> np.ndarray:
    """Extrude a 2-D pattern along array axis 0 (x1, the flow direction) into a 3-D sample.

    Parameters
    ----------
    pattern : array_like of bool, shape (H, W), or (N, H, W) for a batch
    length : int, optional
        Number of slices along x1 (default ``H``: a cube, as in the paper's 100³ samples).

    Returns
    -------
    ndarray of bool, shape (length, H, W) or (N, length, H, W)
        ``out[..., i, :, :] == pattern`` for every slice ``i``.
    """
    pores = as_pore_array(pattern, ndim=(2, 3), name="pattern")
    length = pores.shape[-2] if length is None else int(length)
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if pores.ndim == 2:
        return np.repeat(pores[None], length, axis=0)
    return np.repeat(pores[:, None], length, axis=1)
