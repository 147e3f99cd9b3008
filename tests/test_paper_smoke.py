"""The smoke switch (``PVAE_SMOKE=1``): the paper profile's shapes with tiny counts.

Here: the rule (every field kept or capped), one training step of the CNN and the synthetic
pVAE at the paper's shapes, the foam pVAE's shapes and parameter count at 100³, and the foam
labels per profile (``load_foam_dataset`` never reads the quick table for another profile).
The foam pVAE *trains* at the paper's shapes and batch size in ``.ci/smoke-chapters`` (the foam
chapter under ``paper`` + smoke, in CI); a training step here would add 15-60 s on 2 cores (at
100³ one CPU step at batch 16 took 184-210 s and 8.5 GiB without oneDNN, batch 2 15-21 s).
The budget's memory for batch 16 is checked in tests/test_budget.py.
"""
import dataclasses
import math

import numpy as np
import pytest

from pvae_lib import profiles
from pvae_lib.profiles import (SMOKE_CAPS, SMOKE_KEPT, DataSection, LBMSection, get_profile, smoke_profile,
                               with_overrides)

SECTIONS = tuple(SMOKE_KEPT)


@pytest.fixture(scope="module")
def paper():
    return get_profile("paper", smoke=False)


@pytest.fixture(scope="module")
def smoke():
    return get_profile("paper", smoke=True)


# ------------------------------------------------------------------------------------ the rule
def test_every_field_is_either_kept_or_capped():
    """A new profile field must be classified, so a smoke run never silently shrinks a shape."""
    for name in SECTIONS:
        fields = {f.name for f in dataclasses.fields(getattr(get_profile("quick"), name))}
        capped = {k.split(".", 1)[1] for k in SMOKE_CAPS if k.startswith(name + ".")}
        kept = set(SMOKE_KEPT[name])
        special = {"data": {"foam_volume_size"}, "lbm": {"tolerance"}}.get(name, set())
        assert not capped & kept, (name, capped & kept)
        assert fields == capped | kept | special, (name, fields ^ (capped | kept | special))
    profile_fields = {f.name for f in dataclasses.fields(profiles.Profile)}
    assert profile_fields == {"name", "seed", "foam_pvae", *SECTIONS}


def test_paper_smoke_keeps_every_shape(paper, smoke):
    assert smoke.name == "paper+smoke" and smoke.smoke and smoke.base_name == "paper"
    assert not paper.smoke and paper.base_name == "paper"
    assert smoke.seed == paper.seed and smoke.foam_pvae == paper.foam_pvae
    for name, kept in SMOKE_KEPT.items():
        for field in kept:
            assert getattr(getattr(smoke, name), field) == getattr(getattr(paper, name), field), f"{name}.{field}"
    # the shapes the brief lists, spelled out
    assert smoke.data.synthetic_image_size == 100 and smoke.data.foam_subvolume_size == 100
    assert smoke.cnn.width == 1.0 and smoke.cnn.batch_size == 16
    assert (smoke.pvae.latent_dim, smoke.pvae.base_filters, smoke.pvae.batch_size) == (250, 32, 16)
    assert smoke.pvae.regressor_units == (16, 16, 4)


def test_paper_smoke_caps_every_count(paper, smoke):
    for key, cap in SMOKE_CAPS.items():
        name, field = key.split(".")
        full, small = getattr(getattr(paper, name), field), getattr(getattr(smoke, name), field)
        if isinstance(full, tuple):
            assert len(small) <= cap and small[0] == full[0] and small[-1] == full[-1], key
        else:
            assert small == min(full, cap), key
    d = smoke.data
    assert d.foam_volume_size == d.foam_subvolume_size + d.foam_stride == 150
    assert profiles.foam_subvolume_count(smoke) == 8 * len(d.foam_strains) == 16
    assert profiles.foam_subvolume_count(paper) > 1000


def test_foam_pvae_section_keeps_the_paper_shapes(paper, smoke):
    from pvae_lib.profiles import foam_pvae_section

    full, small = foam_pvae_section(paper), foam_pvae_section(smoke)
    assert full.latent_dim == 128 and not full.augment  # paper Sec. 5.2 text
    for field in SMOKE_KEPT["pvae"]:
        assert getattr(small, field) == getattr(full, field), field
    assert (small.epochs_vae, small.epochs_regressor, small.epochs_joint) == (1, 1, 1)
    # quick's foam pVAE: capped epochs, same shapes
    q, qs = foam_pvae_section(get_profile("quick", smoke=False)), foam_pvae_section(get_profile("quick", smoke=True))
    assert (qs.latent_dim, qs.base_filters, qs.batch_size) == (q.latent_dim, q.base_filters, q.batch_size) == (128, 8, 8)
    assert qs.augment and qs.regressor_output == q.regressor_output == "linear"
    assert qs.epochs_vae == 1 < q.epochs_vae


def test_budget_specs_have_the_same_shapes(paper, smoke):
    from pvae_lib import budget

    for full, small in zip(budget.model_specs(paper), budget.model_specs(smoke)):
        assert (small.key, small.input_shape, small.batch_size) == (full.key, full.input_shape, full.batch_size)
        assert small.n_train <= full.n_train and small.epochs <= full.epochs


# ------------------------------------------------------------------------------------ the switch
def test_environment_switch_and_names(monkeypatch, tmp_path):
    from pvae_lib.results import artifacts_dir

    monkeypatch.setenv("PVAE_PROFILE", "paper")
    monkeypatch.delenv("PVAE_SMOKE", raising=False)
    assert get_profile().name == "paper"
    monkeypatch.setenv("PVAE_SMOKE", "1")
    assert get_profile().name == "paper+smoke"
    assert get_profile("quick").name == "quick+smoke"
    assert get_profile("paper", smoke=False).name == "paper"
    assert get_profile("paper+smoke") == get_profile("paper", smoke=True) == smoke_profile(get_profile("paper"))
    assert smoke_profile(get_profile("paper+smoke")).name == "paper+smoke"  # idempotent
    monkeypatch.setenv("PVAE_SMOKE", "0")
    assert get_profile().name == "paper"
    assert get_profile("paper+smoke").smoke  # the name alone switches it on
    with pytest.raises(ValueError, match="smoke"):
        get_profile("paper+smoke", smoke=False)
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("huge+smoke")
    # caches live apart from a real run's
    monkeypatch.setenv("PVAE_ARTIFACTS", str(tmp_path))
    assert artifacts_dir(get_profile("paper+smoke").name, "models") == tmp_path / "paper+smoke" / "models"


def test_tables_ignore_the_smoke_switch(monkeypatch):
    """The deviations table of book/intro.md shows the real profiles even under PVAE_SMOKE=1."""
    monkeypatch.setenv("PVAE_SMOKE", "1")
    table = profiles.deviations_table()
    row = table.set_index("setting").loc["synthetic samples"]
    assert row["`paper` profile"] == 48_831 and row["`quick` profile"] == 3_000


# ------------------------------------------------------------------------------------ one step per model
def _step(model, x, y):
    out = model.train_on_batch(x, y, return_dict=True)
    assert all(math.isfinite(float(v)) for v in out.values()), out
    return out


@pytest.mark.slow
def test_paper_models_at_the_paper_shapes(smoke):
    """CNN and synthetic pVAE: one Adam step each at the paper's shapes; foam pVAE: shapes and parameters."""
    keras = pytest.importorskip("keras")
    from pvae_lib import budget

    rng = np.random.default_rng(0)
    specs = {s.key: s for s in budget.model_specs(smoke)}

    # CNN: 100² images, the paper's 32-64-128-256 filters, batch 16, outputs (n, K11)
    spec = specs["cnn"]
    assert spec.input_shape == (100, 100, 1) and spec.batch_size == 16
    model = spec.build()
    convs = [la.filters for la in model.layers if isinstance(la, keras.layers.Conv2D)]
    assert sorted(set(convs)) == [32, 64, 128, 256], convs
    model.compile(optimizer=keras.optimizers.Adam(smoke.cnn.learning_rate), loss="mse")
    x = (rng.random((spec.batch_size,) + spec.input_shape) < 0.6).astype("float32")
    _step(model, x, rng.random((spec.batch_size, 2)).astype("float32"))
    assert model.predict(x, verbose=0).shape == (spec.batch_size, 2)
    keras.backend.clear_session()

    # pVAE with regressor on (n, K11): 100² images, latent 250, base filters 32, batch 16
    spec = specs["pvae"]
    assert spec.input_shape == (100, 100, 1) and spec.batch_size == 16
    model = spec.build()
    model.compile(optimizer=keras.optimizers.Adam(smoke.pvae.learning_rate))
    x = (rng.random((spec.batch_size,) + spec.input_shape) < 0.6).astype("float32")
    _step(model, x, rng.random((spec.batch_size, 2)).astype("float32"))
    out = model(x[:2])
    assert tuple(out["x_hat"].shape) == (2, 100, 100, 1)
    assert tuple(out["z_mean"].shape) == (2, 250) and tuple(out["properties"].shape) == (2, 2)
    keras.backend.clear_session()

    # foam pVAE with regressor on (n, K11, K22, K33): 100³ sub-volumes, latent 128, base filters 32
    spec = specs["foam_pvae"]
    assert spec.input_shape == (100, 100, 100, 1) and spec.batch_size == 16
    model = spec.build()
    assert model.count_params() == budget.model_budget(spec)["params"]  # the budget's analytic count
    assert tuple(model.decoder.outputs[0].shape[1:]) == spec.input_shape
    assert tuple(model.encoder.outputs[0].shape[1:]) == (128,)
    assert tuple(model.regressor.outputs[0].shape[1:]) == (4,)
    keras.backend.clear_session()  # its training step: the foam chapter in .ci/smoke-chapters


# ------------------------------------------------------------------------------------ foam labels per profile
def _tiny(name="quick"):
    """The quick profile with a tiny foam set: 2 strains x one 12³ sub-volume (not the shipped settings)."""
    base = get_profile(name, smoke=False)
    return with_overrides(base, data=DataSection(foam_volume_size=12, foam_replicas=1, foam_subvolume_size=12, foam_stride=12,
                                                 foam_strains=(0.0, 0.25)), lbm=LBMSection(max_steps=2000))


def test_foam_labels_are_per_profile(monkeypatch, tmp_path):
    from pvae_lib.data import foam_dataset
    from pvae_lib.data.foam_dataset import foam_label_commands, has_shipped_labels, load_foam_dataset

    monkeypatch.setenv("PVAE_ARTIFACTS", str(tmp_path))
    assert has_shipped_labels(get_profile("quick", smoke=False))
    for name in ("paper", "paper+smoke", "quick+smoke"):
        assert not has_shipped_labels(get_profile(name))
    assert not has_shipped_labels(get_profile("quick", smoke=False), seed=7)
    profile = _tiny()
    assert profile.name == "quick" and not has_shipped_labels(profile)  # same name, other sizes: not shipped

    # without labels: a clear error naming the two commands (not the quick table)
    with pytest.raises(FileNotFoundError) as err:
        load_foam_dataset(profile)
    msg = str(err.value)
    folder = tmp_path / "quick" / "foam"
    gen, label = foam_label_commands(profile)
    assert gen in msg and label in msg and "build=True" in msg
    assert gen.startswith("pvae generate foam --size 12 --cell-size 6 --porosity 0.85 --strains 0,0.25 --sub 12 "
                          "--stride 12 --seed 2025 --replicas 1 --out " + str(folder))
    assert label == (f"pvae label {folder} --solver lbm --axis x,y,z --tensor --max-steps 2000 --tolerance 1e-06 "
                     "--every 5")
    assert not (folder / "properties.csv").exists()

    # build=True runs the same pipeline (generate + LBM labels) into the profile's artifacts folder
    data = load_foam_dataset(profile, build=True)
    assert data.images.shape == (2, 12, 12, 12)
    assert sorted(data.strain) == [0.0, 0.25]
    assert np.allclose(data.images.reshape(2, -1).mean(axis=1), data.porosity, atol=1e-12)
    assert np.all(np.isfinite(data.values())) and np.all(data.permeability > 0)
    assert (folder / "properties.csv").is_file() and (folder / "properties.json").is_file()

    # a second call reads the cache and builds nothing
    def fail(*args, **kwargs):
        raise AssertionError("rebuilt although the labels are cached")

    monkeypatch.setattr(foam_dataset, "build_foam_labels", fail)
    again = load_foam_dataset(profile)
    assert np.array_equal(again.images, data.images) and again.properties.equals(data.properties)

    # other foam settings under the same name: the cached foams do not match, the command overwrites them
    other = with_overrides(profile, data=dataclasses.replace(profile.data, foam_porosity=0.8))
    with pytest.raises(FileNotFoundError, match="other settings") as err:
        load_foam_dataset(other)
    assert "--overwrite" in str(err.value)
