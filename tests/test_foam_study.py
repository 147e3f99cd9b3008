"""The labelled foam dataset of the foam-study chapter (pvae_lib.data.foam_dataset)."""
import numpy as np
import pandas as pd
import pytest

from pvae_lib.data.foam_dataset import attach_subvolumes, foam_config_from_profile, load_foam_dataset
from pvae_lib.profiles import get_profile


def _table(vol, size, rows):
    recs = []
    for v, x0, y0, z0 in rows:
        sub = vol[v][x0:x0 + size, y0:y0 + size, z0:z0 + size]
        recs.append({"volume": v, "x0": x0, "y0": y0, "z0": z0, "n_F": float(sub.mean())})
    return pd.DataFrame(recs)


def test_attach_subvolumes_cuts_in_table_order_and_checks_porosity():
    rng = np.random.default_rng(0)
    vols = [rng.random((8, 8, 8)) < p for p in (0.3, 0.7)]
    table = _table(vols, 4, [(1, 4, 0, 4), (0, 0, 4, 0)])
    subs = attach_subvolumes(vols, table, 4)
    assert subs.shape == (2, 4, 4, 4) and subs.dtype == bool
    assert np.array_equal(subs[0], vols[1][4:8, 0:4, 4:8])
    assert np.array_equal(subs[1], vols[0][0:4, 4:8, 0:4])
    bad = table.copy()
    bad.loc[0, "n_F"] += 1 / 64  # one voxel off: images and labels do not belong together
    with pytest.raises(ValueError, match="porosity"):
        attach_subvolumes(vols, bad, 4)
    outside = table.copy()
    outside.loc[1, "x0"] = 6
    with pytest.raises(ValueError, match="leaves"):
        attach_subvolumes(vols, outside, 4)
    with pytest.raises(ValueError, match="volume"):
        attach_subvolumes(vols[:1], table, 4)


def test_foam_config_from_quick_profile_matches_data_readme():
    cfg = foam_config_from_profile(get_profile("quick").data)
    assert (cfg.size, cfg.cell_size, cfg.porosity) == (128, 16.0, 0.85)


def test_load_foam_dataset_regenerates_the_shipped_images():
    data = load_foam_dataset(get_profile("quick"))
    assert data.images.shape == (2240, 32, 32, 32) and len(data.volumes) == 35
    assert np.allclose(data.images.reshape(2240, -1).mean(axis=1), data.porosity, atol=1e-12)
    props = data.values()
    assert props.shape == (2240, 4) and np.all(props[:, 1:] > 0)
    assert sorted(set(data.strain)) == [0.0, 0.15, 0.25, 0.35, 0.5]
    # compression along x1 lowers K11 relative to the lateral directions
    flat = data.strain == 0.5
    assert np.median(props[flat, 1]) < np.median(props[flat, 2])


def test_expected_porosity_keeps_mean_and_ranking():
    from pvae_lib.binarize import expected_porosity

    rng = np.random.default_rng(1)
    p = 0.6 + 0.35 * rng.random((3, 6, 6, 6, 1))  # all > 0.5: thresholding at 0.5 gives all pore
    b = expected_porosity(p)
    assert b.shape == (3, 6, 6, 6) and b.dtype == bool
    for img, prob in zip(b, p[..., 0]):
        assert img.sum() == round(prob.mean() * prob.size)
        assert prob[img].min() >= prob[~img].max()  # the most probable voxels are the pores
    with pytest.raises(ValueError):
        expected_porosity(p * 2)
