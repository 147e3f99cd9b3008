"""One cache scheme for every computed result: a key, its digest, the data's fingerprint.

A cached result (a trained model, a labelled dataset, an Optuna study) is valid only for the
inputs that made it. Each producer writes down those inputs as a *key*: a JSON-able dict of
the settings (a profile section, the seed, a format number) and the :func:`data_fingerprint`
of the training data. The key is stored next to the result (``key`` in the model zoo's
``_info.json``, ``meta.json`` of a dataset); a later call re-uses the result only when
:func:`is_current` finds the stored key equal to the one it computes now. Where a result's file
name must identify it instead (foam models, tuning studies), the name carries
:func:`key_digest`, a short SHA-256 of the key's canonical JSON.

Users of the scheme: :mod:`pvae_lib.experiments.zoo` (CNN, VAE, pVAEs) and
:mod:`pvae_lib.experiments.shipped` (the shipped models' keys), :mod:`pvae_lib.experiments.foam` (foam
pVAE file names), :mod:`pvae_lib.models.tuning` (study names),
:func:`pvae_lib.data.datasets.load_synthetic_dataset` (the generated dataset) and
``benchmarks/seed_spread.py`` (which models a row of the spread table measured).
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

__all__ = ["canonical", "key_digest", "data_fingerprint", "is_current"]


def canonical(key: dict) -> dict:
    """``key`` as it reads back from JSON (tuples become lists, keys strings): the form that is stored.

    Raises
    ------
    TypeError
        If ``key`` holds something JSON cannot write (an array, a path): a key must be plain data.
    """
    return json.loads(json.dumps(key))


def key_digest(key: dict, length: int = 16) -> str:
    """Short SHA-256 (hex, ``length`` characters) of ``key``'s canonical JSON: equal keys, equal digests."""
    if not 1 <= int(length) <= 64:
        raise ValueError(f"length must be 1-64 hex characters, got {length}")
    text = json.dumps(canonical(key), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:int(length)]


def data_fingerprint(images, *labels) -> str:
    """Short SHA-1 of binary ``images`` and label arrays: a cached result is valid only for these data.

    ``images`` are compared as booleans (``True`` = pore) and packed to bits, labels as float64,
    so the same data in another dtype have the same fingerprint.
    """
    h = hashlib.sha1(np.packbits(np.asarray(images, bool)).tobytes())
    for values in labels:
        h.update(np.asarray(values, np.float64).tobytes())
    return h.hexdigest()[:16]


def is_current(stored, key: dict) -> bool:
    """True when a stored key (read from disk; ``None`` if there is none) equals ``key``."""
    return isinstance(stored, dict) and canonical(stored) == canonical(key)
