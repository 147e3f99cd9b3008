"""`pvae design` round trip with a tiny saved pVAE."""
import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tensorflow")

from pvae_lib.cli import main  # noqa: E402
from pvae_lib.stokes2d import stokes2d_permeability  # noqa: E402
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
    target = np.array([n[3], k[3]])  # inside the training data (the untrained model's own guess is not)
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
    # a feasible target is designed as requested: aimed = requested, distance 0, one error
    np.testing.assert_array_equal(table[["n_aimed", "k11_aimed"]].to_numpy(), table[["n_target", "k11_target"]])
    assert (table["target_distance"] == 0).all()
    np.testing.assert_array_equal(table["error_requested"], table["error_verified"])
    for name in table["design"]:
        img = np.load(out / f"{name}.npy")
        assert img.dtype == bool and img.shape == (28, 28)
        assert (out / f"{name}.png").is_file() and (out / f"{name}.tif").is_file()
        row = table[table["design"] == name].iloc[0]
        assert row["n_exact"] == pytest.approx(img.mean())
        assert row["k11_exact"] == pytest.approx(stokes2d_permeability(img) if img.any() else 0.0, rel=1e-9)
        info = json.loads((out / f"{name}.json").read_text())  # verified properties beside the image
        assert info["image"] == f"{name}.npy" and info["verified"]["n"] == pytest.approx(row["n_exact"])
        assert info["verified"]["k11"] == pytest.approx(row["k11_exact"])
        assert info["target"]["n"] == pytest.approx(float(f"{target[0]:.4f}"))
        assert info["target_status"] == "ok" and info["aimed"] == info["target"] and info["target_distance"] == 0
        assert info["error_requested"] == pytest.approx(info["error_verified"])
    # designs are ordered by their verified error
    assert list(table["error_verified"]) == sorted(table["error_verified"])
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


def _banded_data(folder):
    """Training data with 3 porosity levels x 10 samples and a narrow K11 band per level."""
    rng = np.random.default_rng(4)
    images, _, _ = tiny_dataset(30, image_size=28)
    n = np.repeat([0.2, 0.3, 0.4], 10)
    k = n * 0.5 + rng.uniform(-0.01, 0.01, n.size)
    path = folder / "banded.npz"
    np.savez(path, images=images, n=n, k11=k)
    return path


def test_cli_refuses_a_target_outside_the_training_range(saved, capsys):
    folder, path, _, _ = saved
    data = _banded_data(folder)
    out = folder / "refused"
    rc = main(["design", "--n", "0.3", "--k11", "1000", "--model", str(path), "--out", str(out), "--data", str(data)])
    err = capsys.readouterr().err
    assert rc == 1 and len(err.strip().splitlines()) == 1
    k = np.load(data)["k11"]
    assert f"--k11 1000 is outside the training data's K11 range {k.min():.4g} .. {k.max():.4g} l.u.²" in err
    assert "nearest feasible target: --n 0.4 --k11 " in err and "--force to design the nearest feasible" in err
    assert not out.exists()  # refused before anything was written
    rc = main(["design", "--n", "0.05", "--k11", "0.15", "--model", str(path), "--out", str(out), "--data", str(data)])
    err = capsys.readouterr().err
    assert rc == 1 and "--n 0.05 is outside the training data's porosity range 0.2 .. 0.4" in err and not out.exists()
    # --data prior: the range of the model's property scaler (K11 0 .. 0.5)
    rc = main(["design", "--n", "0.3", "--k11", "2", "--model", str(path), "--out", str(out), "--data", "prior"])
    err = capsys.readouterr().err
    assert rc == 1 and "--k11 2 is outside" in err and "0 .. 0.5" in err and not out.exists()


def test_cli_warns_off_the_band_and_force_designs_out_of_range(saved, capsys):
    folder, path, _, _ = saved
    data = _banded_data(folder)
    out = folder / "offband"
    rc = main(["design", "--n", "0.3", "--k11", "0.1", "--model", str(path), "--out", str(out), "--data", str(data),
               "--starts", "4", "--n-designs", "2", "--iterations", "20", "--loop-iterations", "5"])
    err = capsys.readouterr().err
    assert rc == 0 and "warning: target --n 0.3 --k11 0.1 lies outside the band" in err
    assert len(err.strip().splitlines()) == 1
    import re

    from pvae_lib.design.evaluate import feasible_mask

    with np.load(data) as f:
        train = np.column_stack([f["n"], f["k11"]])
    near = [float(v) for v in re.search(r"nearest feasible target: --n (\S+) --k11 (\S+);", err).groups()]
    assert feasible_mask(np.array([near]), train, quantiles=(0.005, 0.995))[0] or np.allclose(
        near, [0.2631, 0.1245], atol=2e-4)
    # the nearest feasible target is what is designed (default --aim nearest), and the files say so
    assert f"designing the nearest feasible target --n {near[0]:.4g} --k11 {near[1]:.4g} instead" in err
    assert "--aim requested" in err
    info = json.loads((out / "design_00.json").read_text())
    assert info["target_status"] == "off_band" and info["target"] == {"n": 0.3, "k11": 0.1}
    assert [info["aimed"]["n"], info["aimed"]["k11"]] == pytest.approx(near, abs=1e-4)
    assert info["target_distance"] > 0
    forced = folder / "forced"
    rc = main(["design", "--n", "0.3", "--k11", "1000", "--model", str(path), "--out", str(forced), "--data",
               str(data), "--starts", "2", "--n-designs", "1", "--iterations", "5", "--loop-iterations", "2",
               "--force"])
    err = capsys.readouterr().err
    assert rc == 0 and "warning: --k11 1000 is outside" in err and (forced / "design_00.json").is_file()
    info = json.loads((forced / "design_00.json").read_text())
    assert info["target_status"] == "out_of_range" and info["aimed"]["n"] == pytest.approx(0.4)
    assert info["aimed"]["k11"] < 1 and "designing the nearest feasible target --n 0.4 --k11" in err


def _design(path, data, out, target, *extra):
    return main(["design", "--n", str(target[0]), "--k11", str(target[1]), "--model", str(path), "--out", str(out),
                 "--data", str(data), "--starts", "4", "--n-designs", "2", "--iterations", "20",
                 "--loop-iterations", "5", "--refine-calls", "200", "--pore-size", "4", *extra])


def test_cli_designs_the_nearest_feasible_target_off_the_band(saved, capsys):
    """An infeasible target: the designs aim at the nearest feasible one and report both errors."""
    from pvae_lib.experiments.design import load_pvae
    from pvae_lib.design.inverse import check_target
    from pvae_lib.design.verify import scaled_error

    folder, path, _, _ = saved
    data = _banded_data(folder)
    with np.load(data) as f:
        train = np.column_stack([f["n"], f["k11"]])
    requested = np.array([0.4, 0.1])  # inside the range, far below the band (K11 ~ n / 2)
    check = check_target(requested, train)
    assert check.status == "off_band"
    scaler = load_pvae(path).property_scaler
    out = folder / "aim_nearest"
    assert _design(path, data, out, requested) == 0
    err = capsys.readouterr().err
    assert "designing the nearest feasible target" in err
    table = pd.read_csv(out / "designs.csv")
    assert {"n_aimed", "k11_aimed", "target_distance", "error_requested"} <= set(table.columns)
    cols = list(table.columns)  # beside the target and the verified error
    assert cols.index("n_aimed") == cols.index("k11_target") + 1
    assert cols.index("error_requested") == cols.index("error_verified") + 1
    np.testing.assert_allclose(table[["n_aimed", "k11_aimed"]].to_numpy(), np.tile(check.nearest, (len(table), 1)))
    distance = scaled_error(check.nearest, requested, scaler)
    assert distance > 0 and np.allclose(table["target_distance"], distance)
    exact = table[["n_exact", "k11_exact"]].to_numpy()
    np.testing.assert_allclose(table["error_verified"], scaled_error(exact, check.nearest, scaler))
    np.testing.assert_allclose(table["error_requested"], scaled_error(exact, requested, scaler))
    # the verified designs lie nearer the feasible target they aimed at than the requested one
    assert np.all(table["error_verified"] < table["error_requested"])
    info = json.loads((out / "design_00.json").read_text())
    assert info["target_distance"] == pytest.approx(distance)
    assert info["error_requested"] == pytest.approx(table["error_requested"][0])
    # --aim requested: the old behaviour, designs aimed at the requested target, distance 0
    out = folder / "aim_requested"
    assert _design(path, data, out, requested, "--aim", "requested") == 0
    err = capsys.readouterr().err
    assert "designing the requested target anyway" in err and "designing the nearest" not in err
    asked = pd.read_csv(out / "designs.csv")
    np.testing.assert_allclose(asked[["n_aimed", "k11_aimed"]].to_numpy(), np.tile(requested, (len(asked), 1)))
    assert (asked["target_distance"] == 0).all()
    np.testing.assert_array_equal(asked["error_requested"], asked["error_verified"])
    info = json.loads((out / "design_00.json").read_text())
    assert info["aimed"] == {"n": 0.4, "k11": 0.1} and info["target_distance"] == 0


def test_invalid_aim_is_refused(saved, capsys):
    from pvae_lib.cli.design import _AIMS
    from pvae_lib.experiments.design import load_pvae, run_design
    from pvae_lib.experiments.design import AIMS, design_target

    assert _AIMS == AIMS
    folder, path, data, target = saved
    out = folder / "bad_aim"
    with pytest.raises(SystemExit) as exc:  # argparse: exit status 2
        main(["design", "--n", "0.3", "--k11", "0.1", "--model", str(path), "--out", str(out), "--aim", "middle"])
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "--aim" in err and "middle" in err and not out.exists()
    model = load_pvae(path)
    with pytest.raises(ValueError, match="--aim must be one of nearest, requested"):
        # refused before anything else: without starts or z0 it would otherwise fail on those
        design_target(model, target, aim="middle")
    with pytest.raises(ValueError, match="--aim"):
        run_design(model, target, out, data=str(folder / "missing.npz"), aim="Nearest")
    assert not out.exists()


def test_cli_refinement_keeps_square_pores(saved, capsys):
    from pvae_lib.design.refine import check_squares, image_from_squares, squares_from_image

    folder, path, data, target = saved
    out = folder / "refined"
    rc = main(["design", "--n", f"{target[0]:.4f}", "--k11", f"{target[1]:.4f}", "--model", str(path), "--out",
               str(out), "--data", str(data), "--starts", "4", "--n-designs", "2", "--iterations", "20",
               "--loop-iterations", "5", "--refine-calls", "30"])
    err = capsys.readouterr().err
    assert rc == 1 and "--pore-size" in err and not out.exists()
    rc = main(["design", "--n", f"{target[0]:.4f}", "--k11", f"{target[1]:.4f}", "--model", str(path), "--out",
               str(out), "--data", str(data), "--starts", "4", "--n-designs", "2", "--iterations", "20",
               "--loop-iterations", "5", "--refine-calls", "200", "--pore-size", "4"])
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(out / "designs.csv")
    # the untrained model's candidates are far off; 200 exact calls of the square-pore search beat them
    assert "refined" in set(table["stage"])
    for name in table.loc[table["stage"] == "refined", "design"]:
        img = np.load(out / f"{name}.npy")
        corners = squares_from_image(img, 4)
        check_squares(corners, img.shape, 4)
        np.testing.assert_array_equal(image_from_squares(corners, img.shape, 4), img)
