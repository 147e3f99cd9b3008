"""Interactive latent-space explorers (paper Section 4.4).

* :func:`latent_explorer` - ipywidgets: pick start and end samples and move a slider along the
  slerp path; the decoded structure and its properties are recomputed live. Needs a running
  kernel (Jupyter, Colab); a static page cannot run it, so the book hides its output.
* :func:`jshtml_slider` - a kernel-free slider: frames are pre-rendered and embedded as a
  JavaScript animation (``matplotlib.animation.FuncAnimation.to_jshtml``), so it works in the
  static HTML book.

and the inverse-design explorers (paper Section 4.5):

* :func:`design_slider` - a kernel-free slider over precomputed designs, drawn beside their
  targets on the (n, K11) map; its live counterpart, which designs a typed target, is an
  experiment (:func:`pvae_lib.experiments.explorer.design_explorer`).

Structures are drawn pore white, solid black (:mod:`pvae_lib.plotting`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["latent_explorer", "jshtml_slider", "design_slider"]


def latent_explorer(model, images, properties, cnn=None, start: int = 0, end: int = 1, steps: int = 100,
                    method: str = "slerp", exact: bool = True):
    """ipywidgets explorer of the path between two samples of ``images``.

    Parameters
    ----------
    model : :class:`~pvae_lib.models.pvae.PVAE` (its ``encode_mean`` and ``decode``)
    images : (N, H, W) bool, the samples to choose from; properties : (N, 2) their n and K11
    cnn : CNN surrogate (see :func:`pvae_lib.design.evaluate.surrogate_properties`), optional
    exact : also compute the exact K11 of the binarised structure (a few ms)

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from ..plotting import show_structure
    from .evaluate import exact_properties, surrogate_properties
    from ..binarize import DECODED_RULE, binarize
    from .interpolation import decode_path, interpolation_path

    images = np.asarray(images)
    properties = np.asarray(properties)
    n = len(images)
    start_w = widgets.BoundedIntText(value=start, min=0, max=n - 1, description="start sample")
    end_w = widgets.BoundedIntText(value=end, min=0, max=n - 1, description="end sample")
    t_w = widgets.IntSlider(value=0, min=0, max=steps - 1, description="step", continuous_update=False)
    method_w = widgets.ToggleButtons(options=["slerp", "lerp"], value=method, description="path")
    out = widgets.Output()
    cache = {}

    def _path(i0, i1, meth):
        key = (i0, i1, meth)
        if key not in cache:
            mu = model.encode_mean(images[[i0, i1]])
            cache[key] = interpolation_path(mu[0], mu[1], steps, method=meth)
        return cache[key]

    def _draw(*_):
        path = _path(start_w.value, end_w.value, method_w.value)
        img = binarize(decode_path(model, path[t_w.value:t_w.value + 1]), DECODED_RULE)[0]
        lines = [f"step {t_w.value}/{steps - 1}", f"n (image) = {img.mean():.3f}"]
        if exact:
            lines.append(f"K11 exact = {exact_properties(img[None], progress=False)['k11'][0]:.4f}")
        if cnn is not None:
            s = surrogate_properties(cnn, img[None])[0]
            lines.append(f"CNN: n = {s[0]:.3f}, K11 = {s[1]:.4f}")
        p0, p1 = properties[start_w.value], properties[end_w.value]
        lines.append(f"start n={p0[0]:.2f} K={p0[1]:.3f} | end n={p1[0]:.2f} K={p1[1]:.3f}")
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(4.5, 5.2))
            show_structure(ax, img, "\n".join(lines), fontsize=10)
            fig.tight_layout()
            plt.show()

    for w in (start_w, end_w, t_w, method_w):
        w.observe(_draw, names="value")
    _draw()
    return widgets.VBox([widgets.HBox([start_w, end_w]), method_w, t_w, out])


def jshtml_slider(frames, captions=None, interval: int = 150, size: float = 3.5, dpi: int = 85,
                  curves: dict | None = None, max_frames: int | None = 41, fontsize: float = 12):
    """Kernel-free slider over pre-rendered frames (works in the static book).

    The structure (pore white) is drawn with its caption above it; with ``curves`` the right
    half of the figure shows each curve along the path with a marker at the current frame.
    The figure is about ``size * 2`` inches wide with curves (``size + 0.3`` without) at ``dpi``,
    i.e. about 650 px by default, with captions of ``fontsize`` points, so it stays legible at the
    book's width; at most ``max_frames`` evenly spaced frames (first and last included) keep the
    embedded HTML small (every frame is one PNG).

    Parameters
    ----------
    frames : (F, H, W) images (1 = pore)
    captions : F strings shown above each frame, optional
    interval : milliseconds between frames when playing
    size : height of the figure and width of the image panel, inches
    dpi : dots per inch of the embedded frames
    curves : dict, optional
        Panel label -> (F,) values along the path (e.g. ``{"$n^F$": n, "$K_{11}$": k}``), or
        label -> dict of line name -> (F,) values to draw several lines in one panel.
    max_frames : int or None
        Subsample to this many frames (``None``: all).
    fontsize : caption and label size in points

    Returns
    -------
    IPython.display.HTML
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    from ..plotting import show_structure

    frames = np.asarray(frames)
    n = len(frames)
    if captions is not None and len(captions) != n:
        raise ValueError(f"{len(captions)} captions for {n} frames")
    shown = np.arange(n)
    if max_frames is not None and n > max_frames:
        shown = np.unique(np.linspace(0, n - 1, max_frames).round().astype(int))
    panels = {} if curves is None else {k: (v if isinstance(v, dict) else {"": v}) for k, v in curves.items()}
    with matplotlib.rc_context({"font.size": fontsize - 1, "animation.embed_limit": 50.0}):
        if panels:
            fig = plt.figure(figsize=(2.0 * size + 0.6, size + 0.3), dpi=dpi)
            grid = fig.add_gridspec(len(panels), 2, width_ratios=[1.0, 1.15], wspace=0.35, hspace=0.15)
            ax = fig.add_subplot(grid[:, 0])
            markers = []
            for row, (label, lines) in enumerate(panels.items()):
                cax = fig.add_subplot(grid[row, 1])
                for name, values in lines.items():
                    cax.plot(np.arange(n), np.asarray(values, float), lw=1.5, label=name or None)
                if any(lines):
                    cax.legend(fontsize=fontsize - 3, loc="best")
                cax.set_ylabel(label)
                markers.append(cax.axvline(0, color="r", lw=1.5))
                if row < len(panels) - 1:
                    cax.tick_params(labelbottom=False)
                else:
                    cax.set_xlabel("step")
        else:
            fig, ax = plt.subplots(figsize=(size + 0.3, size + 0.3), dpi=dpi)
            markers = []
        im = show_structure(ax, frames[0])
        title = ax.set_title(captions[0] if captions is not None else "", fontsize=fontsize)
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.14, top=0.88)

        def update(k):
            i = shown[k]
            im.set_data(np.asarray(frames[i], float))
            if captions is not None:
                title.set_text(captions[i])
            for m in markers:
                m.set_xdata([i, i])
            return (im, title, *markers)

        anim = FuncAnimation(fig, update, frames=len(shown), interval=interval, blit=False)
        html = _offline_controls(anim.to_jshtml(default_mode="once"))
    plt.close(fig)
    return HTML(html)


def design_slider(images, targets, achieved, train_properties, interval: int = 600, size: float = 3.5,
                  dpi: int = 85, fontsize: float = 12, max_frames: int | None = 24):
    """Kernel-free slider over precomputed inverse designs (works in the static book).

    Each frame shows, on the left, the (n, K11) plane with the training structures, every
    target of the slider, the current target (red star) and what its design achieved when
    measured exactly (black cross, joined to the target); on the right the design (pore white)
    titled with its target and verified properties.

    Parameters
    ----------
    images : (F, H, W) bool designs, one per target (True = pore)
    targets : (F, 2) targets (porosity [-], K11 [l.u.²])
    achieved : (F, 2) the designs' verified (exact) porosity and K11
    train_properties : (N, 2) the training structures' (n, K11), for orientation
    interval : milliseconds between frames when playing
    size, dpi, fontsize : figure height (inches), resolution and caption size, as :func:`jshtml_slider`
    max_frames : int or None
        Show this many evenly spaced designs at most (first and last included; ``None``: all),
        which keeps the embedded HTML small (every frame is one PNG).

    Returns
    -------
    IPython.display.HTML

    See Also
    --------
    pvae_lib.experiments.explorer.design_explorer : the live version (needs a kernel)
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    from ..plotting import show_structure
    from .plots import plot_property_map

    images, targets, achieved = np.asarray(images), np.asarray(targets, float), np.asarray(achieved, float)
    if not (len(images) == len(targets) == len(achieved)) or len(images) == 0:
        raise ValueError(f"need one target and one achieved pair per design: {len(images)} designs, "
                         f"{len(targets)} targets, {len(achieved)} achieved")
    if targets.shape[1:] != (2,) or achieved.shape[1:] != (2,):
        raise ValueError("targets and achieved must be (F, 2) arrays of (porosity, K11)")
    if max_frames is not None and len(images) > max_frames:
        keep = np.unique(np.linspace(0, len(images) - 1, max_frames).round().astype(int))
        images, targets, achieved = images[keep], targets[keep], achieved[keep]
    captions = [f"target n={t[0]:.3f}, K11={t[1]:.3f}\nverified n={a[0]:.3f}, K11={a[1]:.3f}"
                for t, a in zip(targets, achieved)]
    with matplotlib.rc_context({"font.size": fontsize - 1, "animation.embed_limit": 50.0}):
        fig = plt.figure(figsize=(2.0 * size + 0.8, size + 0.4), dpi=dpi)
        grid = fig.add_gridspec(1, 2, width_ratios=[1.25, 1.0], wspace=0.3)
        mx = fig.add_subplot(grid[0, 0])
        plot_property_map(train_properties, targets, ax=mx)
        star, = mx.plot([targets[0, 0]], [targets[0, 1]], "*", color="tab:red", ms=14, label="current target")
        got, = mx.plot([achieved[0, 0]], [achieved[0, 1]], "x", color="k", ms=9, mew=2, label="its design, exact")
        link, = mx.plot(*np.c_[targets[0], achieved[0]], color="k", lw=1)
        mx.legend(fontsize=fontsize - 4, loc="upper left", markerscale=1.0)
        ax = fig.add_subplot(grid[0, 1])
        im = show_structure(ax, images[0])
        title = ax.set_title(captions[0], fontsize=fontsize - 1)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.14, top=0.86)

        def update(k):
            star.set_data([targets[k, 0]], [targets[k, 1]])
            got.set_data([achieved[k, 0]], [achieved[k, 1]])
            link.set_data(*np.c_[targets[k], achieved[k]])
            im.set_data(np.asarray(images[k], float))
            title.set_text(captions[k])
            return star, got, link, im, title

        anim = FuncAnimation(fig, update, frames=len(images), interval=interval, blit=False)
        html = _offline_controls(anim.to_jshtml(default_mode="once"))
    plt.close(fig)
    return HTML(html)


#: text symbols for the Font Awesome icons of matplotlib's jshtml player buttons
_ICONS = {"fa-minus": "\u2212", "fa-plus": "+", "fa-fast-backward": "\u23ee", "fa-step-backward": "\u23f4|",
          "fa-play fa-flip-horizontal": "\u25c0", "fa-pause": "\u23f8", "fa-play": "\u25b6",
          "fa-step-forward": "|\u23f5", "fa-fast-forward": "\u23ed"}


def _offline_controls(html: str) -> str:
    """matplotlib's jshtml player without its Font Awesome stylesheet from a CDN.

    The page must work offline (and CI has no internet), so the icon font link is dropped and
    each icon is replaced by a text symbol.
    """
    import re

    html = re.sub(r'<link rel="stylesheet"\s*href="https?://[^"]*font-awesome[^"]*">', "", html)
    for cls, symbol in _ICONS.items():
        html = html.replace(f'<i class="fa {cls}"></i>', f"<span>{symbol}</span>")
    return html
