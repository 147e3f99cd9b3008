"""Figures the chapters recorded during the book build (`_build/results.json`).

Run after `jupyter-book build` (`pytest -m book`); `.ci/test` does this.
"""
import math

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
    # learning core (issue acceptance at quick scale)
    ("cnn_surrogate", "r2_k11", ">=", 0.99),
    ("pvae", "r2_n", ">=", 0.98),
    ("pvae", "r2_k11", ">=", 0.98),
]


@pytest.mark.parametrize("chapter, key, op, bound", ACCEPTANCE)
def test_acceptance_figures(results, chapter, key, op, bound):
    if chapter not in _notebook_chapters():
        pytest.skip(f"{chapter} not in the book")
    value = results[chapter][key]
    ok = abs(value) < bound if op == "<" else value >= bound
    assert ok, f"{chapter}.{key} = {value} (want {op} {bound})"
