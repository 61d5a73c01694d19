"""The resumable state of a fit, and its atomic checkpoint file.

A checkpoint holds everything the next epoch depends on: weights, optimiser moments, the
Brownian generator's state, the history, the best weights so far and the early-stopping
counter, plus the fit options and a fingerprint of the data. Resuming with other data or
other options is refused, because the continued run would not be the same fit.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cellsde._torchio import atomic_save, safe_load
from cellsde.errors import CheckpointError
from cellsde.training.config import FitConfig

FORMAT = "cellsde-fit-state"
# Options that may differ between the interrupted and the resumed run.
_MAY_CHANGE = ("epochs", "resume", "progress", "checkpoint_every", "patience")


@dataclass
class TrainingState:
    """Mutable bookkeeping of one fit (internal to :func:`cellsde.fit`)."""

    epoch: int = 0
    elapsed: float = 0.0
    history: list[list[float]] = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int = -1
    bad: int = 0
    best_state: dict[str, torch.Tensor] | None = None


def _comparable(config: FitConfig) -> dict[str, Any]:
    d = json.loads(config.to_json())
    for k in _MAY_CHANGE:
        d.pop(k, None)
    return d


def save_state(
    path: str | os.PathLike[str],
    state: TrainingState,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    config: FitConfig,
    fingerprint: str,
) -> Path:
    """Write the training state atomically (temporary file, fsync, rename)."""
    cpu = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    best = {k: v.detach().cpu() for k, v in state.best_state.items()} if state.best_state else {}
    return atomic_save(
        {
            "format": FORMAT,
            "version": 1,
            "config": config.to_json(),
            "model_config": json.dumps(model.config.to_dict()),
            "fingerprint": fingerprint,
            "model": cpu,
            "optimizer": optimizer.state_dict(),
            "generator": generator.get_state().cpu(),
            "epoch": state.epoch,
            "elapsed": state.elapsed,
            "history": torch.tensor(state.history, dtype=torch.float64),
            "best_loss": state.best_loss,
            "best_epoch": state.best_epoch,
            "bad": state.bad,
            "best_state": best,
        },
        path,
    )


def load_state(
    path: str | os.PathLike[str] | None,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    config: FitConfig,
    fingerprint: str,
) -> TrainingState | None:
    """Restore a checkpoint into ``model``, ``optimizer`` and ``generator``.

    Returns ``None`` when ``path`` does not exist yet (a fresh start).

    Raises
    ------
    CheckpointError
        The file is not a fit checkpoint, or it was written for other data, another model
        architecture or other fit options.
    """
    if path is None or not Path(path).exists():
        return None
    obj = safe_load(path, kind=FORMAT)
    old = FitConfig(**_restore_tuples(json.loads(obj["config"])))
    a, b = _comparable(old), _comparable(config)
    diff = sorted(k for k in a if a[k] != b.get(k))
    if diff:
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: the fit options differ in {diff}; rerun with the "
            "same options or start a new checkpoint"
        )
    if obj["fingerprint"] != fingerprint:
        raise CheckpointError(
            f"cannot resume from {str(path)!r}: it was written for different training data"
        )
    if json.loads(obj["model_config"]) != model.config.to_dict():
        raise CheckpointError(f"cannot resume from {str(path)!r}: the model architecture differs")
    model.load_state_dict(obj["model"])
    optimizer.load_state_dict(obj["optimizer"])
    generator.set_state(obj["generator"].to(generator.get_state().device))
    hist = obj["history"].tolist()
    return TrainingState(
        epoch=int(obj["epoch"]),
        elapsed=float(obj["elapsed"]),
        history=[list(r) for r in hist],
        best_loss=float(obj["best_loss"]),
        best_epoch=int(obj["best_epoch"]),
        bad=int(obj["bad"]),
        best_state=copy.deepcopy(obj["best_state"]) or None,
    )


def _restore_tuples(d: dict[str, Any]) -> dict[str, Any]:
    for k in ("betas", "observed"):
        if isinstance(d.get(k), list):
            d[k] = tuple(d[k])
    return d
