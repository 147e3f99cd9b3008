"""Compute budget of the book's models (pvae_lib.budget) and the ``pvae info`` command."""
import functools
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")

from pvae_lib import budget  # noqa: E402
from pvae_lib.models.pvae import build_pvae  # noqa: E402
from pvae_lib.profiles import get_profile  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024.0 ** 3


@functools.lru_cache(maxsize=None)
def _table(name):
    return budget.budget_table(name)


def _built(spec):
    model = spec.build()
    return model, budget.layer_costs(model)


# ------------------------------------------------------------------------------------ FLOPs by hand
def test_dense_and_conv_flops_match_hand_computation():
    x = keras.Input((8, 8, 2))
    conv = keras.layers.Conv2D(5, 3, padding="same", name="c")(x)
    deconv = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", name="t")(conv)
    conv3 = keras.layers.Conv3D(3, 4, strides=2, padding="valid", name="c3")(keras.layers.Reshape((4, 4, 4, 5))(conv))
    flat = keras.layers.Flatten()(deconv)
    dense = keras.layers.Dense(7, name="d")(flat)
    model = keras.Model(x, [dense, conv3])
    costs = {c.name: c for c in budget.layer_costs(model)}
    # Conv2D: 8x8 outputs x 3x3 kernel x 2 in x 5 out multiply-adds; params 3*3*2*5 + 5
    assert costs["c"].macs == 8 * 8 * 3 * 3 * 2 * 5 == 5760 and costs["c"].params == 95
    # Conv2DTranspose: every one of the 8x8x5 inputs scatters a 3x3x4 kernel -> 16x16x4 output
    assert costs["t"].output_shape == (16, 16, 4) and costs["t"].macs == 8 * 8 * 5 * 3 * 3 * 4 == 11520
    # Conv3D valid, stride 2, on 4x4x4x5: output 1x1x1x3, each 4^3*5 multiply-adds; params 4^3*5*3 + 3
    assert costs["c3"].output_shape == (1, 1, 1, 3) and costs["c3"].macs == 3 * 64 * 5 and costs["c3"].params == 963
    # Dense: 16*16*4 inputs x 7 outputs
    assert costs["d"].macs == 1024 * 7 and costs["d"].params == 1024 * 7 + 7
    assert budget.dense_macs(10, 7) == 70
    assert budget.conv_macs((8, 8), (3, 3), 2, 5) == 5760
    assert budget.conv_transpose_macs((8, 8), (3, 3), 5, 4) == 11520


def test_model_budget_formulas():
    """Memory = outputs x batch x 4 B x 2 + params x 4 B x 4; train FLOPs = 3 x 2 x multiply-adds."""
    spec = budget.model_specs(get_profile("quick"))[0]
    _, layers = _built(spec)
    row = budget.model_budget(spec)
    outputs = sum(math.prod(la.output_shape) for la in layers)
    params = sum(la.params for la in layers)
    assert row["activation_bytes"] == outputs * spec.batch_size * 4 * 2
    assert row["state_bytes"] == params * 16
    assert row["forward_flops"] == 2 * sum(la.macs for la in layers)
    assert row["train_flops"] == 3 * row["forward_flops"]
    expected = row["train_flops"] * spec.n_train / (budget.GPUS["T4"]["fp32"] * budget.EFFICIENCY)
    assert row["seconds_T4_fp32"] == pytest.approx(expected)


# ------------------------------------------------------------------------------------ parameters
@pytest.mark.parametrize("name", ["quick", "paper"])
def test_parameter_counts_equal_count_params(name):
    table = _table(name)
    for spec in budget.model_specs(get_profile(name)):
        if table.loc[spec.key, "counted"] == "analytic":
            continue  # too large to build here; checked against a built model below
        model, layers = _built(spec)
        assert sum(la.params for la in layers) == model.count_params() == table.loc[spec.key, "params"], spec.key
        if spec.analytic is not None:  # the analytic walk agrees layer by layer at the profile's size
            assert spec.analytic() == layers, spec.key
        keras.backend.clear_session()


@pytest.mark.parametrize("spatial, latent, base, n_props", [((40, 40), 16, 8, 2), ((36, 40), 8, 4, 1),
                                                            ((32, 32, 32), 8, 4, 4), ((27, 30, 33), 6, 2, 4)])
def test_analytic_pvae_equals_built_model(spatial, latent, base, n_props):
    """The analytic walk used for the paper-scale foam pVAE is exact on models small enough to build."""
    units = (16, 16, 4)
    model = build_pvae(spatial, latent, base, n_props, regressor_units=units)
    analytic = budget.pvae_layers_analytic(spatial, latent, base, n_props, units)
    assert analytic == budget.layer_costs(model)
    assert sum(la.params for la in analytic) == model.count_params()
    keras.backend.clear_session()


def test_paper_foam_pvae_is_counted_analytically_and_cheaply():
    table = _table("paper")
    assert table.loc["foam_pvae", "counted"] == "analytic"
    assert table.loc["foam_pvae", "params"] > budget.BUILD_PARAM_LIMIT
    assert (table.loc[["cnn", "pvae"], "counted"] == "built").all()


# ------------------------------------------------------------------------------------ memory
@pytest.mark.parametrize("key", ["cnn", "pvae", "foam_pvae"])
def test_paper_profile_model_fits_15_gib(key):
    row = _table("paper").loc[key]
    gib = row["memory_bytes"] / GIB
    assert gib <= budget.MEMORY_LIMIT_GIB, f"{row['model']}: {gib:.1f} GiB per training step"
    assert row["fits"]


def test_quick_profile_models_fit():
    assert _table("quick")["fits"].all()


# ------------------------------------------------------------------------------------ text
def test_formatting():
    assert budget.format_count(1_234_567) == "1.23 M"
    assert budget.format_count(1_173_239_533) == "1.17 G"
    assert budget.format_bytes(3.4 * GIB) == "3.4 GiB"
    assert budget.format_bytes(85.84 * GIB) == "86 GiB"
    assert budget.format_seconds(44.26) == "44 s" and budget.format_seconds(435.3) == "7.3 min"


def test_intro_tables_are_up_to_date():
    stale = budget.check_intro()
    assert not stale, f"book/intro.md blocks {stale} are stale; run `python -m pvae_lib.budget --write-intro`"


# ------------------------------------------------------------------------------------ pvae info
def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "pvae_lib", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_pvae_info_names_device_and_models():
    res = _run("info", "--profile", "quick")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "pvae_lib" in out and "profile: quick" in out
    device = next(line for line in out.splitlines() if line.startswith("device: "))
    assert "GPU" in device or ("CPU" in device and "threads" in device), device
    for spec in budget.model_specs(get_profile("quick")):
        assert spec.label in out, spec.label


def test_pvae_info_rejects_a_bad_profile_in_one_line():
    res = _run("info", "--profile", "huge")
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--profile" in lines[0] and "huge" in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_intro_tables_ignore_the_smoke_switch(monkeypatch):
    from pvae_lib.budget import budget_markdown

    monkeypatch.delenv("PVAE_SMOKE", raising=False)
    real = budget_markdown()
    monkeypatch.setenv("PVAE_SMOKE", "1")
    assert budget_markdown() == real


def test_pvae_info_under_the_smoke_switch_prints_the_smoke_profile():
    import os
    import subprocess
    import sys

    env = {**os.environ, "PVAE_SMOKE": "1"}
    out = subprocess.run([sys.executable, "-m", "pvae_lib", "info", "--profile", "quick"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "quick+smoke" in out.stdout
