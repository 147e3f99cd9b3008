"""Verified selection of inverse designs (pvae_lib.design.verify)."""
import numpy as np
import pytest

from pvae_lib.data.synthetic import generate_synthetic
from pvae_lib.design.verify import ComponentDuctFlow, PropertyCache, scaled_error, select_verified, stack_candidates
from pvae_lib.models.scaling import MinMaxScaler
from pvae_lib.stokes2d import stokes2d_permeability


def test_component_evaluator_equals_whole_image_solver():
    rng = np.random.default_rng(3)
    squares = generate_synthetic(30, 24, 4, 3, 12, rng=rng)
    blobs = rng.random((20, 24, 24)) < 0.55  # many odd, wrapping, percolating components
    wrap = np.zeros((1, 24, 24), bool)
    wrap[0, 4:8, :3] = wrap[0, 4:8, -3:] = True  # one pore split by the periodic face
    images = np.concatenate([squares, blobs, wrap])
    ref = np.array([stokes2d_permeability(im) for im in images])
    for ev in (ComponentDuctFlow(), ComponentDuctFlow(max_new=None)):
        out = ev(images)
        assert out.shape == (len(images), 2)
        np.testing.assert_allclose(out[:, 1], ref, rtol=1e-10, atol=1e-15)
        np.testing.assert_array_equal(out[:, 0], images.reshape(len(images), -1).mean(1))
        again = ev(images)  # now from the component cache
        np.testing.assert_allclose(again, out, rtol=1e-12)
    assert ComponentDuctFlow()(np.zeros((1, 8, 8), bool))[0].tolist() == [0.0, 0.0]
    # the wrapped pore is the same 4x6 duct as an unwrapped one
    moved = np.roll(wrap, 3, axis=2)
    assert ComponentDuctFlow()(moved)[0, 1] == pytest.approx(ComponentDuctFlow()(wrap)[0, 1], rel=1e-12)


def test_property_cache_solves_each_distinct_image_once():
    seen = []

    def props(images):
        return np.column_stack([images.reshape(len(images), -1).mean(1), images[:, 0, :].sum(1), images.sum((1, 2))])

    def evaluator(images):
        seen.append(len(images))
        return props(images)

    rng = np.random.default_rng(0)
    base = rng.random((5, 6, 6)) < 0.5
    images = base[[0, 1, 0, 2, 1, 0, 3]]
    cache = PropertyCache(evaluator)
    out = cache(images)
    assert seen == [4] and cache.calls == 4 and cache.hits == 3 and len(cache) == 4
    np.testing.assert_array_equal(out, props(images))  # P = 3: nothing assumes two properties
    cache(base)  # only image 4 is new
    assert seen == [4, 1] and cache.calls == 5
    assert base[4] in cache and (~base[4]) not in cache


def test_scaled_error_is_the_mean_squared_scaled_difference():
    sc = MinMaxScaler(data_min=[0.0, 0.0], data_max=[0.5, 2.0])
    p = np.array([[0.25, 1.0], [0.5, 0.0]])
    t = np.array([0.0, 1.0])
    np.testing.assert_allclose(scaled_error(p, t, sc), [(0.5**2 + 0) / 2, (1.0 + 0.25) / 2])
    np.testing.assert_allclose(scaled_error(p, t), [(0.0625 + 0) / 2, (0.25 + 1) / 2])


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("tensorflow")
    from _design_fixtures import tiny_pvae

    return tiny_pvae(image_size=28, latent_dim=3)


def _analytic(images):
    """Cheap stand-in for the solver: porosity and pore pixels in the top half."""
    flat = images.reshape(len(images), -1)
    top = images[:, : images.shape[1] // 2].reshape(len(images), -1)
    return np.column_stack([flat.mean(1), top.mean(1)])


def test_select_verified_picks_the_best_and_counts_duplicates(tiny):
    from pvae_lib.binarize import DECODED_RULE, binarize

    rng = np.random.default_rng(1)
    T, C = 6, 5
    z = rng.normal(size=(T, C, 3)).astype(np.float32)
    z[:, 3] = z[:, 0]  # duplicated candidates: identical images
    z[2, 4] = z[1, 1]  # a duplicate across targets
    targets = rng.uniform(0.2, 0.6, size=(T, 2))
    sel = select_verified(tiny, targets, z, evaluator=_analytic, scaler=None, batch_size=7)
    images = binarize(tiny.decode(z.reshape(T * C, 3)), DECODED_RULE)  # the default rule
    distinct = len(np.unique(np.packbits(images.reshape(T * C, -1), axis=1), axis=0))
    assert sel.counts["candidates"] == T * C and sel.counts["distinct"] == distinct
    assert sel.counts["solver_calls"] == distinct < T * C
    expected = scaled_error(_analytic(images).reshape(T, C, 2), targets[:, None], None)
    np.testing.assert_allclose(sel.all_errors, expected)
    np.testing.assert_array_equal(sel.index, np.argmin(expected, axis=1))
    np.testing.assert_array_equal(sel.images, images.reshape(T, C, 28, 28)[np.arange(T), sel.index])
    np.testing.assert_allclose(sel.properties, _analytic(sel.images))
    # never worse than any other choice, e.g. what a surrogate would pick
    for choice in (np.zeros(T, int), rng.integers(0, C, T)):
        assert np.all(sel.error <= sel.error_of(choice))
    # a shared cache re-solves nothing
    cache = PropertyCache(_analytic)
    select_verified(tiny, targets, z, cache=cache, scaler=None)
    again = select_verified(tiny, targets, z, cache=cache, scaler=None)
    assert again.counts["solver_calls"] == 0 and cache.calls == distinct


def test_select_verified_with_the_exact_solver_and_stack_candidates(tiny):
    from types import SimpleNamespace

    rng = np.random.default_rng(2)
    T, k = 3, 4
    direct = SimpleNamespace(z=rng.normal(size=(T, k, 3)).astype(np.float32), loss=rng.random((T, k)))
    direct.best_index = lambda: np.argmin(direct.loss, axis=1)
    loop = SimpleNamespace(z=rng.normal(size=(T, 3)).astype(np.float32))
    z, labels, surrogate = stack_candidates(direct, loop)
    assert z.shape == (T, k + 1, 3) and list(labels) == ["direct"] * k + ["loop0"]
    assert np.all(surrogate == k)
    z0, _, s0 = stack_candidates(direct)
    np.testing.assert_array_equal(s0, direct.best_index())
    targets = np.array([[0.3, 0.2], [0.5, 0.4], [0.2, 0.05]])
    sel = select_verified(tiny, targets, z, labels=labels)  # default: exact duct flow, model's scaler
    for t in range(T):
        ref = stokes2d_permeability(sel.images[t]) if sel.images[t].any() and not sel.images[t].all() else 0.0
        assert sel.properties[t, 1] == pytest.approx(ref, rel=1e-9, abs=1e-15)
    assert np.all(sel.error <= sel.error_of(surrogate))
    with pytest.raises(ValueError, match="labels"):
        select_verified(tiny, targets, z, labels=["a"])


def test_check_target_and_nearest_feasible():
    from pvae_lib.design.evaluate import feasible_mask, nearest_feasible
    from pvae_lib.design.inverse import check_target

    rng = np.random.default_rng(0)
    n = np.repeat([0.1, 0.2, 0.3, 0.4], 50)
    train = np.column_stack([n, n * 0.5 + rng.uniform(-0.01, 0.01, n.size)])
    targets = np.array([[0.25, 0.125], [0.25, 0.3], [0.05, 0.05], [0.3, 1000.0]])
    near = nearest_feasible(targets, train)
    assert feasible_mask(near, train).all()
    np.testing.assert_array_equal(near[0], targets[0])  # feasible targets stay
    assert near[3, 0] == pytest.approx(0.4) and near[3, 1] == pytest.approx(train[n == 0.4, 1].max(), abs=1e-3)
    ok, off, out = (check_target(t, train) for t in ([0.25, 0.125], [0.25, 0.18], [0.3, 1000.0]))
    assert ok.status == "ok" and off.status == "off_band" and out.status == "out_of_range"
    assert "--k11 1000 is outside the training data's K11 range" in out.message and "\n" not in out.message
    assert "nearest feasible target: --n 0.4" in out.message
    sc = MinMaxScaler(data_min=[0.1, 0.0], data_max=[0.4, 0.2])  # without data: the scaler's range only
    res = check_target([0.5, 0.1], scaler=sc)
    assert res.status == "out_of_range" and "--n 0.5" in res.message and res.nearest.tolist() == [0.4, 0.1]
    assert check_target([0.3, 0.1], scaler=sc).status == "ok"


def test_lbm_evaluator_gives_porosity_and_the_diagonal_permeabilities():
    """The 3-D evaluator (foam samples): n and K_aa per axis, equal to the LBM run sample by sample."""
    from pvae_lib.design.verify import lbm_evaluator
    from pvae_lib.lbm import LBMConfig, permeability

    rng = np.random.default_rng(3)
    images = rng.random((2, 10, 10, 10)) < 0.7
    images[:, :, 3:7, 3:7] = True  # an open channel along every axis
    config = LBMConfig(max_steps=400, tolerance=1e-4)
    evaluate = lbm_evaluator(axes=(0, 2), config=config)
    assert evaluate.n_properties == 3
    out = PropertyCache(evaluate)(images)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(lbm_evaluator(axes=(0, 2), config=config, batched=True)(images), out, rtol=1e-5)
    np.testing.assert_allclose(out[:, 0], images.reshape(2, -1).mean(1))
    for b in range(2):
        for j, axis in enumerate((0, 2)):
            assert out[b, 1 + j] == pytest.approx(permeability(images[b], axis, config).K, rel=1e-5)
    # a single-phase block has no permeability: NaN, and the two-phase samples beside it are unchanged
    mixed = np.concatenate([images[:1], np.zeros((1, 10, 10, 10), bool), np.ones((1, 10, 10, 10), bool)])
    single = evaluate(mixed)
    np.testing.assert_allclose(single[0], out[0], rtol=1e-12)
    np.testing.assert_array_equal(single[1:, 0], [0.0, 1.0])
    assert np.isnan(single[1:, 1:]).all()
    with pytest.raises(ValueError, match="axes"):
        lbm_evaluator(axes=(0, 3))
    with pytest.raises(ValueError, match="3-D"):
        evaluate(images[:, 0])


def test_targets_of_any_number_of_properties():
    """validate_targets checks each column by its name: porosity, diagonal K >= 0, off-diagonal any sign."""
    from pvae_lib.design.inverse import validate_targets

    names = ("n", "k11", "k22", "k33", "k12")
    t = validate_targets([0.6, 1.0, 2.0, 3.0, -0.1], names)
    assert t.shape == (1, 5)
    with pytest.raises(ValueError, match="K22 must be non-negative"):
        validate_targets([0.6, 1.0, -2.0, 3.0, 0.0], names)
    with pytest.raises(ValueError, match=r"shape \(T, 5\)"):
        validate_targets([0.6, 1.0], names)
    with pytest.raises(ValueError, match="open interval"):
        validate_targets([1.6, 1.0, 2.0, 3.0, 0.0], names)


def test_three_d_designs_for_four_properties_through_the_same_code():
    """The design layer is not tied to (n, K11): a 3-D pVAE on (n, K11, K22, K33), its latent search and the
    verified selection with the LBM evaluator run through the same functions as the synthetic 2-D set."""
    pytest.importorskip("tensorflow")
    from pvae_lib.design.inverse import inverse_design
    from pvae_lib.design.verify import lbm_evaluator
    from pvae_lib.lbm import LBMConfig
    from pvae_lib.models.pvae import build_pvae

    rng = np.random.default_rng(0)
    train = rng.random((6, 26, 26, 26)) < 0.75  # the encoder needs at least 25 voxels per axis
    train[:, :, 9:17, 9:17] = True
    evaluate = lbm_evaluator(config=LBMConfig(max_steps=2000, tolerance=1e-3))
    props = evaluate(train)
    names = ("n", "k11", "k22", "k33")
    scaler = MinMaxScaler(data_min=props.min(0), data_max=props.max(0) + 1e-9, names=names)
    model = build_pvae((26, 26, 26), latent_dim=3, base_filters=2, n_properties=4, property_scaler=scaler, seed=0,
                       regressor_units=(4,))
    targets = props[:2] * [1.0, 1.05, 1.0, 0.95]
    res = inverse_design(model, targets, model.encode_mean(train), props, n_starts=3, mode="loop",
                         max_iterations=3)
    assert res.z.shape == (2, 3, 3) and res.predicted.shape == (2, 3, 4)
    sel = select_verified(model, targets, res.z, cache=PropertyCache(evaluate))
    assert sel.properties.shape == (2, 4) and np.all(np.isfinite(sel.error))
    np.testing.assert_allclose(sel.properties, evaluate(sel.images))
    # the chapter's one call: the loop from the nearest training samples, every candidate checked
    import dataclasses

    from pvae_lib.experiments.inverse import loop_and_verify
    from pvae_lib.profiles import get_profile

    quick = get_profile("quick")
    profile = dataclasses.replace(quick, design=dataclasses.replace(quick.design, loop_max_iterations=3))
    mu = model.encode_mean(train)
    found = loop_and_verify(model, targets, mu, props, evaluate, n_starts=3, profile=profile)
    assert list(found.selection.labels) == ["start"] * 3 + ["loop"] * 3
    assert found.start_properties.shape == found.start_labels.shape == (2, 3, 4)
    assert np.all(found.loop_steps <= 3) and found.solver_calls <= 12 and found.seconds > 0
    # the lookup is the nearest training sample's labels; the starts as drawn are decoded training samples
    nearest = np.argmin(((scaler.transform(props)[None] - scaler.transform(targets)[:, None]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(found.lookup, props[nearest])
    np.testing.assert_allclose(found.start_labels[:, 0], props[nearest])
    k_rel = np.abs(found.lookup[:, 1:] / targets[:, 1:] - 1)
    assert found.median_relative_error("lookup") == pytest.approx(np.median(k_rel))
    np.testing.assert_allclose(found.selection.properties, evaluate(found.selection.images))
    with pytest.raises(ValueError, match="which"):
        found.median_relative_error("best")
