"""Novelty of designs: pixel distance to the nearest training structure, symmetries of the square included."""
import numpy as np
import pytest

from pvae_lib.design.novelty import nearest_training_distance
from pvae_lib.models.inputs import d4_transform


def _random(n, size=12, seed=0):
    return np.random.default_rng(seed).random((n, size, size)) > 0.5


def test_copies_and_symmetric_copies_are_at_distance_zero():
    train = _random(30)
    designs = np.stack([d4_transform(train[i], k) for i, k in zip((3, 7, 11, 29), (0, 1, 5, 7))])
    dist, idx = nearest_training_distance(designs, train)
    np.testing.assert_array_equal(dist, 0)
    np.testing.assert_array_equal(idx, [3, 7, 11, 29])
    # without the symmetries only the untransformed copy is found
    dist, _ = nearest_training_distance(designs, train, symmetries=False)
    assert dist[0] == 0 and np.all(dist[1:] > 0)


def test_distance_counts_differing_pixels_against_brute_force():
    train, designs = _random(25, seed=1), _random(7, seed=2)
    dist, idx = nearest_training_distance(designs, train, chunk=3)
    for t, im in enumerate(designs):
        brute = min(np.sum(d4_transform(im, k) != tr) for k in range(8) for tr in train)
        assert dist[t] == brute
        assert min(np.sum(d4_transform(im, k) != train[idx[t]]) for k in range(8)) == brute
    flipped = train[:1].copy()
    flipped[0, 0, :5] ^= True  # 5 pixels changed: at most 5 away
    assert nearest_training_distance(flipped, train)[0][0] <= 5


def test_bad_shapes():
    with pytest.raises(ValueError, match="must be"):
        nearest_training_distance(_random(2, 12), _random(3, 10))
    with pytest.raises(ValueError, match="empty"):
        nearest_training_distance(_random(2), _random(0))
