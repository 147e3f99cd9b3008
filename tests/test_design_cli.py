"""`pvae design` round trip with a tiny saved pVAE."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tensorflow")

from pvae_lib.cli import main  # noqa: E402
from pvae_lib.design.inverse import predict_properties  # noqa: E402
from _design_fixtures import tiny_dataset, tiny_pvae  # noqa: E402


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("design_cli")
    model = tiny_pvae()
    path = folder / "tiny.keras"
    model.save(path)
    images, n, k = tiny_dataset(30, image_size=28)
    data = folder / "train.npz"
    np.savez(data, images=images, porosity=n, k11=k)
    target = predict_properties(model, np.zeros((1, model.latent_dim)), mode="loop")[0]
    return folder, path, data, target


def test_cli_round_trip(saved, capsys):
    folder, path, data, target = saved
    out = folder / "out"
    rc = main(["design", "--n", f"{target[0]:.4f}", "--k11", f"{target[1]:.4f}", "--model", str(path),
               "--out", str(out), "--n-designs", "3", "--starts", "6", "--data", str(data),
               "--iterations", "200", "--loop-iterations", "30"])
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(out / "designs.csv")
    assert 1 <= len(table) <= 3
    assert {"n_target", "k11_target", "n_exact", "k11_exact", "n_regressor", "k11_regressor"} <= set(table.columns)
    for name in table["design"]:
        img = np.load(out / f"{name}.npy")
        assert img.dtype == bool and img.shape == (28, 28)
        assert (out / f"{name}.png").is_file() and (out / f"{name}.tif").is_file()
        row = table[table["design"] == name].iloc[0]
        assert row["n_exact"] == pytest.approx(img.mean())
        assert row["k11_exact"] >= 0
    # a second run without --overwrite refuses to clobber
    rc = main(["design", "--n", "0.3", "--k11", "0.1", "--model", str(path), "--out", str(out),
               "--data", str(data), "--iterations", "5", "--loop-iterations", "2"])
    assert rc == 1 and "exists" in capsys.readouterr().err


@pytest.mark.parametrize("n, k, match", [("0.3", "-0.5", "non-negative"), ("1.5", "0.2", r"\(0, 1\)"),
                                         ("0", "0.2", r"\(0, 1\)")])
def test_cli_bad_targets(saved, capsys, n, k, match):
    import re

    folder, path, data, _ = saved
    rc = main(["design", f"--n={n}", f"--k11={k}", "--model", str(path), "--out", str(folder / "bad")])
    assert rc == 1
    assert re.search(match, capsys.readouterr().err)


def test_cli_missing_model(saved, capsys):
    folder, *_ = saved
    rc = main(["design", "--n", "0.3", "--k11", "0.1", "--model", str(folder / "nope.keras"), "--out", str(folder)])
    assert rc == 1 and "not found" in capsys.readouterr().err
