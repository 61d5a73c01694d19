"""Entry point of the ``cellsde`` command.

Each verb lives in its own module under :mod:`cellsde.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable taking the
parsed namespace. Adding a verb is one line in :data:`VERB_MODULES`.

The error contract: user errors (:class:`cellsde.errors.CellsdeError`, ``ValueError``,
``FileNotFoundError``...) are one line on stderr with exit status 2; Ctrl-C is one line and
status 130; warnings (a model fitted on another ligand, ...) are one ``cellsde: warning:``
line each; ``--verbose`` adds the notes of the library (unit conversions, memory estimates).
No traceback reaches the user for any of them. Verb modules import torch only inside their
``run``, so ``cellsde --help``, ``info``, ``import-csv`` and ``subset`` start without it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from cellsde._version import __version__
from cellsde.errors import CellsdeError

# Modules that provide verbs, in the order `cellsde --help` lists them. One line per verb:
# a module `cellsde/cli/<name>.py` with register(subparsers) (e.g. "calibrate").
VERB_MODULES = (
    "models",
    "simulate",
    "import_csv",
    "info",
    "subset",
    "fit",
    "evaluate",
    "infer",
    "calibrate",
    "compress",
    "figures",
    "demo",
)

LOGGER = "cellsde"  # the library's notes (logging.getLogger("cellsde")) go to stderr


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (the usage block stays in ``--help``)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cellsde",
        description="Simulate heterogeneous cell populations, fit END-nSDEs, infer heterogeneity.",
    )
    parser.add_argument("--version", action="version", version=f"cellsde {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    for name in VERB_MODULES:
        importlib.import_module(f"cellsde.cli.{name}").register(sub)
    for verb in sub.choices.values():
        verb.add_argument(
            "-v", "--verbose", action="store_true",
            help="also print unit conversions and memory estimates",
        )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) or a usage error (2, one line)
        return int(stop.code or 0)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    handler = _log_handler(verbose=bool(getattr(args, "verbose", False)))
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except BrokenPipeError:
        # `cellsde models | head`: the reader left; exit quietly like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as err:  # a verb may say what was kept (fit: the training state)
        text = _one_line(err) if str(err) else f"interrupted ({args.verb})"
        print(f"cellsde: {text}", file=sys.stderr)
        return 130
    except (CellsdeError, ValueError, FileNotFoundError, PermissionError, OSError) as err:
        print(f"cellsde: error: {_one_line(err)}", file=sys.stderr)
        return 2
    finally:
        logger.removeHandler(handler)


def _log_handler(*, verbose: bool) -> logging.Handler:
    """Notes of the library as ``cellsde: ...`` lines on stderr (INFO with --verbose)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("cellsde: %(message)s"))
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger(LOGGER).setLevel(logging.INFO)
    return handler


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one ``cellsde: warning:`` line (no file name, no source line)."""
    print(f"cellsde: warning: {_one_line(message)}", file=sys.stderr)


def _one_line(err: BaseException | Warning | str) -> str:
    """The error's message on one line (OSError's strerror and filename when it has them)."""
    if isinstance(err, OSError) and err.strerror and err.filename is not None:
        text = f"{err.strerror}: {err.filename}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
