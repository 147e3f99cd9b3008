"""Latent-space analysis, interpolation and inverse design (paper Sections 3.3, 4.3-4.5).

Modules (TensorFlow is imported only where a model is run):

- :mod:`~pvae_lib.design.latent` - encode a data set, KDE per latent dimension, PCA,
  correlation of principal components with properties (paper Figs. 8-11).
- :mod:`~pvae_lib.design.interpolation` - ``slerp``/``lerp`` and decoded paths (Fig. 15).
- :mod:`~pvae_lib.design.inverse` - batched gradient-based inverse design (Fig. 4, Section 4.5).
- :mod:`~pvae_lib.design.evaluate` - properties of designs (CNN surrogate and exact solver),
  R², feasibility of targets (Figs. 16-17).
- :mod:`~pvae_lib.design.verify` - verified selection: every candidate design measured exactly.
- :mod:`~pvae_lib.design.refine` - exact local search on the square pores of a design.
- :mod:`~pvae_lib.design.study` - the whole experiment of Section 4.5 in one call.
- :mod:`~pvae_lib.design.plots` - the figures.
- :mod:`~pvae_lib.design.widgets` - live (ipywidgets) and kernel-free (jshtml) explorers.
"""
from __future__ import annotations

import importlib

_LAZY = {
    # interpolation
    "slerp": "interpolation", "lerp": "interpolation", "interpolation_path": "interpolation",
    "decode_path": "interpolation", "PathProperties": "interpolation",
    "path_properties": "interpolation",
    # latent
    "encode_dataset": "latent", "latent_kde_curves": "latent", "LatentPCA": "latent",
    "pc_property_correlation": "latent",
    # inverse
    "InverseResult": "inverse", "optimize_latent": "inverse", "initial_guesses": "inverse",
    "inverse_design": "inverse", "random_targets": "inverse", "target_box": "inverse",
    "validate_targets": "inverse", "distinct_designs": "inverse", "predict_properties": "inverse",
    "TargetCheck": "inverse", "check_target": "inverse",
    # evaluate
    "exact_properties": "evaluate", "surrogate_properties": "evaluate", "feasible_mask": "evaluate",
    "evaluate_designs": "evaluate", "r2_scores": "evaluate", "feasibility_envelope": "evaluate",
    "nearest_feasible": "evaluate",
    # verify
    "scaled_error": "verify", "duct_flow_evaluator": "verify", "ComponentDuctFlow": "verify",
    "PropertyCache": "verify", "VerifiedSelection": "verify", "stack_candidates": "verify",
    "select_verified": "verify",
    # refine
    "squares_from_image": "refine", "image_from_squares": "refine", "free_positions": "refine",
    "check_squares": "refine", "RefineResult": "refine", "refine_designs": "refine",
    # study
    "InverseStudy": "study", "run_inverse_study": "study", "r2_table": "study",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"pvae_lib.design.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'pvae_lib.design' has no attribute {name!r}")
