"""Property-variational autoencoder (pVAE), paper Section 3.2, Table 2 and Eq. 10.

Architecture (Table 2, at paper scale ``base_filters=32``, ``latent_dim=250``, input 100^d):

* encoder: four strided convolutions, no pooling: ``1.5b`` filters (kernel 3, stride 2, same),
  ``1.5b`` (3, 2, same), ``6b`` (4, 1, valid), ``4b`` (4, 2, valid), ReLU; flatten; dense
  ``2 N_l`` split into mean :math:`\\mu` and log-variance :math:`\\log\\sigma^2`; :class:`Sampling`.
  For 100^3 this gives 50^3x48, 25^3x48, 22^3x192, 10^3x128 = 128,000 as in Table 2.
* decoder: dense (ReLU) to the flattened encoder size, reshape, transposed convolutions
  ``4b, 6b, 1.5b, 1.5b`` (ReLU) mirroring the encoder sizes (output padding chosen so that the
  output has exactly the input shape for any input size >= 25 voxels per axis), a last
  transposed convolution to 1 channel, :class:`SteepSigmoid` (``k=5``, Eq. 11).
* regressor: dense 16-16-4-N_P (``units``; the quick profile widens it to 64-64-16), all ReLU
  (non-negative outputs), on the mean :math:`\\mu` only.

2-D convolutions are used for 2-D inputs (extruded synthetic structures, Section 4.3),
3-D convolutions for volumes (foams): ``ndim`` comes from the input shape.

Loss (minimised; Eq. 10 with the sign of the ELBO terms flipped as in Eq. 8):

.. math::
   \\mathcal{L} = \\underbrace{-\\textstyle\\sum_{voxels}[x\\log\\hat x + (1-x)\\log(1-\\hat x)]}_{recon}
   + \\beta\\,\\underbrace{\\tfrac12\\textstyle\\sum_j(\\mu_j^2 + \\sigma_j^2 - 1 - \\log\\sigma_j^2)}_{kl}
   + \\lambda\\,\\underbrace{\\textstyle\\sum_p (P_p - f_w(\\mu)_p)^2}_{prop}

each averaged over the batch; properties are min-max scaled to [0, 1].
"""
from __future__ import annotations

import numpy as np
import keras
from keras import ops

from .checks import as_image_batch
from .layers import Sampling, SteepSigmoid
from .scaling import MinMaxScaler

__all__ = ["PVAE", "build_encoder", "build_decoder", "build_regressor", "build_pvae", "encoder_plan",
           "ENCODER_SPEC", "DECODER_FILTERS", "MIN_INPUT_SIZE", "REGRESSOR_UNITS"]

#: (filter multiplier of base_filters, kernel, stride, padding) of the four encoder convolutions.
ENCODER_SPEC = ((1.5, 3, 2, "same"), (1.5, 3, 2, "same"), (6.0, 4, 1, "valid"), (4.0, 4, 2, "valid"))
#: filter multipliers of the four hidden decoder transposed convolutions (Table 2: 128, 192, 48, 48).
DECODER_FILTERS = (4.0, 6.0, 1.5, 1.5)
#: smallest input edge (voxels) the encoder accepts.
MIN_INPUT_SIZE = 25
_EPS = 1e-7


def _batched(fn, x, batch_size: int) -> np.ndarray:
    """Apply ``fn`` to ``x`` in batches (eager calls: no ``predict`` re-tracing per model)."""
    batch_size = max(1, int(batch_size))
    return np.concatenate([np.asarray(fn(x[s:s + batch_size])) for s in range(0, len(x), batch_size)], axis=0)


def _conv_out(n: int, k: int, s: int, padding: str) -> int:
    return -(-n // s) if padding == "same" else (n - k) // s + 1


def encoder_plan(spatial_shape) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Kernel (per axis) and output spatial shape of each encoder convolution.

    The last convolution uses kernel 4 (Table 2) on axes where a stride-2 valid convolution
    covers every voxel, else kernel 3, so no voxel is ignored for any input size.
    """
    plan, cur = [], tuple(int(n) for n in spatial_shape)
    if min(cur) < MIN_INPUT_SIZE:
        raise ValueError(f"input {tuple(spatial_shape)} is too small for the pVAE encoder; "
                         f"each axis needs at least {MIN_INPUT_SIZE} voxels")
    for i, (_, k, s, p) in enumerate(ENCODER_SPEC):
        kern = tuple(k if i < 3 or (n - k) % s == 0 else k - 1 for n in cur)
        cur = tuple(_conv_out(n, kk, s, p) for n, kk in zip(cur, kern))
        plan.append((kern, cur))
    return plan


def _filters(mult: float, base: int) -> int:
    return max(1, int(round(mult * base)))


def _layers(ndim):
    if ndim == 2:
        return keras.layers.Conv2D, keras.layers.Conv2DTranspose
    return keras.layers.Conv3D, keras.layers.Conv3DTranspose


def build_encoder(input_shape, latent_dim: int, base_filters: int = 32, seed: int | None = None) -> keras.Model:
    """Encoder ``x -> [z_mean, z_log_var, z]`` (Table 2, left)."""
    input_shape = tuple(int(n) for n in input_shape)
    ndim = len(input_shape) - 1
    if ndim not in (2, 3) or input_shape[-1] != 1:
        raise ValueError(f"input_shape must be (H, W, 1) or (D, H, W, 1), got {input_shape}")
    plan = encoder_plan(input_shape[:-1])
    Conv, _ = _layers(ndim)
    x_in = keras.Input(shape=input_shape, name="image")
    h = x_in
    for i, ((m, _, s, p), (kern, _)) in enumerate(zip(ENCODER_SPEC, plan), start=1):
        h = Conv(_filters(m, base_filters), kern, strides=s, padding=p, activation="relu", name=f"conv{i}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    # float32 latent statistics also under mixed_float16 (exp(log var) and the KL term)
    stats = keras.layers.Dense(2 * latent_dim, name="latent_stats", dtype="float32")(h)
    z_mean = keras.layers.Identity(name="z_mean", dtype="float32")(stats[:, :latent_dim])
    z_log_var = keras.layers.Identity(name="z_log_var", dtype="float32")(stats[:, latent_dim:])
    z = Sampling(seed=seed, name="sampling")([z_mean, z_log_var])
    return keras.Model(x_in, [z_mean, z_log_var, z], name="encoder")


def build_decoder(output_shape, latent_dim: int, base_filters: int = 32, k: float = 5.0) -> keras.Model:
    """Decoder ``z -> x_hat`` in [0, 1] with ``x_hat.shape[1:] == output_shape`` (Table 2, middle)."""
    output_shape = tuple(int(n) for n in output_shape)
    ndim = len(output_shape) - 1
    spatial = output_shape[:-1]
    plan = encoder_plan(spatial)
    shapes = [shape for _, shape in plan]
    _, ConvT = _layers(ndim)
    last_filters = _filters(ENCODER_SPEC[-1][0], base_filters)
    z_in = keras.Input(shape=(latent_dim,), name="z")
    h = keras.layers.Dense(int(np.prod(shapes[-1])) * last_filters, activation="relu", name="dense")(z_in)
    h = keras.layers.Reshape(shapes[-1] + (last_filters,), name="reshape")(h)
    # Mirror the encoder: layer j undoes encoder convolution 4 - j, reaching the size before it.
    targets = [shapes[2], shapes[1], shapes[0], spatial]
    cur = shapes[-1]
    for j, (m, target) in enumerate(zip(DECODER_FILTERS, targets), start=1):
        _, _, s, p = ENCODER_SPEC[4 - j]
        kern = plan[4 - j][0]
        out_pad = tuple(t - ((c - 1) * s + kk - 2 * (0 if p == "valid" else kk // 2))
                        for c, t, kk in zip(cur, target, kern))
        if any(not 0 <= o < max(s, 1) for o in out_pad):
            raise ValueError(f"cannot mirror encoder shape {cur} -> {target}")
        h = ConvT(_filters(m, base_filters), kern, strides=s, padding=p, activation="relu",
                  output_padding=out_pad if s > 1 else None, name=f"deconv{j}")(h)
        cur = target
    h = ConvT(1, 3, strides=1, padding="same", name="deconv_out")(h)
    x_hat = SteepSigmoid(k=k, name="steep_sigmoid")(h)
    return keras.Model(z_in, x_hat, name="decoder")


#: hidden units of the regressor in Table 2 (the paper's choice).
REGRESSOR_UNITS = (16, 16, 4)


#: activations of the regressor's output layer: Table 2's ReLU, or none
REGRESSOR_OUTPUTS = ("relu", "linear")


def build_regressor(latent_dim: int, n_properties: int, units=REGRESSOR_UNITS, output: str = "relu") -> keras.Model:
    """Regressor ``mu -> properties``: dense ``units``-N_P, ReLU everywhere (Table 2, right: 16-16-4).

    ``units`` sets the hidden widths; the default is the paper's. ``output="linear"`` drops the
    ReLU of the output layer: an output unit whose pre-activation is negative for every sample
    (likely when the latent means barely vary at the start of training) then still gets a
    gradient, where a ReLU output would stay at 0 for good.
    """
    units = tuple(int(u) for u in units)
    if not units or min(units) < 1:
        raise ValueError(f"units must be a non-empty sequence of positive widths, got {units}")
    if output not in REGRESSOR_OUTPUTS:
        raise ValueError(f"output must be one of {REGRESSOR_OUTPUTS}, got {output!r}")
    mu = keras.Input(shape=(latent_dim,), name="z_mean")
    h = mu
    for i, u in enumerate(units, start=1):
        h = keras.layers.Dense(u, activation="relu", name=f"hidden{i}")(h)
    out = keras.layers.Dense(n_properties, activation=None if output == "linear" else "relu", name="properties",
                             dtype="float32")(h)
    return keras.Model(mu, out, name="regressor")


@keras.saving.register_keras_serializable(package="pvae_lib")
class PVAE(keras.Model):
    """Property-variational autoencoder: encoder, decoder and (optional) regressor.

    ``model(x)`` returns a dict with ``x_hat``, ``z_mean``, ``z_log_var``, ``z`` and, with a
    regressor, ``properties`` (scaled). Train with ``fit(x)`` (plain VAE) or
    ``fit(x, y_scaled)`` (pVAE); the loss is Eq. 10 (see module docstring) and is written in
    :meth:`compute_loss`, so ``fit``/``evaluate``, callbacks and checkpoints work unchanged.
    Metrics ``recon``, ``kl`` and ``prop`` are tracked per epoch.

    Parameters
    ----------
    encoder, decoder : keras.Model
        From :func:`build_encoder` / :func:`build_decoder`.
    regressor : keras.Model or None
        From :func:`build_regressor`; ``None`` for the plain VAE (stage 1).
    beta, lam : float
        Weights of the KL and property terms (beta-VAE [Higgins] and Jones et al.).
    property_scaler : MinMaxScaler or dict, optional
        Scaler of the properties (saved with the model).
    """

    def __init__(self, encoder, decoder, regressor=None, beta: float = 1.0, lam: float = 1.0,
                 property_scaler=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.regressor = encoder, decoder, regressor
        self.beta, self.lam = float(beta), float(lam)
        if isinstance(property_scaler, dict):
            property_scaler = MinMaxScaler.from_dict(property_scaler)
        self.property_scaler = property_scaler
        self.total_tracker = keras.metrics.Mean(name="loss")
        self.recon_tracker = keras.metrics.Mean(name="recon")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.prop_tracker = keras.metrics.Mean(name="prop")
        self.built = True

    # ------------------------------------------------------------------ properties
    @property
    def latent_dim(self) -> int:
        return int(self.encoder.outputs[0].shape[-1])

    @property
    def image_shape(self) -> tuple[int, ...]:
        """Input shape without the batch axis, including the channel axis."""
        return tuple(int(n) for n in self.encoder.inputs[0].shape[1:])

    @property
    def n_properties(self) -> int:
        return 0 if self.regressor is None else int(self.regressor.outputs[0].shape[-1])

    @property
    def property_names(self):
        return None if self.property_scaler is None else self.property_scaler.names

    @property
    def metrics(self):
        return [self.total_tracker, self.recon_tracker, self.kl_tracker, self.prop_tracker]

    # ------------------------------------------------------------------ forward + loss
    def call(self, x, training=False):
        z_mean, z_log_var, z = self.encoder(x, training=training)
        out = {"x_hat": self.decoder(z, training=training), "z_mean": z_mean, "z_log_var": z_log_var, "z": z}
        if self.regressor is not None:
            out["properties"] = self.regressor(z_mean, training=training)
        return out

    def loss_terms(self, x, y, y_pred):
        """Batch means of the three loss terms ``(recon, kl, prop)`` (see module docstring)."""
        x = ops.cast(x, "float32")
        x_hat = ops.clip(ops.cast(y_pred["x_hat"], "float32"), _EPS, 1.0 - _EPS)
        bce = -(x * ops.log(x_hat) + (1.0 - x) * ops.log(1.0 - x_hat))
        recon = ops.mean(ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=1))
        mu = ops.cast(y_pred["z_mean"], "float32")
        lv = ops.cast(y_pred["z_log_var"], "float32")
        kl = ops.mean(0.5 * ops.sum(ops.square(mu) + ops.exp(lv) - 1.0 - lv, axis=1))
        if y is not None and "properties" in y_pred:
            p = ops.cast(y_pred["properties"], "float32")
            prop = ops.mean(ops.sum(ops.square(ops.cast(y, "float32") - p), axis=1))
        else:
            prop = ops.zeros((), "float32")
        return recon, kl, prop

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        recon, kl, prop = self.loss_terms(x, y, y_pred)
        total = recon + self.beta * kl + self.lam * prop
        self.total_tracker.update_state(total)
        self.recon_tracker.update_state(recon)
        self.kl_tracker.update_state(kl)
        self.prop_tracker.update_state(prop)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------------ helpers
    def _images(self, x) -> np.ndarray:
        x = as_image_batch(x, name="x")
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"x has image shape {x.shape[1:-1]}, the model expects {self.image_shape[:-1]}")
        return x

    def encode_mean(self, x, batch_size: int = 256) -> np.ndarray:
        """Latent means :math:`\\mu` (N, latent_dim) of binary images ``x`` (N, H, W[, D])."""
        return _batched(lambda b: self.encoder(b, training=False)[0], self._images(x), batch_size)

    def decode(self, z, batch_size: int = 256) -> np.ndarray:
        """Decoded images in [0, 1], shape (N, H, W[, D]) (channel axis dropped)."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {z.shape}")
        return _batched(lambda b: self.decoder(b, training=False), z, batch_size)[..., 0]

    def predict_properties(self, x_or_z, unscaled: bool = True, batch_size: int = 256) -> np.ndarray:
        """Properties from images (N, H, W[, D]) or latent means (N, latent_dim).

        ``unscaled=True`` returns physical values (via ``property_scaler``), else the scaled [0, 1] ones.
        """
        if self.regressor is None:
            raise RuntimeError("this model has no regressor (a plain VAE); use a pVAE")
        a = np.asarray(x_or_z)
        if a.ndim == 2 and a.shape[1] == self.latent_dim and a.dtype != bool:
            mu = a.astype(np.float32)
        else:
            mu = self.encode_mean(a, batch_size=batch_size)
        p = _batched(lambda b: self.regressor(b, training=False), mu, batch_size)
        if unscaled:
            if self.property_scaler is None:
                raise RuntimeError("no property_scaler stored; pass unscaled=False")
            return self.property_scaler.inverse_transform(p)
        return p

    # ------------------------------------------------------------------ serialisation
    def get_config(self):
        return {
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "regressor": None if self.regressor is None else keras.saving.serialize_keras_object(self.regressor),
            "beta": self.beta,
            "lam": self.lam,
            "property_scaler": None if self.property_scaler is None else self.property_scaler.to_dict(),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "regressor"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def build_pvae(input_shape, latent_dim: int = 250, base_filters: int = 32, n_properties: int = 2,
               beta: float = 1.0, lam: float = 1.0, property_scaler=None, seed: int | None = None,
               name: str = "pvae", regressor_units=REGRESSOR_UNITS, regressor_output: str = "relu") -> PVAE:
    """Build a :class:`PVAE` (``n_properties=0``: plain VAE without regressor).

    ``input_shape`` is ``(H, W)``/``(D, H, W)`` or with a trailing channel axis of 1.
    """
    input_shape = tuple(int(n) for n in input_shape)
    if input_shape[-1] != 1 or len(input_shape) == 2:
        input_shape = input_shape + (1,)
    encoder = build_encoder(input_shape, latent_dim, base_filters, seed=seed)
    decoder = build_decoder(input_shape, latent_dim, base_filters)
    regressor = (build_regressor(latent_dim, n_properties, regressor_units, regressor_output)
                 if n_properties > 0 else None)
    return PVAE(encoder, decoder, regressor, beta=beta, lam=lam, property_scaler=property_scaler, name=name)
