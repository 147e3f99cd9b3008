"""The models shipped for the quick profile (pvae_lib.experiments.shipped) are what the current code trains.

- every file listed in the manifest is there, with its SHA-256, and the command that made them;
- each shipped model's cache key equals the key the current code computes for the quick
  profile's data (so a change to the data, the settings or the zoo's format fails here, loudly,
  instead of silently training in the book build); the fix is the command in the message;
- restored into an empty cache, the shipped models load in safe mode and reproduce their
  stored test-set predictions and test R² (CNN and both pVAEs);
- a key that differs, a file that was altered, or ``PVAE_SHIPPED_MODELS=0`` never restores.

That training itself still works and learns from scratch is tests/test_models_learn.py; that the
shipped weights are bit for bit what training gives is tests/test_reproducibility.py together with
tests/test_seed_spread.py (the book's figures, from the shipped models, equal the row that
benchmarks/seed_spread.py trained separately).
"""
import json
import shutil

import numpy as np
import pytest

from pvae_lib.experiments import shipped, zoo
from pvae_lib.models.metrics import r2_score
from pvae_lib.profiles import get_profile

PROFILE = get_profile("quick")
SHIPPED = shipped.shipped_models_dir(PROFILE.name)
FIX = f"re-make them with `{shipped.COMMAND.format(profile=PROFILE.name)}` (about 20 min on 2 cores, and 52 min for the foam pVAE)"


def test_manifest_lists_every_file_with_its_digest():
    man = shipped.manifest(PROFILE.name)
    assert man is not None, f"no {shipped.MANIFEST} in {SHIPPED}: {FIX}"
    files = [f for names in shipped.MODEL_FILES.values() for f in names]
    assert sorted(man["files"]) == sorted(files)
    for f in files:
        assert shipped._sha256(SHIPPED / f) == man["files"][f], f"{f} differs from its manifest digest: {FIX}"
    prov = man["provenance"]
    assert shipped.is_shipping_command(prov["command"], PROFILE.name), prov["command"]
    assert prov["profile"] == PROFILE.name and prov["seed"] == PROFILE.seed
    assert "uncommitted" not in prov["git_commit"], "shipped from an uncommitted tree"
    for name in shipped.MODEL_FILES:  # each model's runtime is the one its training recorded
        recorded = shipped._recorded_runtime(SHIPPED, name)
        assert recorded is not None and man["models"][name]["runtime"] == recorded, name
    total = sum((SHIPPED / f).stat().st_size for f in files)
    assert total < 20e6, f"shipped models take {total / 1e6:.1f} MB"


def test_the_shipping_command_under_its_former_name_is_named_with_todays():
    """A manifest records the command its models were made by; after the module moved from
    ``pvae_lib.models`` to ``pvae_lib.experiments`` the reader is told today's name too."""
    now = shipped.COMMAND.format(profile="quick")
    former = "python -m pvae_lib.models.shipped --profile quick"
    assert now == "python -m pvae_lib.experiments.shipped --profile quick"
    assert shipped.is_shipping_command(now, "quick") and shipped.is_shipping_command(former, "quick")
    assert not shipped.is_shipping_command(former, "paper")
    assert not shipped.is_shipping_command("python -m pvae_lib.models.zoo --profile quick", "quick")
    prov = {"command": former, "profile": "quick", "git_commit": "94c17aaffe8e", "training_seconds": 60.0}
    text = shipped.model_source({"source": "shipped", "provenance": prov})
    assert f"by {former} " in text and f"commit 94c17aa; the command is now {now})" in text
    assert "now" not in shipped.model_source({"source": "shipped", "provenance": {**prov, "command": now}})


def test_the_shipping_command_names_a_thread_count_other_than_the_default():
    """Training repeats bit for bit at the thread count it ran at: a model trained at another count than
    the default is named with the ``PVAE_THREADS`` that repeats it."""
    from pvae_lib.runtime import DEFAULT_THREADS

    now = shipped.COMMAND.format(profile="quick")
    prov = {"command": now, "profile": "quick", "git_commit": "94c17aaffe8e", "training_seconds": 60.0}
    other = DEFAULT_THREADS + 1
    text = shipped.model_source({"source": "shipped", "provenance": {
        **prov, "runtime": {"intra_op_threads": str(other)}}})
    assert f"by PVAE_THREADS={other} {now} " in text
    for runtime in ({"intra_op_threads": str(DEFAULT_THREADS)}, {}, None):
        text = shipped.model_source({"source": "shipped", "provenance": {**prov, "runtime": runtime}})
        assert f"by {now} " in text and "PVAE_THREADS=" not in text


@pytest.fixture(scope="module")
def dataset():
    from pvae_lib.data.datasets import load_synthetic_dataset

    return load_synthetic_dataset(PROFILE, progress=False)


@pytest.fixture(scope="module")
def foam():
    """The foam pVAE's training data: (dataset, targets), regenerated from the seeds."""
    from pvae_lib.experiments.foam import load_foam_training_data

    return load_foam_training_data(PROFILE)


@pytest.mark.parametrize("name", list(shipped.MODEL_FILES))
def test_shipped_key_is_the_current_key(dataset, foam, name):
    info = json.loads((SHIPPED / shipped.MODEL_FILES[name][-1]).read_text())
    expected = shipped.current_key(name, PROFILE, dataset, (foam[0].images, foam[1]))
    assert info["key"] == expected, (
        f"the shipped {name} was trained for other data or settings than the current code's "
        f"(shipped {info['key']}, current {expected}): {FIX}")


@pytest.fixture(scope="module")
def restored(tmp_path_factory, dataset):
    """The shipped models restored into an empty cache by the zoo itself."""
    root = tmp_path_factory.mktemp("artifacts")
    mp = pytest.MonkeyPatch()
    mp.setenv("PVAE_ARTIFACTS", str(root))
    mp.delenv(shipped.ENV_VAR, raising=False)
    mp.setattr(zoo, "_dataset", lambda profile: dataset)
    try:
        # the pVAEs are checked in processes of their own (test_restored_pvae_reproduces_its_test_predictions)
        yield {"cnn": zoo.get_trained_cnn(PROFILE), "records": {"cnn": zoo.training_record("cnn", PROFILE)}}
    finally:
        mp.undo()


def _assert_reproduced(y_pred, stored):
    """The predictions stored on the machine that trained the model, reproduced here to the last bit.

    pvae_lib.runtime caps oneDNN's kernels at AVX2. Measured on an AVX-512 machine against
    predictions stored on an AVX2 one: capped, the CNN's and the (n, K11) pVAE's are identical
    and 1 of the n-only pVAE's 300 differs by 1 float32 ulp; uncapped, 46-75 % of them differ
    (up to 6 ulp). So: at most 1 % may differ (:data:`MAX_DIFFER`), by at most 2 ulp (:data:`MAX_ULP`).
    """
    differ = float(np.mean(y_pred != stored))
    assert differ <= MAX_DIFFER, (
        f"{differ:.1%} of the stored test predictions differ: another kernel path than the one that "
        "trained the model (is ONEDNN_MAX_CPU_ISA capped? see pvae_lib/runtime.py)")
    np.testing.assert_array_max_ulp(np.float32(y_pred), np.float32(stored), maxulp=MAX_ULP)


#: the standard of a reproduced prediction (:func:`_assert_reproduced`): share of values that may differ,
#: and by how many float32 ulp at most
MAX_DIFFER, MAX_ULP = 0.01, 2


def _check_in_fresh_process(script: str, artifacts, env: dict, *args) -> dict:
    """Run the check ``script`` (it prints one JSON line) in a fresh process with the cache ``artifacts``
    and the variables ``env``, and return what it printed. TensorFlow's thread and oneDNN variables and
    the shipped-models switch are not passed on, so pvae_lib.runtime sets them from ``env``."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PVAE_ARTIFACTS": str(artifacts), **env}
    for var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS", shipped.ENV_VAR):
        env.pop(var, None)
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["differ"] <= MAX_DIFFER and res["max_ulp"] <= MAX_ULP, res
    assert res["r2"] == pytest.approx(res["r2_stored"], abs=1e-5)
    return res


def test_restored_cnn_reproduces_its_test_predictions(restored, dataset):
    from pvae_lib.models.cnn import predict_cnn
    from pvae_lib.models.training import split_indices

    model, scaler, info = restored["cnn"]
    assert info["cached"] and info["source"] == "shipped"
    assert restored["records"]["cnn"]["source"] == "shipped"
    n_use = min(len(dataset.images), int(round(PROFILE.cnn.train_samples / 0.8)))
    test = split_indices(n_use, PROFILE.seed)[2]
    y_test = np.c_[dataset.porosity, dataset.k11][test]
    np.testing.assert_array_equal(y_test, info["y_test"])
    y_pred = predict_cnn(model, scaler, dataset.images[test], symmetrize=PROFILE.cnn.symmetrize)
    _assert_reproduced(y_pred, info["y_pred"])
    r2 = r2_score(y_test, y_pred)
    assert r2 == pytest.approx([info["r2"]["n"], info["r2"]["k11"]], abs=1e-6)


_PVAE_CHECK = """
import json, sys
import numpy as np
from pvae_lib.data.datasets import load_synthetic_dataset
from pvae_lib.experiments import zoo
from pvae_lib.models.metrics import r2_score
from pvae_lib.profiles import get_profile
from pvae_lib.runtime import runtime_summary

profile = get_profile("quick")
properties = tuple(sys.argv[1:])
name = "pvae_" + "_".join(properties)
data = load_synthetic_dataset(profile, progress=False)
model = zoo.get_trained_pvae(profile, properties=properties)
stored = np.load(zoo.models_dir(profile) / f"{name}_test.npz")
y_pred = model.predict_properties(data.images[stored["test_index"]])
print(json.dumps({"source": zoo.training_record(name, profile)["source"],
                  "threads": runtime_summary()["intra_op_threads"],
                  "differ": float(np.mean(y_pred != stored["y_pred"])),
                  "max_ulp": int(np.max(np.abs(np.float32(y_pred).view(np.int32) - np.float32(stored["y_pred"]).view(np.int32)))),
                  "r2": list(r2_score(stored["y_test"], y_pred)),
                  "r2_stored": [zoo.training_info(name, profile)["r2"][p] for p in properties]}))
"""


@pytest.mark.parametrize("properties", [("n", "k11"), ("n",)])
def test_restored_pvae_reproduces_its_test_predictions(tmp_path, properties):
    """In a fresh process at the thread count the pVAE was trained at (its record's runtime; the
    reduction order of a convolution follows the thread count, so at another count most predictions
    differ in their last bits), the shipped pVAE is restored into an empty cache and reproduces
    its stored test predictions."""
    threads = str(shipped._recorded_runtime(SHIPPED, "pvae_" + "_".join(properties))["intra_op_threads"])
    res = _check_in_fresh_process(_PVAE_CHECK, tmp_path, {"PVAE_THREADS": threads}, *properties)
    assert res["source"] == "shipped" and str(res["threads"]) == threads, res


_FOAM_CHECK = """
import json, sys
import numpy as np
import pvae_lib.models.training as training
from pvae_lib.experiments.foam import get_trained_foam_pvae, load_foam_training_data
from pvae_lib.models.metrics import r2_score
from pvae_lib.profiles import get_profile

def no_training(*args, **kwargs):
    raise AssertionError("the foam pVAE was trained instead of restored")

training.train_pvae = no_training
profile = get_profile("quick")
data, targets = load_foam_training_data(profile)
model = get_trained_foam_pvae(data.images, targets, profile)
test = model.split["test"]
y_pred = model.model.predict_properties(data.images[test])
print(json.dumps({"loaded": model.loaded, "source": model.source, "command": model.provenance.get("command"),
                  "y_test_equal": bool(np.array_equal(targets[test], model.y_test)),
                  "differ": float(np.mean(y_pred != model.y_pred)),
                  "max_ulp": int(np.max(np.abs(np.float32(y_pred).view(np.int32) - np.float32(model.y_pred).view(np.int32)))),
                  "r2": list(r2_score(model.y_test, y_pred)), "r2_stored": [model.r2[p] for p in ("n", "k11", "k22", "k33")]}))
"""


def test_restored_foam_pvae_reproduces_its_test_predictions(tmp_path):
    """In a fresh process with oneDNN on (as the foam chapter runs and the model was trained), the shipped
    foam pVAE is restored into an empty cache and reproduces its stored test predictions."""
    res = _check_in_fresh_process(_FOAM_CHECK, tmp_path, {"PVAE_ONEDNN": "1"})
    assert res["loaded"] and res["source"] == "shipped", res
    assert shipped.is_shipping_command(res["command"], PROFILE.name), res["command"]
    assert res["y_test_equal"]


def test_restore_refuses_other_keys_altered_files_and_the_switch(tmp_path, monkeypatch, dataset):
    name = "cnn"
    key = zoo.model_key(name, PROFILE, dataset)
    monkeypatch.delenv(shipped.ENV_VAR, raising=False)
    assert not shipped.restore_shipped(PROFILE.name, name, {**key, "seed": key["seed"] + 1}, tmp_path / "a")
    assert not shipped.restore_shipped("paper", name, key, tmp_path / "b")
    monkeypatch.setenv(shipped.ENV_VAR, "0")
    assert not shipped.restore_shipped(PROFILE.name, name, key, tmp_path / "c")
    monkeypatch.delenv(shipped.ENV_VAR)
    # an altered copy of the shipped folder: one byte of the weights changed
    copy = tmp_path / "models" / PROFILE.name
    shutil.copytree(SHIPPED, copy)
    weights = copy / "cnn.keras"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(shipped, "shipped_models_dir", lambda profile_name: tmp_path / "models" / profile_name)
    assert not shipped.restore_shipped(PROFILE.name, name, key, tmp_path / "d")
    assert not (tmp_path / "d" / "cnn_info.json").exists()
    shutil.copyfile(SHIPPED / "cnn.keras", weights)
    assert shipped.restore_shipped(PROFILE.name, name, key, tmp_path / "e")
    assert json.loads((tmp_path / "e" / "cnn_info.json").read_text())["source"] == "shipped"


def test_cli_rejects_an_unknown_profile(capsys):
    from pvae_lib.experiments import foam

    assert shipped.main(["--profile", "nonsense"]) == 2
    assert "--profile" in capsys.readouterr().err
    assert foam.main(["--profile", "nonsense"]) == 2  # checked before the foams are generated
    assert "--profile" in capsys.readouterr().err


def test_reshipping_keeps_the_models_whose_key_is_unchanged(tmp_path, monkeypatch, dataset, foam):
    """Every shipped model is current: re-shipping trains nothing and keeps files and digests."""
    copy = tmp_path / "models" / PROFILE.name
    shutil.copytree(SHIPPED, copy)
    monkeypatch.setattr(shipped, "shipped_models_dir", lambda profile_name: tmp_path / "models" / profile_name)
    monkeypatch.setattr(zoo, "_dataset", lambda profile: dataset)
    monkeypatch.setenv("PVAE_ARTIFACTS", str(tmp_path / "artifacts"))

    def no_training(*args, **kwargs):
        raise AssertionError("a model with an unchanged key was trained again")

    monkeypatch.setattr(zoo, "get_trained_cnn", no_training)
    monkeypatch.setattr(zoo, "get_trained_pvae", no_training)
    monkeypatch.setattr("pvae_lib.experiments.foam.train_foam_in_subprocess", no_training)
    monkeypatch.setattr("pvae_lib.experiments.foam.load_foam_training_data", lambda profile, progress=False: foam)
    before = shipped.manifest(PROFILE.name)
    shipped.write_shipped(PROFILE, progress=False)
    after = shipped.manifest(PROFILE.name)
    assert after["files"] == before["files"]
    assert after["provenance"]["kept"] == sorted(shipped.MODEL_FILES)
    for name in shipped.MODEL_FILES:
        assert after["models"][name]["git_commit"] == shipped.model_provenance(PROFILE.name, name)["git_commit"]
        assert after["models"][name]["training_seconds"] > 0
    # a changed key is not current: that model would be trained
    key = zoo.model_key("cnn", PROFILE, dataset)
    assert shipped.shipped_is_current(PROFILE.name, "cnn", key)
    assert not shipped.shipped_is_current(PROFILE.name, "cnn", {**key, "seed": key["seed"] + 1})
