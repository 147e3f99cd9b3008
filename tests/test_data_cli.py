"""``pvae generate`` and ``pvae label`` round trip."""
import numpy as np
import pandas as pd

from pvae_lib.cli import main
from pvae_lib.data.container import open_dataset
from pvae_lib.data.synthetic import generate_synthetic
from pvae_lib.stokes2d import stokes2d_permeability


def test_generate_and_label_synthetic(tmp_path, capsys):
    out = tmp_path / "squares"
    assert main(["generate", "synthetic", "--n", "12", "--size", "20", "--pore", "2", "--min-pores", "5",
                 "--max-pores", "20", "--seed", "3", "--out", str(out)]) == 0
    data = open_dataset(out)
    assert data.images.shape == (12, 20, 20) and data.provenance["seed"] == 3 and data.extruded_length == 20
    # the same seed through the library gives the same patterns
    assert np.array_equal(data.images, generate_synthetic(12, 20, 2, 5, 20, rng=np.random.default_rng(3)))
    assert main(["label", str(out), "--quiet", "--every", "5"]) == 0
    table = pd.read_csv(out / "properties.csv")
    assert list(table.columns) == ["case", "n_F", "Permeability_x"]
    assert table["Permeability_x"][4] == stokes2d_permeability(data.images[4])
    assert "labelled 12 new samples" in capsys.readouterr().out
    # labelling again is a no-op (resumable)
    assert main(["label", str(out), "--quiet"]) == 0
    assert "labelled 0 new samples (12 in total)" in capsys.readouterr().out


def test_cli_errors(tmp_path, capsys):
    out = tmp_path / "s"
    args = ["generate", "synthetic", "--n", "2", "--size", "20", "--pore", "2", "--seed", "1", "--out", str(out)]
    assert main(args) == 0
    assert main(args) == 1  # exists
    assert "overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    assert main(["label", str(tmp_path / "nothing")]) == 1
    assert "not a dataset folder" in capsys.readouterr().err
    assert main(["label", str(out), "--axis", "y", "--quiet"]) == 1
    assert "stokes2d" in capsys.readouterr().err


def test_generate_foam_and_label_with_lbm(tmp_path):
    out = tmp_path / "foam"
    assert main(["generate", "foam", "--size", "32", "--cell-size", "10", "--porosity", "0.85", "--strains", "0,0.3",
                 "--sub", "16", "--stride", "16", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    data = open_dataset(out)
    assert data.images.shape == (16, 16, 16, 16) and data.provenance["strains"] == [0.0, 0.3]
    import pytest

    pytest.importorskip("pvae_lib.lbm.permeability")
    assert main(["label", str(out), "--solver", "lbm", "--axis", "x", "--limit", "2", "--quiet"]) == 0
    table = pd.read_csv(out / "properties.csv")
    assert list(table["case"]) == [0, 1] and list(table.columns) == [
        "case", "n_F", "strain", "replica", "volume", "x0", "y0", "z0", "Permeability_x"]
    assert (table["Permeability_x"] > 0).all()


def test_generate_foam_replicas_and_label_the_full_tensor(tmp_path, capsys):
    out = tmp_path / "foam"
    assert main(["generate", "foam", "--size", "16", "--cell-size", "8", "--porosity", "0.85", "--strains", "0,0.3",
                 "--sub", "16", "--stride", "16", "--seed", "1", "--replicas", "2", "--out", str(out), "--quiet"]) == 0
    data = open_dataset(out)
    assert data.images.shape == (4, 16, 16, 16) and data.provenance["replicas"] == 2
    samples = pd.read_csv(out / "samples.csv")
    assert list(samples["replica"]) == [0, 0, 1, 1] and list(samples["volume"]) == [0, 1, 2, 3]
    assert not np.array_equal(data.images[0], data.images[2])  # independent foams
    import pytest

    pytest.importorskip("pvae_lib.lbm.permeability")
    assert main(["label", str(out), "--solver", "lbm", "--axis", "x", "--tensor", "--quiet"]) == 1
    assert "--tensor needs --solver lbm --axis x,y,z" in capsys.readouterr().err
    assert main(["label", str(out), "--solver", "lbm", "--axis", "x,y,z", "--tensor", "--limit", "1", "--quiet",
                 "--output", "tensor.csv"]) == 0
    table = pd.read_csv(out / "tensor.csv")
    assert list(table.columns)[-7:] == ["Permeability_x", "Permeability_y", "Permeability_z", "Permeability_xy",
                                        "Permeability_xz", "Permeability_yz", "K_asymmetry"]
    assert 0 <= table["K_asymmetry"][0] < 1e-3
    from pvae_lib.lbm.permeability import permeability

    assert table["Permeability_y"][0] == pytest.approx(float(permeability(data.images[0], axis=1)), rel=1e-12)
