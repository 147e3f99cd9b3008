"""CNN and pVAE: shapes (2-D, 3-D, non-square), save/load, NaN stop, bad inputs, seeds, staged training."""
import dataclasses

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pvae_lib.models.cnn import build_cnn, predict_cnn, train_cnn  # noqa: E402
from pvae_lib.models.pvae import PVAE, build_pvae  # noqa: E402
from pvae_lib.models.training import train_pvae, train_vae  # noqa: E402
from pvae_lib.profiles import CNNSection, PVAESection, get_profile  # noqa: E402

PROFILE = get_profile("quick")
TINY_CNN = CNNSection(epochs=2, batch_size=16, learning_rate=1e-3, train_samples=48, width=0.125, patience=3)
TINY_PVAE = PVAESection(latent_dim=4, base_filters=2, epochs_vae=2, epochs_regressor=2, epochs_joint=2,
                        batch_size=16, learning_rate=1e-3, learning_rate_regressor=1e-2, learning_rate_joint=1e-3,
                        beta=1.0, lam=10.0, patience=3, joint_train_decoder=False)


def _data(n=60, shape=(25, 25), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n,) + shape) > 0.6
    n_f = x.reshape(n, -1).mean(axis=1)
    return x, np.c_[n_f, 2.0 * n_f ** 2 + 0.01]


@pytest.mark.parametrize("shape, n_out", [((40, 40), 2), ((24, 36), 2), ((12, 10, 14), 4)])
def test_cnn_shapes(shape, n_out):
    model = build_cnn(shape + (1,), n_out, width=0.125)
    out = model.predict(np.zeros((3,) + shape + (1,), "float32"), verbose=0)
    assert out.shape == (3, n_out)
    any_size = build_cnn((None,) * len(shape) + (1,), n_out, width=0.125)
    assert any_size.predict(np.zeros((1,) + tuple(s + 3 for s in shape) + (1,)), verbose=0).shape == (1, n_out)
    with pytest.raises(ValueError):
        build_cnn(shape, n_out)  # channel axis missing


@pytest.mark.parametrize("shape", [(25, 25), (30, 41), (26, 26, 26)])
def test_pvae_shapes(shape):
    m = build_pvae(shape, latent_dim=3, base_filters=2, n_properties=2)
    x = np.zeros((2,) + shape, bool)
    out = m(x[..., None].astype("float32"))
    assert out["x_hat"].shape == (2,) + shape + (1,)
    assert out["z_mean"].shape == (2, 3) and out["properties"].shape == (2, 2)
    assert m.encode_mean(x).shape == (2, 3)
    assert m.decode(np.zeros((2, 3))).shape == (2,) + shape
    assert m.predict_properties(np.zeros((2, 3)), unscaled=False).shape == (2, 2)
    xh = m.decode(np.random.default_rng(0).normal(size=(2, 3)))
    assert xh.min() >= 0 and xh.max() <= 1
    with pytest.raises(ValueError, match="too small"):
        build_pvae((20, 30), 3, 2)


def test_cnn_train_save_load_roundtrip(tmp_path):
    x, y = _data()
    res = train_cnn(x, y, PROFILE, TINY_CNN, seed=1, out_dir=tmp_path, print_every=0)
    assert set(res.r2) == {"n", "k11"} and res.samples_per_s > 0
    assert (tmp_path / "cnn.keras").is_file() and (tmp_path / "cnn_scaler.json").is_file()
    from pvae_lib.models.scaling import MinMaxScaler

    model = keras.saving.load_model(tmp_path / "cnn.keras", safe_mode=True)
    scaler = MinMaxScaler.from_json(tmp_path / "cnn_scaler.json")
    np.testing.assert_allclose(predict_cnn(model, scaler, x[:5]), predict_cnn(res.model, res.scaler, x[:5]), rtol=1e-6)


def test_pvae_keras_roundtrip_safe_mode(tmp_path):
    from pvae_lib.models.scaling import MinMaxScaler

    x, y = _data(8)
    scaler = MinMaxScaler(names=("n", "k11")).fit(y)
    m = build_pvae((25, 25), 3, 2, n_properties=2, beta=0.3, lam=7.0, property_scaler=scaler)
    m.save(tmp_path / "m.keras")
    m2 = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(m2, PVAE) and m2.beta == 0.3 and m2.lam == 7.0
    assert m2.property_scaler.names == ("n", "k11")
    np.testing.assert_allclose(m2.encode_mean(x), m.encode_mean(x), rtol=1e-6)
    np.testing.assert_allclose(m2.predict_properties(x), m.predict_properties(x), rtol=1e-6)
    z = np.ones((2, 3), "float32")
    np.testing.assert_allclose(m2.decode(z), m.decode(z), rtol=1e-6)
    vae = build_pvae((25, 25), 3, 2, n_properties=0)
    vae.save(tmp_path / "v.keras")
    assert keras.saving.load_model(tmp_path / "v.keras", safe_mode=True).regressor is None


class _PoisonAt(keras.callbacks.Callback):
    """Set all weights to NaN at the start of epoch ``epoch`` (simulates divergence)."""

    def __init__(self, epoch):
        super().__init__()
        self.at = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            self.model.set_weights([np.full(w.shape, np.nan, w.dtype) for w in self.model.get_weights()])


def test_nan_stop_keeps_last_good_checkpoint(tmp_path):
    x, y = _data()
    sec = dataclasses.replace(TINY_CNN, epochs=6)
    res = train_cnn(x, y, PROFILE, sec, seed=0, out_dir=tmp_path, print_every=0, callbacks=[_PoisonAt(2)])
    assert res.stopped_on_nan and res.epochs_run <= 3
    assert all(np.all(np.isfinite(w)) for w in res.model.get_weights())
    assert np.all(np.isfinite(res.y_pred))
    vae = train_vae(x, PROFILE, dataclasses.replace(TINY_PVAE, epochs_vae=5), seed=0, print_every=0,
                    callbacks=[_PoisonAt(1)])
    assert vae.stopped_on_nan and all(np.all(np.isfinite(w)) for w in vae.model.get_weights())
    with pytest.raises(FloatingPointError):
        train_cnn(x, y, PROFILE, sec, seed=0, print_every=0, callbacks=[_PoisonAt(0)])


def test_bad_inputs():
    x, y = _data(20)
    with pytest.raises(ValueError, match="NaN"):
        train_pvae(x, np.where(np.arange(20)[:, None] == 3, np.nan, y), profile=PROFILE, section=TINY_PVAE)
    with pytest.raises(ValueError, match="lengths must match"):
        train_pvae(x, y[:10], profile=PROFILE, section=TINY_PVAE)
    with pytest.raises(ValueError, match="shape"):
        train_cnn(np.zeros((20, 5)), y, PROFILE, TINY_CNN)
    with pytest.raises(ValueError, match="binary"):
        train_cnn(x * 3.0, y, PROFILE, TINY_CNN)
    m = build_pvae((25, 25), 3, 2, n_properties=2)
    with pytest.raises(ValueError, match="expects"):
        m.encode_mean(np.zeros((2, 30, 30), bool))
    with pytest.raises(ValueError):
        m.decode(np.zeros((2, 4)))


def test_seed_determinism_cpu():
    x, y = _data(40)
    a = train_cnn(x, y, PROFILE, TINY_CNN, seed=3, print_every=0)
    b = train_cnn(x, y, PROFILE, TINY_CNN, seed=3, print_every=0)
    np.testing.assert_array_equal(a.y_pred, b.y_pred)
    va = train_vae(x, PROFILE, TINY_PVAE, seed=3, print_every=0)
    vb = train_vae(x, PROFILE, TINY_PVAE, seed=3, print_every=0)
    np.testing.assert_array_equal(va.model.encode_mean(x[:4]), vb.model.encode_mean(x[:4]))


def test_staged_training_freezes_right_layers():
    x, y = _data(60)
    vae = train_vae(x, PROFILE, TINY_PVAE, seed=0, print_every=0).model
    enc0 = [w.copy() for w in vae.encoder.get_weights()]
    dec0 = [w.copy() for w in vae.decoder.get_weights()]
    res = train_pvae(x, y, vae=vae, profile=PROFILE, section=TINY_PVAE, seed=0, print_every=0)
    # the given VAE is not modified; stage 2 only trains the regressor
    for a, b in zip(enc0 + dec0, vae.encoder.get_weights() + vae.decoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert set(res.stages) == {"regressor", "joint"}
    m = res.model
    # stage 3: decoder frozen (unchanged), encoder fine-tuned (changed)
    for a, b in zip(dec0, m.decoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(enc0, m.encoder.get_weights()))
    assert not m.decoder.trainable and m.property_scaler.names == ("n", "k11")
    assert set(res.r2) == {"n", "k11"} and res.y_pred.shape == res.y_test.shape
    assert {"loss", "recon", "kl", "prop", "val_loss"} <= set(res.stages["joint"].history)
    # the quick profile's choice: stage 3 trains the decoder along
    both = train_pvae(x, y, vae=vae, profile=PROFILE, seed=0, print_every=None,
                      section=dataclasses.replace(TINY_PVAE, joint_train_decoder=True)).model
    assert both.decoder.trainable
    assert any(not np.array_equal(a, b) for a, b in zip(dec0, both.decoder.get_weights()))
