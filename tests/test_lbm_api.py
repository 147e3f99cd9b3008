"""Input checks, error messages, unit conversion and the CLI of the LBM engine."""
from __future__ import annotations

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from pvae_lib.lbm import (  # noqa: E402
    LBMConfig,
    LBMDivergenceError,
    NotConvergedError,
    permeability,
    permeability_tensor,
    simulate,
    to_physical,
)


def duct(a=6, length=4):
    img = np.zeros((length, a + 2, a + 2), dtype=bool)
    img[:, 1:-1, 1:-1] = True
    return img


@pytest.mark.parametrize(
    "image, match",
    [
        (np.full((4, 4, 4), 2), "not binary"),
        (np.where(np.eye(4)[None].repeat(4, 0) > 0, np.nan, 1.0), "NaN"),
        (np.ones(5), "dimensions"),
        (np.ones((2, 2, 2, 2)), "dimensions"),
        (np.zeros((4, 4, 4)), "no pore"),
        (np.ones((4, 4, 4)), "all pore"),
    ],
)
def test_bad_images_raise_clear_errors(image, match):
    with pytest.raises(ValueError, match=match):
        permeability(image)


def test_no_percolating_path_gives_zero_not_nan():
    img = duct()
    img[2] = False  # a solid wall across the flow
    res = permeability(img, 0)
    assert res.K == 0.0 and not res.percolates and res.steps == 0
    assert permeability(duct(), "x").K > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tau": 0.5}, "tau > 0.5"),
        ({"tau": 0.3}, "unstable"),
        ({"collision": "mrt"}, "collision"),
        ({"drive": "gravity"}, "drive"),
        ({"boundary": "open"}, "boundary"),
        ({"force": -1e-5}, "force"),
        ({"dtype": "float16"}, "dtype"),
        ({"check_interval": 500, "max_steps": 100}, "check_interval"),
        ({"max_mach": 2.0}, "max_mach"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LBMConfig(**kwargs)


def test_nonconverged_run_raises_or_flags():
    cfg = LBMConfig(tau=0.55, max_steps=100, check_interval=50, min_steps=50, tolerance=1e-12)
    with pytest.raises(NotConvergedError, match="did not converge"):
        permeability(duct(), 0, cfg)
    res = permeability(duct(), 0, cfg, require_convergence=False)
    assert res.converged is False and res.steps == 100


def test_too_fast_flow_is_rejected():
    with pytest.raises(LBMDivergenceError, match="Mach"):
        simulate(duct(), LBMConfig(force=0.05, max_steps=2000), 0)


def test_axes_and_2d_input():
    img = duct(6, length=6)
    # the same duct along y: transpose axes 0 and 1
    Kx = permeability(img, "x").K
    Ky = permeability(np.transpose(img, (1, 0, 2)), "y").K
    assert np.isclose(Kx, Ky, rtol=1e-5)
    # 2-D input is a periodic one-voxel slab: plates (slit) flow
    slit = np.ones((4, 10), dtype=bool)
    slit[:, 0] = slit[:, -1] = False
    K2 = permeability(slit, 0, LBMConfig(tolerance=1e-7)).K
    assert abs(K2 / (8**2 / 12 * 0.8) - 1) < 0.01


def test_to_physical():
    assert np.isclose(to_physical(2.0, 1e-6), 2e-12)
    K = np.array([[1.0, 0.5, 0], [0.5, 2.0, 0], [0, 0, 3.0]])
    out = to_physical(K, (1e-6, 2e-6, 1e-6))
    assert np.isclose(out[0, 1], 0.5 * 2e-12) and np.isclose(out[1, 1], 8e-12)
    assert np.isclose(to_physical(2.0, (1e-6, 2e-6, 3e-6), axis="y"), 8e-12)
    with pytest.raises(ValueError, match="axis"):
        to_physical(2.0, (1e-6, 2e-6, 3e-6))
    with pytest.raises(ValueError, match="positive"):
        to_physical(1.0, -1.0)


def test_tensor_rejects_2d():
    with pytest.raises(ValueError, match="3-D"):
        permeability_tensor(np.eye(5, dtype=bool) | np.eye(5, k=1, dtype=bool))


def test_cli_json_round_trip(tmp_path, capsys):
    from pvae_lib.cli import main

    path = tmp_path / "duct.npy"
    np.save(path, duct(6, length=4).astype(np.uint8))
    assert main(["permeability", str(path), "--axis", "x", "--json", "--voxel-size", "1e-5"]) == 0
    out = json.loads(capsys.readouterr().out)
    K = permeability(duct(6, length=4), 0).K
    assert np.isclose(out["K"], K) and out["converged"] is True
    assert np.isclose(out["porosity"], 36 / 64) and np.isclose(out["K_m2"], K * 1e-10)
    assert out["steps"] > 0 and out["seconds"] > 0
    assert main(["permeability", str(path), "--axis", "all", "--json"]) == 0
    tensor = json.loads(capsys.readouterr().out)["K"]
    assert np.array(tensor).shape == (3, 3) and np.isclose(tensor[0][0], K)
    assert main(["permeability", str(path), "--solver", "stokes2d", "--json"]) == 0
    assert abs(json.loads(capsys.readouterr().out)["K"] / K - 1) < 0.05
    assert main(["permeability", str(tmp_path / "missing.npy")]) == 1
    assert "missing.npy" in capsys.readouterr().err
