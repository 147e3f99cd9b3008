"""Figures the chapters recorded during the book build (`_build/results.json`).

Run after `jupyter-book build` (`pytest -m book`); `.ci/test` does this.
"""
import math
import os

import pytest
import yaml

from pvae_lib.results import read_results, results_path, project_root

pytestmark = pytest.mark.book

ROOT = project_root(__file__)


def _notebook_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]
    out = []
    for f in files:
        text = (ROOT / f).with_suffix(".md").read_text(encoding="utf-8")
        if text.startswith("---") and "jupytext:" in text[:400]:
            out.append(f.split("/")[-1])
    return out


@pytest.fixture(scope="module")
def results():
    path = results_path()
    assert path.is_file(), f"{path} missing: build the book first (bash .ci/build-book)"
    return read_results(path)


def test_every_chapter_recorded_finite_figures(results):
    for chapter in _notebook_chapters():
        assert chapter in results, f"chapter {chapter} recorded no figures"
        figures = results[chapter]
        assert figures, chapter
        for key, value in figures.items():
            if isinstance(value, float):
                assert math.isfinite(value), f"{chapter}.{key} = {value}"


# Acceptance figures: (chapter, key, comparison, bound). Checked when the chapter is in the book.
ACCEPTANCE = [
    # KL / ELBO: Monte-Carlo KL matches the closed form, ELBO gap = KL to the posterior
    ("kl_elbo", "mc_kl_rel_error", "<", 0.05),
    ("kl_elbo", "elbo_gap_minus_kl", "<", 1e-8),
    ("kl_elbo", "grad_rel_error", "<", 0.05),
    # LBM physics against analytic flows (TRT at 16 nodes across the gap)
    ("darcy_lbm", "poiseuille_rel_error_trt", "<", 0.01),
    ("darcy_lbm", "duct_rel_error_trt", "<", 0.01),
    ("darcy_lbm", "trt_tau_spread", "<", 0.01),
    ("darcy_lbm", "bgk_tau_spread", ">=", 0.01),
    ("darcy_lbm", "lbm_vs_stokes2d_rel_diff", "<", 0.02),
    ("darcy_lbm", "pressure_vs_force_rel_diff", "<", 0.03),
    ("darcy_lbm", "tensor_asymmetry", "<", 1e-3),
    # data: 3-D LBM vs exact solver on synthetic samples, CT round trip, compression anisotropy
    ("microstructures", "lbm_vs_exact_max_rel_diff", "<", 0.025),
    ("microstructures", "ct_read_voxels_wrong", "<", 1),
    ("microstructures", "foam_k11_over_k22_strain_max", "<", 1.0),
    # foam labels: the full tensor is symmetric to the solver's accuracy, and the LBM tensor of a
    # turned sub-volume is R K R^T (measured 2e-4 and 2e-5; a wrong transform gives 0.1 or more)
    ("foam_study", "tensor_asymmetry_max", "<", 1e-3),
    ("foam_study", "symmetry_rel_error", "<", 1e-3),
    # the slerp walk (Figs. 27-28): all 100 decoded structures measured by the LBM, as in the paper
    ("foam_study", "path_steps_checked", ">=", 100),
    # the foam pVAE's porosity (issue 12's target; the shipped model, latent 128: 0.9865). Over seeds
    # 2025-2027 0.98548 ± 0.00127: 4.3 spreads above the bound (a strict xfail of test_foam_seed_spread)
    ("foam_study", "r2_n", ">=", 0.98),
    # the same regressor averaged over the 8 lateral symmetries (no retraining): R² n 0.98897 ± 0.00152
    # over seeds 2025-2027, 5.9 spreads above the target 0.98 (one orientation: 4.3)
    ("foam_study", "r2_n_symmetrized", ">=", 0.98),
    # learning core at quick scale (targets of the reproducibility issue); their spread over seeds
    # 2025-2027 is in data/seed_spread_quick.json and tests/test_seed_spread.py checks the margins.
    # CNN at 200 epochs: R² n 0.99987 ± 0.00001, R² K11 0.99865 ± 0.00002; each bound is the highest
    # round figure five spreads below the mean (the targets were 0.999 and 0.998)
    ("cnn_surrogate", "r2_n", ">=", 0.9998),
    ("cnn_surrogate", "r2_k11", ">=", 0.9985),
    # VAE 240 epochs at a peak learning rate of 1e-3 (before 2e-3), joint 200: over seeds 2025-2027
    # R² n 0.99965 ± 0.00005, R² K11 0.99632 ± 0.00088 (before 0.99907 ± 0.00037, 0.99319 ± 0.00250).
    # Each bound is the highest round figure five spreads below the mean. The target for R² n,
    # 0.998, is five spreads clear; its 0.995 for R² K11 is met by every seed but lies only 1.5 spreads
    # below the mean
    ("pvae", "r2_n", ">=", 0.999),
    ("pvae", "r2_k11", ">=", 0.991),
    # the same regressor averaged over the 8 symmetries of the square, as the CNN surrogate is:
    # R² n 0.99985 ± 0.00002, R² K11 0.99762 ± 0.00070 (0.995 is 3.7 spreads below the mean)
    ("pvae", "r2_n_symmetrized", ">=", 0.9997),
    ("pvae", "r2_k11_symmetrized", ">=", 0.994),
    # binarised by DECODED_RULE (each image keeps its expected porosity): voxel accuracy 0.98501 ±
    # 0.00244 and porosity MAE 0.00274 ± 0.00022 over seeds 2025-2027 (at stage-1 rate 2e-3: 0.966 ±
    # 0.013 and 0.0044 ± 0.0008); the bounds are the round figures five spreads from the mean (the
    # issue's targets were 0.95 and 0.01)
    ("pvae", "voxel_accuracy", ">=", 0.97),
    ("pvae", "porosity_mae", "<", 0.004),
    # inverse design: designs the exact physics confirms, on the feasible targets (verified
    # selection + exact refinement; the targets)
    ("inverse_design", "r2_k11_refined_feasible", ">=", 0.99),
    ("inverse_design", "r2_n_refined_feasible", ">=", 0.99),
    ("inverse_design", "median_rel_k11_error_refined_feasible", "<", 0.02),
]


#: the foam study's targets (issue 12) on the shipped foam pVAE's test split (224 sub-volumes), not
#: reached yet: strict, so an entry must go when a better model reaches it
FOAM_TARGETS = {
    "r2_k11": (">=", 0.95, "0.939 (latent 32: 0.935; before: 0.903, 0.842)"),
    "r2_k22": (">=", 0.95, "0.930 (latent 32: 0.923; before: 0.893, 0.847)"),
    "r2_k33": (">=", 0.95, "0.929 (latent 32: 0.928; before: 0.890, 0.852)"),
    "recon_voxel_accuracy": (">=", 0.90, "0.830 (latent 32: 0.752; before: 0.745, 0.67; the all-pore guess: 0.79)"),
}


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=f"measured {v[2]}"))
                                 for k, v in FOAM_TARGETS.items()])
def test_foam_targets(results, key):
    if "foam_study" not in _notebook_chapters():
        pytest.skip("foam_study not in the book")
    op, bound, _ = FOAM_TARGETS[key]
    value = results["foam_study"][key]
    assert value >= bound, f"foam_study.{key} = {value} (want {op} {bound})"


@pytest.mark.parametrize("chapter, key, op, bound", ACCEPTANCE)
def test_acceptance_figures(results, chapter, key, op, bound):
    if chapter not in _notebook_chapters():
        pytest.skip(f"{chapter} not in the book")
    value = results[chapter][key]
    ok = abs(value) < bound if op == "<" else value >= bound
    assert ok, f"{chapter}.{key} = {value} (want {op} {bound})"


def test_paper_loop_refines_every_start_and_reproduces(results):
    """The paper's protocol (Sec. 4.5) loops all starts of every target, and the stored loop that the
    chapter uses agrees with its first batch run again by the build: bit for bit on the machine
    that made it (measured), else (another CPU's last bits, README.md *Reproducible*, which the
    loop amplifies row by row) half the rows within 3e-3 of their stored loss and the mean loss and
    the designs' mean errors within 5 standard errors (``paper_loop.compare_rerun``)."""
    from pvae_lib.experiments.paper_loop import LOSS_MEDIAN_RTOL, MAX_T
    from pvae_lib.profiles import get_profile

    if "inverse_design" not in _notebook_chapters():
        pytest.skip("inverse_design not in the book")
    rec, ds = results["inverse_design"], get_profile().design
    assert rec["paper_loop_starts"] == rec["n_starts"] == ds.n_starts >= 32
    assert rec["paper_loop_rows_rerun"] == min(ds.batch_size, ds.n_targets * ds.n_starts)
    assert rec["paper_loop_rerun_agrees"] is True, rec
    if not rec["paper_loop_rerun_identical"]:  # the recorded figures, against the bounds themselves
        assert rec["paper_loop_rerun_median_rel_loss_diff"] <= LOSS_MEDIAN_RTOL, rec
        assert abs(rec["paper_loop_rerun_loss_t"]) <= MAX_T, rec
        assert rec["paper_loop_rerun_error_t_max"] <= MAX_T, rec
    assert rec["paper_loop_source"] in ("shipped", "cache", "computed")


@pytest.mark.parametrize("chapter, name", [("cnn_surrogate", "cnn"), ("pvae", "pvae")])
def test_chapters_record_what_they_trained_on(results, chapter, name):
    """Learned figures come with their training record (samples, epochs, augmentation, runtime)."""
    from pvae_lib.profiles import get_profile

    if chapter not in _notebook_chapters():
        pytest.skip(f"{chapter} not in the book")
    profile = get_profile()
    rec = results[chapter]
    section = profile.cnn if name == "cnn" else profile.pvae
    assert rec["augment"] is section.augment and rec["schedule"] == section.schedule
    assert rec["n_train"] > 0
    if name == "cnn":
        from pvae_lib.models.training import split_indices

        n_use = min(int(round(section.train_samples / 0.8)), profile.data.synthetic_samples)
        assert rec["n_train"] == len(split_indices(n_use, profile.seed)[0])
        epochs = {"epochs": section.epochs}
    else:
        epochs = {"epochs_vae": section.epochs_vae, "epochs_regressor": section.epochs_regressor,
                  "epochs_joint": section.epochs_joint}
    for key, planned in epochs.items():
        assert 1 <= rec[key] <= planned
        if section.schedule == "cosine":  # a cosine schedule runs every planned epoch
            assert rec[key] == planned, (key, rec[key], planned)
    # the quick profile's book uses the shipped models (pvae_lib.experiments.shipped) unless switched off
    from pvae_lib.experiments.shipped import manifest, model_provenance, shipped_enabled

    shipped = shipped_enabled() and manifest(profile.name) is not None
    assert rec["source"] == ("shipped" if shipped else "trained"), rec["source"]
    # trained with the reproducible runtime of pvae_lib.runtime (not a TensorFlow imported first): here
    # at this build's thread count, or, shipped, at the one its manifest records for the model (the
    # shipping command may run at another, named by PVAE_THREADS; see shipped.model_source)
    model = "cnn" if name == "cnn" else "pvae_n_k11"
    threads = (str(model_provenance(profile.name, model)["runtime"]["intra_op_threads"])
               if rec["source"] == "shipped" else os.environ.get("PVAE_THREADS", "2"))
    assert rec["threads"] == threads and rec["onednn"] == "0", (rec["threads"], threads, rec["onednn"])
