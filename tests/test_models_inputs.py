"""Exact symmetry augmentation: the eight symmetries of the square keep n and K11 of a pattern."""
import numpy as np
import pytest

from pvae_lib.data.synthetic import generate_synthetic
from pvae_lib.models.inputs import D4_SIZE, d4_orbit, d4_transform, make_dataset, symmetric_properties
from pvae_lib.stokes2d import stokes2d_permeability


def test_d4_orbit_is_the_group_of_the_square():
    a = np.arange(16).reshape(4, 4)
    orbit = d4_orbit(a)
    assert orbit.shape == (D4_SIZE, 4, 4)
    assert len({o.tobytes() for o in orbit}) == D4_SIZE  # eight distinct images of an asymmetric one
    assert np.array_equal(d4_transform(a, 0), a)
    # closed under composition: applying any element to any image of the orbit stays in the orbit
    members = {o.tobytes() for o in orbit}
    for o in orbit:
        for k in range(D4_SIZE):
            assert d4_transform(o, k).tobytes() in members
    with pytest.raises(ValueError, match="0..7"):
        d4_transform(a, 8)
    with pytest.raises(ValueError, match="square"):
        d4_orbit(np.zeros((3, 4)))


def test_symmetries_give_eight_exact_labels():
    """n and the duct-flow K11 of every image of the orbit equal those of the original."""
    images = generate_synthetic(4, 40, 4, 10, 40, rng=3)
    for image in images:
        orbit = d4_orbit(image)
        n = orbit.mean(axis=(1, 2))
        k = np.array([stokes2d_permeability(o) for o in orbit])
        assert np.all(n == n[0])
        assert np.ptp(k) <= 1e-12 * k[0], k


def test_augmented_pipeline_is_repeatable_and_draws_every_symmetry():
    images = generate_synthetic(64, 40, 4, 10, 40, rng=5)
    y = images.mean(axis=(1, 2))[:, None]

    def epoch(ds):
        return [(a.numpy(), b.numpy()) for a, b in ds]

    ds1 = make_dataset(images, y, 16, shuffle=True, seed=7, augment=True)
    ds2 = make_dataset(images, y, 16, shuffle=True, seed=7, augment=True)
    e1, e1b = epoch(ds1), epoch(ds1)
    e2 = epoch(ds2)
    for (a, b), (c, d) in zip(e1, e2):  # same seed, same stream
        assert np.array_equal(a, c) and np.array_equal(b, d)
    assert any(not np.array_equal(a, c) for (a, _), (c, _) in zip(e1, e1b))  # a new draw each epoch
    # every augmented image is one of the eight images of a pattern of the data, with its label
    keys = {}
    for image, label in zip(images, y[:, 0]):
        for o in d4_orbit(image.astype(np.float32)):
            keys[o.tobytes()] = label
    seen = set()
    for a, b in e1:
        for img, lab in zip(a[..., 0], b[:, 0]):
            assert img.tobytes() in keys and keys[img.tobytes()] == pytest.approx(lab)
            seen.add(img.tobytes())
    assert len(seen) == len(images)  # one image per pattern and epoch, all patterns present


def test_symmetric_prediction_is_invariant():
    images = generate_synthetic(6, 40, 4, 10, 40, rng=9).astype(np.float32)
    w = np.random.default_rng(0).normal(size=(40 * 40, 2)).astype(np.float32)

    def predict(batch):  # a deliberately non-invariant predictor
        return batch.reshape(len(batch), -1) @ w

    base = symmetric_properties(predict, images)
    for k in range(D4_SIZE):
        moved = np.stack([d4_transform(im, k) for im in images])
        assert np.allclose(symmetric_properties(predict, moved), base, rtol=1e-5, atol=1e-4)
    assert not np.allclose(predict(images), base)


def test_symmetric_prediction_of_volumes_is_equivariant():
    """Volumes turn about x1; K22 and K33 columns swap back, so the average transforms as the labels do."""
    from pvae_lib.data.symmetry import apply_lateral_symmetry, swaps_lateral_axes

    rng = np.random.default_rng(5)
    volumes = (rng.random((4, 6, 8, 8)) < 0.7).astype(np.float32)

    from _equivariant import lateral_features as exact

    assert np.allclose(symmetric_properties(exact, volumes, swap=(2, 3)), exact(volumes[..., None]), atol=1e-6)
    w = rng.normal(size=(6 * 8 * 8, 4)).astype(np.float32)

    def predict(batch):  # not equivariant
        return batch.reshape(len(batch), -1) @ w

    base = symmetric_properties(predict, volumes, swap=(2, 3))
    for k in range(D4_SIZE):
        moved = np.stack([apply_lateral_symmetry(v, k) for v in volumes])
        want = base[:, [0, 1, 3, 2]] if swaps_lateral_axes(k) else base
        assert np.allclose(symmetric_properties(predict, moved, swap=(2, 3)), want, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="equal axes"):
        symmetric_properties(predict, volumes[:, :, :, :6])
    with pytest.raises(ValueError, match="two different columns"):
        symmetric_properties(predict, volumes, swap=(2, 2))
