"""Custom Keras layers of the pVAE (paper Section 3.2).

Both layers are registered with ``keras.saving.register_keras_serializable(package="pvae_lib")``
so models using them save to and load from native ``.keras`` files with ``safe_mode=True``
(no lambdas, no arbitrary code executed on load).
"""
from __future__ import annotations

import keras
from keras import ops

__all__ = ["Sampling", "SteepSigmoid"]


@keras.saving.register_keras_serializable(package="pvae_lib")
class Sampling(keras.layers.Layer):
    """Reparameterisation trick :math:`z = \\mu + \\sigma \\odot \\varepsilon`, :math:`\\varepsilon \\sim N(0, I)`.

    Takes ``[z_mean, z_log_var]`` (``z_log_var`` = :math:`\\log \\sigma^2`) and returns a sample
    ``z`` of the approximate posterior :math:`q_\\varphi(z|x) = N(\\mu, \\sigma)` (paper Eq. 6-7).
    Sampling is always done (training and inference), as in a standard VAE; use the mean
    :math:`\\mu` (``PVAE.encode_mean``) for a deterministic code.

    Parameters
    ----------
    seed : int, optional
        Seed of the layer's random generator (reproducible noise).
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="pvae_lib")
class SteepSigmoid(keras.layers.Layer):
    """Steep sigmoid :math:`1 / (1 + e^{-k x})`, :math:`k > 0` (paper Eq. 11, :math:`k = 5`).

    Output activation of the decoder: pushes voxel values towards 0 (solid) or 1 (pore).
    The output is computed in float32 (safe under mixed precision).
    """

    def __init__(self, k: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        k = float(k)
        if not k > 0:
            raise ValueError(f"SteepSigmoid needs k > 0, got {k}")
        self.k = k

    def call(self, inputs):
        return ops.sigmoid(self.k * ops.cast(inputs, "float32"))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "k": self.k}
