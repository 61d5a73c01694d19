"""Cascade training of a dendritic END-nSDE: the perforate phase schedule over ``train_step``.

:func:`perforate.train` drives the phase schedule (neuron phases, correlation-trained
candidate phases, restore-and-retry); each of its epochs is one
:func:`cellsde.training.step.train_step` of the tW2 loss — the very step of
:func:`cellsde.fit`, with the same learning-rate schedule, debiasing, clipping and
divergence check — and :func:`cellsde.training.step.validation_loss` (fixed noise stream)
is the schedule's score. The epoch budget ``config.epochs`` counts dendrite phases too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
import xarray as xr

from cellsde.nn.endnsde import ENDnSDE
from cellsde.training.config import FitConfig
from cellsde.training.step import adam, prepare, train_step, validation_loss
from perforate import CandidateOptimizer, DendriteConfig, PhaseSchedule, dendritic_layers
from perforate import train as perforate_train


def fit_cascade(
    model: ENDnSDE,
    train: xr.Dataset,
    valid: xr.Dataset,
    config: FitConfig,
    dendrites: DendriteConfig,
    *,
    seed: int = 0,
    on_epoch: Callable[[ENDnSDE], None] | None = None,
) -> ENDnSDE:
    """Grow up to ``dendrites.max_dendrites`` cascade sets with the perforate phase schedule.

    Parameters
    ----------
    model : ENDnSDE
        Passed through :func:`perforate.add_dendrites` in ``cascade`` mode, with 0 sets.
    train, valid : xarray.Dataset
        Training and held-out groups (the held-out tW2 drives the schedule).
    config : FitConfig
        Loss, optimiser, learning-rate schedule, step size, epoch budget, seed
        (``checkpoint_path`` is ignored).
    dendrites : DendriteConfig
        Schedule settings (patience, threshold, max_dendrites, candidate phase...).
    seed : int
        Randomness of new dendrite candidates.
    on_epoch : callable, optional
        Called with the model after every training step (tests check the perforate
        recordings are released every epoch).

    Returns
    -------
    ENDnSDE
        ``model`` at its best validation checkpoint (the sets it had then).
    """
    prep = prepare(model, train, valid, config)
    epochs = iter(range(config.epochs))  # perforate.train calls step once per epoch

    def step(m: ENDnSDE, optimizer: torch.optim.Optimizer | CandidateOptimizer) -> None:
        train_step(m, optimizer, prep, epoch=next(epochs))
        if on_epoch is not None:
            on_epoch(m)

    def evaluate(m: ENDnSDE) -> float:
        score = validation_loss(m, prep)
        return score if math.isfinite(score) else math.inf

    perforate_train(
        model,
        step=step,
        evaluate=evaluate,
        schedule=PhaseSchedule.from_config(dendrites, n_sets=dendritic_layers(model)[0][1].n_sets),
        optimizer_factory=partial(adam, config=config),
        max_epochs=config.epochs,
        generator=torch.Generator().manual_seed(seed + 104729),
    )
    return model
