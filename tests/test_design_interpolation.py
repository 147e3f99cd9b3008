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


class _LayerModel:
    """Stand-in for a pVAE: latent value v decodes to floor(4 v) pore layers of an 8^3 block (along x1)."""

    def decode(self, path):
        layers = np.floor(4 * np.asarray(path)[:, 0] + 1e-9).astype(int)
        out = np.zeros((len(layers), 8, 8, 8))
        for s, m in enumerate(layers):
            out[s, :m] = 1.0
        return out

    def predict_properties(self, path):
        v = np.asarray(path)[:, :1]
        return np.hstack([v / 2, v, 2 * v, 3 * v])


def _counting_evaluator():
    seen = []

    def evaluate(images):
        seen.append(len(images))
        n = images.reshape(len(images), -1).mean(axis=1)
        return np.stack([n, 10 * n, 20 * n, 30 * n], axis=1)

    evaluate.n_properties = 4
    return evaluate, seen


def test_verified_walk_solves_each_distinct_structure_once():
    from pvae_lib.design.interpolation import verified_walk

    evaluate, seen = _counting_evaluator()
    walk = verified_walk(_LayerModel(), [1.0], [2.0], 9, evaluate, rule="threshold")
    table = walk.table
    # 4, 4, 5, 5, 6, 6, 7, 7, 8 pore layers of 8: four distinct two-phase blocks, one all-pore block
    np.testing.assert_allclose(table["n (image)"], [4, 4, 5, 5, 6, 6, 7, 7, 8] / np.float64(8))
    assert walk.distinct == 4 and seen == [4]  # one call of the evaluator, each structure once
    np.testing.assert_allclose(table["k11 LBM"].iloc[:8], 10 * table["n (image)"].iloc[:8])
    assert np.isnan(table.loc[8, "k11 LBM"]) and np.isnan(table.loc[8, "k33 LBM"])  # all pore: no K
    np.testing.assert_allclose(table["k22 regressor"], 2 * np.linspace(1, 2, 9))
    np.testing.assert_allclose(table["n (regressor)"], np.linspace(1, 2, 9) / 2)
    np.testing.assert_array_equal(walk.images.reshape(9, -1).mean(axis=1), table["n (image)"])
    assert walk.path.shape == (9, 1) and walk.seconds >= 0
    # K11 rises in every step that changes it (repeats and the NaN at the end are left out)
    assert walk.towards_end_fraction("k11") == 1.0
    np.testing.assert_array_equal(walk.exact("n"), table["n (image)"])


def test_verified_walk_counts_steps_against_the_trend():
    from pvae_lib.design.interpolation import VerifiedWalk
    import pandas as pd

    table = pd.DataFrame({"n (image)": [0.5, 0.6, 0.55, 0.7, 0.7, 0.8], "k11 LBM": [1.0, 2.0, 1.5, 3.0, 3.0, 4.0]})
    walk = VerifiedWalk(np.zeros((6, 1)), np.zeros((6, 2, 2, 2), bool), table, ("n", "k11"), "LBM", 5, 0.0)
    assert walk.towards_end_fraction("k11") == 0.75  # up, down, up, (same), up
    assert walk.towards_end_fraction("n") == 0.75


def test_verified_walk_rejects_bad_input():
    from pvae_lib.design.interpolation import verified_walk

    evaluate, _ = _counting_evaluator()
    with pytest.raises(ValueError, match="steps"):
        verified_walk(_LayerModel(), [1.0], [2.0], 1, evaluate)
    with pytest.raises(ValueError, match="names has 2"):
        verified_walk(_LayerModel(), [1.0], [2.0], 3, evaluate, names=("n", "k11"), rule="threshold")
