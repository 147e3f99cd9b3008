"""CNN permeability surrogate (paper Section 3.1, Fig. 2).

Four convolution blocks (filters 32 -> 64 -> 128 -> 256, kernels 3 -> 3 -> 5 -> 7, ReLU,
max pooling with ``padding="same"``), global average pooling, dense layers of 64 and 32
units (ReLU) and a linear output layer (``n`` and ``K11`` for the extruded synthetic
structures; ``n, K11, K22, K33`` for foams). One builder makes the 2-D and the 3-D network,
choosing ``Conv2D``/``Conv3D`` from the input shape.

Input size: any size >= 1 voxel per axis works (same padding, global pooling), including
non-square images; the receptive field covers about 40 voxels, so inputs of 16 to ~100
voxels per axis are the intended range. The paper flattens after the last block; global
average pooling is used here so that the same weights accept any input size (permeability
is a volume average, so averaging the last feature maps is a natural read-out).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np

from ..fileio import atomic_path
from ..profiles import CNNSection, get_profile
from .callbacks import EpochPrinter, SafeCheckpoint, StopOnNaN, load_best_or_raise
from .checks import as_image_batch, as_targets
from .inputs import make_dataset, symmetric_properties
from .metrics import r2_score
from .optim import make_optimizer
from .scaling import MinMaxScaler
from .seeding import seeded, split_indices

__all__ = ["build_cnn", "train_cnn", "CNNResult", "predict_cnn", "CNN_FILTERS", "CNN_KERNELS"]

CNN_FILTERS = (32, 64, 128, 256)
CNN_KERNELS = (3, 3, 5, 7)


def build_cnn(input_shape, n_outputs: int = 2, width: float = 1.0, name: str = "cnn_surrogate") -> keras.Model:
    """Build the CNN surrogate.

    Parameters
    ----------
    input_shape : tuple
        ``(H, W, 1)`` for 2-D or ``(D, H, W, 1)`` for 3-D images; spatial sizes may be ``None``
        (any size).
    n_outputs : int
        Number of (scaled) outputs, e.g. 2 for ``(n, K11)``.
    width : float
        Multiplier of the filter counts (1.0 = paper: 32, 64, 128, 256).

    Returns
    -------
    keras.Model
    """
    input_shape = tuple(input_shape)
    ndim = len(input_shape) - 1
    if ndim not in (2, 3) or input_shape[-1] != 1:
        raise ValueError(f"input_shape must be (H, W, 1) or (D, H, W, 1), got {input_shape}")
    if n_outputs < 1 or width <= 0:
        raise ValueError("n_outputs must be >= 1 and width > 0")
    Conv = keras.layers.Conv2D if ndim == 2 else keras.layers.Conv3D
    Pool = keras.layers.MaxPooling2D if ndim == 2 else keras.layers.MaxPooling3D
    GAP = keras.layers.GlobalAveragePooling2D if ndim == 2 else keras.layers.GlobalAveragePooling3D
    inputs = keras.Input(shape=input_shape, name="image")
    h = inputs
    for i, (f, k) in enumerate(zip(CNN_FILTERS, CNN_KERNELS), start=1):
        h = Conv(max(1, int(round(f * width))), k, padding="same", activation="relu", name=f"conv{i}")(h)
        h = Pool(2, padding="same", name=f"pool{i}")(h)
    h = GAP(name="global_pool")(h)
    h = keras.layers.Dense(64, activation="relu", name="dense64")(h)
    h = keras.layers.Dense(32, activation="relu", name="dense32")(h)
    # float32 output also under a mixed_float16 policy (the loss and the scaler work in float32)
    outputs = keras.layers.Dense(n_outputs, activation="linear", name="properties", dtype="float32")(h)
    return keras.Model(inputs, outputs, name=name)


@dataclasses.dataclass
class CNNResult:
    """Outcome of :func:`train_cnn`."""

    model: keras.Model
    scaler: MinMaxScaler
    history: dict
    r2: dict  # test-set R² per output name
    y_test: np.ndarray  # true test targets (physical units)
    y_pred: np.ndarray  # predicted test targets (physical units)
    split: dict  # index arrays "train", "val", "test"
    train_time_s: float
    samples_per_s: float  # training throughput (training samples x epochs / wall time)
    epochs_run: int
    stopped_on_nan: bool
    model_path: Path | None = None
    scaler_path: Path | None = None


def predict_cnn(model: keras.Model, scaler: MinMaxScaler, images, batch_size: int = 256,
                symmetrize: bool = False) -> np.ndarray:
    """Predict physical properties (columns as in ``scaler.names``) for binary images.

    ``symmetrize=True`` averages the prediction over the eight symmetries of the square
    (:func:`pvae_lib.models.inputs.symmetric_properties`; 2-D square images, properties that
    the symmetries leave unchanged, such as n and K11 of extruded patterns).
    """
    x = as_image_batch(images)
    if symmetrize:
        if x.ndim != 4 or x.shape[1] != x.shape[2]:
            raise ValueError(f"symmetrize needs square 2-D images, got image shape {x.shape[1:-1]}")
        scaled = symmetric_properties(lambda b: model(b, training=False), x, batch_size)
    else:
        scaled = np.concatenate([np.asarray(model(x[s:s + batch_size], training=False))
                                 for s in range(0, len(x), batch_size)])
    return scaler.inverse_transform(scaled)


def train_cnn(images, targets, profile=None, section: CNNSection | None = None, seed: int | None = None,
              out_dir=None, names=None, verbose: int = 0, print_every: int = 0, callbacks=None,
              deterministic: bool = True) -> CNNResult:
    """Train the CNN surrogate (paper Section 3.1).

    Targets are min-max scaled (scaler saved next to the model as ``cnn_scaler.json``); Adam,
    MSE loss (paper Eq. 3), ReduceLROnPlateau, ModelCheckpoint (best ``val_loss``, ``.keras``),
    EarlyStopping, and a stop on NaN that keeps the last good checkpoint; 80/10/10 split.

    Parameters
    ----------
    images : array_like, (N, H, W) or (N, D, H, W)
        Binary images (1 = pore).
    targets : array_like, (N,) or (N, P)
        Properties, e.g. columns ``(n, K11)`` (K in lattice units).
    profile, section : Profile or CNNSection, optional
        Sizes (default: ``get_profile().cnn``).
    seed : int, optional
        Split and weight seed (default: ``profile.seed``).
    out_dir : path, optional
        Folder for ``cnn.keras`` and ``cnn_scaler.json`` (a temporary folder if ``None``).
    names : sequence of str, optional
        Output names (default ``("n", "k11", ...)``).
    verbose : int
        Keras ``fit`` verbosity; with 0 a short line is printed every ``print_every`` epochs
        (``print_every=0``: one summary line at the end; ``None``: silent).
    callbacks : list, optional
        Extra Keras callbacks.
    """
    import tempfile

    profile = profile or get_profile()
    section = section or profile.cnn
    seed = profile.seed if seed is None else int(seed)
    x = as_image_batch(images)
    y = as_targets(targets, x.shape[0])
    names = tuple(names) if names is not None else ("n", "k11", "k22", "k33")[: y.shape[1]]
    if len(names) != y.shape[1]:
        raise ValueError(f"{len(names)} names for {y.shape[1]} target columns")
    n_use = min(x.shape[0], int(round(section.train_samples / 0.8)))
    i_tr, i_va, i_te = split_indices(n_use, seed)
    scaler = MinMaxScaler(names=names).fit(y[i_tr])
    ys = scaler.transform(y)
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="pvae_cnn_")
        out_dir = tmp.name
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt = out_dir / ".cnn_best.keras"
    if ckpt.exists():
        ckpt.unlink()
    stopper = StopOnNaN()
    cbs = [stopper, SafeCheckpoint(ckpt, monitor="val_loss", save_best_only=True)]
    if section.schedule == "plateau":
        cbs += [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                  patience=max(1, section.patience // 2), min_lr=1e-6),
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=section.patience)]
    if verbose == 0 and print_every is not None:
        cbs.append(EpochPrinter(print_every, prefix="CNN "))
    cbs += list(callbacks or [])
    augment = section.augment and x.ndim == 4 and x.shape[1] == x.shape[2]
    with seeded(seed, deterministic):
        model = build_cnn(x.shape[1:], y.shape[1], width=section.width)
        steps = -(-len(i_tr) // section.batch_size)
        model.compile(optimizer=make_optimizer(section.learning_rate, section.schedule, section.epochs, steps),
                      loss="mse")
        t0 = time.perf_counter()
        hist = model.fit(make_dataset(x[i_tr], ys[i_tr], section.batch_size, shuffle=True, seed=seed, augment=augment),
                         shuffle=False,
                         validation_data=make_dataset(x[i_va], ys[i_va], 256), epochs=section.epochs,
                         callbacks=cbs, verbose=verbose)
        train_time = time.perf_counter() - t0
    epochs_run = len(hist.history.get("loss", []))
    best = load_best_or_raise(ckpt, stopper)
    y_pred = predict_cnn(best, scaler, x[i_te], symmetrize=section.symmetrize)
    r2 = dict(zip(names, (float(v) for v in r2_score(y[i_te], y_pred))))
    model_path = out_dir / "cnn.keras"
    with atomic_path(model_path) as t:
        best.save(t)
    scaler_path = out_dir / "cnn_scaler.json"
    scaler.to_json(scaler_path)
    ckpt.unlink(missing_ok=True)
    if tmp is not None:
        model_path = scaler_path = None
        tmp.cleanup()
    return CNNResult(model=best, scaler=scaler, history={k: list(map(float, v)) for k, v in hist.history.items()},
                     r2=r2, y_test=y[i_te], y_pred=y_pred, split={"train": i_tr, "val": i_va, "test": i_te},
                     train_time_s=train_time, samples_per_s=len(i_tr) * max(epochs_run, 1) / train_time,
                     epochs_run=epochs_run, stopped_on_nan=stopper.stopped_on_nan,
                     model_path=model_path, scaler_path=scaler_path)
