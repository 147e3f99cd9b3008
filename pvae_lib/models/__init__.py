"""Deep-learning models of the book: CNN permeability surrogate and pVAE (paper Section 3).

The package itself imports only modules that do not start TensorFlow (the metrics and the
property scaler). The Keras models and their training live in their own modules and load
TensorFlow when imported::

    from pvae_lib.models.pvae import PVAE, build_pvae                # Keras (TensorFlow)
    from pvae_lib.models.cnn import build_cnn, train_cnn, predict_cnn
    from pvae_lib.models.training import train_vae, train_pvae

Modules (one job each): ``cnn`` (surrogate, Sec. 3.1), ``pvae`` (the pVAE model, Sec. 3.2),
``layers`` (Sampling, SteepSigmoid), ``training`` (the three training stages), ``inputs``
(``tf.data`` pipelines with exact symmetry augmentation), ``callbacks``, ``checks``,
``optim``, ``seeding``, ``scaling``, ``metrics``, ``evaluation`` (figures), ``tuning``
(Optuna).

The chapters' trained models (train once with the profile's settings, cache, load, or restore
the shipped weights) are experiments: :mod:`pvae_lib.experiments.zoo` (CNN, VAE, pVAEs),
:mod:`pvae_lib.experiments.foam` (the 3-D foam pVAE) and :mod:`pvae_lib.experiments.shipped`.
"""
from __future__ import annotations

from .metrics import r2_score
from .scaling import MinMaxScaler

__all__ = ["MinMaxScaler", "r2_score"]
