"""Voronoi foams under compression and sub-volume sampling (paper Figs. 18-20)."""
import numpy as np
import pytest

from pvae_lib.data.foam import (FoamConfig, compressed_porosity, generate_foam_replicas, generate_foams, voronoi_struts,
                                write_foam_dataset)
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

    # the same dataset from volumes the caller already has (the profile's cached foams)
    foams = generate_foam_replicas(SMALL, (0.0, 0.35), seed=2)
    write_foam_dataset(tmp_path / "given", config=SMALL, strains=(0.0, 0.35), sub_size=16, stride=16,
                       seed=2, progress=False, foams=foams)
    assert np.array_equal(open_dataset(tmp_path / "given").images, data.images)
    with pytest.raises(ValueError, match="strains"):
        write_foam_dataset(tmp_path / "wrong", config=SMALL, strains=(0.0, 0.5), sub_size=16, stride=16,
                           seed=2, progress=False, foams=foams)


def test_shipped_foam_csv_rows_recompute():
    """A few rows of the shipped foam_quick_properties.csv, recomputed from scratch (data/README.md)."""
    from pvae_lib.data import shipped_path
    from pvae_lib.data.foam import foam_rng
    from pvae_lib.data.foam_dataset import foam_label_config
    from pvae_lib.data.properties import OFF_DIAGONAL_COLUMNS, read_properties
    from pvae_lib.profiles import get_profile

    table = read_properties(shipped_path("foam_quick_properties.csv"))
    assert set(table["strain"]) == {0.0, 0.15, 0.25, 0.35, 0.5} and len(table) == 2240
    assert sorted(set(table["replica"])) == list(range(7))
    config = FoamConfig(size=128, cell_size=16.0, porosity=0.85)
    # porosity of every sub-volume of foam 3 at strain 0.35 (one state of that foam's 5-state run)
    foam = generate_foams(config, strains=(0.35,), rng=foam_rng(2025, 3), max_strain=0.5)[0]
    rows = table[(table["strain"] == 0.35) & (table["replica"] == 3)]
    assert len(rows) == 64 and set(rows["volume"]) == {3 * 5 + 3}
    for _, row in rows.iterrows():
        x0, y0, z0 = int(row["x0"]), int(row["y0"]), int(row["z0"])
        assert foam.image[x0:x0 + 32, y0:y0 + 32, z0:z0 + 32].mean() == pytest.approx(row["n_F"], abs=1e-12)
    lbm = pytest.importorskip("pvae_lib.lbm.permeability")
    row = rows.iloc[5]
    x0, y0, z0 = int(row["x0"]), int(row["y0"]), int(row["z0"])
    sub = foam.image[x0:x0 + 32, y0:y0 + 32, z0:z0 + 32]
    res = lbm.permeability_tensor(sub, config=foam_label_config(get_profile("quick")))
    for i, column in enumerate(("Permeability_x", "Permeability_y", "Permeability_z")):
        assert res.K_raw[i, i] == pytest.approx(row[column], rel=1e-6)
    for (a, b), column in zip(((0, 1), (0, 2), (1, 2)), OFF_DIAGONAL_COLUMNS):
        assert res.K[a, b] == pytest.approx(row[column], rel=1e-6, abs=1e-9)


def test_shipped_foam_tensors_are_symmetric_and_compression_is_visible():
    """The full tensor of every sub-volume: symmetric to the solver's accuracy; compression lowers K11."""
    from pvae_lib.data import shipped_path
    from pvae_lib.data.properties import ASYMMETRY, read_properties

    table = read_properties(shipped_path("foam_quick_properties.csv"))
    # float32 D3Q19 with the labels' stopping rule: K_ij and K_ji agree to 1e-3 of the largest diagonal term
    assert table[ASYMMETRY].max() < 1e-3
    ratio = (table["Permeability_x"] / (0.5 * (table["Permeability_y"] + table["Permeability_z"])))
    medians = ratio.groupby(table["strain"]).median()  # K11 / mean lateral K, per strain
    assert 0.9 < medians[0.0] < 1.1  # the uncompressed foam is isotropic
    assert medians[0.5] < 0.85  # flattened cells: flow along the compression axis is harder
    assert np.all(np.diff(medians.to_numpy()) < 0)  # and more so with every strain


def test_foam_label_config_is_what_the_label_flags_give():
    """The foam labels' solver settings equal the ``pvae label`` flags of :func:`foam_label_commands`, in
    every profile: the flags' defaults are the LBM's run defaults, and both go through ``run_config``."""
    import argparse

    from pvae_lib.cli._checks import add_lbm_arguments, lbm_config
    from pvae_lib.data.foam_dataset import _label_flags, foam_label_config
    from pvae_lib.lbm.config import RUN_DEFAULTS, run_config
    from pvae_lib.profiles import get_profile

    parser = argparse.ArgumentParser()
    add_lbm_arguments(parser)
    assert {name: parser.get_default(name) for name in RUN_DEFAULTS} == RUN_DEFAULTS
    for name in ("quick", "paper"):
        profile = get_profile(name)
        args, _ = parser.parse_known_args(_label_flags(profile))
        assert lbm_config(args) == foam_label_config(profile)
    assert run_config(max_steps=50).check_interval == 25 and run_config(max_steps=50).min_steps == 50
    with pytest.raises(TypeError, match="unknown run settings"):
        run_config(steps=10)


def test_foam_volumes_are_generated_once_and_read_back_equal(tmp_path, monkeypatch):
    """The profile's foams are cached under their key: a second call reads them (the generator is not
    called), bit for bit equal; an unreadable file is generated again; another seed is another file."""
    import pvae_lib.data.foam as foam_module
    from pvae_lib.data.foam_dataset import foam_volumes
    from pvae_lib.profiles import get_profile

    monkeypatch.setenv("PVAE_ARTIFACTS", str(tmp_path))
    profile = get_profile("quick", smoke=True)
    first = foam_volumes(profile)
    files = sorted(tmp_path.rglob("volumes_*.npz"))
    assert len(first) == len(profile.data.foam_strains) * profile.data.foam_replicas and len(files) == 1

    generate = foam_module.generate_foam_replicas

    def refuse(*args, **kwargs):
        raise AssertionError("generated again instead of read from the cache")

    monkeypatch.setattr(foam_module, "generate_foam_replicas", refuse)
    second = foam_volumes(profile)
    for a, b in zip(first, second):
        assert a.image.dtype == b.image.dtype == bool and np.array_equal(a.image, b.image)
        assert all(getattr(a, k) == getattr(b, k) for k in ("strain", "radius", "porosity", "target_porosity"))

    files[0].write_bytes(b"not an npz")  # e.g. a copy cut short
    monkeypatch.setattr(foam_module, "generate_foam_replicas", generate)
    third = foam_volumes(profile)
    assert all(np.array_equal(a.image, c.image) for a, c in zip(first, third))
    foam_volumes(profile, seed=profile.seed + 1)
    assert len(list(tmp_path.rglob("volumes_*.npz"))) == 2
