"""Entry point of the ``cellsde`` command.

Each verb lives in its own module under :mod:`cellsde.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed namespace. User errors (:class:`cellsde.errors.CellsdeError`, ``ValueError``,
``FileNotFoundError``...) are reported as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cellsde._version import __version__

# Modules that provide verbs, in the order `cellsde --help` lists them.
VERB_MODULES = ()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellsde",
        description="Simulate heterogeneous cell populations, fit END-nSDEs, infer heterogeneity.",
    )
    parser.add_argument("--version", action="version", version=f"cellsde {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        importlib.import_module(f"cellsde.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
