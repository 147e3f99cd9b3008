"""Trained models that ship with the package: find them, restore them into the cache, re-make them.

Training the book's CNN and pVAE takes about 20 minutes on 2 CPU cores, and the foam study's 3-D
pVAE on its 2,240 sub-volumes longer still: more than the book and its tests can spend on every
build. So the ``quick`` profile's models are trained once,
by the command below, and ship in ``pvae_lib/data/shipped/models/<profile>/`` (native
``.keras`` files, a few MB, loaded with ``safe_mode=True``) with their provenance::

    python -m pvae_lib.experiments.shipped --profile quick

:func:`pvae_lib.experiments.zoo.get_trained_cnn` and :func:`~pvae_lib.experiments.zoo.get_trained_pvae`
(and :func:`pvae_lib.experiments.foam.get_trained_foam_pvae`) look in the build's cache first, then
here: a shipped model is used only when its cache key -
the profile section, the seed, the fingerprint of the training data and the zoo's format
number - equals the key the current code computes, so a shipped model can never stand in for
a different training set or configuration (another profile or seed trains as before). Set
``PVAE_SHIPPED_MODELS=0`` to ignore the shipped models and train from scratch.

The evidence that the shipped weights are what the code trains: training is bit-for-bit
deterministic (``tests/test_reproducibility.py``), the figures of the shipped models equal the
book-seed row of ``data/seed_spread_quick.json``, which ``benchmarks/seed_spread.py`` trained
separately (``tests/test_seed_spread.py``), ``tests/test_models_shipped.py`` checks the keys, the
file digests and the stored test predictions, and ``tests/test_models_learn.py`` trains short
runs from scratch on the book's data and checks that they learn.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..cache import is_current
from ..fileio import atomic_path, write_json_atomic

__all__ = ["MODEL_FILES", "current_key", "shipped_models_dir", "shipped_enabled", "restore_shipped", "shipped_is_current",
           "write_shipped", "manifest", "model_provenance", "model_source", "is_shipping_command", "ENV_VAR", "COMMAND",
           "FORMER_COMMANDS"]

#: environment switch: ``0`` ignores the shipped models (the chapters then train from scratch)
ENV_VAR = "PVAE_SHIPPED_MODELS"
#: the command that (re)makes the shipped models (``{profile}`` filled in)
COMMAND = "python -m pvae_lib.experiments.shipped --profile {profile}"
#: the same command under the module's earlier name (``pvae_lib.models.shipped``, moved to the
#: experiments layer with the rest of train-or-load): a manifest records the command its models were
#: made by, and a re-shipment keeps a model's record while its key is unchanged
FORMER_COMMANDS = ("python -m pvae_lib.models.shipped --profile {profile}",)
#: model name -> its files in the zoo's folder; the ``_info.json`` (holding the key) comes last
MODEL_FILES = {
    "cnn": ("cnn.keras", "cnn_scaler.json", "cnn_test.npz", "cnn_info.json"),
    "vae": ("vae.keras", "vae_info.json"),
    "pvae_n": ("pvae_n.keras", "pvae_n_test.npz", "pvae_n_info.json"),
    "pvae_n_k11": ("pvae_n_k11.keras", "pvae_n_k11_test.npz", "pvae_n_k11_info.json"),
    "foam_pvae": ("foam_pvae.keras", "foam_pvae_test.npz", "foam_pvae_info.json"),
}
MANIFEST = "MANIFEST.json"


def shipped_models_dir(profile_name: str) -> Path:
    """Folder of the models shipped for the profile ``profile_name`` (it may not exist)."""
    from ..data.resources import SHIPPED, package_data_path

    return package_data_path(SHIPPED, "models", profile_name)


def shipped_enabled() -> bool:
    """False when ``PVAE_SHIPPED_MODELS=0`` (train from scratch instead of using the shipped models)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(profile_name: str) -> dict | None:
    """The shipped models' manifest (provenance and SHA-256 of every file), or None."""
    path = shipped_models_dir(profile_name) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def restore_shipped(profile_name: str, name: str, key: dict, folder: Path, targets: dict | None = None) -> bool:
    """Copy the shipped model ``name`` into the cache ``folder`` if its key equals ``key``.

    ``targets`` maps a shipped file name to the cache path it is copied to (default:
    ``folder`` / the same name; the foam pVAE's cache names carry its key's digest).
    Returns True when the cache now holds the shipped model. The files are copied atomically,
    the ``_info.json`` last (it marks the model complete), with ``"source": "shipped"`` and the
    provenance added. Nothing is copied when the shipped models are switched off
    (``PVAE_SHIPPED_MODELS=0``), when none ship for this profile or model, when the key differs,
    or when a file's SHA-256 differs from the manifest.
    """
    if not shipped_enabled() or not shipped_is_current(profile_name, name, key):
        return False
    src = shipped_models_dir(profile_name)
    files = MODEL_FILES[name]
    dest = {f: Path(folder) / f for f in files}
    dest.update(targets or {})
    info = json.loads((src / files[-1]).read_text(encoding="utf-8"))
    for f in files[:-1]:
        dest[f].parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(dest[f], suffix=dest[f].suffix) as tmp:
            shutil.copyfile(src / f, tmp)
    write_json_atomic(dest[files[-1]], {**info, "source": "shipped",
                                        "provenance": model_provenance(profile_name, name)})
    return True


def shipped_is_current(profile_name: str, name: str, key: dict) -> bool:
    """True when the shipped model ``name`` was trained under ``key`` and its files match the manifest.

    Unlike :func:`restore_shipped` this ignores the ``PVAE_SHIPPED_MODELS`` switch: it only
    answers whether the shipped files are what the current code would train.
    """
    if name not in MODEL_FILES:
        return False
    src = shipped_models_dir(profile_name)
    files = MODEL_FILES[name]
    try:
        info = json.loads((src / files[-1]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    man = manifest(profile_name)
    if not isinstance(info, dict) or not is_current(info.get("key"), key) or man is None:
        return False
    digests = man.get("files", {})
    return all((src / f).is_file() and digests.get(f) == _sha256(src / f) for f in files)


def model_provenance(profile_name: str, name: str) -> dict:
    """Provenance of the shipped model ``name``: the run of the shipping command that trained it.

    A re-shipment keeps the models whose key did not change (see :func:`write_shipped`), so the
    models of one folder may come from different runs; each run's record is in the manifest's
    ``"models"`` (manifests written before that have one ``"provenance"`` for all).
    """
    return _provenance_in(manifest(profile_name) or {}, name)


def _provenance_in(man: dict, name: str) -> dict:
    return dict(man.get("models", {}).get(name) or man.get("provenance", {}))


def is_shipping_command(command: str, profile_name: str) -> bool:
    """Whether ``command`` (from a manifest) is :data:`COMMAND` for ``profile_name``, now or under a former name."""
    return command in {c.format(profile=profile_name) for c in (COMMAND, *FORMER_COMMANDS)}


def _renamed(prov: dict) -> str:
    """``"; the command is now ..."`` when ``prov`` records the shipping command under a former name, else ``""``."""
    command, profile = str(prov.get("command", "?")), str(prov.get("profile", "?"))
    now = COMMAND.format(profile=profile)
    return f"; the command is now {now}" if command != now and is_shipping_command(command, profile) else ""


def _threads(prov: dict) -> str:
    """``"PVAE_THREADS=N "`` when the run in ``prov`` trained at N intra-op threads, not the default (else ``""``):
    training is bit-for-bit deterministic at a given thread count, so the command to repeat it names the count."""
    from ..runtime import DEFAULT_THREADS

    threads = str((prov.get("runtime") or {}).get("intra_op_threads", ""))
    return f"PVAE_THREADS={threads} " if threads.isdigit() and int(threads) != DEFAULT_THREADS else ""


def model_source(info: dict) -> str:
    """One sentence for the reader: was this model (its zoo training record ``info``) trained here or shipped?"""
    if info.get("source") != "shipped":
        return "trained here from scratch (its training record is below)"
    prov = info.get("provenance", {})
    minutes = float(prov.get("training_seconds", 0.0)) / 60
    return (f"shipped with pvae_lib: trained from scratch by {_threads(prov)}{prov.get('command', '?')} "
            f"({minutes:.0f} min of training on {prov.get('machine', '?')}, "
            f"{prov.get('date_utc', '?')[:10]}, TensorFlow {prov.get('tensorflow', '?')}, "
            f"commit {str(prov.get('git_commit', '?'))[:7]}{_renamed(prov)}); "
            f"{ENV_VAR}=0 trains it here instead")


def current_key(name: str, profile, synthetic=None, foam=None) -> dict:
    """The key the current code computes for model ``name`` of ``profile``.

    ``synthetic``: the profile's synthetic dataset (the CNN and pVAE models; loaded if None);
    ``foam``: ``(images, targets)`` of the foam pVAE (:func:`pvae_lib.experiments.foam.load_foam_training_data`).
    """
    if name == "foam_pvae":
        from .foam import foam_model_key, load_foam_training_data

        if foam is None:
            data, targets = load_foam_training_data(profile)
            foam = (data.images, targets)
        return foam_model_key(foam[0], foam[1], profile)
    from .zoo import model_key

    return model_key(name, profile, synthetic)


def _training_seconds(folder: Path, name: str, info_files=None) -> float:
    """Seconds of ``fit`` behind model ``name`` in ``folder`` (a pVAE: its stage-1 VAE and its later stages)."""
    info_files = info_files or {}

    def seconds(model: str) -> float:
        path = info_files.get(model, folder / MODEL_FILES[model][-1])
        info = json.loads(path.read_text(encoding="utf-8"))
        return sum(float(stage.get("train_time_s", 0.0)) for stage in info.get("stages", {"": info}).values())

    return seconds(name) + (seconds("vae") if name.startswith("pvae_") else 0.0)


def _recorded_runtime(folder: Path, name: str, info_files=None) -> dict | None:
    """The runtime settings (threads, oneDNN) that model ``name``'s training record holds, if any."""
    path = (info_files or {}).get(name, folder / MODEL_FILES[name][-1])
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")).get("runtime")
    except (OSError, ValueError):
        return None


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=Path(__file__).resolve().parent).stdout.strip()
        return out.stdout.strip() + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_shipped(profile=None, progress: bool = True, retrain: bool = False) -> Path:
    """Train (or take from the cache, if trained there from scratch) and ship the profile's models.

    Trains with the shipped models switched off, so what ships is always a model trained by
    the current code; then copies every file of :data:`MODEL_FILES` into
    :func:`shipped_models_dir` and writes the manifest (command, library, TensorFlow and Keras
    versions, git commit, machine, UTC date, SHA-256 of each file). A model already shipped
    under the key the current code computes (:func:`shipped_is_current`: same settings, seed,
    data and zoo format; files intact) is kept with its earlier provenance instead of being
    trained again (training is bit-for-bit deterministic); ``retrain=True`` trains every
    model. Returns the folder.
    """
    from ..profiles import get_profile
    from . import foam as foam_models
    from .zoo import _dataset, get_trained_cnn, get_trained_pvae, models_dir

    profile = get_profile(profile) if profile is None or isinstance(profile, str) else profile
    # the code that trains: read before anything is written (the shipped files are tracked, so a
    # commit read after copying them would always look modified)
    commit = _git_commit()
    folder = models_dir(profile)
    every = 10 if progress else 0
    old = manifest(profile.name) or {}
    ds = _dataset(profile)  # loaded once for the four keys
    foam_data, foam_targets = foam_models.load_foam_training_data(profile, progress=progress)
    foam = (foam_data.images, foam_targets)
    foam_paths = foam_models.foam_cache_paths(current_key("foam_pvae", profile, foam=foam), profile)
    kept = set() if retrain else {name for name in MODEL_FILES if shipped_is_current(
        profile.name, name, current_key(name, profile, ds, foam))}
    earlier = {name: {**_provenance_in(old, name),
                      "training_seconds": round(_training_seconds(shipped_models_dir(profile.name), name), 1)}
               for name in kept}
    switch = os.environ.get(ENV_VAR)
    # train, never restore: with the switch off the zoo neither restores a shipped model nor takes one
    # restored into the cache earlier, so what ships is what the current code trains
    os.environ[ENV_VAR] = "0"
    try:
        if "cnn" not in kept:
            get_trained_cnn(profile, print_every=every)
        for properties in (("n", "k11"), ("n",)):
            if not {"vae", "pvae_" + "_".join(properties)} <= kept:
                get_trained_pvae(profile, properties=properties, print_every=every)
        if "foam_pvae" not in kept:  # in its own process: it trains with oneDNN on, as the foam chapter runs
            foam_models.train_foam_in_subprocess(profile.name, retrain=retrain, progress=progress)
    finally:
        if switch is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = switch
    import keras
    import tensorflow as tf

    from .. import __version__
    from ..models.pvae import PVAE  # noqa: F401 - registers the class for loading
    from ..runtime import runtime_summary

    dest = shipped_models_dir(profile.name)
    dest.mkdir(parents=True, exist_ok=True)
    # the cached files of each model (the foam pVAE's are named by its key's digest)
    sources = {f: folder / f for files in MODEL_FILES.values() for f in files}
    sources.update(zip(MODEL_FILES["foam_pvae"], (foam_paths["keras"], foam_paths["test"], foam_paths["info"])))
    digests = {}
    for name, files in MODEL_FILES.items():
        for f in files:
            if name in kept:
                digests[f] = old["files"][f]
                continue
            with atomic_path(dest / f) as tmp:
                if f.endswith(".keras"):
                    # the weights without the optimizer's state (a third of the size): the book
                    # only evaluates the shipped models; the weights and the predictions are the same
                    keras.saving.load_model(sources[f], safe_mode=True, compile=False).save(tmp)
                else:
                    shutil.copyfile(sources[f], tmp)
            digests[f] = _sha256(dest / f)
    provenance = {
        "command": COMMAND.format(profile=profile.name),
        "profile": profile.name,
        "seed": int(profile.seed),
        "pvae_lib": __version__,
        "git_commit": commit,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "runtime": runtime_summary(),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    info_files = {"foam_pvae": foam_paths["info"]}
    # each model's runtime as its training recorded it (the foam pVAE trains in a process of its own,
    # with oneDNN on), else this process's
    models = {name: earlier[name] if name in kept
              else {**provenance, "runtime": _recorded_runtime(folder, name, info_files) or provenance["runtime"],
                    "training_seconds": round(_training_seconds(folder, name, info_files), 1)}
              for name in MODEL_FILES}
    provenance["kept"] = sorted(kept)
    write_json_atomic(dest / MANIFEST, {"provenance": provenance, "models": models, "files": digests})
    return dest


def profile_or_none(name):
    """The profile ``name`` for a command line (``--profile``), or None after printing why it is unknown."""
    from ..profiles import PROFILE_NAMES, get_profile

    try:
        return get_profile(name)
    except (ValueError, KeyError) as exc:
        print(f"error: --profile: {exc} (known: {', '.join(PROFILE_NAMES)})", file=sys.stderr)
        return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pvae_lib.experiments.shipped",
        description="Train the profile's CNN, pVAE and foam pVAE models from scratch (or take them from the "
                    "build's cache if they were trained there) and ship them in "
                    "pvae_lib/data/shipped/models/<profile>/.")
    parser.add_argument("--profile", default=None, help="profile name (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--quiet", action="store_true", help="no training progress")
    parser.add_argument("--retrain", action="store_true",
                        help="train every model (default: keep shipped models whose key is unchanged)")
    args = parser.parse_args(argv)
    profile = profile_or_none(args.profile)
    if profile is None:
        return 2
    dest = write_shipped(profile, progress=not args.quiet, retrain=args.retrain)
    man = manifest(profile.name)
    size = sum((dest / f).stat().st_size for f in man["files"]) / 1e6
    kept = man["provenance"]["kept"]
    print(f"shipped {len(man['files'])} files ({size:.1f} MB) to {dest}; kept unchanged: "
          f"{', '.join(kept) or 'none'} (--retrain trains them too)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
