"""Latent-space analysis, interpolation and inverse design (paper Sections 3.3, 4.3-4.5).

Modules (none imports TensorFlow: it is loaded only when a model is run):

- :mod:`~pvae_lib.design.latent` - KDE per latent dimension, PCA, correlation of principal
  components with properties (paper Figs. 8-11); encode and decode with the model's own
  ``PVAE.encode_mean`` / ``PVAE.decode``.
- :mod:`~pvae_lib.design.interpolation` - ``slerp``/``lerp`` and decoded paths (Fig. 15).
- :mod:`~pvae_lib.design.inverse` - batched gradient-based inverse design (Fig. 4, Section 4.5).
- :mod:`~pvae_lib.design.evaluate` - properties of designs (CNN surrogate and exact solver),
  R², feasibility of targets (Figs. 16-17).
- :mod:`~pvae_lib.design.verify` - verified selection: every candidate design measured exactly.
- :mod:`~pvae_lib.design.refine` - exact local search on the square pores of a design.
- :mod:`~pvae_lib.design.plots` - the figures.
- :mod:`~pvae_lib.design.widgets` - live (ipywidgets) and kernel-free (jshtml) explorers.

The pipelines that string these together (the Section 4.5 study, ``pvae design``) are the
experiments layer, :mod:`pvae_lib.experiments`.
"""
from __future__ import annotations

from .evaluate import (  # noqa: F401
    evaluate_designs,
    exact_properties,
    feasibility_envelope,
    feasible_mask,
    nearest_feasible,
    neighbour_radius,
    r2_scores,
    surrogate_properties,
)
from .interpolation import (  # noqa: F401
    PathProperties,
    decode_path,
    interpolation_path,
    lerp,
    path_properties,
    slerp,
)
from .inverse import (  # noqa: F401
    InverseResult,
    TargetCheck,
    check_target,
    distinct_designs,
    initial_guesses,
    inverse_design,
    optimize_latent,
    latent_properties,
    property_names,
    random_targets,
    target_box,
    validate_targets,
)
from .latent import (  # noqa: F401
    LatentPCA,
    latent_kde_curves,
    pc_property_correlation,
)
from .refine import (  # noqa: F401
    RefineResult,
    check_squares,
    free_positions,
    image_from_squares,
    refine_designs,
    squares_from_image,
)
from .verify import (  # noqa: F401
    ComponentDuctFlow,
    PropertyCache,
    VerifiedSelection,
    duct_flow_evaluator,
    exact_evaluator,
    lbm_evaluator,
    scaled_error,
    select_verified,
    stack_candidates,
)

__all__ = [
    "ComponentDuctFlow",
    "InverseResult",
    "LatentPCA",
    "PathProperties",
    "PropertyCache",
    "RefineResult",
    "TargetCheck",
    "VerifiedSelection",
    "check_squares",
    "check_target",
    "decode_path",
    "distinct_designs",
    "duct_flow_evaluator",
    "evaluate_designs",
    "exact_evaluator",
    "exact_properties",
    "feasibility_envelope",
    "feasible_mask",
    "free_positions",
    "image_from_squares",
    "initial_guesses",
    "interpolation_path",
    "inverse_design",
    "latent_kde_curves",
    "lbm_evaluator",
    "lerp",
    "nearest_feasible",
    "neighbour_radius",
    "optimize_latent",
    "path_properties",
    "pc_property_correlation",
    "property_names",
    "latent_properties",
    "r2_scores",
    "random_targets",
    "refine_designs",
    "scaled_error",
    "select_verified",
    "slerp",
    "squares_from_image",
    "stack_candidates",
    "surrogate_properties",
    "target_box",
    "validate_targets",
]
