"""The lateral symmetries of a compressed foam: matrices, arrays, the LBM tensor, the augmented pipeline."""
import numpy as np
import pytest

from pvae_lib.data.foam import FoamConfig, generate_foams
from pvae_lib.data.symmetry import (LATERAL_SIZE, apply_lateral_symmetry, lateral_symmetry, swaps_lateral_axes,
                                    transform_tensor)


def test_the_eight_matrices_form_the_group_fixing_x1():
    mats = [lateral_symmetry(k) for k in range(LATERAL_SIZE)]
    assert len({m.tobytes() for m in mats}) == 8
    for m in mats:
        assert np.array_equal(m @ m.T, np.eye(3, dtype=int))
        assert m[0, 0] == 1 and not m[0, 1:].any() and not m[1:, 0].any()  # x1 stays x1
        for n in mats:  # closed under composition
            assert any(np.array_equal(m @ n, p) for p in mats)
    with pytest.raises(ValueError, match="0..7"):
        lateral_symmetry(8)


def test_array_operation_moves_points_by_the_matrix():
    s = 5
    c = np.arange(s) - (s - 1) / 2
    coords = np.stack(np.meshgrid(c, c, c, indexing="ij"), -1)  # value = centred position
    for k in range(LATERAL_SIZE):
        R = lateral_symmetry(k)
        # the voxel from x lands at R x, so the turned field holds R^T y at y
        assert np.array_equal(apply_lateral_symmetry(coords, k), coords @ R)
        assert swaps_lateral_axes(k) == (abs(R[1, 2]) == 1)
    with pytest.raises(ValueError, match="equal axes 1 and 2"):
        apply_lateral_symmetry(np.zeros((4, 4, 5)), 1)


@pytest.fixture(scope="module")
def compressed_foam():
    # a laterally compressed foam (strain 0.35): anisotropic, with non-zero off-diagonal terms
    vol = generate_foams(FoamConfig(size=16, cell_size=8.0, porosity=0.85), strains=(0.35,), rng=3)[0].image
    return vol


def test_lbm_tensor_of_turned_samples_is_R_K_RT(compressed_foam):
    from pvae_lib.lbm.config import LBMConfig
    from pvae_lib.lbm.permeability import permeability_tensor

    config = LBMConfig(tolerance=1e-9, max_steps=20_000)
    K = permeability_tensor(compressed_foam, config).K_raw
    scale = np.max(np.diag(K))
    assert abs(K[1, 1] - K[2, 2]) > 1e-3 * scale  # K22 != K33 here, so the swap is tested
    assert np.max(np.abs(K - np.diag(np.diag(K)))) > 1e-4 * scale  # and off-diagonal terms exist
    # float32 lattice: the unsymmetrised tensor is itself asymmetric by about 1e-5 of its diagonal,
    # the level to which two runs of one physics can agree
    asym = np.max(np.abs(K - K.T)) / scale
    assert asym < 2e-5
    for k in range(1, LATERAL_SIZE):
        turned = np.ascontiguousarray(apply_lateral_symmetry(compressed_foam, k))
        Kk = permeability_tensor(turned, config).K_raw
        np.testing.assert_allclose(Kk, transform_tensor(K, k), rtol=0, atol=4e-5 * scale, err_msg=f"k={k}")


def test_augmented_volumes_carry_swapped_labels(compressed_foam):
    from pvae_lib.models.inputs import lateral_swap, make_dataset

    x = np.stack([compressed_foam[:8, :8, :8], compressed_foam[8:, 8:, 8:], compressed_foam[8:, :8, 8:]])
    y = np.array([[0.1, 1.0, 2.0, 3.0], [0.2, 1.5, 2.5, 3.5], [0.3, 1.1, 2.1, 3.1]], dtype=np.float32)
    swap = lateral_swap(("n", "k11", "k22", "k33"))
    assert swap == (2, 3)
    seen = set()
    ds = make_dataset(x, y, batch_size=3, shuffle=False, seed=4, augment=True, swap=swap)
    for _ in range(60):  # epochs: fresh draws each time (3 samples x 60: all 8 elements drawn but for ~1e-9)
        for xb, yb in ds:
            for a, b in zip(xb.numpy()[..., 0], yb.numpy()):
                i = int(np.argmin(np.abs(y[:, 0] - b[0])))
                ks = [k for k in range(LATERAL_SIZE) if np.array_equal(apply_lateral_symmetry(x[i], k), a > 0.5)]
                assert ks, "the pipeline made an image that is no symmetry of the sample"
                want = y[i][[0, 1, 3, 2]] if swaps_lateral_axes(ks[0]) else y[i]
                assert all(swaps_lateral_axes(k) == swaps_lateral_axes(ks[0]) for k in ks)
                np.testing.assert_array_equal(b, want)
                seen.update(ks)
    assert seen == set(range(LATERAL_SIZE))


def test_augmentation_refuses_properties_it_cannot_transform():
    from pvae_lib.models.inputs import lateral_swap

    assert lateral_swap(("n", "k11")) is None
    with pytest.raises(ValueError, match="k22"):
        lateral_swap(("n", "k22"))
    with pytest.raises(ValueError, match="k12"):
        lateral_swap(("n", "k11", "k22", "k33", "k12"))


def test_foam_pvae_symmetrized_r2_scores_the_test_split_against_its_labels():
    """FoamPVAE.symmetrized_r2: an equivariant regressor scores R² = 1 on the test rows (only with K22
    and K33 swapped back after the quarter turns: the samples' K22 / K33 contrast differs); one that
    cannot tell K22 from K33 gains nothing from the average."""
    from types import SimpleNamespace

    from pvae_lib.experiments.foam import FoamPVAE
    from pvae_lib.models.metrics import r2_score

    rng = np.random.default_rng(7)
    volumes = (rng.random((10, 6, 8, 8)) < 0.6).astype(np.float32)
    volumes[:, :, :, :4] *= rng.random((10, 1, 1, 1)) < 0.5  # a K22 / K33 contrast that varies per sample

    from _equivariant import lateral_features as exact

    test = [1, 4, 6, 9]
    y_test = exact(volumes[test][..., None])

    def foam(predict):
        return FoamPVAE(SimpleNamespace(predict_properties=predict), {}, {"test": test}, y_test, y_test,
                        0.0, {}, {}, loaded=True)

    got = foam(exact).symmetrized_r2(volumes, batch_size=3)
    assert list(got) == ["n", "k11", "k22", "k33"]
    assert all(v == pytest.approx(1.0, abs=1e-9) for v in got.values())

    def blind(batch):  # the mean of K22 and K33 for both: the average over turns cannot do better
        p = exact(batch)
        p[:, 2:] = p[:, 2:].mean(axis=1, keepdims=True)
        return p

    got = foam(blind).symmetrized_r2(volumes)
    want = r2_score(y_test, blind(volumes[test][..., None]))
    assert got["k22"] == pytest.approx(float(want[2]), abs=1e-6) and got["k22"] < 0.999  # float32 sums
    with pytest.raises(IndexError):  # the split indexes the images it was drawn from
        foam(exact).symmetrized_r2(volumes[:5])
