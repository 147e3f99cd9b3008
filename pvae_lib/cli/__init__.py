"""The ``pvae`` command line: ``pvae <command> ...``.

Each command lives in its own module of this package exposing
``register(subparsers)``, which adds a sub-parser whose ``func`` runs the command.
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
)


def build_parser() -> argparse.ArgumentParser:
    from pvae_lib import __version__

    parser = argparse.ArgumentParser(
        prog="pvae",
        description="Permeability, microstructure data and inverse design for porous metamaterials.",
    )
    parser.add_argument("--version", action="version", version=f"pvae_lib {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # command family not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, RuntimeError) as exc:
        print(f"pvae {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
