"""The ``pvae`` command line: ``pvae <command> ...``.

Each command lives in its own module of this package exposing
``register(subparsers)``, which adds a sub-parser whose ``func`` runs the command.

User errors end with one line ``pvae COMMAND: error: ...`` on stderr and a non-zero exit
status (1; 2 for arguments argparse rejects; 130 after Ctrl-C), never a Python traceback.
A command may set ``args.on_interrupt`` to a callable returning the line printed after
Ctrl-C (e.g. how to resume). ``--verbose`` shows TensorFlow's C++ start-up log.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# One module per command family; each defines register(subparsers).
COMMAND_MODULES = (
    "pvae_lib.cli.permeability",  # pvae permeability, pvae bench
    "pvae_lib.cli.data",  # pvae generate, pvae label
    "pvae_lib.cli.design",  # pvae design
    "pvae_lib.cli.info",  # pvae info
)


def build_parser() -> argparse.ArgumentParser:
    from pvae_lib import __version__

    parser = argparse.ArgumentParser(
        prog="pvae",
        description="Permeability, microstructure data and inverse design for porous metamaterials.",
    )
    parser.add_argument("--version", action="version", version=f"pvae_lib {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's C++ start-up log")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command family not written yet
                continue
            raise
        module.register(subparsers)
    for sub in _all_subparsers(subparsers):
        sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="show TensorFlow's C++ start-up log")
    return parser


def _all_subparsers(action):
    """Every (nested) sub-parser below a ``_SubParsersAction``."""
    for sub in dict.fromkeys(action.choices.values()):
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            for n in nested:
                yield from _all_subparsers(n)
        else:
            yield sub


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    text = str(exc)
    if isinstance(exc, KeyError):
        text = f"missing {text}"
    return text or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        hint = getattr(args, "on_interrupt", None)
        line = hint() if callable(hint) else ""
        print(f"\npvae {args.command}: interrupted{'; ' + line if line else ''}", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"pvae {args.command}: error: out of memory; use a smaller input or a machine with more memory",
              file=sys.stderr)
        return 1
    except (ValueError, TypeError, KeyError, OSError, RuntimeError) as exc:
        print(f"pvae {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
