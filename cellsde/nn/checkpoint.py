"""Saving and loading fitted END-nSDE models as safe checkpoints.

A model file holds ``{"format": "cellsde-endnsde", "version", "config" (JSON string),
"state_dict", "metadata"}``. Loading never unpickles code (``weights_only=True``) and
rebuilds the module from the JSON config.

A model with dendrites (:func:`perforate.add_dendrites`, e.g. from
:func:`cellsde.compression.compress`) is written as format version 2 with one more entry,
``"dendrites"`` (JSON: the :class:`perforate.DendriteConfig` fields, the wrapped layer
names and the number of sets); loading wraps the same layers before ``load_state_dict``.
Models without dendrites are still written as version 1, readable by older cellsde.
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
from perforate import DendriteConfig, add_dendrites, dendritic_layers

FORMAT = "cellsde-endnsde"
VERSION = 2  # newest format read; version 1 files (no dendrites) are still written
PLAIN_VERSION = 1


def _dendrite_entry(model: ENDnSDE) -> str | None:
    """JSON description of the model's dendrites, or None when it has none."""
    layers = dendritic_layers(model)
    if not layers:
        return None
    counts = {m.n_sets for _, m in layers}
    if len(counts) != 1 or any(m.candidate is not None for _, m in layers):
        raise CheckpointError(
            "save_model: dendritic layers hold different numbers of sets or a pending cascade "
            "candidate; finish training (perforate.train discards candidates) before saving"
        )
    config = layers[0][1].config
    fields = {k: getattr(config, k) for k in config.__dataclass_fields__ if k != "layers"}
    return json.dumps({"config": fields, "layers": [n for n, _ in layers], "n_sets": counts.pop()})


def _add_dendrites(model: ENDnSDE, entry: str) -> None:
    """Wrap the layers named in ``entry`` (see :func:`_dendrite_entry`) with their sets."""
    spec = json.loads(entry)
    config = DendriteConfig(**spec["config"], layers=tuple(spec["layers"]))
    add_dendrites(model, config, n_sets=int(spec["n_sets"]))


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

    Raises
    ------
    CheckpointError
        Dendritic layers with unequal set counts or a pending cascade candidate.
    """
    if not isinstance(model, ENDnSDE):
        raise TypeError(f"save_model expects an ENDnSDE, got {type(model).__name__}")
    meta = json.dumps({"cellsde_version": __version__, **(metadata or {})})
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    obj = {
        "format": FORMAT,
        "version": PLAIN_VERSION,
        "config": json.dumps(model.config.to_dict()),
        "state_dict": state,
        "metadata": meta,
    }
    dendrites = _dendrite_entry(model)
    if dendrites is not None:
        obj.update(version=VERSION, dendrites=dendrites)
    return atomic_save(obj, path)


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
    if obj.get("dendrites") is not None:
        try:
            _add_dendrites(model, obj["dendrites"])
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{str(path)!r} has an invalid dendrite entry: {err}") from None
    try:
        model.load_state_dict(obj["state_dict"])
    except (KeyError, RuntimeError) as err:
        raise CheckpointError(
            f"{str(path)!r}: weights do not match the stored architecture ({str(err)[:200]})"
        ) from None
    model.metadata = json.loads(obj.get("metadata") or "{}")
    return model.to(device)
