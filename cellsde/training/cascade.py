"""Cascade training of a dendritic END-nSDE: the perforate phase schedule over ``train_step``.

:func:`perforate.train` drives the phase schedule (neuron phases, correlation-trained
candidate phases, restore-and-retry); each of its epochs is one
:func:`cellsde.training.step.train_step` of the tW2 loss — the very step of
:func:`cellsde.fit`, with the same debiasing, clipping and divergence check — and
:func:`cellsde.training.step.validation_loss` (fixed noise stream) is the schedule's score.
The epoch budget ``config.epochs`` counts dendrite phases too.

Learning rate: with the ``"pb"`` schedule (the default in cascade mode) the rate is the one
the schedule sets — ``config.lr`` at the start of every neuron phase, lowered by
``lr_factor`` at each plateau (Perforated Backpropagation's ReduceLROnPlateau rule) — and
``config.lr_schedule`` is not used. With ``"plateau"`` it is ``config.lr_at(epoch)``, as in
:func:`cellsde.fit`.

Gradients: the rollout is unrolled in time, so dendrites that detach their input would drop
their share of the state derivative from backpropagation through time; the layers must be
built with ``detach_input=False`` (:func:`cellsde.compression.build_candidate` does).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import partial

import torch
import xarray as xr

from cellsde.nn.endnsde import ENDnSDE
from cellsde.training.config import FitConfig
from cellsde.training.step import adam, prepare, train_step, validation_loss
from perforate import (
    CandidateOptimizer,
    DendriteConfig,
    PhaseSchedule,
    TrainResult,
    dendritic_layers,
)
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
) -> TrainResult:
    """Grow up to ``dendrites.max_dendrites`` cascade sets with the perforate phase schedule.

    Parameters
    ----------
    model : ENDnSDE
        Passed through :func:`perforate.add_dendrites` in ``cascade`` mode with
        ``detach_input=False``, with 0 sets. Trained in place.
    train, valid : xarray.Dataset
        Training and held-out groups (the held-out tW2 drives the schedule).
    config : FitConfig
        Loss, optimiser, initial learning rate, step size, epoch budget, seed
        (``checkpoint_path`` is ignored).
    dendrites : DendriteConfig
        Schedule settings (schedule, patience, threshold, max_dendrites, candidate phase...).
    seed : int
        Randomness of new dendrite candidates.
    on_epoch : callable, optional
        Called with the model after every training step (tests check the perforate
        recordings are released every epoch).

    Returns
    -------
    perforate.TrainResult
        The schedule that ran, the history, candidate phases and whether they hit their cap;
        ``model`` is left at its best validation checkpoint (the sets it had then).

    Raises
    ------
    ValueError
        A dendritic layer detaches its input (biased rollout gradients), or the model has
        no dendritic layer.
    """
    layers = dendritic_layers(model)
    if not layers:
        raise ValueError("fit_cascade: model has no dendritic layer; build it with dendrites")
    detached = [n for n, m in layers if m.config.detach_input]
    if detached:
        raise ValueError(
            f"fit_cascade: dendritic layers {detached} detach their input, which biases the "
            "gradient of an SDE rollout; build them with DendriteConfig(detach_input=False) "
            "(cellsde.compression.build_candidate does)"
        )
    prep = prepare(model, train, valid, config)
    schedule = PhaseSchedule.from_config(dendrites, n_sets=layers[0][1].n_sets)
    epochs = iter(range(config.epochs))  # perforate.train calls step once per epoch

    def step(m: ENDnSDE, optimizer: torch.optim.Optimizer | CandidateOptimizer) -> None:
        p = prep
        if schedule.kind == "pb" and isinstance(optimizer, torch.optim.Optimizer):
            # the schedule owns the rate: hand train_step a constant one
            lr = float(optimizer.param_groups[0]["lr"])
            p = replace(prep, config=config.replace(lr=lr, lr_schedule="constant", lr_min=0.0))
        train_step(m, optimizer, p, epoch=next(epochs))
        if on_epoch is not None:
            on_epoch(m)

    def evaluate(m: ENDnSDE) -> float:
        score = validation_loss(m, prep)
        return score if math.isfinite(score) else math.inf

    return perforate_train(
        model,
        step=step,
        evaluate=evaluate,
        schedule=schedule,
        optimizer_factory=partial(adam, config=config),
        max_epochs=config.epochs,
        generator=torch.Generator().manual_seed(seed + 104729),
    )
