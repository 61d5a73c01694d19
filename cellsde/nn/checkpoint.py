"""Saving and loading fitted END-nSDE models as safe checkpoints.

A model file holds ``{"format": "cellsde-endnsde", "version", "config" (JSON string),
"state_dict", "metadata"}``. Loading never unpickles code (``weights_only=True``) and
rebuilds the module from the JSON config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from cellsde._torchio import atomic_save, safe_load
from cellsde._version import __version__
from cellsde.errors import CheckpointError
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

FORMAT = "cellsde-endnsde"
VERSION = 1


def save_model(
    model: ENDnSDE, path: str | os.PathLike[str], *, metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` to ``path`` atomically.

    Parameters
    ----------
    model : ENDnSDE
        The model.
    path : path-like
        Output file (conventionally ``.pt``).
    metadata : dict, optional
        JSON-serialisable extras (training data summary, fit config...).
    """
    if not isinstance(model, ENDnSDE):
        raise TypeError(f"save_model expects an ENDnSDE, got {type(model).__name__}")
    meta = json.dumps({"cellsde_version": __version__, **(metadata or {})})
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return atomic_save(
        {
            "format": FORMAT,
            "version": VERSION,
            "config": json.dumps(model.config.to_dict()),
            "state_dict": state,
            "metadata": meta,
        },
        path,
    )


def load_model(path: str | os.PathLike[str], *, device: str | torch.device = "cpu") -> ENDnSDE:
    """Read a model written by :func:`save_model` (safe: no code is unpickled).

    Raises
    ------
    CheckpointError
        Not a cellsde model file, corrupt, from a newer format, or weights that do not fit
        the stored architecture.
    """
    obj = safe_load(path, kind=FORMAT, map_location=device)
    if int(obj.get("version", -1)) > VERSION:
        raise CheckpointError(
            f"{str(path)!r} was written by a newer cellsde (format {obj['version']}); upgrade cellsde"
        )
    try:
        config = ENDnSDEConfig.from_dict(json.loads(obj["config"]))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{str(path)!r} has an invalid model config: {err}") from None
    model = ENDnSDE(config)
    try:
        model.load_state_dict(obj["state_dict"])
    except (KeyError, RuntimeError) as err:
        raise CheckpointError(
            f"{str(path)!r}: weights do not match the stored architecture ({str(err)[:200]})"
        ) from None
    model.metadata = json.loads(obj.get("metadata") or "{}")
    return model.to(device)
