"""Voronoi foams under compression and sub-volume sampling (paper Figs. 18-20)."""
import numpy as np
import pytest

from pvae_lib.data.foam import FoamConfig, compressed_porosity, generate_foams, voronoi_struts, write_foam_dataset
from pvae_lib.data.subvolumes import count_subvolumes, extract_subvolumes, subvolume_origins
from pvae_lib.images import percolates

SMALL = FoamConfig(size=32, cell_size=10.0, porosity=0.85)


@pytest.fixture(scope="module")
def foams():
    return generate_foams(SMALL, strains=(0.0, 0.5), rng=3)


def _mean_chord(image, axis):
    pores = np.moveaxis(image, axis, 0)
    starts = np.count_nonzero(pores[1:] & ~pores[:-1])
    return np.count_nonzero(pores) / max(starts, 1)


def test_porosity_follows_conserved_solid_volume(foams):
    assert compressed_porosity(0.85, 0.5) == pytest.approx(0.70)
    for foam in foams:
        assert foam.image.shape == (32, 32, 32) and foam.image.dtype == bool
        assert abs(foam.porosity - compressed_porosity(0.85, foam.strain)) < 2 / 32**3
    assert foams[1].radius > foams[0].radius


def test_open_cells_percolate_and_compression_makes_anisotropy(foams):
    for foam in foams:
        assert all(percolates(foam.image, a) for a in range(3))
    flat = foams[1].image  # cells flattened along x (axis 0): shorter pore chords along x
    assert _mean_chord(flat, 0) < 0.8 * _mean_chord(flat, 1)
    iso = foams[0].image
    assert 0.7 < _mean_chord(iso, 0) / _mean_chord(iso, 1) < 1.4


def test_reproducible_and_bad_input():
    a = generate_foams(SMALL, strains=(0.25,), rng=1)[0].image
    b = generate_foams(SMALL, strains=(0.25,), rng=1)[0].image
    assert np.array_equal(a, b)
    with pytest.raises(ValueError):
        compressed_porosity(0.85, 1.0)
    with pytest.raises(ValueError):
        compressed_porosity(0.5, 0.6)  # would close all pores
    struts = voronoi_struts((20, 20, 20), 8.0, np.random.default_rng(0))
    assert struts.ndim == 3 and struts.shape[1:] == (2, 3)


def test_subvolumes():
    vol = np.arange(10 * 9 * 8).reshape(10, 9, 8)
    assert count_subvolumes(vol.shape, 4, 2) == 4 * 3 * 3
    assert count_subvolumes((1100, 1100, 300), 100, 100) == 11 * 11 * 3
    subs = extract_subvolumes(vol, 4, 2)
    origins = subvolume_origins(vol.shape, 4, 2)
    assert subs.shape == (36, 4, 4, 4)
    for s, (x, y, z) in zip(subs, origins):
        assert np.array_equal(s, vol[x:x + 4, y:y + 4, z:z + 4])
    with pytest.raises(ValueError):
        subvolume_origins((3, 3, 3), 4, 1)


def test_write_foam_dataset(tmp_path):
    from pvae_lib.data.container import open_dataset

    meta = write_foam_dataset(tmp_path / "foam", config=SMALL, strains=(0.0, 0.35), sub_size=16, stride=16,
                              seed=2, progress=False)
    data = open_dataset(tmp_path / "foam")
    assert data.images.shape == (16, 16, 16, 16) and meta["n_samples"] == 16
    assert data.extruded_length is None
    import pandas as pd

    samples = pd.read_csv(tmp_path / "foam" / "samples.csv")
    assert list(samples["strain"].unique()) == [0.0, 0.35]


def test_shipped_foam_csv_rows_recompute():
    """A few rows of the shipped foam_quick_properties.csv, recomputed from scratch (data/README.md)."""
    from pvae_lib.data import shipped_path
    from pvae_lib.data.properties import read_properties

    table = read_properties(shipped_path("foam_quick_properties.csv"))
    assert set(table["strain"]) == {0.0, 0.15, 0.25, 0.35, 0.5} and len(table) == 135
    config = FoamConfig(size=96, cell_size=16.0, porosity=0.85)
    # porosity of every sub-volume at strain 0 (regenerating one state of the 5-state run)
    foam = generate_foams(config, strains=(0.0,), rng=np.random.default_rng(2025), max_strain=0.5)[0]
    rows = table[table["strain"] == 0.0]
    for _, row in rows.iterrows():
        x0, y0, z0 = int(row["x0"]), int(row["y0"]), int(row["z0"])
        assert foam.image[x0:x0 + 32, y0:y0 + 32, z0:z0 + 32].mean() == pytest.approx(row["n_F"], abs=1e-12)
    lbm = pytest.importorskip("pvae_lib.lbm.permeability")
    row = rows.iloc[0]
    x0, y0, z0 = int(row["x0"]), int(row["y0"]), int(row["z0"])
    sub = foam.image[x0:x0 + 32, y0:y0 + 32, z0:z0 + 32]
    assert float(lbm.permeability(sub, axis=0)) == pytest.approx(row["Permeability_x"], rel=1e-4)
