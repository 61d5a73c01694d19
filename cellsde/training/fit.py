"""Fitting an END-nSDE to population data with the time-decoupled W2 loss.

``fit(model, train, valid=..., config=FitConfig(...))`` runs full-batch Adam on
``tW2 = sum_g sum_{t > t0} W2²(sim_{g,t}, obs_{g,t})``, simulating every group at once with
a differentiable Euler–Maruyama rollout. Validation (held-out groups, fixed Brownian
increments so scores are comparable across epochs) drives early stopping. The full training
state — weights, optimiser, RNG state, history, best weights — is checkpointed atomically
every ``checkpoint_every`` epochs, and ``resume=True`` continues bit-for-bit after a crash.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from cellsde.errors import CellsdeError
from cellsde.nn.base import PopulationModel
from cellsde.nn.endnsde import ENDnSDE
from cellsde.nn.standardized import Standardized, standardize
from cellsde.nn.training_data import GroupedData, group_tensors
from cellsde.training.config import FitConfig
from cellsde.training.objective import per_time_w2, tw2_loss
from cellsde.training.state import TrainingState, load_state, save_state

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


def _prepare(model: PopulationModel, ds: xr.Dataset, config: FitConfig) -> GroupedData:
    observed = config.observed or model.species
    unknown = sorted(set(observed) - set(model.species))
    if unknown:
        raise CellsdeError(
            f"observed species {unknown} are not species of the model {model.species}"
        )
    return group_tensors(
        ds, species=model.species, params=model.param_names, observed=tuple(observed)
    )


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
        The network to train (an :class:`~cellsde.nn.endnsde.ENDnSDE` or a baseline) (modified in place and returned in the result).
    train : xarray.Dataset
        cellsde schema: ``x`` (cell, time, species) with every model species at the first
        time (initial states), ``theta`` (cell, param) constant within each ``group``.
    valid : xarray.Dataset, optional
        Held-out groups, same species/params; enables early stopping and best-weight restore.
    config : FitConfig, optional
        Options; see :class:`cellsde.training.config.FitConfig` and :func:`cellsde.training.config.preset`.

    Returns
    -------
    FitResult
    """
    config = config or FitConfig()
    if not isinstance(model, PopulationModel):
        raise TypeError(f"fit expects an ENDnSDE or a baseline model, got {type(model).__name__}")
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise CellsdeError(
            f"device {config.device!r} requested but CUDA is not available; use device='cpu'"
        )
    device = torch.device(config.device)
    data = _prepare(model, train, config).to(device)  # validates the data first
    if config.standardize and isinstance(model, Standardized):
        standardize(model, train)
    model.to(device)
    if isinstance(model, ENDnSDE) and model.config.params:
        model.set_theta_range(data.theta.min(0).values, data.theta.max(0).values)
    vdata = _prepare(model, valid, config).to(device) if valid is not None else None
    n_paths = config.n_paths or int(data.mask.shape[1])
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
    )
    generator = torch.Generator(device=device).manual_seed(config.seed)
    state = TrainingState()
    if config.resume:
        loaded = load_state(config.checkpoint_path, model=model, optimizer=optimizer, generator=generator,
                            config=config, fingerprint=data.fingerprint)  # fmt: skip
        state = loaded or state
    started = time.perf_counter() - state.elapsed
    bar = tqdm(range(state.epoch, config.epochs), initial=state.epoch, total=config.epochs,
               disable=not config.progress if config.progress is not None else None, desc="fit", unit="epoch")  # fmt: skip
    for epoch in bar:
        for group in optimizer.param_groups:
            group["lr"] = config.lr_at(epoch)
        optimizer.zero_grad(set_to_none=True)
        w2, observed = per_time_w2(model, data, n_paths=n_paths, dt=config.dt, generator=generator,
                                   checkpoint=config.checkpoint_segments, debiased=config.debiased)  # fmt: skip
        loss = tw2_loss(
            w2, observed, reduce_groups=config.reduce_groups, skip_first=config.skip_first
        )
        if not torch.isfinite(loss):
            raise CellsdeError(
                f"the loss became {loss.item()} at epoch {epoch}: the simulation diverged; lower lr or dt, "
                "or set standardize=True"
            )
        loss.backward()
        max_norm = config.grad_clip if config.grad_clip is not None else math.inf
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        optimizer.step()
        v_loss = math.nan
        if vdata is not None and (epoch + 1) % config.valid_every == 0:
            v_loss = validation_loss(model, vdata, n_paths=n_paths, config=config)
            if v_loss < state.best_loss:
                state.best_loss, state.best_epoch, state.bad = v_loss, epoch, 0
                state.best_state = copy.deepcopy(model.state_dict())
            else:
                state.bad += 1
        elif vdata is None:
            state.best_epoch = epoch
        state.history.append([loss.item(), v_loss, grad_norm, time.perf_counter() - started])
        state.epoch = epoch + 1
        state.elapsed = time.perf_counter() - started
        bar.set_postfix(loss=f"{loss.item():.4g}", valid=f"{v_loss:.4g}")
        stop = config.patience is not None and state.bad >= config.patience
        if config.checkpoint_path and (
            state.epoch % config.checkpoint_every == 0 or state.epoch == config.epochs or stop
        ):
            save_state(config.checkpoint_path, state, model=model, optimizer=optimizer, generator=generator,
                       config=config, fingerprint=data.fingerprint)  # fmt: skip
        if stop:
            break
    bar.close()
    if vdata is not None and config.restore_best and state.best_state is not None:
        model.load_state_dict(state.best_state)
    return FitResult(
        model=model, history=_history(state), best_epoch=state.best_epoch, config=config
    )


def validation_loss(
    model: PopulationModel, data: GroupedData, *, n_paths: int, config: FitConfig
) -> float:
    """tW2 on held-out groups with a fixed Brownian stream (common random numbers across epochs)."""
    gen = torch.Generator(device=data.obs.device).manual_seed(config.seed + 1_000_003)
    with torch.no_grad():
        w2, observed = per_time_w2(model, data, n_paths=n_paths, dt=config.dt, generator=gen)
    return float(
        tw2_loss(w2, observed, reduce_groups=config.reduce_groups, skip_first=config.skip_first)
    )
