"""``tf.data`` input pipeline streaming a dataset folder from disk (larger than memory).

Only the *indices* are shuffled in memory; each batch is read from the memory-mapped
``images.npy`` (sorted indices, one read per batch), so the working set is one batch plus the
prefetch buffer, whatever the size of the dataset.
"""
from __future__ import annotations

import os

import numpy as np

from .container import open_dataset
from .properties import CASE, permeability_column

__all__ = ["make_tf_dataset"]


def make_tf_dataset(
    folder: str | os.PathLike,
    *,
    batch_size: int = 32,
    labels=("Permeability_x",),
    shuffle: bool = True,
    seed: int | None = None,
    cases=None,
    as_3d: bool = False,
    repeat: bool = False,
    drop_remainder: bool = False,
    prefetch: bool = True,
):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches from a dataset folder.

    Parameters
    ----------
    folder : path
        Dataset folder (``images.npy`` + ``properties.csv``; see :mod:`pvae_lib.data.container`).
    batch_size : int
    labels : sequence of str, or None
        Columns of ``properties.csv`` (e.g. ``("n_F", "Permeability_x")``); ``None`` yields
        images only. Axis names ``"x"|"y"|"z"`` are accepted for ``Permeability_*``.
    shuffle : bool
        Reshuffle the sample order every epoch (``seed`` makes it reproducible).
    cases : array_like of int, optional
        Subset of cases (e.g. a training split). Default: every labelled case (or every
        image if ``labels`` is None).
    as_3d : bool
        For pattern datasets (``(N, H, W)`` extruded along x1): yield the extruded 3-D samples
        ``(batch, L, H, W, 1)`` instead of the patterns ``(batch, H, W, 1)``.
    repeat : bool
        Repeat forever (use with ``steps_per_epoch``).

    Returns
    -------
    tf.data.Dataset
        Elements ``(float32 images (batch, ..., 1) with 1 = pore, float32 labels (batch, n))``,
        or images only.
    """
    import tensorflow as tf

    data = open_dataset(folder)
    images = data.images
    if labels is not None:
        if data.properties is None:
            raise ValueError(f"{folder}: no properties.csv; label the dataset first (pvae label {folder})")
        names = [permeability_column("xyz".index(c)) if c in ("x", "y", "z") else c for c in labels]
        missing = [c for c in names if c not in data.properties.columns]
        if missing:
            raise ValueError(f"{folder}: properties.csv has no column(s) {missing}")
        table = data.properties.set_index(CASE)
        all_cases = table.index.to_numpy(dtype=np.int64)
        if cases is None:
            cases = all_cases
        cases = np.asarray(cases, dtype=np.int64)
        unknown = np.setdiff1d(cases, all_cases)
        if unknown.size:
            raise ValueError(f"{folder}: cases {unknown[:5].tolist()} have no labels")
        label_array = np.zeros((len(images), len(names)), dtype=np.float32)
        label_array[all_cases] = table[names].to_numpy(dtype=np.float32)
    else:
        cases = np.arange(len(images)) if cases is None else np.asarray(cases, dtype=np.int64)
        label_array = None
    sample_shape = images.shape[1:]
    length = data.extruded_length if as_3d else None

    def read(batch_cases):
        order = np.argsort(batch_cases)
        out = np.empty((len(batch_cases), *sample_shape), dtype=np.float32)
        out[order] = images[np.asarray(batch_cases)[order]]
        return out

    ds = tf.data.Dataset.from_tensor_slices(cases)
    if shuffle:
        ds = ds.shuffle(len(cases), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def load(batch_cases):
        x = tf.numpy_function(read, [batch_cases], tf.float32)
        x.set_shape([None, *sample_shape])
        if length:
            x = tf.repeat(x[:, None], length, axis=1)
        x = x[..., None]
        if label_array is None:
            return x
        y = tf.gather(tf.constant(label_array), batch_cases)
        return x, y

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE if prefetch else None)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds
