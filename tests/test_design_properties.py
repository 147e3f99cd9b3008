"""The design layer for any number of properties: feasibility, target checks, exact evaluators,
and ``pvae design`` on a model of 3-D samples mapped to (n, K11, K22, K33)."""
import json

import numpy as np
import pandas as pd
import pytest

from pvae_lib.design.evaluate import feasible_mask, nearest_feasible, neighbour_radius
from pvae_lib.design.inverse import check_target
from pvae_lib.design.verify import ComponentDuctFlow, exact_evaluator, lbm_evaluator

NAMES = ("n", "k11", "k22", "k33")


def _cloud(n=300, seed=0):
    """(n, 4) properties on a curved 2-D sheet in 4-D: K_ii grow with n, K22 ~ K33."""
    rng = np.random.default_rng(seed)
    por = rng.uniform(0.4, 0.9, n)
    k11 = por**3 * rng.uniform(0.8, 1.2, n)
    k22 = 0.7 * k11 * rng.uniform(0.95, 1.05, n)
    return np.column_stack([por, k11, k22, k22 * rng.uniform(0.97, 1.03, n)])


def test_neighbour_rule_covers_the_data_and_refuses_the_empty_space():
    p = _cloud()
    assert feasible_mask(p, p).all()  # every training point lies in its own ball
    radius = neighbour_radius(p)
    lo, span = p.min(0), np.ptp(p, 0)
    # off the sheet: K22 far above K11 - inside every property's range, but no structure is there
    off = np.array([[0.8, 0.3, 0.45, 0.2]])
    assert np.all((off >= lo) & (off <= lo + span))
    assert not feasible_mask(off, p)[0]
    near = nearest_feasible(off, p)
    assert feasible_mask(near, p).all()
    # the nearest feasible point sits on the ball around the nearest training point, on the ray to the target
    scaled = lambda a: (a - lo) / span  # noqa: E731
    j = np.argmin(np.linalg.norm(scaled(p) - scaled(off), axis=1))
    step = scaled(near[0]) - scaled(p[j])
    assert np.linalg.norm(step) == pytest.approx(radius, rel=1e-6)
    direction = scaled(off[0]) - scaled(p[j])
    assert np.dot(step, direction) == pytest.approx(np.linalg.norm(step) * np.linalg.norm(direction), rel=1e-9)
    # targets out of range are moved into the range, and feasible ones stay
    rng = np.random.default_rng(1)
    t = np.column_stack([rng.uniform(0.05, 0.95, 400), rng.uniform(-1, 2, (400, 3))])
    moved = nearest_feasible(t, p)
    assert feasible_mask(moved, p).all()
    assert np.all((moved >= p.min(0)) & (moved <= p.max(0)))
    np.testing.assert_array_equal(nearest_feasible(p[:5], p), p[:5])


def test_two_properties_keep_the_envelope_and_bad_methods_are_refused():
    rng = np.random.default_rng(2)
    n = np.repeat(np.linspace(0.2, 0.5, 7), 20)
    p = np.column_stack([n, n**2 * rng.uniform(0.9, 1.1, n.size)])
    t = np.column_stack([rng.uniform(0.2, 0.5, 200), rng.uniform(0, 0.3, 200)])
    np.testing.assert_array_equal(feasible_mask(t, p), feasible_mask(t, p, method="envelope"))
    with pytest.raises(ValueError, match="use 'neighbours'"):
        feasible_mask(_cloud()[:10], _cloud(), method="envelope")
    with pytest.raises(ValueError, match=r"\(T, P\) and \(N, P\)"):
        feasible_mask(np.zeros((3, 3)), _cloud())
    with pytest.raises(ValueError, match="at least two"):
        neighbour_radius(_cloud()[:1])


def test_check_target_names_every_flag():
    p = _cloud()
    ok = check_target(p[7], p, names=NAMES)
    assert ok.status == "ok" and np.array_equal(ok.nearest, p[7])
    out = check_target([0.6, 0.2, 0.15, 9.0], p, names=NAMES)
    assert out.status == "out_of_range"
    assert "--k33 9 is outside the training data's K33 range" in out.message and "l.u.²" in out.message
    assert "nearest feasible target: --n " in out.message and " --k22 " in out.message
    assert np.all(out.nearest <= p.max(0)) and feasible_mask(out.nearest[None], p)[0]
    off = check_target([0.8, 0.3, 0.45, 0.2], p, names=NAMES)
    assert off.status == "off_band" and "lies outside the region of (porosity, K11, K22, K33)" in off.message
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        check_target([0.5, 0.1, 0.1, 0.1], p[:, :2], names=NAMES)
    with pytest.raises(ValueError, match="porosity"):
        check_target([1.5, 0.1, 0.1, 0.1], p, names=NAMES)


def test_exact_evaluator_per_kind_of_sample():
    assert isinstance(exact_evaluator(("n", "k11"), ndim=2), ComponentDuctFlow)
    with pytest.raises(ValueError, match="duct flow"):
        exact_evaluator(NAMES, ndim=2)
    with pytest.raises(ValueError, match="cannot give"):
        exact_evaluator(("n", "k12"), ndim=3)
    with pytest.raises(ValueError, match="ndim"):
        exact_evaluator(NAMES, ndim=4)
    rng = np.random.default_rng(3)
    volumes = rng.random((2, 8, 8, 8)) < 0.65
    full = lbm_evaluator(axes=(0, 1, 2), batched=False)(volumes)  # n, K11, K22, K33
    picked = exact_evaluator(("k33", "n", "k11"), ndim=3)(volumes)
    np.testing.assert_array_equal(picked, full[:, [3, 0, 1]])
    assert np.all(full[:, 1:] > 0) and not np.allclose(full[:, 1], full[:, 3])  # the axes really differ


pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def foam_like(tmp_path_factory):
    """A tiny untrained pVAE of 26³ volumes mapped to (n, K11, K22, K33), and volumes with LBM labels."""
    from _design_fixtures import tiny_pvae, tiny_volumes

    folder = tmp_path_factory.mktemp("design3d")
    model = tiny_pvae(image_size=26, ndim=3, k11_max=3.0)
    path = folder / "foam.keras"
    model.save(path)
    images, props = tiny_volumes(12, size=26)
    data = folder / "volumes.npz"
    np.savez(data, images=images, **{name: props[:, j] for j, name in enumerate(NAMES)})
    return folder, path, data, props


def test_cli_designs_3d_samples_for_four_properties(foam_like, capsys):
    from pvae_lib.cli import main

    folder, path, data, props = foam_like
    target = props[4]
    out = folder / "out"
    flags = [f"--{name}={v:.6g}" for name, v in zip(NAMES, target)]
    rc = main(["design", *flags, "--model", str(path), "--out", str(out), "--data", str(data),
               "--starts", "3", "--n-designs", "2", "--iterations", "10", "--loop-iterations", "3"])
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(out / "designs.csv")
    assert 1 <= len(table) <= 2
    for suffix in ("target", "aimed", "exact", "regressor"):
        assert {f"{name}_{suffix}" for name in NAMES} <= set(table.columns)
    exact = lbm_evaluator(axes=(0, 1, 2), batched=False)
    for name in table["design"]:
        volume = np.load(out / f"{name}.npy")
        assert volume.dtype == bool and volume.shape == (26, 26, 26)
        assert (out / f"{name}.png").is_file() and (out / f"{name}.tif").is_file()
        row = table[table["design"] == name].iloc[0]
        # the verified properties written beside the image are the LBM's for that very volume
        np.testing.assert_allclose(row[[f"{n}_exact" for n in NAMES]].to_numpy(float), exact(volume[None])[0],
                                   rtol=1e-12)
        info = json.loads((out / f"{name}.json").read_text())
        assert set(info["verified"]) == {*NAMES, "method"} and "lattice Boltzmann" in info["verified"]["method"]
        assert info["target"]["k33"] == pytest.approx(float(f"{target[3]:.6g}"))
    assert list(table["error_verified"]) == sorted(table["error_verified"])


def test_cli_asks_for_the_properties_the_model_is_mapped_to(foam_like, capsys):
    from _design_fixtures import tiny_pvae
    from pvae_lib.cli import main

    folder, path, data, props = foam_like
    rc = main(["design", "--n", "0.6", "--k11", "0.5", "--model", str(path), "--out", str(folder / "a"),
               "--data", str(data)])
    err = capsys.readouterr().err
    assert rc == 1 and "mapped to (n, k11, k22, k33): give --k22 and --k33 too" in err
    flat = folder / "flat.keras"
    tiny_pvae().save(flat)
    rc = main(["design", "--n", "0.3", "--k11", "0.1", "--k22", "0.1", "--model", str(flat),
               "--out", str(folder / "b"), "--data", "prior"])
    err = capsys.readouterr().err
    assert rc == 1 and "mapped to (n, k11) only: drop --k22" in err
    rc = main(["design", "--n", "0.6", "--k11", "0.5", "--k22", "-1", "--k33", "0.5", "--model", str(path),
               "--out", str(folder / "c")])
    assert rc == 1 and "--k22 must be non-negative" in capsys.readouterr().err
    target = [f"--{name}={v:.6g}" for name, v in zip(NAMES, props[0])]
    rc = main(["design", *target, "--model", str(path), "--out", str(folder / "d"), "--data", str(data),
               "--refine-calls", "5", "--pore-size", "4"])
    assert rc == 1 and "--refine-calls refines square-pore 2-D patterns" in capsys.readouterr().err
    rc = main(["design", "--n", "0.6", "--k11", "0.5", "--k22", "0.5", "--k33", "9", "--model", str(path),
               "--out", str(folder / "e"), "--data", str(data)])
    err = capsys.readouterr().err
    assert rc == 1 and "--k33 9 is outside the training data's K33 range" in err
    assert not (folder / "e").exists()
