"""``pvae info``: version, profile, the device TensorFlow uses and the profile's compute budget."""
from __future__ import annotations

import argparse
import os

from ._checks import quiet_tensorflow

__all__ = ["register", "run_info", "device_summary"]


def _profile(name: str | None):
    """The profile of ``--profile`` (or ``$PVAE_PROFILE``); ValueError with one line naming the option."""
    from pvae_lib.profiles import PROFILE_NAMES, get_profile

    if name is not None and name.strip().lower() not in PROFILE_NAMES:
        raise ValueError(f"--profile {name!r} is not a profile; choose one of {', '.join(PROFILE_NAMES)}")
    return get_profile(name)


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``info`` command."""
    p = subparsers.add_parser(
        "info", help="version, profile, TensorFlow device and the models' compute budget",
        description="Print the pvae_lib version, the run profile ($PVAE_PROFILE or --profile), the device "
        "TensorFlow will use (GPU name or CPU with its thread settings) and the parameters, memory, FLOPs "
        "and estimated epoch times of the models the book trains under that profile.",
    )
    p.add_argument("--profile", default=None,
                   help="quick or paper (default: $PVAE_PROFILE, else quick)")
    p.set_defaults(func=run_info)
    return p


def device_summary(tf) -> str:
    """One line naming the device TensorFlow uses: the GPU(s) by name, else the CPU and its threads."""
    from pvae_lib.runtime import runtime_summary

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        return f"GPU: {', '.join(names)}"
    rt = runtime_summary()
    return (f"CPU ({os.cpu_count()} cores; TensorFlow intra-op threads {rt['intra_op_threads']}, inter-op threads "
            f"{rt['inter_op_threads']}, oneDNN {rt['onednn']})")


def run_info(args: argparse.Namespace) -> int:
    """Run ``pvae info`` (see ``pvae info --help``)."""
    from pvae_lib import __version__
    profile = _profile(args.profile)  # $PVAE_PROFILE when --profile is not given (ValueError if unknown)
    source = "--profile" if args.profile else ("$PVAE_PROFILE" if os.environ.get("PVAE_PROFILE") else "default")
    quiet_tensorflow(args)
    import tensorflow as tf

    from pvae_lib.budget import budget_markdown

    print(f"pvae_lib {__version__}, TensorFlow {tf.__version__}")
    print(f"profile: {profile.name} (from {source})")
    print(f"device: {device_summary(tf)}")
    print()
    print(budget_markdown((profile,)))
    return 0
