"""Batched LBM runs (``simulate_batch``, ``permeability_batch``) equal runs one by one.

Why the tolerance is tight (1e-6 relative, not the convergence tolerance): the batch joins the
samples' lattices into one disjoint lattice, and every step is node-local apart from the
streaming gather, whose index never crosses samples; each sample's populations are taken at
the check where it converged, i.e. after the same number of steps as its own run. The only
possible differences are floating-point ones: the per-sample momentum sums of the stopping
rule (float64 segment sums instead of one float64 sum, ~1e-16 relative; it could only flip a
stopping decision that lies within rounding of the threshold, and the step counts are asserted
equal) and the XLA code for another node count (float32 elementwise kernels; at most a few ulp,
~1e-7). 1e-6 is far below the convergence tolerance (1e-5 here), so a batch that merely
stopped "somewhere near" the single run's state would fail.
"""
from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from pvae_lib.lbm import (  # noqa: E402
    LBMConfig,
    NotConvergedError,
    permeability,
    permeability_batch,
    simulate,
    simulate_batch,
)
from pvae_lib.lbm import solver as solver_module  # noqa: E402
from pvae_lib.data.spheres import random_sphere_pack  # noqa: E402

RTOL = 1e-6
CONFIG = LBMConfig(max_steps=3000, tolerance=1e-5)


def packs():
    """Three 14^3 random sphere packs of porosity about 0.5, 0.65 and 0.8."""
    return [random_sphere_pack(14, phi, rng=np.random.default_rng(seed))
            for seed, phi in enumerate((0.5, 0.65, 0.8))]


def slabs():
    """Three 2-D images (slices of 3-D packs), one with no path along axis 1."""
    images = [random_sphere_pack(20, phi, rng=np.random.default_rng(seed))[:, :, 7]
              for seed, phi in ((14, 0.65), (11, 0.75))]
    blocked = np.ones((20, 20), dtype=bool)
    blocked[:, 9:11] = False  # a solid wall across the flow (axis 1)
    blocked[3:6, 3:6] = False
    return [images[0], blocked, images[1]]


def assert_same_run(batched, single, axis):
    assert batched.steps == single.steps
    assert batched.converged == single.converged
    assert batched.n_fluid == single.n_fluid
    scale = abs(single.mean_velocity[axis])
    np.testing.assert_allclose(batched.mean_velocity, single.mean_velocity, rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(batched.velocity, single.velocity, rtol=0,
                               atol=RTOL * np.abs(single.velocity).max())
    np.testing.assert_allclose(batched.density, single.density, rtol=0, atol=1e-7)
    np.testing.assert_allclose(batched.history, single.history, rtol=RTOL)


def test_3d_batch_equals_one_by_one_and_order_does_not_matter():
    images = packs()
    assert len({round(float(p.mean()), 2) for p in images}) == 3  # different porosities
    singles = [simulate(p, CONFIG, 0) for p in images]
    assert all(s.converged for s in singles)
    assert len({s.steps for s in singles}) > 1  # samples converge at different steps
    batch = simulate_batch(images, CONFIG, 0)
    assert len(batch) == 3
    for b, s in zip(batch, singles):
        assert_same_run(b, s, 0)
    reordered = simulate_batch([images[2], images[0], images[1]], CONFIG, "x")
    for b, s in zip(reordered, [singles[2], singles[0], singles[1]]):
        assert_same_run(b, s, 0)
    # permeability: K of the batch = K one by one (same runs, same Darcy formula)
    Ks = permeability_batch(np.stack(images), 0, CONFIG)
    for k, s in zip(Ks, singles):
        assert k.percolates and k.converged
        ref = CONFIG.viscosity * s.mean_velocity[0] / s.driving_gradient
        assert abs(k.K - ref) <= RTOL * abs(ref)


def test_batch_of_one_is_simulate():
    image = packs()[1]
    single = simulate(image, CONFIG, 2)
    (one,) = simulate_batch([image], CONFIG, 2)
    # one sample: the joined lattice IS the sample's lattice, so the fields are identical
    assert one.steps == single.steps and one.converged == single.converged
    np.testing.assert_array_equal(one.velocity, single.velocity)
    np.testing.assert_array_equal(one.density, single.density)
    np.testing.assert_array_equal(one.mean_velocity, single.mean_velocity)
    np.testing.assert_allclose(one.history, single.history, rtol=1e-12)
    assert one.axis == 2 and one.driving_gradient == single.driving_gradient


def test_2d_pressure_drive_batch_and_non_percolating_sample():
    images = slabs()
    config = LBMConfig(drive="pressure", boundary="noslip", max_steps=4000, tolerance=1e-5)
    singles = [permeability(p, 1, config) for p in images]
    assert [s.percolates for s in singles] == [True, False, True]
    assert singles[0].steps != singles[2].steps
    batch = permeability_batch(images, "y", config, progress=True)
    for b, s in zip(batch, singles):
        assert b.percolates == s.percolates and b.steps == s.steps
        assert b.porosity == s.porosity
        assert abs(b.K - s.K) <= RTOL * abs(s.K)
        if s.percolates:
            assert_same_run(b.simulation, s.simulation, 1)
    assert batch[1].K == 0.0 and batch[1].simulation is None


def test_not_converged_sample_is_named():
    config = LBMConfig(max_steps=200, check_interval=100, min_steps=100, tolerance=1e-12)
    images = packs()[:2]
    with pytest.raises(NotConvergedError, match=r"images\[0\]"):
        permeability_batch(images, 0, config)
    results = permeability_batch(images, 0, config, require_convergence=False)
    assert [r.converged for r in results] == [False, False]
    assert [r.steps for r in results] == [200, 200]


GOOD = np.ones((6, 6, 6), bool)
GOOD[2:4, 2:4, :] = False


@pytest.mark.parametrize(
    "images, match",
    [
        ([], "empty"),
        ([GOOD, np.ones((6, 6, 7), bool)], "same shape"),
        ([GOOD[0], GOOD], "same shape"),
        ([GOOD, np.full((6, 6, 6), 2)], r"images\[1\].*not binary"),
        ([GOOD, np.zeros((6, 6, 6), bool)], r"images\[1\].*no pore"),
        ([np.ones(6, bool)], "dimensions"),
    ],
)
def test_bad_batches_raise_before_any_work(images, match, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("lattice built or LBM run before the input was checked")

    monkeypatch.setattr(solver_module, "_lattice_for", no_work)
    monkeypatch.setattr(solver_module, "_run_lattices", no_work)
    with pytest.raises(ValueError, match=match):
        simulate_batch(images)
    with pytest.raises(ValueError, match=match):
        permeability_batch(images)


def test_all_pore_sample_rejected_like_permeability(monkeypatch):
    monkeypatch.setattr(solver_module, "_run_lattices", None)  # must not be reached
    images = [packs()[0], np.ones((14, 14, 14), bool)]
    with pytest.raises(ValueError, match=r"images\[1\].*all pore"):
        permeability_batch(images)
