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
- :mod:`~pvae_lib.experiments.paper_loop` - the paper's loop over every start, computed once per
  key and stored (shipped for the quick profile).
- :mod:`~pvae_lib.experiments.zoo` - the chapters' trained models (CNN, VAE, pVAEs): trained once
  with the profile's settings, cached under a key, loaded (``get_trained_cnn``,
  ``get_trained_pvae``, ``training_info``, ``training_record``).
- :mod:`~pvae_lib.experiments.foam` - the same for the 3-D foam pVAE (``get_trained_foam_pvae``; not
  imported here, so that ``python -m pvae_lib.experiments.foam`` runs it as a fresh module).
- :mod:`~pvae_lib.experiments.shipped` - the trained models that ship with the package: the
  manifest, restoring them into the cache when their key matches, and the command that makes them.

All of them cache by the one scheme of :mod:`pvae_lib.cache`. Nothing here imports TensorFlow at
import time.
"""
from __future__ import annotations

from .design import AIMS, DesignSet, design_target, load_pvae, read_design_data, run_design
from .inverse import (InverseStudy, LoopDesigns, VerifiedStudy, loop_and_verify, protocol_table, r2_table,
                      run_inverse_study, verify_and_refine)
from .zoo import get_trained_cnn, get_trained_pvae, training_info, training_record

__all__ = ["AIMS", "DesignSet", "design_target", "load_pvae", "read_design_data", "run_design", "InverseStudy",
           "LoopDesigns", "VerifiedStudy", "loop_and_verify", "protocol_table", "r2_table", "run_inverse_study",
           "verify_and_refine", "get_trained_cnn", "get_trained_pvae", "training_info", "training_record"]
