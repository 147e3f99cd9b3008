"""Trained models that ship with the package: find them, restore them into the cache, re-make them.

Training the book's CNN and pVAE takes about 20 minutes on 2 CPU cores, more than the book
and its tests can spend on every build. So the ``quick`` profile's models are trained once,
by the command below, and ship in ``pvae_lib/data/shipped/models/<profile>/`` (native
``.keras`` files, a few MB, loaded with ``safe_mode=True``) with their provenance::

    python -m pvae_lib.models.shipped --profile quick

:func:`pvae_lib.models.zoo.get_trained_cnn` and :func:`~pvae_lib.models.zoo.get_trained_pvae`
look in the build's cache first, then here: a shipped model is used only when its cache key -
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

from ..fileio import atomic_path, write_json_atomic

__all__ = ["MODEL_FILES", "shipped_models_dir", "shipped_enabled", "restore_shipped", "write_shipped",
           "manifest", "model_source", "ENV_VAR", "COMMAND"]

#: environment switch: ``0`` ignores the shipped models (the chapters then train from scratch)
ENV_VAR = "PVAE_SHIPPED_MODELS"
#: the command that (re)makes the shipped models (``{profile}`` filled in)
COMMAND = "python -m pvae_lib.models.shipped --profile {profile}"
#: model name -> its files in the zoo's folder; the ``_info.json`` (holding the key) comes last
MODEL_FILES = {
    "cnn": ("cnn.keras", "cnn_scaler.json", "cnn_test.npz", "cnn_info.json"),
    "vae": ("vae.keras", "vae_info.json"),
    "pvae_n": ("pvae_n.keras", "pvae_n_test.npz", "pvae_n_info.json"),
    "pvae_n_k11": ("pvae_n_k11.keras", "pvae_n_k11_test.npz", "pvae_n_k11_info.json"),
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


def restore_shipped(profile_name: str, name: str, key: dict, folder: Path) -> bool:
    """Copy the shipped model ``name`` into the cache ``folder`` if its key equals ``key``.

    Returns True when the cache now holds the shipped model. The files are copied atomically,
    the ``_info.json`` last (it marks the model complete), with ``"source": "shipped"`` and the
    provenance added. Nothing is copied when the shipped models are switched off
    (``PVAE_SHIPPED_MODELS=0``), when none ship for this profile or model, when the key differs,
    or when a file's SHA-256 differs from the manifest.
    """
    if not shipped_enabled() or name not in MODEL_FILES:
        return False
    src = shipped_models_dir(profile_name)
    files = MODEL_FILES[name]
    info_path = src / files[-1]
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    man = manifest(profile_name)
    if info.get("key") != key or man is None:
        return False
    digests = man.get("files", {})
    if any(not (src / f).is_file() or digests.get(f) != _sha256(src / f) for f in files):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    for f in files[:-1]:
        with atomic_path(folder / f) as tmp:
            shutil.copyfile(src / f, tmp)
    write_json_atomic(folder / files[-1], {**info, "source": "shipped", "provenance": man.get("provenance", {})})
    return True


def model_source(info: dict) -> str:
    """One sentence for the reader: was this model (its zoo training record ``info``) trained here or shipped?"""
    if info.get("source") != "shipped":
        return "trained here from scratch (its training record is below)"
    prov = info.get("provenance", {})
    minutes = float(prov.get("training_seconds", 0.0)) / 60
    return (f"shipped with pvae_lib: trained from scratch by {prov.get('command', '?')} "
            f"({minutes:.0f} min for the CNN and the pVAEs on {prov.get('machine', '?')}, "
            f"{prov.get('date_utc', '?')[:10]}, TensorFlow {prov.get('tensorflow', '?')}); "
            f"{ENV_VAR}=0 trains it here instead")


def _training_seconds(folder: Path) -> float:
    """Seconds of ``fit`` behind the models in ``folder`` (CNN, VAE, and the pVAEs' later stages)."""
    total = 0.0
    for name, files in MODEL_FILES.items():
        info = json.loads((folder / files[-1]).read_text(encoding="utf-8"))
        stages = info.get("stages", {"": info})
        total += sum(float(stage.get("train_time_s", 0.0)) for stage in stages.values())
    return total


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, cwd=Path(__file__).resolve().parent).stdout.strip()
        return out.stdout.strip() + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_shipped(profile=None, progress: bool = True) -> Path:
    """Train (or take from the cache, if trained there from scratch) and ship the profile's models.

    Trains with the shipped models switched off, so what ships is always a model trained by
    the current code; then copies every file of :data:`MODEL_FILES` into
    :func:`shipped_models_dir` and writes the manifest (command, library, TensorFlow and Keras
    versions, git commit, machine, UTC date, SHA-256 of each file). Returns the folder.
    """
    from ..profiles import get_profile
    from .zoo import get_trained_cnn, get_trained_pvae, models_dir

    profile = get_profile(profile) if profile is None or isinstance(profile, str) else profile
    folder = models_dir(profile)
    every = 10 if progress else 0
    switch = os.environ.get(ENV_VAR)
    # train, never restore: with the switch off the zoo neither restores a shipped model nor takes one
    # restored into the cache earlier, so what ships is what the current code trains
    os.environ[ENV_VAR] = "0"
    try:
        get_trained_cnn(profile, print_every=every)
        get_trained_pvae(profile, properties=("n", "k11"), print_every=every)
        get_trained_pvae(profile, properties=("n",), print_every=every)
    finally:
        if switch is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = switch
    import keras
    import tensorflow as tf

    from .. import __version__
    from ..runtime import runtime_summary
    from .pvae import PVAE  # noqa: F401 - registers the class for loading

    dest = shipped_models_dir(profile.name)
    dest.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, files in MODEL_FILES.items():
        for f in files:
            with atomic_path(dest / f) as tmp:
                if f.endswith(".keras"):
                    # the weights without the optimizer's state (a third of the size): the book
                    # only evaluates the shipped models; the weights and the predictions are the same
                    keras.saving.load_model(folder / f, safe_mode=True, compile=False).save(tmp)
                else:
                    shutil.copyfile(folder / f, tmp)
            digests[f] = _sha256(dest / f)
    provenance = {
        "command": COMMAND.format(profile=profile.name),
        "profile": profile.name,
        "seed": int(profile.seed),
        "pvae_lib": __version__,
        "git_commit": _git_commit(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "runtime": runtime_summary(),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "training_seconds": round(_training_seconds(folder), 1),
    }
    write_json_atomic(dest / MANIFEST, {"provenance": provenance, "files": digests})
    return dest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pvae_lib.models.shipped",
        description="Train the profile's CNN and pVAE models from scratch (or take them from the build's "
                    "cache if they were trained there) and ship them in pvae_lib/data/shipped/models/<profile>/.")
    parser.add_argument("--profile", default=None, help="profile name (default: $PVAE_PROFILE or quick)")
    parser.add_argument("--quiet", action="store_true", help="no training progress")
    args = parser.parse_args(argv)
    from ..profiles import PROFILE_NAMES, get_profile

    try:
        profile = get_profile(args.profile)
    except (ValueError, KeyError) as exc:
        print(f"error: --profile: {exc} (known: {', '.join(PROFILE_NAMES)})", file=sys.stderr)
        return 2
    dest = write_shipped(profile, progress=not args.quiet)
    man = manifest(profile.name)
    size = sum((dest / f).stat().st_size for f in man["files"]) / 1e6
    print(f"shipped {len(man['files'])} files ({size:.1f} MB) to {dest}; "
          f"{man['provenance']['training_seconds']:.0f} s of training behind them")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
