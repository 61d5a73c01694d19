"""The one preparation and the one optimisation step shared by every trainer.

:func:`cellsde.fit` and the compress cascade (:mod:`cellsde.training.cascade`) both call
:func:`prepare` once and :func:`train_step` once per epoch, and score held-out groups with
:func:`validation_loss`. The learning-rate schedule, the debiased loss, the divergence
message, gradient clipping and the CUDA check live only here, so the trainers cannot drift
apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import xarray as xr

from cellsde.errors import CellsdeError
from cellsde.nn.base import PopulationModel
from cellsde.nn.covariates import attach_covariates
from cellsde.nn.endnsde import ENDnSDE
from cellsde.nn.grouped_paths import model_groups
from cellsde.nn.standardized import Standardized, standardize
from cellsde.nn.training_data import GroupedData
from cellsde.training.config import FitConfig
from cellsde.training.objective import model_w2, tw2_loss
from perforate import CandidateOptimizer, dendritic_layers

# Offset of the validation noise seed from the training seed (a separate, fixed stream).
VALID_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class Prepared:
    """Everything a trainer needs besides the model, on the training device.

    Attributes
    ----------
    config : FitConfig
    data : GroupedData
        Training groups.
    valid : GroupedData or None
        Held-out groups.
    n_paths : int
        Simulated paths per group.
    optimizer : torch.optim.Adam
        Over the model's trainable parameters (:func:`adam`).
    generator : torch.Generator
        The training noise, seeded ``config.seed``.
    """

    config: FitConfig
    data: GroupedData
    valid: GroupedData | None
    n_paths: int
    optimizer: torch.optim.Optimizer
    generator: torch.Generator


@dataclass(frozen=True)
class StepResult:
    """One optimisation step: the loss before the step and the gradient norm (before clipping)."""

    loss: float
    grad_norm: float


def adam(params: Iterable[torch.nn.Parameter], config: FitConfig) -> torch.optim.Adam:
    """The optimiser of every trainer: Adam with ``config``'s lr, betas and weight decay."""
    return torch.optim.Adam(
        list(params), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
    )


def prepare(
    model: PopulationModel, train: xr.Dataset, valid: xr.Dataset | None, config: FitConfig
) -> Prepared:
    """Validate, move to the device, standardise and record the theta range; build the rest.

    ``model`` is modified in place: moved to ``config.device``, its input standardisation set
    from ``train`` when ``config.standardize``, and an END-nSDE's training range of theta
    recorded. A model with known covariates reads them from the datasets' coordinates
    (:func:`cellsde.nn.covariates.attach_covariates`).

    Raises
    ------
    TypeError
        ``model`` is not a population model.
    CellsdeError
        CUDA requested but absent; observed species unknown to the model; data without the
        coordinates of the model's covariates; data that do not fit the model (:func:`cellsde.nn.training_data.group_tensors` names the problem).
    """
    if not isinstance(model, PopulationModel):
        raise TypeError(f"fit expects an ENDnSDE or a baseline model, got {type(model).__name__}")
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise CellsdeError(
            f"device {config.device!r} requested but CUDA is not available; use device='cpu'"
        )
    device = torch.device(config.device)
    # known covariates become trailing theta columns, encoded from the datasets' coordinates
    train = attach_covariates(model.covariates, train)
    valid = None if valid is None else attach_covariates(model.covariates, valid)
    # both datasets are validated before the model is changed
    data = model_groups(model, train, observed=config.observed).to(device)
    vdata = None if valid is None else model_groups(model, valid, observed=config.observed)
    if config.standardize and isinstance(model, Standardized):
        standardize(model, train)
    model.to(device)
    if isinstance(model, ENDnSDE) and model.param_names:
        model.set_theta_range(data.theta.min(0).values, data.theta.max(0).values)
    return Prepared(
        config=config,
        data=data,
        valid=None if vdata is None else vdata.to(device),
        n_paths=config.n_paths or int(data.mask.shape[1]),
        optimizer=adam((p for p in model.parameters() if p.requires_grad), config),
        generator=torch.Generator(device=device).manual_seed(config.seed),
    )


def train_step(
    model: PopulationModel,
    optimizer: torch.optim.Optimizer | CandidateOptimizer,
    prepared: Prepared,
    *,
    epoch: int,
) -> StepResult:
    """One full-batch step of the tW2 loss (debiased when ``config.debiased``).

    Sets the learning rate of ``epoch`` (``config.lr_at``) on a ``torch.optim.Optimizer``
    (perforate's ``CandidateOptimizer`` of a cascade dendrite phase keeps its own
    ``candidate_lr``), simulates with ``prepared.generator``, backpropagates, clips the
    gradient norm to ``config.grad_clip`` and steps.

    Raises
    ------
    CellsdeError
        The loss is not finite (the simulation diverged).
    """
    config = prepared.config
    if isinstance(optimizer, torch.optim.Optimizer):
        for group in optimizer.param_groups:
            group["lr"] = config.lr_at(epoch)
    optimizer.zero_grad(set_to_none=True)
    # torch checkpointing re-runs forwards, which would record cascade candidates twice
    candidates = any(m.candidate is not None for _, m in dendritic_layers(model))
    w2, observed = model_w2(model, prepared.data, n_paths=prepared.n_paths, dt=config.dt,
                            generator=prepared.generator, debiased=config.debiased,
                            checkpoint=config.checkpoint_segments and not candidates)  # fmt: skip
    loss = tw2_loss(w2, observed, reduce_groups=config.reduce_groups, skip_first=config.skip_first)
    params = [p for p in model.parameters() if p.requires_grad]
    return optimizer_step(
        loss, params, optimizer, grad_clip=config.grad_clip,
        where=f"at epoch {epoch}", fix="lower lr or dt, or set standardize=True",
    )  # fmt: skip


def optimizer_step(
    loss: torch.Tensor,
    params: list[torch.Tensor],
    optimizer: torch.optim.Optimizer | CandidateOptimizer,
    *,
    grad_clip: float | None,
    where: str,
    fix: str,
) -> StepResult:
    """Check the loss, backpropagate, clip the gradient norm, step: every trainer's update.

    Raises
    ------
    CellsdeError
        The loss is not finite ("the simulation diverged", with ``where`` and ``fix``).
    """
    if not torch.isfinite(loss):
        raise CellsdeError(f"the loss became {loss.item()} {where}: the simulation diverged; {fix}")
    loss.backward()
    max_norm = grad_clip if grad_clip is not None else math.inf
    grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    optimizer.step()
    return StepResult(loss=loss.item(), grad_norm=grad_norm)


def validation_loss(model: PopulationModel, prepared: Prepared) -> float:
    """tW2 on the held-out groups with a fixed noise stream (common random numbers across epochs).

    Always the plain tW2 (also when training on the debiased loss), so scores stay comparable.
    """
    if prepared.valid is None:
        raise ValueError("validation_loss needs held-out groups; pass valid= to prepare")
    config = prepared.config
    gen = torch.Generator(device=prepared.valid.obs.device).manual_seed(
        config.seed + VALID_SEED_OFFSET
    )
    with torch.no_grad():
        w2, observed = model_w2(model, prepared.valid, n_paths=prepared.n_paths, dt=config.dt,
                                generator=gen)  # fmt: skip
    return float(
        tw2_loss(w2, observed, reduce_groups=config.reduce_groups, skip_first=config.skip_first)
    )
