"""Deep-learning models of the book: CNN permeability surrogate and pVAE (paper Section 3).

The package itself imports only modules that do not start TensorFlow: the trained-model
cache (``zoo``), the metrics and the property scaler. The Keras models and their training
live in their own modules and load TensorFlow when imported::

    from pvae_lib.models import get_trained_cnn, get_trained_pvae   # cached chapter models
    from pvae_lib.models.pvae import PVAE, build_pvae                # Keras (TensorFlow)
    from pvae_lib.models.cnn import build_cnn, train_cnn, predict_cnn
    from pvae_lib.models.training import train_vae, train_pvae

Modules (one job each): ``cnn`` (surrogate, Sec. 3.1), ``pvae`` (the pVAE model, Sec. 3.2),
``layers`` (Sampling, SteepSigmoid), ``training`` (the three training stages), ``inputs``
(``tf.data`` pipelines with exact symmetry augmentation), ``callbacks``, ``checks``,
``optim``, ``seeding``, ``scaling``, ``metrics``, ``evaluation`` (figures), ``tuning``
(Optuna), ``foam`` (the 3-D foam pVAE), ``zoo`` (train once, cache, load), ``shipped`` (the
trained models that ship with the package).
"""
from __future__ import annotations

from .metrics import r2_score
from .scaling import MinMaxScaler
from .zoo import get_trained_cnn, get_trained_pvae, training_info, training_record

__all__ = ["get_trained_cnn", "get_trained_pvae", "training_info", "training_record", "MinMaxScaler", "r2_score"]
