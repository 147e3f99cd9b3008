"""The live inverse-design explorer: type a target, get verified designs (paper Section 4.5).

An ipywidgets front end of :func:`pvae_lib.experiments.design.design_target` (the pipeline of
``pvae design``); its kernel-free counterpart for the static book is
:func:`pvae_lib.design.widgets.design_slider`. Structures are drawn pore white, solid black
(:mod:`pvae_lib.plotting`).
"""
from __future__ import annotations

import numpy as np

__all__ = ["design_explorer"]


def design_explorer(model, train_images, train_properties, profile=None, n: float | None = None,
                    k11: float | None = None, refine_calls: int | None = None):
    """ipywidgets explorer: type a target (n, K11), press *design*, see verified designs.

    Runs :func:`pvae_lib.experiments.design.design_target` for the target (starts from the
    nearest training structures, direct and loop stages, every candidate measured exactly,
    square-pore refinement), then draws the target and the designs' verified properties on the
    (n, K11) map of the training structures, and the designs themselves. A target outside the
    training range is named as such, with the nearest feasible target. Needs a running kernel
    (Jupyter, Colab); :func:`pvae_lib.design.widgets.design_slider` is the static version.

    Parameters
    ----------
    model : trained pVAE mapped to (n, K11)
    train_images : (N, H, W) bool training structures; train_properties : (N, 2) their n and K11
    profile : sizes (``profile.design``; the generator's pore size), default ``get_profile()``
    n, k11 : initial target (default: the median training structure)
    refine_calls : exact solver calls per design in the refinement (default ``profile.design.refine_calls``)

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from ..design.plots import plot_property_map
    from ..plotting import show_structure
    from .design import design_target

    if profile is None:
        from pvae_lib.profiles import get_profile

        profile = get_profile()
    tp = np.asarray(train_properties, float)
    n_w = widgets.BoundedFloatText(value=float(np.median(tp[:, 0]) if n is None else n), min=0.0, max=1.0,
                                   step=0.01, description="n*")
    k_w = widgets.BoundedFloatText(value=float(np.median(tp[:, 1]) if k11 is None else k11), min=0.0,
                                   max=float(10 * tp[:, 1].max()), step=0.01, description="K11* (l.u.²)")
    button = widgets.Button(description="design", button_style="primary")
    out = widgets.Output()

    def _run(*_):
        out.clear_output(wait=True)
        with out:
            try:
                res = design_target(model, [n_w.value, k_w.value], train_images, tp, profile=profile,
                                    refine_calls=refine_calls, force=True)
            except ValueError as exc:
                print(f"cannot design this target: {exc}")
                return
            if res.check.status != "ok":
                print(res.check.message)
                if res.distance > 0:
                    print(f"designed the nearest feasible target n={res.aimed[0]:.4g}, K11={res.aimed[1]:.4g} "
                          f"(scaled distance {res.distance:.3g} from the requested one)")
            m = len(res.images)
            fig = plt.figure(figsize=(3.2 + 2.0 * m, 3.2))
            grid = fig.add_gridspec(1, m + 1, width_ratios=[1.6] + [1.0] * m)
            mx = fig.add_subplot(grid[0, 0])
            plot_property_map(tp, ax=mx)
            mx.plot([res.target[0]], [res.target[1]], "*", color="tab:red", ms=14, label="target")
            if res.distance > 0:  # an infeasible target: the nearest feasible one was designed
                mx.plot([res.aimed[0]], [res.aimed[1]], "*", mfc="none", mec="tab:red", ms=14,
                        label="nearest feasible (designed)")
                mx.plot(*np.c_[res.target, res.aimed], ":", color="tab:red", lw=1)
            mx.plot(res.properties[:, 0], res.properties[:, 1], "x", color="k", ms=8, mew=2, label="designs, exact")
            mx.legend(fontsize=8, loc="upper left")
            for j in range(m):
                show_structure(fig.add_subplot(grid[0, j + 1]), res.images[j], fontsize=9,
                               title=f"n={res.properties[j, 0]:.3f}\nK11={res.properties[j, 1]:.3f}")
            plt.show()

    button.on_click(_run)
    _run()
    return widgets.VBox([widgets.HBox([n_w, k_w, button]), out])
