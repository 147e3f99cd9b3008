"""Evaluation and plots of the CNN surrogate and the pVAE (paper Figs. 7, 12, 13, 14).

Structure images follow :mod:`pvae_lib.plotting`: pore white, solid black.
"""
from __future__ import annotations

import numpy as np

from ..binarize import DECODED_RULE, RULES, binarize
from ..plotting import BOOK_WIDTH, show_structure
from .metrics import r2_score, voxel_accuracy

__all__ = ["reconstruction_metrics", "score_reconstructions", "plot_pred_vs_true", "plot_loss_curves",
           "plot_reconstructions", "plot_prior_samples", "architecture_table"]

_CURVES = {"loss": "training", "val_loss": "validation", "recon": "reconstruction (training)",
           "kl": "KL (training)", "prop": "property (training)", "val_prop": "property (validation)",
           "val_recon": "reconstruction (validation)", "val_kl": "KL (validation)"}

_LABELS = {"n": r"$n^F$", "k11": r"$K^S_{11}$ [l.u.]", "k22": r"$K^S_{22}$ [l.u.]", "k33": r"$K^S_{33}$ [l.u.]"}


def reconstruction_metrics(model, images, threshold: float | None = None, rule: str = DECODED_RULE) -> dict:
    """Voxel accuracy and porosity error of binarised mean reconstructions ``decode(encode_mean(x))``.

    Parameters
    ----------
    model : PVAE
        Any model with ``encode_mean`` and ``decode``.
    images : array_like
        Binary test images (``True``/1 = pore), ``(N, ...)``.
    threshold : float, optional
        The level of rule ``"threshold"`` (default 0.5); the other rules choose their own.
    rule : {"expected_porosity", "threshold", "otsu"}
        How the decoder's pore probabilities become pore images (:func:`pvae_lib.binarize.binarize`);
        default :data:`pvae_lib.binarize.DECODED_RULE`, the rule of every decoded design.

    Returns
    -------
    dict
        As :func:`score_reconstructions`.

    See Also
    --------
    score_reconstructions : the same scores of probabilities decoded already (decode once, score by several rules).
    pvae_lib.binarize.binarize : the rules.
    """
    _check_rule(rule, threshold)
    x = np.asarray(images) > 0.5
    return score_reconstructions(x, model.decode(model.encode_mean(x)), threshold=threshold, rule=rule)


def score_reconstructions(images, probabilities, threshold: float | None = None, rule: str = DECODED_RULE) -> dict:
    """Voxel accuracy and porosity error of decoded pore probabilities, binarised by ``rule``.

    Parameters
    ----------
    images : array_like
        Binary input images (``True``/1 = pore), ``(N, ...)``.
    probabilities : array_like
        The decoder's pore probabilities for them, same shape (a trailing channel axis of 1 is
        allowed on either or both), values in [0, 1].
    threshold, rule
        As :func:`reconstruction_metrics`.

    Returns
    -------
    dict
        ``voxel_accuracy`` (fraction of voxels equal to the input), ``porosity_mae``,
        ``porosity_bias`` (the mean signed error: below 0, the binarised images have too little
        pore) and ``porosity_r2`` (of the porosity :math:`n^F` counted on the binarised images),
        ``all_pore_accuracy`` (the voxel accuracy of calling every voxel pore: the score a
        decoder must beat) and ``rule``.
    """
    _check_rule(rule, threshold)
    x, probabilities = np.asarray(images) > 0.5, np.asarray(probabilities)
    if x.shape != probabilities.shape and x.shape[-1:] == (1,) and x.shape[:-1] == probabilities.shape:
        x = x[..., 0]  # images with a channel axis, probabilities without
    elif x.shape != probabilities.shape and probabilities.shape[-1:] == (1,) and probabilities.shape[:-1] == x.shape:
        probabilities = probabilities[..., 0]
    rec = binarize(probabilities, rule=rule, threshold=threshold, squeeze_channel=False)
    accuracy = voxel_accuracy(x, rec)  # checks the shapes
    axes = tuple(range(1, x.ndim))
    n_true, n_rec = x.mean(axis=axes), rec.mean(axis=axes)
    return {"voxel_accuracy": accuracy,
            "porosity_mae": float(np.mean(np.abs(n_rec - n_true))),
            "porosity_bias": float(np.mean(n_rec - n_true)),
            "porosity_r2": float(r2_score(n_true, n_rec)[0]),
            "all_pore_accuracy": float(x.mean()),
            "rule": rule}


def _check_rule(rule: str, threshold) -> None:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if rule != "threshold" and threshold is not None:
        raise ValueError(f"threshold is the level of rule 'threshold'; rule {rule!r} chooses its own "
                         f"(for a fixed level pass rule='threshold', threshold={threshold!r})")


def _axes(n, ncols=None, panel=(3.6, 3.3), max_width: float = BOOK_WIDTH):
    """Grid of ``n`` panels at most ``max_width`` inches wide (the book's text column)."""
    import matplotlib.pyplot as plt

    ncols = ncols or min(n, 3)
    nrows = int(np.ceil(n / ncols))
    scale = min(1.0, max_width / (panel[0] * ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols * scale, panel[1] * nrows * max(scale, 0.85)),
                             squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def plot_pred_vs_true(y_true, y_pred, names=("n", "k11"), title: str | None = None):
    """Predicted vs true scatter per property with R² and the identity line (Figs. 7, 14).

    One panel per property (two per row), at most the book's text width.
    """
    t, p = np.atleast_2d(np.asarray(y_true, float).T).T, np.atleast_2d(np.asarray(y_pred, float).T).T
    r2 = r2_score(t, p)
    fig, axes = _axes(t.shape[1], ncols=min(t.shape[1], 2), panel=(3.9, 3.5))
    for j, ax in enumerate(axes[: t.shape[1]]):
        lo, hi = min(t[:, j].min(), p[:, j].min()), max(t[:, j].max(), p[:, j].max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity")
        ax.scatter(t[:, j], p[:, j], s=8, alpha=0.5)
        label = _LABELS.get(names[j], names[j]) if j < len(names) else f"output {j}"
        ax.set(xlabel=f"true {label}", ylabel=f"predicted {label}", title=f"$R^2$ = {r2[j]:.4f}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(histories: dict, keys=("loss", "val_loss"), logy: bool = True):
    """Training/validation curves, one panel per entry of ``histories``.

    Parameters
    ----------
    histories : dict
        Panel title -> Keras history dict (metric name -> list of per-epoch values).
    keys : tuple of str, or dict
        The metrics drawn: one tuple for every panel, or a dict panel title -> tuple.
    logy : bool
        Logarithmic loss axis.
    """
    fig, axes = _axes(len(histories), panel=(4.6, 3.3) if len(histories) == 1 else (3.6, 3.3))
    for ax, (name, hist) in zip(axes, histories.items()):
        for key in (keys.get(name, ("loss", "val_loss")) if isinstance(keys, dict) else keys):
            if key in hist:
                ax.plot(np.arange(1, len(hist[key]) + 1), hist[key], label=_CURVES.get(key, key))
        ax.set(xlabel="epoch", title=name)
        if ax is axes[0]:
            ax.set_ylabel("loss")
        if logy:
            ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    return fig


def _show_row(axes, images, title):
    for ax, im in zip(axes, images):
        show_structure(ax, im)
    axes[0].set_ylabel(title)


def _two_rows(top, bottom, top_label: str, bottom_label: str):
    """Figure with ``top`` images over ``bottom`` images (pore white); 3-D volumes show their
    middle slice."""
    import matplotlib.pyplot as plt

    top, bottom = np.asarray(top), np.asarray(bottom)
    if top.ndim == 4 and top.shape[-1] != 1:
        top, bottom = top[:, top.shape[1] // 2], bottom[:, bottom.shape[1] // 2]
    size = min(1.6, (BOOK_WIDTH - 0.4) / len(top))
    fig, axes = plt.subplots(2, len(top), figsize=(size * len(top) + 0.4, 2 * size + 0.2), squeeze=False)
    _show_row(axes[0], top, top_label)
    _show_row(axes[1], bottom, bottom_label)
    fig.tight_layout(pad=0.3)
    return fig


def plot_reconstructions(model, images, n: int = 6):
    """Inputs (top) and mean reconstructions ``decode(encode_mean(x))`` (bottom), pore white;
    the reconstructions show the decoder's pore probability as a grey level."""
    x = np.asarray(images[:n]) > 0.5
    return _two_rows(x, model.decode(model.encode_mean(x)), "input", "decoded")


def plot_prior_samples(model, ground_truth, n: int = 6, seed: int = 0):
    """Decoded samples ``z ~ N(0, I)`` (bottom, "prior z") under ground-truth images (top,
    "data") (Fig. 12); pore white, the decoder's grey levels are pore probabilities."""
    z = np.random.default_rng(seed).standard_normal((n, model.latent_dim)).astype("float32")
    return _two_rows(np.asarray(ground_truth[:n]), model.decode(z), "data", "prior z")


def architecture_table(model):
    """Layer, output shape, activation and parameter count of each sub-model (like Table 2).

    Works for a :class:`~pvae_lib.models.pvae.PVAE` (encoder, decoder, regressor) and for any
    functional ``keras.Model`` such as the CNN surrogate.

    Returns a pandas DataFrame with columns ``part, layer, output, activation, params``.
    """
    import pandas as pd

    rows = []
    if hasattr(model, "encoder"):
        parts = [("encoder", model.encoder), ("decoder", model.decoder)]
        if getattr(model, "regressor", None) is not None:
            parts.append(("regressor", model.regressor))
    else:  # any functional keras.Model, e.g. the CNN surrogate
        parts = [(model.name, model)]
    for part, sub in parts:
        for layer in sub.layers:
            out = layer.output
            shapes = [o.shape for o in out] if isinstance(out, (list, tuple)) else [out.shape]
            act = getattr(layer, "activation", None)
            act = getattr(act, "__name__", "") if act is not None else type(layer).__name__.lower()
            if type(layer).__name__ in ("InputLayer", "Flatten", "Reshape", "Identity") or "Pool" in type(layer).__name__:
                act = ""
            rows.append({"part": part, "layer": type(layer).__name__,
                         "output": " / ".join("x".join(str(d) for d in s[1:]) for s in shapes),
                         "activation": act, "params": layer.count_params()})
    return pd.DataFrame(rows)
