"""Image validation, porosity and percolation."""
import numpy as np
import pytest

from pvae_lib.images import as_pore_array, normalize_axis, percolates, porosity


def test_porosity_counts_pore_voxels():
    image = np.zeros((4, 5, 6), dtype=np.uint8)
    image[0] = 1
    assert porosity(image) == pytest.approx(30 / 120)
    assert porosity(image.astype(bool)) == porosity(image.astype(np.float32))


def test_porosity_no_overflow_on_large_uint8_image():
    image = np.ones((300, 300, 300), dtype=np.uint8)  # 2.7e7 voxels: a uint8 sum would wrap
    image[0, 0, 0] = 0
    assert porosity(image) == pytest.approx(1 - 1 / image.size)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.array([[0, 255]]), ValueError, "not binary"),
        (np.array([[0.0, np.nan]]), ValueError, "NaN"),
        (np.array([["a", "b"]]), TypeError, "dtype"),
        (np.zeros((0, 3)), ValueError, "empty"),
    ],
)
def test_bad_images(bad, error, match):
    with pytest.raises(error, match=match):
        as_pore_array(bad)


def test_rank_check():
    with pytest.raises(ValueError, match="3 dimensions"):
        as_pore_array(np.ones((3, 3)), ndim=3)


def test_percolation_along_axis():
    image = np.zeros((6, 6, 6), dtype=bool)
    image[:, 2, 2] = True  # a straight channel along x
    assert percolates(image, "x")
    assert not percolates(image, "y")
    image[3, 2, 2] = False  # blocked
    assert not percolates(image, 0)


def test_axis_names():
    assert normalize_axis("z", 3) == 2
    with pytest.raises(ValueError):
        normalize_axis("w", 3)
    with pytest.raises(ValueError):
        normalize_axis(3, 3)


def test_periodic_label_merges_clusters_across_periodic_faces():
    from pvae_lib.images import periodic_label

    image = np.zeros((6, 5), dtype=bool)
    image[0, 1] = image[-1, 1] = True  # one pore split by the face normal to axis 0
    image[2:4, 3] = True  # a pore inside the image
    labels, count, wraps = periodic_label(image, (0,))
    assert count == 2 and labels[0, 1] == labels[-1, 1] == 1 and labels[2, 3] == 2
    assert wraps.tolist() == [True, False]
    # without the periodic face the split pore stays two clusters
    labels, count, wraps = periodic_label(image, ())
    assert count == 3 and not wraps.any()
    assert periodic_label(np.zeros((3, 3), dtype=bool), (0, 1))[1] == 0
