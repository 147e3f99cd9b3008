"""Training input pipelines (``tf.data``) with exact symmetry augmentation of 2-D patterns.

The synthetic structures are 2-D square-pore patterns extruded along x1. The eight symmetries
of the square (the dihedral group D4: four rotations, each with or without a reflection) map a
pattern to another valid pattern with the *same* porosity :math:`n^F` and the same duct-flow
permeability :math:`K^S_{11}` along the extrusion axis: the Stokes problem
:math:`-\\mu \\Delta u = G` with :math:`u = 0` on the walls is invariant under rotations and
reflections of the cross-section. So every labelled pattern gives eight exactly labelled
samples (``tests/test_models_inputs.py`` checks this against the exact solver). The
augmentation draws one of the eight elements per sample and epoch from seeded ``tf.data``
random streams, so a run is repeatable.

3-D samples (the foams, compressed along x1) get the same eight elements acting on the lateral
axes x2, x3 (:mod:`pvae_lib.data.symmetry`). They leave n and K11 unchanged and swap K22 and
K33 on the odd quarter turns: ``make_dataset(..., swap=(i, j))`` swaps target columns ``i`` and
``j`` with the image, so the labels stay exact.
"""
from __future__ import annotations

import numpy as np

__all__ = ["D4_SIZE", "d4_transform", "d4_orbit", "make_dataset", "symmetric_properties", "lateral_swap"]

#: number of elements of the symmetry group of the square
D4_SIZE = 8


def d4_transform(image: np.ndarray, k: int) -> np.ndarray:
    """Element ``k`` (0-7) of D4 applied to the two spatial axes of ``image`` (H, W[, C]).

    ``k % 4`` quarter turns, then a left-right reflection when ``k >= 4``; ``k = 0`` is the
    identity. Rotations need square images.
    """
    k = int(k)
    if not 0 <= k < D4_SIZE:
        raise ValueError(f"k must be in 0..{D4_SIZE - 1}, got {k}")
    out = np.rot90(image, k % 4, axes=(0, 1))
    return np.flip(out, axis=1) if k >= 4 else out


def d4_orbit(image: np.ndarray) -> np.ndarray:
    """All eight images ``d4_transform(image, k)``, stacked along a new first axis."""
    image = np.asarray(image)
    if image.shape[0] != image.shape[1]:
        raise ValueError(f"the symmetries of the square need a square image, got {image.shape[:2]}")
    return np.stack([d4_transform(image, k) for k in range(D4_SIZE)])


def symmetric_properties(predict, images, batch_size: int = 256, swap=None) -> np.ndarray:
    """Average of ``predict`` over the eight D4 images of each sample (test-time symmetrisation).

    For properties that D4 leaves unchanged (n, K11 of extruded patterns) the average is a
    prediction that is itself exactly invariant, and it is never worse in mean squared error
    than the average of the eight single predictions (Jensen). Volumes (the foams) are turned
    about x1 (the lateral symmetries of :mod:`pvae_lib.data.symmetry`); the prediction for a
    volume turned by an odd quarter turn has its ``swap`` columns (K22, K33: :func:`lateral_swap`)
    exchanged back before averaging, so the average is exactly equivariant too.

    Parameters
    ----------
    predict : callable
        Maps a batch (N, H, W, 1) or (N, D, H, W, 1) to properties (N, P).
    images : ndarray (N, H, W), (N, D, H, W), or either with a trailing channel axis of 1
        Square in the turned axes (H = W).
    swap : (int, int), optional
        Columns of the prediction that the odd quarter turns exchange.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim in (3, 4) and x.shape[-1] != 1:
        x = x[..., None]
    if x.ndim not in (4, 5):
        raise ValueError(f"want images (N, H, W[, 1]) or volumes (N, D, H, W[, 1]), got shape {np.shape(images)}")
    axes = (1, 2) if x.ndim == 4 else (2, 3)
    if x.shape[axes[0]] != x.shape[axes[1]]:
        raise ValueError(f"the symmetries of the square need equal axes {axes}, got image shape {x.shape[1:-1]}")
    if swap is not None:
        swap = tuple(int(i) for i in swap)
        if len(swap) != 2 or swap[0] == swap[1]:
            raise ValueError(f"swap must name two different columns, got {swap}")
    total = None
    for k in range(D4_SIZE):
        xk = np.rot90(x, k % 4, axes=axes)
        xk = np.ascontiguousarray(np.flip(xk, axis=axes[1]) if k >= 4 else xk)
        p = np.concatenate([np.asarray(predict(xk[s:s + batch_size])) for s in range(0, len(xk), batch_size)])
        if swap is not None and k % 2 == 1:
            p = p.copy()
            p[:, [swap[0], swap[1]]] = p[:, [swap[1], swap[0]]]
        total = p if total is None else total + p
    return total / D4_SIZE


def lateral_swap(names):
    """The target columns the lateral symmetries of a volume exchange: ``(i_k22, i_k33)``, or None.

    Raises ``ValueError`` for targets the augmentation cannot transform exactly: K22 without
    K33 (or the reverse), or an off-diagonal component (their signs change with reflections).
    """
    names = list(names)
    bad = sorted(set(names) - {"n", "k11", "k22", "k33"})
    if bad or (("k22" in names) != ("k33" in names)):
        raise ValueError(f"the lateral symmetries change {bad or ['k22', 'k33']} in a way the augmentation does not "
                         f"model (properties {names}); set augment=False or train on n, k11, k22 and k33")
    return (names.index("k22"), names.index("k33")) if "k22" in names else None


def _tf_d4(image, k):
    """TensorFlow version of :func:`d4_transform` for one image (H, W, C), or of
    :func:`pvae_lib.data.symmetry.apply_lateral_symmetry` for one volume (D, H, W, C); ``k`` a scalar int."""
    import tensorflow as tf

    rotated = tf.image.rot90(image, k=tf.math.floormod(k, 4))  # a volume rotates as a batch of D slices
    axis = 1 if image.shape.rank == 3 else 2
    return tf.cond(k >= 4, lambda: tf.reverse(rotated, axis=[axis]), lambda: rotated)


def _tf_swap(y, k, swap):
    """Targets of a sample turned by ``k``: columns ``swap`` exchanged on odd quarter turns."""
    import tensorflow as tf

    if swap is None:
        return y
    perm = list(range(int(y.shape[-1])))
    perm[swap[0]], perm[swap[1]] = perm[swap[1]], perm[swap[0]]
    return tf.cond(tf.math.floormod(k, 2) == 1, lambda: tf.gather(y, perm, axis=-1), lambda: y)


def make_dataset(x, y=None, batch_size: int = 32, shuffle: bool = False, seed: int = 0, augment: bool = False,
                 swap=None):
    """``tf.data`` pipeline of float32 images (channel axis added) [and targets], batched, prefetched.

    Parameters
    ----------
    x : ndarray (N, H, W[, D]) of bool/uint8/float in [0, 1]
        Images, 1 = pore; kept as uint8 and cast per batch.
    y : ndarray (N, P), optional
        Targets.
    shuffle : bool
        Reshuffle every epoch with a seeded order (repeatable for a given ``seed``).
    augment : bool
        Apply one random element of D4 per sample and epoch: to square 2-D images (exact for
        targets that D4 leaves unchanged, such as n and the extrusion-axis K11), or to the
        lateral axes of 3-D volumes (D, H, W) with H = W (exact for n and K11, and for K22,
        K33 with ``swap``).
    swap : (int, int), optional
        Target columns exchanged by the odd quarter turns (K22 and K33 of a volume).
    """
    import tensorflow as tf

    x = np.asarray(x)
    if x.dtype != np.uint8:  # keep the big image array compact (uint8) and cast per batch
        x = (x > 0.5).astype(np.uint8)
    if x.ndim in (3, 4) and x.shape[-1] != 1:
        x = x[..., None]
    square = (x.ndim == 4 and x.shape[1] == x.shape[2]) or (x.ndim == 5 and x.shape[2] == x.shape[3])
    if augment and not square:
        raise ValueError(f"augment needs square 2-D images or volumes with equal axes 1 and 2, got image shape "
                         f"{x.shape[1:-1]}")
    if swap is not None and (y is None or len(set(swap)) != 2 or not all(0 <= int(i) < np.shape(y)[-1] for i in swap)):
        raise ValueError(f"swap must name two different target columns, got {swap}")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, np.asarray(y, dtype=np.float32)))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        draws = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True).map(
            lambda r: tf.cast(tf.math.floormod(r, D4_SIZE), tf.int32))
        ds = tf.data.Dataset.zip((ds, draws))
        if y is None:
            ds = ds.map(lambda a, k: _tf_d4(a, k))
        else:
            ds = ds.map(lambda ab, k: (_tf_d4(ab[0], k), _tf_swap(ab[1], k, swap)))
    ds = ds.batch(batch_size)
    if y is None:
        ds = ds.map(lambda a: tf.cast(a, tf.float32))
    else:
        ds = ds.map(lambda a, b: (tf.cast(a, tf.float32), b))
    return ds.prefetch(tf.data.AUTOTUNE)
