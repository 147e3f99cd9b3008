"""Interactive latent-space explorers (paper Section 4.4).

* :func:`latent_explorer` - ipywidgets: pick start and end samples and move a slider along the
  slerp path; the decoded structure and its properties are recomputed live. Needs a running
  kernel (Jupyter, Colab); in the static book it shows as a frozen widget.
* :func:`jshtml_slider` - a kernel-free slider: frames are pre-rendered and embedded as a
  JavaScript animation (``matplotlib.animation.FuncAnimation.to_jshtml``), so it works in the
  static HTML book.
"""
from __future__ import annotations

import numpy as np

__all__ = ["latent_explorer", "jshtml_slider"]


def latent_explorer(model, images, properties, cnn=None, start: int = 0, end: int = 1, steps: int = 100,
                    method: str = "slerp", exact: bool = True):
    """ipywidgets explorer of the path between two samples of ``images``.

    Parameters
    ----------
    model : PVAE-like
    images : (N, H, W) bool, the samples to choose from; properties : (N, 2) their n and K11
    cnn : CNN surrogate (see :func:`pvae_lib.design.evaluate.surrogate_properties`), optional
    exact : also compute the exact K11 of the binarised structure (a few ms)

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from .evaluate import exact_properties, surrogate_properties
    from .interpolation import binarize, decode_path, interpolation_path
    from .latent import encode_dataset

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
            mu = encode_dataset(model, images[[i0, i1]])
            cache[key] = interpolation_path(mu[0], mu[1], steps, method=meth)
        return cache[key]

    def _draw(*_):
        path = _path(start_w.value, end_w.value, method_w.value)
        img = binarize(decode_path(model, path[t_w.value:t_w.value + 1]))[0]
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
            fig, ax = plt.subplots(figsize=(3, 3))
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_axis_off()
            ax.set_title("\n".join(lines), fontsize=7)
            plt.show()

    for w in (start_w, end_w, t_w, method_w):
        w.observe(_draw, names="value")
    _draw()
    return widgets.VBox([widgets.HBox([start_w, end_w]), method_w, t_w, out])


def jshtml_slider(frames, captions=None, interval: int = 120, size: float = 2.6, dpi: int = 72):
    """Kernel-free slider over pre-rendered frames (works in the static book).

    Parameters
    ----------
    frames : (F, H, W) images (pore white)
    captions : F strings shown as the title of each frame, optional
    interval : milliseconds between frames when playing

    Returns
    -------
    IPython.display.HTML
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    frames = np.asarray(frames)
    fig, ax = plt.subplots(figsize=(size, size + 0.35), dpi=dpi)
    im = ax.imshow(frames[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    title = ax.set_title(captions[0] if captions is not None else "", fontsize=8)
    fig.tight_layout()

    def update(i):
        im.set_data(frames[i])
        if captions is not None:
            title.set_text(captions[i])
        return im, title

    anim = FuncAnimation(fig, update, frames=len(frames), interval=interval, blit=False)
    with matplotlib.rc_context({"animation.embed_limit": 50.0}):
        html = anim.to_jshtml(default_mode="once")
    plt.close(fig)
    return HTML(html)
