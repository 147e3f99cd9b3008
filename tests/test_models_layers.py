"""Layers, scaler, metrics and the pVAE loss terms against hand-computed values."""
import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pvae_lib.models.layers import Sampling, SteepSigmoid  # noqa: E402
from pvae_lib.models.metrics import r2_score, voxel_accuracy  # noqa: E402
from pvae_lib.models.pvae import build_pvae  # noqa: E402
from pvae_lib.models.scaling import MinMaxScaler  # noqa: E402


def test_steep_sigmoid_values():
    layer = SteepSigmoid(k=5)
    x = np.array([[-1.0, 0.0, 0.2, 2.0]], dtype="float32")
    expected = 1.0 / (1.0 + np.exp(-5.0 * x))
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-6)
    assert float(np.asarray(layer(np.zeros((1, 1), "float32")))[0, 0]) == 0.5
    with pytest.raises(ValueError):
        SteepSigmoid(k=0)
    assert SteepSigmoid.from_config(layer.get_config()).k == 5.0


def test_sampling_statistics_and_seed():
    mu = np.full((4000, 3), 2.0, "float32")
    log_var = np.full((4000, 3), np.log(0.25), "float32")
    z = np.asarray(Sampling(seed=1)([mu, log_var]))
    assert abs(z.mean() - 2.0) < 0.03 and abs(z.std() - 0.5) < 0.03
    z2 = np.asarray(Sampling(seed=1)([mu, log_var]))
    np.testing.assert_array_equal(z, z2)


def test_scaler_roundtrip_json(tmp_path):
    y = np.array([[0.1, 2.0], [0.3, 4.0], [0.2, 3.0]])
    s = MinMaxScaler(names=("n", "k11")).fit(y)
    t = s.transform(y)
    np.testing.assert_allclose(t[:, 0], [0, 1, 0.5], atol=1e-6)
    np.testing.assert_allclose(s.inverse_transform(t), y, rtol=1e-6)
    s2 = MinMaxScaler.from_json(s.to_json(tmp_path / "s.json"))
    s3 = MinMaxScaler.from_json(tmp_path / "s.json")
    assert s2.names == ("n", "k11") and json.loads(s3.to_json()) == json.loads(s.to_json())
    with pytest.raises(ValueError, match="NaN"):
        s.transform([[np.nan, 1.0]])
    with pytest.raises(RuntimeError):
        MinMaxScaler().transform(y)


def test_r2_per_output():
    t = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    p = np.array([[1.0, 0.5], [2.0, 1.0], [3.0, 1.5]])
    r2 = r2_score(t, p)
    np.testing.assert_allclose(r2, [1.0, 1.0 - 0.5 / 2.0])
    assert r2_score([1, 2, 3], [1, 2, 3]).shape == (1,)
    assert voxel_accuracy(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.4, 0.1])) == 0.75


def test_loss_terms_hand_computed():
    model = build_pvae((25, 25), latent_dim=2, base_filters=2, n_properties=2, beta=0.5, lam=3.0)
    x = np.zeros((2, 25, 25, 1), "float32")
    x[0, :5] = 1.0
    x_hat = np.full((2, 25, 25, 1), 0.25, "float32")
    mu = np.array([[0.0, 1.0], [2.0, 0.0]], "float32")
    lv = np.array([[0.0, np.log(2.0)], [0.0, 0.0]], "float32")
    y = np.array([[0.1, 0.2], [0.3, 0.4]], "float32")
    p = np.array([[0.0, 0.2], [0.5, 0.4]], "float32")
    y_pred = {"x_hat": x_hat, "z_mean": mu, "z_log_var": lv, "properties": p}
    recon, kl, prop = (float(np.asarray(v)) for v in model.loss_terms(x, y, y_pred))
    ones = np.array([x[0].sum(), x[1].sum()])
    bce = (ones * -np.log(0.25) + (625 - ones) * -np.log(0.75)).mean()
    kl_hand = np.mean([0.5 * (0.0 + (1 + 2 - 1 - np.log(2.0))), 0.5 * 4.0])
    prop_hand = np.mean([0.1 ** 2, 0.2 ** 2])
    assert recon == pytest.approx(bce, rel=1e-5)
    assert kl == pytest.approx(kl_hand, rel=1e-5)
    assert prop == pytest.approx(prop_hand, rel=1e-5)
    total = float(np.asarray(model.compute_loss(x, y, y_pred)))
    assert total == pytest.approx(bce + 0.5 * kl_hand + 3.0 * prop_hand, rel=1e-5)
    # plain VAE (no targets): no property term
    _, _, prop0 = model.loss_terms(x, None, {k: v for k, v in y_pred.items() if k != "properties"})
    assert float(np.asarray(prop0)) == 0.0
