"""Batched gradient-based inverse design on a tiny pVAE-protocol model (paper Section 3.3)."""
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from pvae_lib.design.inverse import (  # noqa: E402
    distinct_designs, initial_guesses, inverse_design, optimize_latent, latent_properties,
    random_targets, target_box, validate_targets,
)
from _design_fixtures import tiny_dataset, tiny_pvae  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return tiny_pvae()


def _reachable_targets(model, mode, n, seed=0):
    rng = np.random.default_rng(seed)
    return latent_properties(model, rng.normal(size=(n, model.latent_dim)), mode=mode)


@pytest.mark.parametrize("mode", ["direct", "loop", "loop_binary"])
def test_optimizer_reduces_loss_and_stops_on_tol(model, mode):
    targets = _reachable_targets(model, mode, 6)
    z0 = np.random.default_rng(5).normal(size=(6, model.latent_dim)).astype("float32")
    res = optimize_latent(model, z0, targets, mode=mode, learning_rate=0.05, tol=1e-5, patience=50,
                          max_iterations=600)
    assert res.history[-1] < res.history[0]
    assert np.all(res.steps >= 1) and np.all(res.steps <= 600)
    assert set(res.stop_reason) <= {"tol", "patience", "max_iterations"}
    assert np.mean(res.stop_reason == "tol") >= 0.5
    hit = res.stop_reason == "tol"
    assert np.all(res.loss[hit] < 1e-5)
    # the reported loss is the loss of the returned z
    pred = latent_properties(model, res.z, mode=mode)
    scaled = lambda p: model.property_scaler.transform(p)  # noqa: E731
    np.testing.assert_allclose(((scaled(pred) - scaled(targets)) ** 2).mean(1), res.loss, rtol=1e-2, atol=1e-7)


def test_patience_and_iteration_cap(model):
    # an unreachable target (sigmoid outputs cannot exceed 1 in scaled units): no tol, stops on patience
    z0 = np.zeros((2, model.latent_dim), dtype="float32")
    targets = np.array([[5.0, 10.0], [5.0, 10.0]])  # far above the scaler's max
    res = optimize_latent(model, z0, targets, mode="direct", learning_rate=0.0, patience=7, max_iterations=100)
    assert list(res.stop_reason) == ["patience", "patience"]
    assert list(res.steps) == [8, 8]  # 1 best + 7 without improvement
    res2 = optimize_latent(model, z0, targets, mode="direct", learning_rate=0.01, patience=400, max_iterations=12)
    assert list(res2.stop_reason) == ["max_iterations"] * 2 and list(res2.steps) == [12, 12]
    res3 = optimize_latent(model, z0, targets, mode="direct", learning_rate=0.0, patience=5, max_iterations=100,
                           criterion="batch")
    assert list(res3.stop_reason) == ["patience", "patience"]


def test_batched_equals_one_by_one(model):
    targets = _reachable_targets(model, "loop", 4, seed=3)
    z0 = np.random.default_rng(7).normal(size=(4, model.latent_dim)).astype("float32")
    kw = dict(mode="loop", learning_rate=0.05, tol=1e-6, patience=20, max_iterations=60)
    together = optimize_latent(model, z0, targets, batch_size=4, **kw)
    single = [optimize_latent(model, z0[i:i + 1], targets[i:i + 1], batch_size=1, **kw) for i in range(4)]
    np.testing.assert_allclose(together.z, np.concatenate([s.z for s in single]), atol=2e-4)
    assert list(together.steps) == [int(s.steps[0]) for s in single]
    chunked = optimize_latent(model, z0, targets, batch_size=3, **kw)
    np.testing.assert_allclose(chunked.z, together.z, atol=2e-4)


def test_inverse_design_end_to_end(model):
    images, n, k = tiny_dataset(30, image_size=28)
    props = np.column_stack([n, k])
    mu = model.encode_mean(images)
    targets = _reachable_targets(model, "direct", 3, seed=11)
    res = inverse_design(model, targets, mu, props, n_starts=3, mode="direct", max_iterations=300, patience=50)
    assert res.z.shape == (3, 3, model.latent_dim)
    assert res.predicted.shape == (3, 3, 2) and res.loss.shape == (3, 3)
    assert res.best_z().shape == (3, model.latent_dim)
    np.testing.assert_allclose(res.best_predicted(), targets, atol=0.02)
    # starts are the nearest training samples in scaled property space
    np.testing.assert_array_equal(res.start_index, initial_guesses(props, targets, 3, model=model))
    assert res.summary()["targets"] == 3


def test_initial_guesses_nearest():
    props = np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.4, 0.4]])
    idx = initial_guesses(props, np.array([[0.31, 0.29], [0.12, 0.1]]), 2)
    assert idx.tolist() == [[2, 1], [0, 1]] or idx.tolist() == [[2, 3], [0, 1]]
    with pytest.raises(ValueError, match="k must be"):
        initial_guesses(props, props, 9)


@pytest.mark.parametrize("bad, match", [
    ([0.3, -0.1], "non-negative"), ([1.2, 0.5], r"open interval \(0, 1\)"), ([0.0, 0.5], "open interval"),
    ([np.nan, 0.5], "NaN"), ([0.3, 0.5, 1.0], r"shape \(T, 2\)"),
])
def test_bad_targets(bad, match):
    with pytest.raises(ValueError, match=match):
        validate_targets(bad)


def test_target_box_scales_with_pore_size():
    from pvae_lib.profiles import get_profile

    quick, paper = target_box(get_profile("quick")), target_box(get_profile("paper"))
    np.testing.assert_allclose(paper, [[0.1, 0.5], [0.2, 2.5]])
    ratio = (get_profile("quick").data.synthetic_pore_size / 10) ** 2
    np.testing.assert_allclose(quick[1], paper[1] * ratio)
    t = random_targets(100, quick, rng=np.random.default_rng(0))
    assert t.shape == (100, 2) and np.all((t >= quick[:, 0]) & (t <= quick[:, 1]))


def test_distinct_designs():
    a = np.zeros((10, 10), bool)
    b = a.copy(); b[:5] = True
    c = a.copy(); c[0, 0] = True  # 1 % different from a
    keep = distinct_designs(np.stack([a, c, b]), loss=[0.1, 0.2, 0.3], n_designs=3, min_difference=0.02)
    assert keep.tolist() == [0, 2]
    assert distinct_designs(np.stack([a, c, b]), [0.3, 0.2, 0.1], 1).tolist() == [2]


def test_binarised_loop_sees_the_design_that_is_built(model):
    """``loop_binary``'s forward pass binarises by :data:`~pvae_lib.binarize.DECODED_RULE`, image for
    image as the designs are binarised after the loop (ties, saturated and empty images included),
    so the loop's prediction is the regressor's prediction for the built design."""
    import tensorflow as tf

    from pvae_lib.binarize import DECODED_RULE, binarize
    from pvae_lib.design.inverse import expected_porosity_tf

    rng = np.random.default_rng(7)
    x = rng.random((40, 12, 12, 1)).astype("float32")
    x[:10] = np.round(x[:10] * 4) / 4  # many ties
    x[10:12] = 1.0  # saturated
    x[12] = 0.0  # empty
    x[13] = 0.5
    got = np.asarray(expected_porosity_tf(tf.constant(x)))
    assert got.shape == x.shape and got.dtype == np.float32
    np.testing.assert_array_equal(got[..., 0] > 0.5, binarize(x, DECODED_RULE))

    z = rng.normal(size=(16, model.latent_dim)).astype("float32")
    built = binarize(model.decode(z), DECODED_RULE)[..., None].astype("float32")
    direct = model.property_scaler.inverse_transform(
        np.asarray(model.regressor(model.encoder(built, training=False)[0], training=False), np.float64))
    np.testing.assert_allclose(latent_properties(model, z, mode="loop_binary"), direct, rtol=1e-5, atol=1e-7)
