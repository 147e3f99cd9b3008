"""Random sphere packs: periodic, seeded, at the porosity asked for; bad input refused."""
import numpy as np
import pytest

from pvae_lib.data.spheres import random_sphere_pack


def test_pack_is_seeded_periodic_and_just_below_the_porosity():
    a = random_sphere_pack(24, 0.6, rng=3)
    assert a.shape == (24, 24, 24) and a.dtype == bool
    assert np.array_equal(a, random_sphere_pack(24, 0.6, rng=np.random.default_rng(3)))
    assert 0.5 < a.mean() <= 0.6



def test_spheres_wrap_around_the_faces():
    """One sphere per pack: its voxel count is that of a whole sphere wherever the centre lies
    (about two packs in three have a centre closer to a face than the radius)."""
    counts = [np.count_nonzero(~random_sphere_pack(20, 0.999, radius=3.0, rng=seed)) for seed in range(20)]
    assert np.allclose(counts, 4 / 3 * np.pi * 3.0**3, rtol=0.2), counts


@pytest.mark.parametrize("kwargs, match", [({"size": 0}, "size"), ({"size": 8, "porosity": 1.2}, "porosity"),
                                           ({"size": 8, "porosity": 0.0}, "porosity")])
def test_bad_input_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_sphere_pack(**kwargs)
