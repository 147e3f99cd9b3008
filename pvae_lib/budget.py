"""What the book's models cost per profile: parameters, memory, FLOPs and time per epoch.

Every number is computed from the models the library builds, never guessed:

* **parameters** - the model is built with the library's own builder
  (:func:`~pvae_lib.models.cnn.build_cnn`, :func:`~pvae_lib.models.pvae.build_pvae`) at the
  profile's shapes, without training, and its layers are walked. A model whose analytic count
  (:func:`pvae_layers_analytic`, the same architecture computed from
  :data:`~pvae_lib.models.pvae.ENCODER_SPEC` and :func:`~pvae_lib.models.pvae.encoder_plan`) exceeds
  :data:`BUILD_PARAM_LIMIT` is not built (the paper-scale 3-D foam pVAE would allocate several GiB
  of weights just to be counted); its numbers come from the analytic walk, which the tests check
  against a built model on small sizes, layer by layer.
* **memory for one training step** (float32, batch = the profile's batch size):
  activations = (sum of the output sizes of all layers, inputs included) x batch x 4 bytes x 2
  (the forward values are kept for the backward pass, which makes gradients of the same size),
  plus parameters x 4 bytes x 4 (weights, their gradients and Adam's two moments). Framework
  workspace (cuDNN scratch, allocator fragmentation) is not included, so this is a lower bound
  of what the GPU needs.
* **FLOPs per sample** - multiply-adds of the convolution, transposed-convolution and dense
  layers from their shapes (2 FLOPs per multiply-add; pooling, activations, biases and the loss
  are ignored). A training step costs about 3x the forward pass (forward + gradients w.r.t.
  activations + gradients w.r.t. weights).
* **time per epoch** - training FLOPs per sample x training samples / (peak throughput x
  :data:`EFFICIENCY`) for the GPUs in :data:`GPUS`: an *estimate*, assuming 30 % of the peak is
  reached; real runs are also bounded by the input pipeline and by memory bandwidth.

Regenerate the tables in ``book/intro.md`` with ``python -m pvae_lib.budget --write-intro``.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import re
import sys
from pathlib import Path

import pandas as pd

from .profiles import Profile, deviations_markdown, foam_pvae_section, get_profile

__all__ = ["LayerCost", "GPUS", "EFFICIENCY", "MEMORY_LIMIT_GIB", "BUILD_PARAM_LIMIT", "MODEL_KEYS",
           "conv_macs", "conv_transpose_macs", "dense_macs", "layer_costs", "pvae_layers_analytic",
           "model_specs", "model_budget", "budget_table", "budget_markdown", "format_count", "format_bytes",
           "format_seconds", "intro_blocks", "write_intro", "check_intro"]

#: Peak throughput in FLOP/s (dense fp16 tensor-core and fp32) of the GPUs in the table.
GPUS = {"T4": {"fp16": 65e12, "fp32": 8.1e12}, "A100": {"fp16": 312e12, "fp32": 19.5e12}}
#: Assumed fraction of the peak throughput that training reaches (an estimate, not a measurement).
EFFICIENCY = 0.30
#: GPU memory a model must fit in (GiB): a Colab T4 has 15 GiB usable.
MEMORY_LIMIT_GIB = 15.0
#: Models with more parameters than this are counted analytically instead of being built.
BUILD_PARAM_LIMIT = 50_000_000
#: Keys of the models the book trains, in table order.
MODEL_KEYS = ("cnn", "pvae", "foam_pvae")
_LABELS = {"cnn": "CNN surrogate", "pvae": "pVAE (synthetic, incl. regressor)",
           "foam_pvae": "foam pVAE (3-D, incl. regressor)"}
_BYTES = 4  # float32
_GIB = 1024.0 ** 3
INTRO = Path(__file__).resolve().parents[1] / "book" / "intro.md"


@dataclasses.dataclass(frozen=True)
class LayerCost:
    """One layer: output shape per sample (no batch axis), parameters, forward multiply-adds per sample."""

    name: str
    kind: str  # "input", "conv", "conv_transpose", "dense" or "other"
    output_shape: tuple[int, ...]
    params: int
    macs: int

    @property
    def output_size(self) -> int:
        """Number of values the layer outputs per sample."""
        return math.prod(self.output_shape)


# ---------------------------------------------------------------------------------------- counting
def conv_macs(out_spatial, kernel, in_channels: int, out_channels: int) -> int:
    """Multiply-adds per sample of a convolution: one kernel window per output voxel and filter.

    Parameters
    ----------
    out_spatial, kernel : sequence of int
        Output spatial shape (voxels per axis) and kernel size per axis (voxels).
    in_channels, out_channels : int

    Returns
    -------
    int
        ``prod(out_spatial) * prod(kernel) * in_channels * out_channels`` (multiply-adds).
    """
    return math.prod(out_spatial) * math.prod(kernel) * int(in_channels) * int(out_channels)


def conv_transpose_macs(in_spatial, kernel, in_channels: int, out_channels: int) -> int:
    """Multiply-adds per sample of a transposed convolution: each input voxel scatters one kernel.

    Returns ``prod(in_spatial) * prod(kernel) * in_channels * out_channels`` (multiply-adds).
    """
    return math.prod(in_spatial) * math.prod(kernel) * int(in_channels) * int(out_channels)


def dense_macs(n_in: int, n_out: int) -> int:
    """Multiply-adds per sample of a dense layer (``n_in * n_out``)."""
    return int(n_in) * int(n_out)


def _leaf_layers(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _shape(tensor) -> tuple[int, ...]:
    return tuple(int(n) for n in tensor.shape[1:])


def layer_costs(model) -> list[LayerCost]:
    """Walk a built Keras model (sub-models included) and cost every layer.

    Parameters
    ----------
    model : keras.Model
        A functional model, or a model whose tracked layers are functional models (the
        :class:`~pvae_lib.models.pvae.PVAE`: encoder, decoder, regressor).

    Returns
    -------
    list of LayerCost
    """
    import keras

    L = keras.layers
    convs = (L.Conv1D, L.Conv2D, L.Conv3D)
    transposes = (L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose)
    out = []
    for layer in _leaf_layers(model):
        shape = _shape(layer.output)
        if isinstance(layer, L.InputLayer):
            kind, macs = "input", 0
        elif isinstance(layer, transposes):
            kind = "conv_transpose"
            macs = conv_transpose_macs(_shape(layer.input)[:-1], layer.kernel_size, _shape(layer.input)[-1],
                                       shape[-1])
        elif isinstance(layer, convs):
            kind = "conv"
            macs = conv_macs(shape[:-1], layer.kernel_size, _shape(layer.input)[-1], shape[-1])
        elif isinstance(layer, L.Dense):
            kind, macs = "dense", dense_macs(_shape(layer.input)[-1], shape[-1])
        else:
            kind, macs = "other", 0
        out.append(LayerCost(layer.name, kind, shape, int(layer.count_params()), int(macs)))
    return out


def _conv(name, kind, in_shape, kernel, out_spatial, filters) -> LayerCost:
    cin = in_shape[-1]
    params = math.prod(kernel) * cin * filters + filters
    if kind == "conv":
        macs = conv_macs(out_spatial, kernel, cin, filters)
    else:
        macs = conv_transpose_macs(in_shape[:-1], kernel, cin, filters)
    return LayerCost(name, kind, tuple(out_spatial) + (filters,), params, macs)


def _dense(name, n_in, n_out) -> LayerCost:
    return LayerCost(name, "dense", (n_out,), n_in * n_out + n_out, dense_macs(n_in, n_out))


def pvae_layers_analytic(spatial_shape, latent_dim: int, base_filters: int, n_properties: int,
                         regressor_units) -> list[LayerCost]:
    """Layer costs of :func:`~pvae_lib.models.pvae.build_pvae` without building it.

    Follows :func:`~pvae_lib.models.pvae.build_encoder`, ``build_decoder`` and ``build_regressor``
    layer by layer (same order and names as :func:`layer_costs` of the built model), from the
    library's :data:`~pvae_lib.models.pvae.ENCODER_SPEC`, :data:`~pvae_lib.models.pvae.DECODER_FILTERS`
    and :func:`~pvae_lib.models.pvae.encoder_plan`.

    Parameters
    ----------
    spatial_shape : tuple of int
        ``(H, W)`` or ``(D, H, W)`` (voxels).
    latent_dim, base_filters, n_properties : int
    regressor_units : sequence of int

    Returns
    -------
    list of LayerCost
    """
    from .models.pvae import DECODER_FILTERS, ENCODER_SPEC, _filters, encoder_plan

    spatial = tuple(int(n) for n in spatial_shape)
    plan = encoder_plan(spatial)
    layers = [LayerCost("image", "input", spatial + (1,), 0, 0)]
    shape = spatial + (1,)
    for i, ((mult, _, _, _), (kern, out)) in enumerate(zip(ENCODER_SPEC, plan), start=1):
        layers.append(_conv(f"conv{i}", "conv", shape, kern, out, _filters(mult, base_filters)))
        shape = layers[-1].output_shape
    flat = math.prod(shape)
    layers += [LayerCost("flatten", "other", (flat,), 0, 0), _dense("latent_stats", flat, 2 * latent_dim)]
    layers += [LayerCost(n, "other", (latent_dim,), 0, 0) for n in ("z_mean", "z_log_var", "sampling")]
    # decoder
    layers += [LayerCost("z", "input", (latent_dim,), 0, 0), _dense("dense", latent_dim, flat)]
    layers.append(LayerCost("reshape", "other", shape, 0, 0))
    targets = [plan[2][1], plan[1][1], plan[0][1], spatial]
    for j, (mult, target) in enumerate(zip(DECODER_FILTERS, targets), start=1):
        layers.append(_conv(f"deconv{j}", "conv_transpose", shape, plan[4 - j][0], target,
                            _filters(mult, base_filters)))
        shape = layers[-1].output_shape
    layers.append(_conv("deconv_out", "conv_transpose", shape, (3,) * len(spatial), spatial, 1))
    layers.append(LayerCost("steep_sigmoid", "other", spatial + (1,), 0, 0))
    # regressor
    if n_properties > 0:
        layers.append(LayerCost("z_mean", "input", (latent_dim,), 0, 0))
        n_in = latent_dim
        for i, u in enumerate(regressor_units, start=1):
            layers.append(_dense(f"hidden{i}", n_in, int(u)))
            n_in = int(u)
        layers.append(_dense("properties", n_in, n_properties))
    return layers


# ---------------------------------------------------------------------------------------- models
@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What one model of the book is trained with under a profile."""

    key: str
    label: str
    input_shape: tuple[int, ...]  # with the channel axis
    batch_size: int
    n_train: int  # training samples per epoch (before augmentation)
    epochs: int  # upper bound of full-model epochs (pVAE: VAE + joint stages)
    build: object  # () -> keras.Model, the library's builder at these shapes
    analytic: object  # () -> list[LayerCost], or None when only building is possible


def _n_train(n: int, seed: int) -> int:
    from .models.seeding import split_indices

    return len(split_indices(n, seed)[0])


def _foam_count(profile: Profile) -> int:
    from .profiles import foam_subvolume_count

    return foam_subvolume_count(profile)


def _pvae_spec(key, profile, section, spatial, n_samples, n_properties) -> ModelSpec:
    from .models.pvae import build_pvae

    args = (spatial, section.latent_dim, section.base_filters, n_properties, tuple(section.regressor_units))
    return ModelSpec(
        key, _LABELS[key], spatial + (1,), section.batch_size, _n_train(n_samples, profile.seed),
        section.epochs_vae + section.epochs_joint,
        build=lambda: build_pvae(spatial, section.latent_dim, section.base_filters, n_properties,
                                 beta=section.beta, lam=section.lam, seed=profile.seed,
                                 regressor_units=section.regressor_units),
        analytic=lambda: pvae_layers_analytic(*args))


def model_specs(profile: Profile) -> list[ModelSpec]:
    """The three models the book trains under ``profile``, with their shapes and data sizes.

    CNN: 2-D cross-sections of ``synthetic_image_size``² pixels, outputs ``(n, K11)``,
    ``profile.cnn.width``, ``round(train_samples / 0.8)`` samples split 80/10/10.
    pVAE: the same images, ``profile.pvae``, regressor on ``(n, K11)``, all synthetic samples.
    Foam pVAE: ``foam_subvolume_size``³ sub-volumes, :func:`~pvae_lib.profiles.foam_pvae_section`,
    outputs ``(n, K11, K22, K33)``, every sub-volume of every strain.
    """
    from .data.properties import VOLUME_PROPERTIES
    from .models.cnn import build_cnn

    d, c = profile.data, profile.cnn
    image = (d.synthetic_image_size, d.synthetic_image_size)
    n_cnn = min(d.synthetic_samples, int(round(c.train_samples / 0.8)))
    cnn = ModelSpec("cnn", _LABELS["cnn"], image + (1,), c.batch_size, _n_train(n_cnn, profile.seed), c.epochs,
                    build=lambda: build_cnn(image + (1,), 2, width=c.width), analytic=None)
    pvae = _pvae_spec("pvae", profile, profile.pvae, image, d.synthetic_samples, 2)
    foam = _pvae_spec("foam_pvae", profile, foam_pvae_section(profile), (d.foam_subvolume_size,) * 3,
                      _foam_count(profile), len(VOLUME_PROPERTIES))
    return [cnn, pvae, foam]


def _costs(spec: ModelSpec) -> tuple[list[LayerCost], str]:
    if spec.analytic is not None:
        layers = spec.analytic()
        if sum(la.params for la in layers) > BUILD_PARAM_LIMIT:
            return layers, "analytic"
    import keras

    model = spec.build()
    try:
        return layer_costs(model), "built"
    finally:
        del model
        keras.backend.clear_session()


def model_budget(spec: ModelSpec, efficiency: float = EFFICIENCY) -> dict:
    """Parameters, memory, FLOPs and estimated epoch times of one model (see the module docstring).

    Returns
    -------
    dict
        ``params`` (count), ``activation_bytes``, ``state_bytes`` (weights + gradients + Adam
        moments), ``memory_bytes`` (their sum; bytes, float32, one batch), ``fits`` (memory <=
        :data:`MEMORY_LIMIT_GIB`), ``forward_flops`` and ``train_flops`` (per sample),
        ``seconds_<gpu>_<precision>`` (per epoch), ``counted`` ("built" or "analytic") and the
        spec's shapes and sizes.
    """
    layers, counted = _costs(spec)
    params = sum(la.params for la in layers)
    activations = sum(la.output_size for la in layers) * spec.batch_size * _BYTES * 2
    state = params * _BYTES * 4
    forward = 2 * sum(la.macs for la in layers)
    train = 3 * forward
    row = {"model": spec.label, "key": spec.key, "input": "x".join(map(str, spec.input_shape[:-1])),
           "batch": spec.batch_size, "n_train": spec.n_train, "epochs": spec.epochs, "params": params,
           "activation_bytes": activations, "state_bytes": state, "memory_bytes": activations + state,
           "fits": (activations + state) <= MEMORY_LIMIT_GIB * _GIB, "forward_flops": forward,
           "train_flops": train, "counted": counted}
    for gpu, peaks in GPUS.items():
        for precision, peak in peaks.items():
            row[f"seconds_{gpu}_{precision}"] = train * spec.n_train / (peak * efficiency)
    return row


def budget_table(profile: Profile | str | None = None, efficiency: float = EFFICIENCY) -> pd.DataFrame:
    """One row per model the book trains under ``profile`` (:func:`model_budget` columns).

    Parameters
    ----------
    profile : Profile or str, optional
        Default :func:`~pvae_lib.profiles.get_profile` (``$PVAE_PROFILE``).
    efficiency : float
        Assumed fraction of the GPUs' peak throughput (default :data:`EFFICIENCY`).

    Returns
    -------
    pandas.DataFrame
        Indexed by model key (``cnn``, ``pvae``, ``foam_pvae``); byte columns in bytes, FLOP
        columns in FLOP per sample, time columns in seconds per epoch.
    """
    if profile is None or isinstance(profile, str):
        profile = get_profile(profile)
    rows = [model_budget(spec, efficiency) for spec in model_specs(profile)]
    return pd.DataFrame(rows).set_index("key")


# ---------------------------------------------------------------------------------------- text
def format_count(n: float, unit: str = "") -> str:
    """``1234567`` -> ``"1.23 M"`` (k, M, G, T, P with three significant digits)."""
    n = float(n)
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.3g} {prefix}{unit}"
    return f"{n:.3g} {unit}".rstrip()


def format_bytes(n: float) -> str:
    """Bytes as ``"3.4 GiB"`` / ``"120 MiB"`` / ``"12 KiB"`` (two or three significant digits)."""
    n = float(n)
    for factor, unit in ((1024.0 ** 4, "TiB"), (_GIB, "GiB"), (1024.0 ** 2, "MiB"), (1024.0, "KiB")):
        if n >= factor:
            return f"{n / factor:.2g} {unit}" if n / factor < 10 else f"{n / factor:.0f} {unit}"
    return f"{n:.0f} B"


def format_seconds(s: float) -> str:
    """Seconds as ``"0.12 s"``, ``"45 s"``, ``"3.1 min"``, ``"2.4 h"`` or ``"3.0 d"``."""
    s = float(s)
    if s < 1:
        return f"{s:.2g} s"
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.2g} min"
    if s < 86400 * 2:
        return f"{s / 3600:.2g} h"
    return f"{s / 86400:.2g} d"


def _markdown_rows(profile_name: str, table: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Rows of the memory table and of the time table for one profile."""
    memory, time = [], []
    for _, r in table.iterrows():
        fits = "yes" if r.fits else "**no**"
        head = [f"`{profile_name}`", r.model]
        memory.append("| " + " | ".join(head + [
            f"{r.input} (batch {r.batch}, {r.n_train:,} train)", format_count(r.params),
            format_bytes(r.activation_bytes), format_bytes(r.memory_bytes), fits,
            format_count(r.forward_flops, "FLOP")]) + " |")
        time.append("| " + " | ".join(head + [format_seconds(r[f"seconds_{g}_{p}"])
                                              for g in GPUS for p in ("fp32", "fp16")]) + " |")
    return memory, time


def _header(columns) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def budget_markdown(profiles=None, efficiency: float = EFFICIENCY) -> str:
    """Markdown tables of :func:`budget_table` for ``profiles``, with the assumptions under them.

    ``profiles``: :class:`~pvae_lib.profiles.Profile` objects or names (names follow
    ``$PVAE_SMOKE``); default the real ``quick`` and ``paper`` profiles, also under
    ``PVAE_SMOKE=1`` (the introduction shows these).

    Returns
    -------
    str
        Two pipe tables, one row per profile and model each (size and memory; estimated time
        per epoch), and a paragraph of assumptions.
    """
    memory = _header(["profile", "model", "input", "params", "activations", "memory / step",
                      f"fits {MEMORY_LIMIT_GIB:g} GiB", "forward / sample"])
    time = _header(["profile", "model", *(f"{g} {p} / epoch" for g in GPUS for p in ("fp32", "fp16"))])
    analytic = []
    if profiles is None:
        profiles = [get_profile(name, smoke=False) for name in ("quick", "paper")]
    for profile in profiles:
        profile = get_profile(profile) if isinstance(profile, str) else profile
        table = budget_table(profile, efficiency)
        rows_memory, rows_time = _markdown_rows(profile.name, table)
        memory += rows_memory
        time += rows_time
        analytic += [f"`{profile.name}` {r.model}" for _, r in table.iterrows() if r.counted == "analytic"]
    peaks = "; ".join(f"{g}: {p['fp32'] / 1e12:g} TFLOP/s fp32, {p['fp16'] / 1e12:g} TFLOP/s fp16 tensor"
                      for g, p in GPUS.items())
    notes = (
        f"Memory per training step in float32 at the profile's batch size: all layer outputs x batch x "
        f"4 bytes x 2 (forward values kept for the backward pass, and their gradients), plus parameters x "
        f"4 bytes x 4 (weights, gradients, Adam's two moments); cuDNN workspace not included. "
        f"FLOPs count the convolution and dense multiply-adds (x2) of one forward pass; a training step "
        f"is taken as 3x the forward pass. Times per epoch (second table) are estimates: training FLOPs x "
        f"training samples / ({efficiency:.0%} of the peak; {peaks})."
    )
    if analytic:
        notes += (" Counted analytically, not built (over "
                  f"{format_count(BUILD_PARAM_LIMIT)} parameters): " + ", ".join(analytic) + ".")
    return "\n".join(memory) + "\n\n" + "\n".join(time) + "\n\n" + notes


# ---------------------------------------------------------------------------------------- intro.md
def intro_blocks() -> dict[str, str]:
    """Generated text of the marked blocks of ``book/intro.md``: ``{"deviations": ..., "budget": ...}``."""
    return {"deviations": deviations_markdown(), "budget": budget_markdown()}


def _block_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def check_intro(path: Path = INTRO) -> list[str]:
    """Names of the marked blocks of ``path`` whose text differs from :func:`intro_blocks` (or is missing)."""
    text = Path(path).read_text(encoding="utf-8")
    stale = []
    for name, block in intro_blocks().items():
        m = _block_pattern(name).search(text)
        if m is None or m.group(2) != block + "\n":
            stale.append(name)
    return stale


def write_intro(path: Path = INTRO) -> list[str]:
    """Replace the text between the ``<!-- NAME:start -->``/``<!-- NAME:end -->`` markers; return the names changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    changed = []
    for name, block in intro_blocks().items():
        pattern = _block_pattern(name)
        if pattern.search(text) is None:
            raise ValueError(f"{path} has no <!-- {name}:start --> ... <!-- {name}:end --> markers")
        new = pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(3), text)
        if new != text:
            changed.append(name)
        text = new
    path.write_text(text, encoding="utf-8")
    return changed


def main(argv=None) -> int:
    """``python -m pvae_lib.budget [--profile NAME] [--write-intro | --check-intro]``."""
    p = argparse.ArgumentParser(prog="python -m pvae_lib.budget", description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default=None, help="print this profile's table (default: quick and paper)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write-intro", action="store_true", help="regenerate the tables in book/intro.md")
    g.add_argument("--check-intro", action="store_true", help="exit 1 if book/intro.md's tables are stale")
    args = p.parse_args(argv)
    if args.write_intro:
        changed = write_intro()
        print(f"{INTRO}: {'updated ' + ', '.join(changed) if changed else 'already up to date'}")
        return 0
    if args.check_intro:
        stale = check_intro()
        if stale:
            print(f"{INTRO}: stale blocks {stale}; run python -m pvae_lib.budget --write-intro", file=sys.stderr)
        return 1 if stale else 0
    print(budget_markdown((args.profile,) if args.profile else None))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
