"""pvae_lib.binarize: each named rule, the entry point, and bad input."""
import subprocess
import sys

import numpy as np
import pytest

from pvae_lib.binarize import DECODED_RULE, RULES, binarize, expected_porosity, fixed_threshold, otsu


@pytest.fixture
def ct():
    """A bimodal 16-bit 'scan': pores bright (about 40000), solid dark (about 9000)."""
    rng = np.random.default_rng(0)
    pores = rng.random((4, 12, 12)) < 0.3
    gray = (np.where(pores, 40000, 9000) + rng.integers(-1500, 1500, pores.shape)).astype(np.uint16)
    return gray, pores


def test_otsu_recovers_the_pores_of_a_bimodal_image(ct):
    gray, pores = ct
    assert np.array_equal(otsu(gray), pores)
    assert np.array_equal(otsu(gray, pore="dark"), ~pores)
    assert np.array_equal(otsu(gray.astype(float) / 65535), pores)  # units do not matter
    assert np.array_equal(binarize(gray, "otsu"), pores)
    assert np.array_equal(binarize(gray, "otsu", pore="dark"), ~pores)


def test_otsu_two_levels_and_uniform_images():
    img = np.array([[0, 255], [255, 0]], np.uint8)
    assert otsu(img).tolist() == [[False, True], [True, False]]  # split at the lower level
    assert otsu(img, pore="dark").tolist() == [[True, False], [False, True]]
    assert otsu(np.full((2, 3), 7)).all() and not otsu(np.full((2, 3), 7), pore="dark").any()
    assert not otsu(np.zeros((2, 3))).any() and otsu(np.zeros((2, 3)), pore="dark").all()
    assert otsu(np.array([[True, False]])).tolist() == [[True, False]]


def test_fixed_threshold_on_probabilities_and_gray_levels(ct):
    p = np.array([[[[0.2], [0.7]], [[0.5], [0.51]]]], np.float32)  # (N, H, W, 1) decoder output
    out = fixed_threshold(p)
    assert out.shape == (1, 2, 2) and out.dtype == bool
    assert out.tolist() == [[[False, True], [False, True]]]  # 0.5 itself is solid
    assert np.array_equal(binarize(p), out)
    assert np.array_equal(binarize(p, threshold=0.6), p[..., 0] > 0.6)
    assert binarize(p, pore="dark").tolist() == [[[True, False], [True, False]]]
    assert fixed_threshold(p, squeeze_channel=False).shape == p.shape
    gray, pores = ct
    assert np.array_equal(fixed_threshold(gray, 20000), pores)  # any finite gray level
    assert np.array_equal(binarize(gray, threshold=20000, pore="dark"), ~pores)


def test_expected_porosity_matches_the_mean_probability_per_sample():
    rng = np.random.default_rng(3)
    p = 0.6 + 0.35 * rng.random((5, 7, 6, 5, 1))  # all above 0.5: rule "threshold" gives all pore
    assert binarize(p).all()
    b = binarize(p, rule="expected_porosity")
    assert b.shape == (5, 7, 6, 5) and b.dtype == bool
    assert np.array_equal(b, expected_porosity(p))
    size = b[0].size
    for img, prob in zip(b, p[..., 0]):
        assert abs(img.mean() - prob.mean()) <= 1 / size
        assert prob[img].min() >= prob[~img].max()  # the most probable voxels are the pores
    # 2-D batches (N, voxels) work too; one probability per image, no channel axis
    assert expected_porosity(np.array([[0.9, 0.8, 0.6, 0.7]])).tolist() == [[True, True, False, True]]


@pytest.mark.parametrize("call, match", [
    (lambda: binarize(np.ones((2, 2)), "mean"), "'threshold', 'otsu', 'expected_porosity'"),
    (lambda: binarize(np.array([[0.2, np.nan]])), "NaN or Inf"),
    (lambda: binarize(np.array([[0.2, np.inf]]), "otsu"), "NaN or Inf"),
    (lambda: binarize(np.array([[[0.2, -np.inf]]]), "expected_porosity"), "NaN or Inf"),
    (lambda: binarize(np.zeros((0, 3))), "empty"),
    (lambda: otsu(np.zeros((3, 0))), "empty"),
    (lambda: expected_porosity(np.zeros((0, 4, 4))), "empty"),
    (lambda: binarize(np.array([0.2, 0.7]), threshold=0), r"strictly between 0 and 1"),
    (lambda: binarize(np.array([0.2, 0.7]), threshold=1.0), r"strictly between 0 and 1"),
    (lambda: fixed_threshold(np.array([0.2, 0.7]), -0.5), r"strictly between 0 and 1"),
    (lambda: binarize(np.array([0.2, 0.7]), threshold=np.nan), "finite"),
    (lambda: binarize(np.array([0.2, 0.7]), "otsu", threshold=0.5), "rule='threshold'"),
    (lambda: binarize(np.array([[0.2, 0.7]]), "expected_porosity", threshold=0.5), "rule='threshold'"),
    (lambda: binarize(np.array([0.2, 0.7]), pore="nonzero"), "bright"),
    (lambda: binarize(np.array([[0.2, 0.7]]), "expected_porosity", pore="dark"), "'bright'"),
    (lambda: expected_porosity(np.array([0.2, 0.7])), r"batch \(N, ...\)"),
    (lambda: expected_porosity(np.array([[0.2, 1.4]])), r"probabilities in \[0, 1\]"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numeric_data_is_a_type_error():
    with pytest.raises(TypeError, match="numeric"):
        binarize(np.array([["a", "b"]]))


def test_rules_are_named():
    assert RULES[0] == "threshold" and set(RULES) == {"threshold", "otsu", "expected_porosity"}


def test_import_does_not_load_tensorflow():
    code = "import sys, pvae_lib.binarize; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


class _BlurryDecoder:
    """Decodes x to pore probabilities above 0.5 everywhere whose mean is the porosity of x."""

    def encode_mean(self, x):
        return np.asarray(x, float)

    def decode(self, z):
        n = z.reshape(len(z), -1).mean(axis=1).reshape((-1,) + (1,) * (z.ndim - 1))
        solid = 0.55
        pore = (n - solid * (1 - n)) / n
        return np.where(z > 0.5, pore, solid)


def test_reconstruction_metrics_binarise_by_the_named_rule():
    from pvae_lib.models.evaluation import reconstruction_metrics

    rng = np.random.default_rng(3)
    x = rng.random((6, 8, 8, 8)) < 0.8
    blurry = _BlurryDecoder()
    half = reconstruction_metrics(blurry, x, rule="threshold")  # 0.5: every voxel pore
    assert half["rule"] == "threshold"
    assert half["voxel_accuracy"] == pytest.approx(x.mean()) == half["all_pore_accuracy"]
    assert half["porosity_mae"] == pytest.approx(np.mean(1 - x.reshape(6, -1).mean(axis=1)))
    # every voxel pore: too much pore, by exactly the solid fraction
    assert half["porosity_bias"] == pytest.approx(half["porosity_mae"])
    matched = reconstruction_metrics(blurry, x)  # the default: DECODED_RULE, the expected porosity
    assert matched["rule"] == DECODED_RULE == "expected_porosity"
    assert matched["voxel_accuracy"] == 1.0 and matched["porosity_mae"] == pytest.approx(0.0, abs=1e-12)
    assert matched["porosity_bias"] == pytest.approx(0.0, abs=1e-12)
    assert (reconstruction_metrics(blurry, x, rule="threshold", threshold=0.6)["voxel_accuracy"]
            > half["voxel_accuracy"])
    with pytest.raises(ValueError, match="chooses its own.*rule='threshold'"):
        reconstruction_metrics(blurry, x, threshold=0.6)
    with pytest.raises(ValueError, match="rule"):
        reconstruction_metrics(blurry, x, rule="median")


def test_scores_of_decoded_probabilities_are_those_of_the_model():
    """score_reconstructions on probabilities decoded once = reconstruction_metrics, for every rule."""
    from pvae_lib.models.evaluation import reconstruction_metrics, score_reconstructions

    rng = np.random.default_rng(4)
    x = rng.random((5, 8, 8, 8)) < 0.7
    blurry = _BlurryDecoder()
    prob = blurry.decode(blurry.encode_mean(x))
    for rule in ("threshold", "expected_porosity", "otsu"):
        assert score_reconstructions(x, prob, rule=rule) == reconstruction_metrics(blurry, x, rule=rule)
    for rule in ("threshold", "expected_porosity"):  # a channel axis of 1 on one side only
        plain = score_reconstructions(x, prob, rule=rule)
        assert score_reconstructions(x[..., None], np.asarray(prob), rule=rule) == plain
        assert score_reconstructions(x, np.asarray(prob)[..., None], rule=rule) == plain
    with pytest.raises(ValueError, match="shape"):
        score_reconstructions(x, prob[:, :4])
    with pytest.raises(ValueError, match="chooses its own"):
        score_reconstructions(x, prob, threshold=0.3, rule="otsu")
