"""Decoded paths, design evaluation and the explorers on a tiny pVAE-protocol model."""
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from pvae_lib.design.evaluate import evaluate_designs, exact_properties, r2_scores, surrogate_properties  # noqa: E402
from pvae_lib.design.interpolation import interpolation_path, path_properties  # noqa: E402
from _design_fixtures import tiny_dataset, tiny_pvae  # noqa: E402


def _fake_cnn(images):
    images = np.asarray(images, dtype=float)
    n = images.reshape(len(images), -1).mean(1)
    return np.column_stack([n, 0.5 * n])


def test_exact_properties_known_channel():
    img = np.zeros((2, 12, 12), bool)
    img[0, 4:8, 4:8] = True  # one square duct; image 1 is all solid
    out = exact_properties(img, progress=False)
    assert out["n"].tolist() == [16 / 144, 0.0]
    assert out["k11"][0] > 0 and out["k11"][1] == 0.0
    # square duct of side a: K = 0.0351 a^4 / A_total (superficial), a = 4 px; 2nd-order walls
    assert out["k11"][0] == pytest.approx(0.0351 * 4**4 / 144, rel=0.1)


def test_path_properties_and_evaluate_with_callable_surrogate():
    model = tiny_pvae()
    path = interpolation_path(np.ones(model.latent_dim), -np.ones(model.latent_dim) + 0.5, steps=5)
    props = path_properties(model, path, cnn=_fake_cnn)
    assert props.images.shape == (5, 28, 28) and props.images.dtype == bool
    np.testing.assert_allclose(props.n_surrogate, props.n_exact)
    assert np.all(props.k11_exact >= 0)
    assert list(props.to_frame().columns)[:2] == ["t", "n_exact"]
    targets = np.column_stack([props.n_exact, props.k11_exact])
    df = evaluate_designs(props.images, targets, cnn=_fake_cnn, exact=True, feasible=np.ones(5, bool), progress=False)
    np.testing.assert_allclose(df["log_mse_exact"], -30, atol=1e-6)  # exact equals its own targets
    assert r2_scores(targets, targets).tolist() == [1.0, 1.0]


def test_surrogate_adapter_errors():
    with pytest.raises(TypeError, match="CNN surrogate"):
        surrogate_properties(object(), np.zeros((1, 4, 4)))


def test_explorers_build():
    import matplotlib

    matplotlib.use("Agg")
    from pvae_lib.design.widgets import jshtml_slider, latent_explorer

    model = tiny_pvae()
    images, n, k = tiny_dataset(6)
    box = latent_explorer(model, images, np.column_stack([n, k]), cnn=_fake_cnn, start=0, end=5, steps=5)
    box.children[2].value = 3  # move the slider: redraws without error
    html = jshtml_slider(images[:3].astype(float), ["a", "b", "c"])
    assert "<script" in html.data or "<div" in html.data
