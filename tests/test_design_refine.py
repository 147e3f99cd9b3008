"""Exact local search on square pores (pvae_lib.design.refine)."""
import numpy as np
import pytest

from pvae_lib.data.synthetic import generate_synthetic
from pvae_lib.design.refine import (check_squares, free_positions, image_from_squares, refine_designs,
                                    squares_from_image)
from pvae_lib.design.verify import ComponentDuctFlow, PropertyCache, scaled_error
from pvae_lib.models.scaling import MinMaxScaler

SIZE, PORE = 20, 4
SCALER = MinMaxScaler(data_min=[0.0, 0.0], data_max=[0.5, 0.2])


def _assert_in_family(images, corners, n_range=(0, None)):
    for im, c in zip(images, corners):
        check_squares(c, im.shape, PORE)  # in bounds, never intersecting
        np.testing.assert_array_equal(image_from_squares(c, im.shape, PORE), im)  # the image IS the squares
        assert im.mean() == pytest.approx(len(c) * PORE**2 / im.size)
        assert len(c) >= n_range[0] and (n_range[1] is None or len(c) <= n_range[1])


def test_snapping_reproduces_generated_samples():
    images, counts = generate_synthetic(60, 40, 4, 10, 40, rng=5, return_counts=True)
    for im, k in zip(images, counts):
        c = squares_from_image(im, 4)
        assert len(c) == k
        check_squares(c, im.shape, 4)
        np.testing.assert_array_equal(image_from_squares(c, im.shape, 4), im)


def test_snapping_a_blurred_design_gives_a_family_member():
    rng = np.random.default_rng(0)
    im = generate_synthetic(1, SIZE, PORE, 4, 8, rng=1)[0]
    noisy = im ^ (rng.random(im.shape) < 0.08)
    c = squares_from_image(noisy, PORE)
    _assert_in_family([image_from_squares(c, im.shape, PORE)], [c])
    assert len(squares_from_image(noisy, PORE, max_squares=2)) == 2
    assert len(squares_from_image(np.zeros((SIZE, SIZE), bool), PORE)) == 0
    free = free_positions(c, im.shape, PORE)
    for r, q in zip(*np.nonzero(free)):
        check_squares(np.vstack([c, [[r, q]]]), im.shape, PORE)
    with pytest.raises(ValueError, match="intersect"):
        check_squares([[0, 0], [2, 3]], (SIZE, SIZE), PORE)
    with pytest.raises(ValueError, match="outside"):
        check_squares([[SIZE - 2, 0]], (SIZE, SIZE), PORE)


def test_refinement_never_worsens_and_stays_in_the_family():
    rng = np.random.default_rng(2)
    starts = generate_synthetic(6, SIZE, PORE, 3, 9, rng=rng)
    starts[0] ^= rng.random((SIZE, SIZE)) < 0.05  # out of the family: snapped first
    reach = generate_synthetic(6, SIZE, PORE, 3, 9, rng=rng)
    targets = ComponentDuctFlow()(reach)  # reachable targets: the properties of other samples
    cache = PropertyCache(ComponentDuctFlow())
    res = refine_designs(starts, targets, SCALER, PORE, cache=cache, max_calls=120, moves_per_round=8,
                         n_squares=(3, 9), rng=0)
    assert np.all(res.error_family <= res.error_snapped)
    assert res.error_family.mean() < res.error_snapped.mean()
    assert np.all(res.error <= np.minimum(res.error_family, res.error_input))  # never worse than given
    _assert_in_family([image_from_squares(c, (SIZE, SIZE), PORE) for c in res.corners], res.corners, (3, 9))
    _assert_in_family(res.images[~res.kept_input], [c for c, k in zip(res.corners, res.kept_input) if not k], (3, 9))
    assert not res.kept_input[1:].any()  # family members: the search starts from them
    np.testing.assert_allclose(res.properties, ComponentDuctFlow()(res.images))  # verified, not predicted
    np.testing.assert_allclose(res.error, scaled_error(res.properties, targets, SCALER))
    assert np.all(res.solver_calls <= 120) and res.solver_calls.sum() <= cache.calls
    assert set(res.stop) <= {"budget", "local_optimum", "tol", "max_rounds"}
    assert res.porosity_snap[1:] == pytest.approx(0.0)  # exact family members snap to themselves
    np.testing.assert_allclose(res.error_input[1:], res.error_snapped[1:])
    # the same seed gives the same designs
    again = refine_designs(starts, targets, SCALER, PORE, max_calls=120, moves_per_round=8, n_squares=(3, 9), rng=0)
    np.testing.assert_array_equal(again.images, res.images)


def test_refinement_reaches_a_local_optimum_with_an_analytic_evaluator():
    # property 2 = pore fraction of the first 8 rows: the best design puts all squares up there (each
    # step up helps, so there is no plateau on the way - a strict local search stops on plateaus)
    def analytic(images):
        return np.column_stack([images.reshape(len(images), -1).mean(1), images[:, :8].reshape(len(images), -1).mean(1)])

    start = image_from_squares([[6, 0], [6, 8], [10, 4]], (SIZE, SIZE), PORE)[None]
    target = np.array([[3 * PORE**2 / SIZE**2, 3 * PORE**2 / (8 * SIZE)]])
    res = refine_designs(start, target, None, PORE, evaluator=analytic, max_calls=10_000, moves_per_round=4,
                         n_squares=(3, 3), rng=np.random.default_rng(1))
    assert res.stop[0] == "local_optimum" and res.error[0] == pytest.approx(0.0, abs=1e-15)
    assert np.all(res.corners[0][:, 0] <= 4)
    _assert_in_family(res.images, res.corners, (3, 3))
    none = refine_designs(start, target, None, PORE, evaluator=analytic, max_calls=0, n_squares=(3, 3))
    assert none.stop[0] == "budget" and none.error[0] == none.error_snapped[0]
    with pytest.raises(ValueError, match="targets"):
        refine_designs(start, np.zeros((2, 2)), None, PORE, evaluator=analytic)


def test_tolerance_is_measured_from_the_whole_pore_floor():
    """Porosity comes in whole pores: a target between two levels can only be met up to the nearer level."""
    start = generate_synthetic(1, SIZE, PORE, 3, 9, rng=7)
    props = ComponentDuctFlow()(start)
    pore = PORE**2 / SIZE**2
    half_off = props.copy()
    half_off[0, 0] += 0.3 * pore  # 0.3 pores above the start: its own pore count is the nearest level
    res = refine_designs(start, half_off, SCALER, PORE, max_calls=50, tol=1e-9, n_squares=(3, 9), rng=0)
    want = scaled_error(props, half_off, SCALER)
    assert res.error_floor[0] == pytest.approx(want[0], rel=1e-12) and want[0] > 1e-9
    # the start already sits on the floor (its K11 is the target's): it stops at once, no solver call
    assert res.stop[0] == "tol" and res.solver_calls[0] == 0
    np.testing.assert_array_equal(res.images, start)
    # with tol = 0 the floor is never beaten, so the whole budget is spent (or a local optimum reached)
    res0 = refine_designs(start, half_off, SCALER, PORE, max_calls=20, tol=0.0, n_squares=(3, 9), rng=0)
    assert res0.stop[0] in ("budget", "local_optimum") and res0.error[0] == pytest.approx(want[0])


def test_refinement_keeps_an_input_between_two_porosity_levels():
    """A design between two whole-pore porosity levels meets its own properties better than any family member."""
    start = generate_synthetic(1, SIZE, PORE, 3, 9, rng=7)
    rows = np.flatnonzero(start[0].any(axis=1))
    between = start.copy()
    between[0, rows[0]] &= np.arange(SIZE) % 2 == 0  # every other pixel of one pore row: not whole pores
    target = ComponentDuctFlow()(between)  # the input meets its target exactly
    assert (target[0, 0] * SIZE**2 / PORE**2) % 1 > 0  # between two whole-pore levels
    res = refine_designs(between, target, SCALER, PORE, max_calls=40, n_squares=(2, 9), rng=0)
    assert res.kept_input[0] and res.error[0] == 0.0 < res.error_family[0]
    np.testing.assert_array_equal(res.images, between)
    np.testing.assert_array_equal(res.properties, target)
    assert res.summary()["kept_input"] == 1
    fam = refine_designs(between, target, SCALER, PORE, max_calls=40, n_squares=(2, 9), rng=0, keep_input=False)
    assert not fam.kept_input[0] and fam.error[0] == res.error_family[0] > 0
    _assert_in_family(fam.images, fam.corners, (2, 9))
