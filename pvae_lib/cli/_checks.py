"""Checks shared by the ``pvae`` commands: argument types and output folders.

Every check runs before any expensive work and raises an error whose message names the
command-line flag and says what to change. ``argparse`` types raise
``argparse.ArgumentTypeError`` (argparse prints ``pvae CMD: error: argument --flag: ...`` and
exits with status 2); the other checks raise :class:`UsageError` (status 1, no traceback).
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

__all__ = [
    "UsageError",
    "positive_int",
    "non_negative_int",
    "positive_float",
    "open_fraction",
    "float_list",
    "check_output_folder",
    "check_output_file",
    "quiet_tensorflow",
    "add_lbm_arguments",
    "lbm_config",
]


class UsageError(ValueError):
    """A user error found before any work started; the message names the flag to change."""


def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if kind is float and value != value:  # NaN
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """``argparse`` type: a whole number >= 1."""
    value = _number(text, int, "a whole number >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """``argparse`` type: a whole number >= 0."""
    value = _number(text, int, "a whole number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {value}")
    return value


def positive_float(text: str) -> float:
    """``argparse`` type: a finite number > 0."""
    value = _number(text, float, "a number > 0")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def open_fraction(text: str) -> float:
    """``argparse`` type: a number in the open interval (0, 1)."""
    value = _number(text, float, "a number in (0, 1)")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1), got {text}")
    return value


def float_list(text: str) -> tuple[float, ...]:
    """``argparse`` type: comma-separated numbers, e.g. ``0,0.15,0.5``."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    values = []
    for p in parts:
        try:
            values.append(float(p))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, {p!r} is not a number") from None
    return tuple(values)


def _probe_writable(folder: Path, flag: str) -> None:
    """Check that a file can be written in ``folder``; folders created for the check are removed."""
    created = []
    path = folder.absolute()
    while not path.exists():
        created.append(path)
        path = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".pvae-write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"{flag} {folder}: cannot write there ({reason}); choose a folder you can write to") from None
    finally:
        for path in created:  # deepest first; the command creates them again when it writes
            try:
                path.rmdir()
            except OSError:
                break


def check_output_folder(folder, *, flag: str = "--out", holds: str | None = None, overwrite: bool = False) -> Path:
    """Check an output folder before the work starts.

    Parameters
    ----------
    folder : path
        The folder named by ``flag``.
    flag : str
        The command-line flag, for the messages.
    holds : str, optional
        A file whose presence means the folder already holds a result (e.g. ``images.npy``);
        without ``overwrite`` that is an error.
    overwrite : bool
        ``--overwrite`` was given.

    Returns
    -------
    pathlib.Path
        The folder (folders created only for the check are removed again).

    Raises
    ------
    UsageError
        ``folder`` is a file, holds a result without ``--overwrite``, or is not writable.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{flag} {folder} is a file; give a folder name")
    if holds and (folder / holds).exists() and not overwrite:
        raise UsageError(f"{flag} {folder} already holds {holds} ({folder / holds} exists); pass --overwrite "
                         f"to replace it or choose another {flag}")
    _probe_writable(folder, flag)
    return folder


def check_output_file(path, *, flag: str) -> Path:
    """Check that the file ``path`` (named by ``flag``) can be created in its folder."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name")
    _probe_writable(path.parent if str(path.parent) else Path("."), flag)
    return path


def quiet_tensorflow(args) -> None:
    """Import TensorFlow without its C++ start-up lines unless ``--verbose`` was given."""
    from pvae_lib.runtime import import_tensorflow

    verbose = bool(getattr(args, "verbose", False))
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"  # read when TensorFlow starts
    import_tensorflow(quiet=not verbose)


def _tau(text: str) -> float:
    value = _number(text, float, "a number in (0.5, 20]")
    if not 0.5 < value <= 20:
        raise argparse.ArgumentTypeError(
            f"must lie in (0.5, 20] (the viscosity c_s^2 (tau - 1/2) must be positive; e.g. 0.8 to 1.5), got {text}")
    return value


def add_lbm_arguments(parser) -> None:
    """The LBM flags shared by ``pvae permeability`` and ``pvae label`` (a parser or an argument group).

    Their defaults are :data:`pvae_lib.lbm.config.RUN_DEFAULTS` (written out: importing the LBM starts
    TensorFlow, which ``--help`` must not wait for; a test compares the two).
    """
    parser.add_argument("--collision", choices=["bgk", "trt"], default="trt")
    parser.add_argument("--tau", type=_tau, default=1.0, help="relaxation time, in (0.5, 20]")
    parser.add_argument("--drive", choices=["force", "pressure"], default="force")
    parser.add_argument("--boundary", choices=["periodic", "noslip", "freeslip"], default="periodic",
                        help="faces parallel to the flow")
    parser.add_argument("--max-steps", type=positive_int, default=20_000)
    parser.add_argument("--tolerance", type=positive_float, default=1e-6)


def lbm_config(args):
    """:class:`~pvae_lib.lbm.config.LBMConfig` from the flags of :func:`add_lbm_arguments` (:func:`~pvae_lib.lbm.config.run_config`)."""
    from pvae_lib.lbm.config import RUN_DEFAULTS, run_config

    return run_config(**{name: getattr(args, name) for name in RUN_DEFAULTS})
