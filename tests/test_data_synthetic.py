"""Synthetic square-pore generator (paper Section 4.1) and extrusion."""
import numpy as np
import pytest
from scipy import ndimage

from pvae_lib.data.synthetic import extrude, generate_synthetic, place_squares


def test_porosity_counts_bounds_and_shapes():
    images, counts = generate_synthetic(300, 40, 4, 10, 40, rng=np.random.default_rng(0), return_counts=True)
    assert images.shape == (300, 40, 40) and images.dtype == bool
    assert counts.min() >= 10 and counts.max() <= 40
    assert set(np.unique(counts)) >= {10, 40} or np.ptp(counts) > 20  # the whole range is used
    np.testing.assert_allclose(images.mean(axis=(1, 2)), counts * 16 / 1600)


def test_squares_never_intersect_but_may_share_edges():
    rng = np.random.default_rng(1)
    counts = rng.integers(10, 41, size=200)
    corners = place_squares(counts, 40, 4, rng)
    shared = 0
    for c, k in zip(corners, counts):
        c = c[:k]
        assert np.all((c >= 0) & (c <= 36))  # every square inside the image
        d = np.abs(c[:, None] - c[None])
        clash = (d[..., 0] < 4) & (d[..., 1] < 4)
        np.fill_diagonal(clash, False)
        assert not clash.any()
        touch = ((d[..., 0] == 4) & (d[..., 1] < 4)) | ((d[..., 1] == 4) & (d[..., 0] < 4))
        shared += touch.sum()
    assert shared > 0  # edge sharing does happen


def test_overlap_free_images_are_unions_of_whole_squares():
    images, counts = generate_synthetic(50, 30, 3, 5, 20, rng=3, return_counts=True)
    # pixel count = n squares * 9 proves no overlap given n squares were drawn
    assert np.array_equal(images.sum(axis=(1, 2)), counts * 9)
    # every pore cluster's area is a multiple of a square's
    for im in images[:10]:
        lab, n = ndimage.label(im)
        assert np.all(np.bincount(lab.ravel())[1:] % 9 == 0)


def test_seeding_is_reproducible():
    a = generate_synthetic(20, 40, 4, rng=np.random.default_rng(5))
    b = generate_synthetic(20, 40, 4, rng=np.random.default_rng(5))
    c = generate_synthetic(20, 40, 4, rng=np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(generate_synthetic(5, rng=11), generate_synthetic(5, rng=11))


def test_paper_scale_defaults():
    images = generate_synthetic(5, rng=0)
    assert images.shape == (5, 100, 100)
    por = images.mean(axis=(1, 2))
    assert np.all((por >= 0.1) & (por <= 0.4))


@pytest.mark.parametrize("kwargs", [dict(pore_size=0), dict(pore_size=50, image_size=40),
                                    dict(min_pores=5, max_pores=4), dict(max_pores=60)])
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        generate_synthetic(3, **{"image_size": 40, "pore_size": 4, **kwargs})


def test_extrude():
    pattern = generate_synthetic(1, 20, 2, rng=0)[0]
    cube = extrude(pattern)
    assert cube.shape == (20, 20, 20) and np.all(cube == pattern[None])
    assert extrude(pattern, 7).shape == (7, 20, 20)
    batch = extrude(generate_synthetic(3, 20, 2, rng=0), 5)
    assert batch.shape == (3, 5, 20, 20)
    with pytest.raises(ValueError):
        extrude(np.zeros(5))
    with pytest.raises(ValueError):
        extrude(pattern, 0)
