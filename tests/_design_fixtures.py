"""Test fixtures: tiny untrained models that follow the pVAE protocol.

Imported by the design and CLI tests (``from _design_fixtures import tiny_dataset, tiny_pvae``);
they are not part of the installed ``pvae_lib`` package.

They are real :class:`pvae_lib.models.pvae.PVAE` objects (so they save to ``.keras`` and load
like the trained ones) with the paper's encoder; the decoder is a single dense layer with large
random weights (so decoded images change with z) and the regressor ends in a sigmoid instead
of a ReLU, so an untrained model has no dead outputs and gradients always flow.
"""
from __future__ import annotations

import numpy as np

__all__ = ["tiny_pvae", "tiny_dataset", "tiny_volumes"]


def tiny_pvae(image_size: int = 28, latent_dim: int = 4, base_filters: int = 2, seed: int = 0,
              k11_max: float = 0.5, ndim: int = 2):
    """An untrained pVAE with a fitted-looking property scaler.

    ``ndim=2``: cross-sections ``image_size``², mapped to (n, k11); ``ndim=3``: volumes
    ``image_size``³, mapped to (n, k11, k22, k33), as the foam study's model. Scaled outputs map
    to porosity in [0, 1] and each permeability in [0, ``k11_max``] (l.u.²).
    """
    import keras

    from pvae_lib.models.pvae import PVAE, build_encoder
    from pvae_lib.models.scaling import MinMaxScaler

    keras.utils.set_random_seed(seed)
    shape = (image_size,) * ndim + (1,)
    names = ("n", "k11") if ndim == 2 else ("n", "k11", "k22", "k33")
    enc = build_encoder(shape, latent_dim, base_filters, seed=seed)
    z_in = keras.Input(shape=(latent_dim,), name="z")
    init = keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    h = keras.layers.Dense(image_size**ndim, activation="sigmoid", kernel_initializer=init, name="dense")(z_in)
    dec = keras.Model(z_in, keras.layers.Reshape(shape, name="reshape")(h), name="decoder")
    mu = keras.Input(shape=(latent_dim,), name="z_mean")
    h = keras.layers.Dense(8, activation="tanh", name="hidden")(mu)
    out = keras.layers.Dense(len(names), activation="sigmoid", name="properties")(h)
    reg = keras.Model(mu, out, name="regressor")
    scaler = MinMaxScaler(data_min=[0.0] * len(names), data_max=[1.0] + [k11_max] * (len(names) - 1), names=names)
    return PVAE(enc, dec, reg, property_scaler=scaler, name="tiny_pvae")


def tiny_dataset(n: int = 40, image_size: int = 28, pore: int = 4, rng=None):
    """Random square-pore images (N, H, W) bool with porosity and a K11 proxy (n * pore² / 30).

    The proxy is only there to give the starts a property; it is not physics.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    images = np.zeros((n, image_size, image_size), dtype=bool)
    cells = image_size // pore
    for i in range(n):
        count = rng.integers(3, cells * cells // 2)
        flat = rng.choice(cells * cells, count, replace=False)
        for f in flat:
            r, c = divmod(int(f), cells)
            images[i, r * pore:(r + 1) * pore, c * pore:(c + 1) * pore] = True
    porosity = images.reshape(n, -1).mean(1)
    k11 = porosity * pore**2 / 30.0
    return images, porosity, k11


def tiny_volumes(n: int = 24, size: int = 8, rng=None):
    """Random 3-D samples (N, size, size, size) bool and their exact (n, K11, K22, K33) (LBM, l.u.²).

    Each sample is a random pore field of porosity 0.45-0.8, so all three permeabilities are
    positive; the labels are what :func:`pvae_lib.design.verify.exact_evaluator` gives.
    """
    from pvae_lib.design.verify import exact_evaluator

    rng = rng if rng is not None else np.random.default_rng(0)
    images = rng.random((n, size, size, size)) < rng.uniform(0.45, 0.8, size=(n, 1, 1, 1))
    return images, exact_evaluator(("n", "k11", "k22", "k33"), ndim=3)(images)
