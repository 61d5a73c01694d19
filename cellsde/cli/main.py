"""Entry point of the ``cellsde`` command.

Each verb lives in its own module under :mod:`cellsde.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed namespace. User errors (:class:`cellsde.errors.CellsdeError`, ``ValueError``,
``FileNotFoundError``...) are reported as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cellsde._version import __version__
from cellsde.errors import CellsdeError

# Modules that provide verbs, in the order `cellsde --help` lists them.
VERB_MODULES = (
    "models",
    "simulate",
    "import_csv",
    "info",
    "fit",
    "evaluate",
    "infer",
    "calibrate",
    "compress",
    "figures",
    "demo",
)


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
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `cellsde models | head`: the reader left; exit quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (CellsdeError, ValueError, FileNotFoundError, PermissionError, OSError) as err:
        print(f"cellsde: error: {_one_line(err)}", file=sys.stderr)
        return 2


def _one_line(err: BaseException) -> str:
    """The error's message on one line (OSError's strerror and filename when it has them)."""
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        text = f"{err.strerror}: {err.filename}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
