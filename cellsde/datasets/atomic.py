"""Atomic writes: the one way cellsde puts a file or a directory under its final name.

Every writer (datasets, result tables, checkpoints, figures, the demo's JSON and report, the
zarr chunk manifest) writes into a temporary name in the target's directory and lets
:func:`atomic_path` move it into place. A crash at any moment therefore leaves either the
previous content or the new one under the real name, never a half-written file, and the
temporary is removed when the write fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text"]


def _temporary(path: Path, tag: str) -> Path:
    # Same directory as the target: os.replace / os.rename are atomic only within one file system.
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:12]}"


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path``, on error delete it.

    Parameters
    ----------
    path : path-like
        The final file (or directory). Its parent directory must exist.
    directory : bool
        False: the body writes one file, which is fsynced and then renamed over ``path`` with
        :func:`os.replace`. True: the body writes a directory (a zarr store); an old directory at
        ``path`` is moved aside, the new one renamed in, then the old one deleted (the old one
        is put back when the rename fails).

    Yields
    ------
    pathlib.Path
        A name that does not exist yet, in ``path``'s directory; write the content there.

    Raises
    ------
    FileNotFoundError
        The target directory does not exist, or the body wrote nothing.

    Examples
    --------
    >>> with atomic_path("table.nc") as tmp:  # doctest: +SKIP
    ...     ds.to_netcdf(tmp, engine="h5netcdf")
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"directory {str(parent)!r} does not exist; create it first")
    tmp = _temporary(path, "tmp")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written for {str(path)!r}")
        if directory:
            _swap_in_directory(tmp, path)
        else:
            with open(tmp, "rb") as fh:  # the data are on disk before the name points at them
                os.fsync(fh.fileno())
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)  # no-op after the rename; cleans up after a failure


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _swap_in_directory(new: Path, path: Path) -> None:
    """Put directory ``new`` at ``path``; an old directory there is moved aside, then deleted."""
    if not path.exists():
        os.rename(new, path)
        return
    old = _temporary(path, "old")
    os.rename(path, old)
    try:
        os.rename(new, path)
    except OSError:
        os.rename(old, path)  # put the previous store back before reporting the failure
        raise
    shutil.rmtree(old, ignore_errors=True)
