"""Atomic, code-free torch checkpoint files.

Checkpoints hold only tensors, numbers, strings, lists and dicts, and are read with
``torch.load(..., weights_only=True)``: a file that would need unpickling code is refused.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from cellsde.datasets.atomic import atomic_path
from cellsde.errors import CheckpointError


def atomic_save(obj: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` with :func:`torch.save` atomically (:func:`~cellsde.datasets.atomic.atomic_path`).

    A crash at any moment leaves either the previous file or the new one under ``path``,
    never a partial file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return path


def safe_load(
    path: str | os.PathLike[str], *, kind: str, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`atomic_save` and check its ``format`` tag.

    Parameters
    ----------
    path : path-like
        File to read.
    kind : str
        Expected value of the ``"format"`` entry (e.g. ``"cellsde-endnsde"``).
    map_location : str or torch.device
        Where tensors are loaded.

    Raises
    ------
    CheckpointError
        Missing/empty file, not a torch file, pickled code, or another format.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {str(path)!r} is empty")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{str(path)!r} is not a readable torch checkpoint (not a zip archive as torch.save writes)"
        )
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"refusing to load {str(path)!r}: it contains pickled objects that would run code "
            f"({str(err).splitlines()[0][:120]}); only cellsde checkpoints (tensors and plain data) load"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as err:
        raise CheckpointError(
            f"{str(path)!r} is not a readable torch checkpoint ({type(err).__name__}: "
            f"{str(err).splitlines()[0][:120] if str(err) else 'truncated'})"
        ) from None
    if not isinstance(obj, dict) or obj.get("format") != kind:
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"{str(path)!r} is not a {kind} checkpoint (found {found!r})")
    return obj
