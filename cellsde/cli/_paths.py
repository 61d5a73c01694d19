"""Output paths, checked before any work: the right suffix, an existing folder, nothing left behind.

Every verb checks its ``--out`` (and other output options) first, so a wrong name fails in a
second, not after minutes of computing. Files and folders follow one rule: the folder that
will hold a file must exist (``fit``, ``simulate``, ``infer``... agree), while a verb whose
output *is* a folder (``figures --out``, ``demo --out``) creates it, and
:func:`staged_folder` removes what it made when the verb fails.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

from cellsde.errors import CellsdeError

DATASET_SUFFIXES = (".nc", ".h5", ".zarr")  # trajectories: netCDF or zarr
TABLE_SUFFIXES = (".nc", ".h5")  # result tables (theta, scores, history): netCDF
MODEL_SUFFIXES = (".pt",)
# Names that look like files: refused where a folder is meant.
_FILE_LIKE = (*DATASET_SUFFIXES, *MODEL_SUFFIXES, ".png", ".pdf", ".svg", ".csv", ".md", ".json")


def output_file(text: str, *, suffixes: Sequence[str], option: str = "--out") -> Path:
    """The file ``text`` checked: a suffix of ``suffixes``, not a folder, in an existing folder.

    Raises
    ------
    CellsdeError
        One line naming the option, the problem and the fix.
    """
    path = Path(text)
    if path.suffix.lower() not in suffixes:
        raise CellsdeError(
            f"{option} {text!r}: its suffix {path.suffix or '(none)'!r} is not "
            f"{' or '.join(suffixes)}; name the file so"
        )
    if path.is_dir() and path.suffix.lower() != ".zarr":
        raise CellsdeError(f"{option} {text!r} is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise CellsdeError(
            f"{option} {text!r}: folder {str(folder)!r} does not exist; create it first "
            f"(mkdir -p {folder})"
        )
    return path


def output_folder(text: str, *, option: str = "--out") -> Path:
    """The folder ``text`` checked: not an existing file, not a file-like name.

    Raises
    ------
    CellsdeError
        ``text`` is an existing file or ends in a file suffix such as ``.png``.
    """
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise CellsdeError(f"{option} {text!r} is a file; give a folder name (e.g. figs/)")
    if path.suffix.lower() in _FILE_LIKE and not path.is_dir():
        raise CellsdeError(
            f"{option} {text!r} looks like a file name; {option} takes a folder (e.g. figs/)"
        )
    return path


@contextlib.contextmanager
def staged_folder(path: Path) -> Iterator[Path]:
    """Write into a fresh hidden folder beside ``path``; move its files into ``path`` on success.

    On an error (or Ctrl-C) the hidden folder is removed and ``path`` is left as it was: not
    created when it did not exist, no file of a half-finished run in it.
    """
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CellsdeError(
            f"--out {str(path)!r}: folder {str(parent)!r} does not exist; create it first"
        )
    stage = parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    stage.mkdir()
    try:
        yield stage
        path.mkdir(exist_ok=True)
        for item in sorted(stage.iterdir()):
            item.replace(path / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
