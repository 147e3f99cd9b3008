"""The experiments of the book: pipelines that combine the models, the design layer and the data.

The layers below this one each do one job (``data``, ``lbm``/``stokes2d``, ``models``,
``design``); an experiment strings them together the way a chapter or a command does, with the
profile's settings, and is the one place both call:

- :mod:`~pvae_lib.experiments.inverse` - the inverse-design study of paper Section 4.5 in one
  call (targets, starts, direct and loop stages, surrogate and exact scores;
  ``run_inverse_study``), verified selection and exact refinement beyond the paper
  (``verify_and_refine``), the protocol table, and the loop with every candidate checked by an
  exact evaluator for any properties (``loop_and_verify``, the foam chapter's designs).
- :mod:`~pvae_lib.experiments.design` - verified designs for one target (``design_target``, used
  by the design explorer) and the files ``pvae design`` writes (``run_design``; the command line
  in :mod:`pvae_lib.cli.design` only checks flags and calls it).

Trained models are loaded or trained (and cached) by :mod:`pvae_lib.models.zoo` and
:mod:`pvae_lib.models.foam`, with the shipped weights of :mod:`pvae_lib.models.shipped`.
Nothing here imports TensorFlow at import time.
"""
from __future__ import annotations

from .design import AIMS, DesignSet, design_target, load_pvae, read_design_data, run_design
from .inverse import (InverseStudy, LoopDesigns, VerifiedStudy, loop_and_verify, protocol_table, r2_table,
                      run_inverse_study, verify_and_refine)

__all__ = ["AIMS", "DesignSet", "design_target", "load_pvae", "read_design_data", "run_design", "InverseStudy",
           "LoopDesigns", "VerifiedStudy", "loop_and_verify", "protocol_table", "r2_table", "run_inverse_study",
           "verify_and_refine"]
