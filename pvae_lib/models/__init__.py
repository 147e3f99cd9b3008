"""Deep-learning models of the book: CNN permeability surrogate and pVAE (paper Section 3).

TensorFlow/Keras are imported only when a submodule is used::

    from pvae_lib.models import get_trained_pvae, get_trained_cnn
    from pvae_lib.models.metrics import r2_score
"""
from __future__ import annotations

import importlib

_LAZY = {
    "get_trained_cnn": "pvae_lib.models.zoo",
    "get_trained_pvae": "pvae_lib.models.zoo",
    "training_info": "pvae_lib.models.zoo",
    "training_record": "pvae_lib.models.zoo",
    "PVAE": "pvae_lib.models.pvae",
    "build_pvae": "pvae_lib.models.pvae",
    "build_cnn": "pvae_lib.models.cnn",
    "train_cnn": "pvae_lib.models.cnn",
    "predict_cnn": "pvae_lib.models.cnn",
    "train_pvae": "pvae_lib.models.training",
    "train_vae": "pvae_lib.models.training",
    "MinMaxScaler": "pvae_lib.models.scaling",
    "Sampling": "pvae_lib.models.layers",
    "SteepSigmoid": "pvae_lib.models.layers",
    "r2_score": "pvae_lib.models.metrics",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pvae_lib.models' has no attribute {name!r}")


__all__ = list(_LAZY)
