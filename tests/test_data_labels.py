"""Property CSV, dataset folders, resumable labelling and the tf.data pipeline."""
import numpy as np
import pandas as pd
import pytest

from pvae_lib.data import labels as labels_mod
from pvae_lib.data.container import open_dataset, save_dataset
from pvae_lib.data.labels import label_dataset, label_images, parse_axes
from pvae_lib.data.properties import read_properties, validate_properties, write_properties
from pvae_lib.data.synthetic import generate_synthetic
from pvae_lib.stokes2d import stokes2d_permeability


@pytest.fixture
def folder(tmp_path):
    images = generate_synthetic(30, 20, 2, 10, 30, rng=0)
    return save_dataset(tmp_path / "ds", images, meta={"kind": "synthetic"}, extruded_length=20)


def table(**over):
    df = pd.DataFrame({"case": [0, 1, 2], "n_F": [0.1, 0.2, 0.3], "Permeability_x": [0.5, 0.6, 0.7]})
    for k, v in over.items():
        df.loc[v[0], k] = v[1]
    return df


def test_csv_round_trip(tmp_path):
    df = table()
    df["strain"] = [0.0, 0.15, 0.5]
    df["Permeability_y"] = [1.0, 2.0, 3.0]
    write_properties(df, tmp_path / "p.csv")
    back = read_properties(tmp_path / "p.csv", n_images=3)
    assert list(back.columns) == ["case", "n_F", "strain", "Permeability_x", "Permeability_y"]
    pd.testing.assert_frame_equal(back, df[back.columns], check_dtype=False)
    # the authors' spelling with spaces after commas is read too
    (tmp_path / "a.csv").write_text("case, n_F, Permeability_x\n0, 0.25, 1.5\n")
    assert read_properties(tmp_path / "a.csv")["Permeability_x"][0] == 1.5


@pytest.mark.parametrize("bad, match", [
    (dict(n_F=(1, 0.0)), "row 2 \\(case 1\\).*outside"),
    (dict(n_F=(2, 1.2)), "row 3 \\(case 2\\).*outside"),
    (dict(Permeability_x=(1, np.nan)), "row 2 \\(case 1\\).*Permeability_x.*NaN"),
    (dict(Permeability_x=(0, -1.0)), "row 1 \\(case 0\\).*negative"),
    (dict(case=(2, 1)), "case appears twice"),
])
def test_validation_names_the_row(bad, match):
    with pytest.raises(ValueError, match=match):
        validate_properties(table(**bad))


def test_rows_must_match_images():
    images = np.zeros((3, 10, 10), bool)
    images[0, :1] = True  # 0.1
    images[1, :2] = True  # 0.2
    images[2, :3] = True  # 0.3
    validate_properties(table(), images=images)
    with pytest.raises(ValueError, match="row 3 \\(case 2\\).*porosity"):
        validate_properties(table(n_F=(2, 0.31)), images=images)
    with pytest.raises(ValueError, match="no such image"):
        validate_properties(table(), n_images=2)
    with pytest.raises(ValueError, match="missing column"):
        validate_properties(table().drop(columns="n_F"))


def test_label_dataset_matches_direct_solver(folder):
    out = label_dataset(folder, progress=False, workers=1)
    data = open_dataset(folder)
    assert len(out) == 30 and list(out["case"]) == list(range(30))
    assert out["Permeability_x"][3] == pytest.approx(stokes2d_permeability(data.images[3]))
    np.testing.assert_allclose(out["n_F"], data.images.mean(axis=(1, 2)))
    assert data.properties is not None and len(data.properties) == 30


def test_labelling_resumes_after_interruption(folder, monkeypatch):
    real = labels_mod.label_sample
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 17:
            raise KeyboardInterrupt  # the run is killed while labelling sample 18
        return real(*args, **kwargs)

    monkeypatch.setattr(labels_mod, "label_sample", flaky)
    with pytest.raises(KeyboardInterrupt):
        label_dataset(folder, every=5, progress=False, workers=1)
    partial = read_properties(folder / "properties.csv")
    assert list(partial["case"]) == list(range(15))  # three complete checkpoints, nothing half-written
    assert not [p for p in folder.iterdir() if p.name.startswith(".properties")]  # no temporaries
    monkeypatch.setattr(labels_mod, "label_sample", real)
    calls["n"] = 0
    counted = []
    monkeypatch.setattr(labels_mod, "label_sample", lambda *a, **k: counted.append(1) or real(*a, **k))
    full = label_dataset(folder, every=5, progress=False, workers=1)
    assert len(counted) == 15 and len(full) == 30  # only the missing samples were computed
    fresh = label_images(open_dataset(folder).images, progress=False, workers=1)
    np.testing.assert_allclose(full["Permeability_x"], fresh["Permeability_x"])


def test_parallel_labelling_matches_serial(monkeypatch):
    monkeypatch.setattr(labels_mod, "PARALLEL_MIN_SAMPLES", 1)
    images = generate_synthetic(12, 16, 2, 5, 20, rng=4)
    a = label_images(images, workers=2, progress=False, block=6)
    b = label_images(images, workers=1, progress=False)
    pd.testing.assert_frame_equal(a, b)


def test_bad_axes_and_solver(folder):
    assert parse_axes("x,y,z") == (0, 1, 2) and parse_axes("z") == (2,) and parse_axes(1) == (1,)
    with pytest.raises(ValueError):
        parse_axes("w")
    with pytest.raises(ValueError, match="stokes2d"):
        label_dataset(folder, axes="y", progress=False, workers=1)
    with pytest.raises(ValueError, match="solver"):
        label_dataset(folder, solver="fem", progress=False)


def test_tf_pipeline_shapes(folder):
    pytest.importorskip("tensorflow")
    from pvae_lib.data.pipeline import make_tf_dataset

    label_dataset(folder, progress=False, workers=1)
    ds = make_tf_dataset(folder, batch_size=8, labels=("n_F", "x"), seed=0)
    batches = list(ds)
    assert [tuple(x.shape) for x, _ in batches] == [(8, 20, 20, 1)] * 3 + [(6, 20, 20, 1)]
    assert tuple(batches[0][1].shape) == (8, 2)
    # labels travel with their images
    data = open_dataset(folder)
    for x, y in batches:
        np.testing.assert_allclose(x.numpy().mean(axis=(1, 2, 3)), y.numpy()[:, 0], rtol=1e-6)
    x3 = next(iter(make_tf_dataset(folder, batch_size=4, labels=None, as_3d=True, shuffle=False)))
    assert tuple(x3.shape) == (4, 20, 20, 20, 1)
    np.testing.assert_array_equal(x3.numpy()[1, 5, ..., 0], data.images[1])


def test_lbm_labelling_agrees_with_exact_solver_on_extruded_patterns():
    pytest.importorskip("pvae_lib.lbm.permeability")
    images = generate_synthetic(2, 20, 4, 3, 10, rng=8)  # 4-pixel pores: LBM within ~2 %
    lbm = label_images(images, solver="lbm", extruded_length=4, progress=False)
    exact = label_images(images, solver="stokes2d", progress=False, workers=1)
    np.testing.assert_allclose(lbm["n_F"], exact["n_F"])
    np.testing.assert_allclose(lbm["Permeability_x"], exact["Permeability_x"], rtol=0.04)
