"""Mixed precision (``mixed_float16``) against float32 on the CPU: CNN surrogate and pVAE.

A few training steps from the same initial weights must give losses within 5 % of the float32
run, and the decoder output (SteepSigmoid) and every loss must be float32. The global dtype
policy is restored to float32 after each test, so other tests are unaffected.

Under ``mixed_float16`` Keras wraps Adam in a ``LossScaleOptimizer`` with a dynamic loss scale
(initially 2**15): a step whose float16 gradients overflow is skipped and the scale halved. The
pVAE's reconstruction term is summed over all pixels, so its weight gradients are large and the
first steps overflow (8 skipped steps on 32x32 images, batch 8: the scale falls to 2**7). The
comparison is therefore made step for step over the *applied* updates: the loss before the k-th
applied update of the mixed run against the loss before the k-th update of the float32 run.
"""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from pvae_lib.models.cnn import build_cnn  # noqa: E402
from pvae_lib.models.pvae import build_pvae  # noqa: E402

STEPS = 5
RTOL = 5e-2
SIZE = 32


@pytest.fixture
def restore_policy():
    """Run a test and put the global dtype policy back to float32, whatever happens."""
    keras.mixed_precision.set_global_policy("float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")
        keras.backend.clear_session()


def _data(n=8, n_props=2):
    rng = np.random.default_rng(0)
    x = (rng.random((n, SIZE, SIZE, 1)) < 0.4).astype("float32")
    y = rng.random((n, n_props)).astype("float32")
    return x, y


def _cnn():
    return build_cnn((SIZE, SIZE, 1), 2, width=0.25)


def _pvae():
    return build_pvae((SIZE, SIZE), latent_dim=8, base_filters=4, n_properties=2, beta=1.0, lam=10.0, seed=1,
                      regressor_units=(16, 16, 4))


MAX_CALLS = 40  # train_on_batch calls allowed for STEPS applied updates (skipped overflow steps included)


def _applied(model) -> int:
    opt = model.optimizer
    return int(getattr(opt, "inner_optimizer", opt).iterations)


def _train(build, policy, weights, x, y, loss=None):
    """Loss before each of ``STEPS`` applied Adam updates under ``policy`` from ``weights``; model; skipped steps."""
    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    model = build()
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    losses, calls = {}, 0
    while _applied(model) < STEPS and calls < MAX_CALLS:
        before = _applied(model)
        value = float(model.train_on_batch(x, y, return_dict=True)["loss"])
        losses.setdefault(before, value)
        calls += 1
    assert _applied(model) == STEPS, f"only {_applied(model)} of {calls} steps applied (float16 overflow)"
    return np.array([losses[k] for k in range(STEPS)]), model, calls - STEPS


def _compare(build, x, y, loss=None):
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    weights = build().get_weights()
    ref, _, skipped_ref = _train(build, "float32", weights, x, y, loss)
    mixed, model, _ = _train(build, "mixed_float16", weights, x, y, loss)
    assert skipped_ref == 0
    assert np.all(np.isfinite(mixed)), mixed
    rel = np.abs(mixed - ref) / np.abs(ref)
    assert rel.max() < RTOL, f"float32 {ref}, mixed_float16 {mixed}, relative difference {rel}"
    assert ref[-1] < ref[0] and mixed[-1] < mixed[0], "the steps must lower the loss"
    return model


def test_cnn_mixed_precision_matches_float32(restore_policy):
    x, y = _data()
    model = _compare(_cnn, x, y, loss="mse")
    assert model.dtype_policy.name == "mixed_float16"
    assert model.get_layer("conv1").compute_dtype == "float16"
    assert model.get_layer("conv1").kernel.dtype == "float32"  # variables stay float32
    y_pred = model(x)
    loss = keras.losses.MeanSquaredError()(y, y_pred)
    assert str(loss.dtype) in ("float32", "<dtype: 'float32'>"), loss.dtype


def test_pvae_mixed_precision_matches_float32(restore_policy):
    x, y = _data()
    model = _compare(_pvae, x, y)
    out = model(x)
    assert keras.backend.standardize_dtype(out["x_hat"].dtype) == "float32"  # SteepSigmoid output
    assert model.decoder.get_layer("deconv_out").compute_dtype == "float16"  # the convolutions run in fp16
    for term in model.loss_terms(x, y, out):
        assert keras.backend.standardize_dtype(term.dtype) == "float32"
    total = model.compute_loss(x, y, out)
    assert keras.backend.standardize_dtype(total.dtype) == "float32"


def test_final_property_outputs_are_float32(restore_policy):
    x, _ = _data()
    keras.mixed_precision.set_global_policy("mixed_float16")
    cnn_out = _cnn()(x)
    reg_out = _pvae()(x)["properties"]
    assert keras.backend.standardize_dtype(cnn_out.dtype) == "float32"
    assert keras.backend.standardize_dtype(reg_out.dtype) == "float32"
    z_mean = _pvae()(x)["z_mean"]
    assert keras.backend.standardize_dtype(z_mean.dtype) == "float32"
