"""slerp / lerp (paper Section 4.4)."""
import numpy as np
import pytest

from pvae_lib.binarize import binarize
from pvae_lib.design.interpolation import interpolation_path, lerp, slerp


def test_slerp_endpoints_exact():
    rng = np.random.default_rng(1)
    z0, z1 = rng.normal(size=7), rng.normal(size=7)
    path = slerp(z0, z1, [0.0, 1.0])
    np.testing.assert_array_equal(path[0], z0)
    np.testing.assert_array_equal(path[1], z1)


def test_slerp_unit_vectors_stay_on_sphere_and_constant_speed():
    rng = np.random.default_rng(2)
    z0, z1 = rng.normal(size=16), rng.normal(size=16)
    z0, z1 = z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1)
    path = slerp(z0, z1, np.linspace(0, 1, 51))
    assert path.shape == (51, 16)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-12)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    np.testing.assert_allclose(steps, steps[0], rtol=1e-9)  # constant angular speed
    # lerp cuts through the ball
    assert np.linalg.norm(lerp(z0, z1, 0.5)) < 1.0


def test_slerp_known_quarter_circle():
    out = slerp([1.0, 0.0], [0.0, 1.0], 0.5)
    np.testing.assert_allclose(out, [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-12)


@pytest.mark.parametrize("z1", [[2.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
def test_slerp_falls_back_to_lerp(z1):
    z0 = np.array([1.0, 0.0, 0.0])
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose(slerp(z0, z1, t), lerp(z0, z1, t))
    assert np.all(np.isfinite(slerp(z0, z1, t)))


def test_slerp_nearly_parallel_is_finite_and_close_to_lerp():
    z0 = np.array([1.0, 0.0])
    z1 = np.array([1.0, 1e-9])
    t = np.linspace(0, 1, 4)
    np.testing.assert_allclose(slerp(z0, z1, t), lerp(z0, z1, t), atol=1e-12)


def test_lerp_and_path_shapes():
    z0, z1 = np.zeros(3), np.ones(3)
    np.testing.assert_allclose(lerp(z0, z1, 0.25), [0.25] * 3)
    assert lerp(z0, z1, np.zeros((2, 4))).shape == (2, 4, 3)
    p = interpolation_path([1, 0], [0, 1], steps=100)
    assert p.shape == (100, 2)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0)
    assert np.allclose(interpolation_path([1, 0], [0, 1], steps=3, method="lerp")[1], [0.5, 0.5])


def test_bad_inputs():
    with pytest.raises(ValueError, match="same length"):
        slerp([1, 0], [1, 0, 0], 0.5)
    with pytest.raises(ValueError, match="steps"):
        interpolation_path([1, 0], [0, 1], steps=1)
    with pytest.raises(ValueError, match="method"):
        interpolation_path([1, 0], [0, 1], method="cubic")


def test_binarize_drops_channel():
    out = binarize(np.array([[[[0.2], [0.7]]]]))
    assert out.shape == (1, 1, 2) and out.dtype == bool
    assert out.tolist() == [[[False, True]]]
