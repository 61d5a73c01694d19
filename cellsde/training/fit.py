"""``fit``: fit a population model to grouped data with the time-decoupled W2 loss.

``fit(model, train, valid=..., config=FitConfig(...))`` runs full-batch Adam on
``tW2 = sum_g sum_{t > t0} W2²(sim_{g,t}, obs_{g,t})``, simulating every group at once with
a differentiable Euler–Maruyama rollout: a loop over :func:`cellsde.training.step.train_step`.
Validation (held-out groups, fixed Brownian increments so scores are comparable across
epochs) drives early stopping. The full training state — weights, optimiser, RNG state,
history, best weights — is checkpointed atomically every ``checkpoint_every`` epochs, and
``resume=True`` continues bit-for-bit after a crash.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from cellsde.datasets.units import match_units, model_units
from cellsde.nn.base import PopulationModel
from cellsde.nn.memory import check_memory, fit_estimate
from cellsde.training.config import FitConfig
from cellsde.training.state import TrainingState, load_state, save_state
from cellsde.training.step import prepare, train_step, validation_loss

HISTORY_VARS = ("train_loss", "valid_loss", "grad_norm", "wall_time")


@dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    model : PopulationModel
        The fitted model (best validation weights when validation data and ``restore_best``).
    history : xarray.Dataset
        Per-epoch ``train_loss``, ``valid_loss`` (NaN when not validated), ``grad_norm``,
        ``wall_time`` (s since the start of the fit, resumes included), dim ``epoch``.
    best_epoch : int
        Epoch of the best validation loss (last epoch without validation data).
    config : FitConfig
        The options used.
    """

    model: PopulationModel
    history: xr.Dataset
    best_epoch: int
    config: FitConfig


def _history(state: TrainingState) -> xr.Dataset:
    rows = np.asarray(state.history, dtype=float).reshape(-1, len(HISTORY_VARS))
    epochs = np.arange(rows.shape[0])
    return xr.Dataset(
        {name: ("epoch", rows[:, i]) for i, name in enumerate(HISTORY_VARS)},
        coords={"epoch": epochs},
        attrs={"units_loss": "squared species units, summed over times"},
    )


def fit(
    model: PopulationModel,
    train: xr.Dataset,
    *,
    valid: xr.Dataset | None = None,
    config: FitConfig | None = None,
) -> FitResult:
    """Fit ``model`` to the population data ``train`` (groups = parameter sets).

    Parameters
    ----------
    model : PopulationModel
        The network to train, an :class:`~cellsde.nn.endnsde.ENDnSDE` or a baseline
        (modified in place and returned in the result).
    train : xarray.Dataset
        cellsde schema: ``x`` (cell, time, species) with every model species at the first
        time (initial states), ``theta`` (cell, param) constant within each ``group``.
    valid : xarray.Dataset, optional
        Held-out groups, same species/params; enables early stopping and best-weight restore.
    config : FitConfig, optional
        Options; see :class:`cellsde.training.config.FitConfig` and
        :func:`cellsde.training.config.preset`.

    Returns
    -------
    FitResult

    Raises
    ------
    TypeError, cellsde.errors.CellsdeError
        See :func:`cellsde.training.step.prepare`; :class:`~cellsde.errors.CheckpointError`
        when resuming from a checkpoint of other data or options.
    """
    config = config or FitConfig()
    train = match_units(train, model_units(model), what="training data")  # never assumed
    if valid is not None:
        valid = match_units(valid, model_units(model), what="validation data")
    prep = prepare(model, train, valid, config)
    check_memory(fit_estimate(model, train, config), device=config.device)
    parts = {"model": model, "optimizer": prep.optimizer, "generator": prep.generator,
                   "config": config, "fingerprint": prep.data.fingerprint}  # fmt: skip
    state = TrainingState()
    if config.resume:
        state = load_state(config.checkpoint_path, **parts) or state
    started = time.perf_counter() - state.elapsed
    bar = tqdm(range(state.epoch, config.epochs), initial=state.epoch, total=config.epochs,
               disable=not config.progress if config.progress is not None else None, desc="fit", unit="epoch")  # fmt: skip
    for epoch in bar:
        step = train_step(model, prep.optimizer, prep, epoch=epoch)
        v_loss = math.nan
        if prep.valid is not None and (epoch + 1) % config.valid_every == 0:
            v_loss = validation_loss(model, prep)
            if v_loss < state.best_loss:
                state.best_loss, state.best_epoch, state.bad = v_loss, epoch, 0
                state.best_state = copy.deepcopy(model.state_dict())
            else:
                state.bad += 1
        elif prep.valid is None:
            state.best_epoch = epoch
        state.history.append([step.loss, v_loss, step.grad_norm, time.perf_counter() - started])
        state.epoch = epoch + 1
        state.elapsed = time.perf_counter() - started
        bar.set_postfix(loss=f"{step.loss:.4g}", valid=f"{v_loss:.4g}")
        stop = config.patience is not None and state.bad >= config.patience
        if config.checkpoint_path and (
            state.epoch % config.checkpoint_every == 0 or state.epoch == config.epochs or stop
        ):
            save_state(config.checkpoint_path, state, **parts)
        if stop:
            break
    bar.close()
    if prep.valid is not None and config.restore_best and state.best_state is not None:
        model.load_state_dict(state.best_state)
    return FitResult(
        model=model, history=_history(state), best_epoch=state.best_epoch, config=config
    )
