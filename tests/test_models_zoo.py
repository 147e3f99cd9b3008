"""The trained-model cache: train once, reload, VAE weights re-used by every pVAE (transfer learning)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from pvae_lib.data import Dataset  # noqa: E402
from pvae_lib.experiments import zoo  # noqa: E402
from pvae_lib.profiles import CNNSection, PVAESection, get_profile, with_overrides  # noqa: E402


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    monkeypatch.setenv("PVAE_ARTIFACTS", str(tmp_path))
    rng = np.random.default_rng(0)
    images = rng.random((40, 26, 26)) > 0.6
    n = images.reshape(40, -1).mean(axis=1)
    table = pd.DataFrame({"case": np.arange(40), "n_F": n, "Permeability_x": n ** 2})
    ds = Dataset(images=images, properties=table, provenance={"seed": 1}, folder=Path("."))
    monkeypatch.setattr(zoo, "_dataset", lambda profile: ds)
    profile = with_overrides(
        get_profile("quick"),
        cnn=CNNSection(epochs=1, batch_size=16, train_samples=32, width=0.125, patience=2),
        pvae=PVAESection(latent_dim=3, base_filters=2, epochs_vae=1, epochs_regressor=1, epochs_joint=1,
                         batch_size=16, patience=2, lam=10.0, joint_train_decoder=False),
    )
    return profile, tmp_path


def test_cnn_cache(tiny):
    profile, root = tiny
    model, scaler, info = zoo.get_trained_cnn(profile, print_every=0)
    assert not info["cached"] and set(info["r2"]) == {"n", "k11"} and info["samples_per_s"] > 0
    model2, scaler2, info2 = zoo.get_trained_cnn(profile)
    assert info2["cached"] and scaler2.names == ("n", "k11")
    x = np.zeros((2, 26, 26, 1), "float32")
    np.testing.assert_allclose(model2.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_pvae_cache_and_transfer(tiny):
    profile, root = tiny
    vae = zoo.get_trained_pvae(profile, kind="vae", print_every=0)
    assert vae.regressor is None
    stamp = (root / "quick" / "models" / "vae.keras").stat().st_mtime_ns
    p1 = zoo.get_trained_pvae(profile, properties=("n",), print_every=0)
    p2 = zoo.get_trained_pvae(profile, properties=("n", "k11"), print_every=0)
    assert (root / "quick" / "models" / "vae.keras").stat().st_mtime_ns == stamp  # VAE trained once
    for m in (p1, p2):  # decoder frozen in stage 3: identical to the cached VAE's decoder
        for a, b in zip(vae.decoder.get_weights(), m.decoder.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert p1.property_scaler.names == ("n",) and p2.n_properties == 2
    again = zoo.get_trained_pvae(profile, properties=("n", "k11"))
    np.testing.assert_allclose(again.encode_mean(np.zeros((1, 26, 26))), p2.encode_mean(np.zeros((1, 26, 26))))
    assert set(zoo.training_info("pvae_n_k11", profile)["stages"]) == {"regressor", "joint"}
    with pytest.raises(ValueError):
        zoo.get_trained_pvae(profile, properties=("porosity",))
