"""Training one candidate network of :func:`cellsde.compression.compress`.

* plain networks and ``mode="gd"`` (fixed ``K`` dendrite sets, trained jointly by backprop):
  :func:`cellsde.fit` with the caller's :class:`~cellsde.FitConfig`, unchanged;
* ``mode="cascade"``: :func:`perforate.train` drives the perforate phase schedule (neuron
  phases, correlation-trained candidate phases, restore-and-retry) over one full-batch Adam
  step of the same tW2 loss per epoch; the epoch budget ``config.epochs`` counts dendrite
  phases too, and the validation tW2 (fixed Brownian stream) is the schedule's score.

Both refit on the data with the same loss and budget as the wide model; nothing is distilled.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import xarray as xr

from cellsde.errors import CellsdeError
from cellsde.nn.endnsde import ENDnSDE
from cellsde.nn.standardized import standardize
from cellsde.training.config import FitConfig
from cellsde.training.fit import _prepare, fit, validation_loss
from cellsde.training.objective import per_time_w2, tw2_loss
from perforate import DendriteConfig, PhaseSchedule, dendritic_layers
from perforate import train as perforate_train


def fit_fixed(model: ENDnSDE, train: xr.Dataset, valid: xr.Dataset, config: FitConfig) -> ENDnSDE:
    """Fit a plain model or one with a fixed number of (``gd``) dendrite sets."""
    return fit(model, train, valid=valid, config=config).model  # type: ignore[return-value]


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
        Loss, optimiser, step size, epoch budget, seed (``checkpoint_path`` is ignored).
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
    device = torch.device(config.device)
    if config.standardize:
        standardize(model, train)
    model.to(device)
    data = _prepare(model, train, config).to(device)
    vdata = _prepare(model, valid, config).to(device)
    if model.config.params:
        model.set_theta_range(data.theta.min(0).values, data.theta.max(0).values)
    n_paths = config.n_paths or int(data.mask.shape[1])
    generator = torch.Generator(device=device).manual_seed(config.seed)
    layers = [m for _, m in dendritic_layers(model)]

    def step(m: ENDnSDE, optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        # torch checkpointing would re-run forwards and record candidates twice
        segments = config.checkpoint_segments and all(x.candidate is None for x in layers)
        w2, observed = per_time_w2(
            m,
            data,
            n_paths=n_paths,
            dt=config.dt,
            generator=generator,
            checkpoint=segments,
            debiased=config.debiased,
        )
        loss = tw2_loss(
            w2, observed, reduce_groups=config.reduce_groups, skip_first=config.skip_first
        )
        if not torch.isfinite(loss):
            raise CellsdeError(
                f"the loss became {loss.item()} while training dendrites: the simulation "
                "diverged; lower lr or dt"
            )
        loss.backward()
        if config.grad_clip is not None:
            trainable = [p for p in m.parameters() if p.requires_grad]
            torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
        optimizer.step()
        if on_epoch is not None:
            on_epoch(m)

    def evaluate(m: ENDnSDE) -> float:
        score = validation_loss(m, vdata, n_paths=n_paths, config=config)
        return score if math.isfinite(score) else math.inf

    def optimizer_factory(params):
        return torch.optim.Adam(
            params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
        )

    perforate_train(
        model,
        step=step,
        evaluate=evaluate,
        schedule=PhaseSchedule.from_config(dendrites, n_sets=layers[0].n_sets),
        optimizer_factory=optimizer_factory,
        max_epochs=config.epochs,
        generator=torch.Generator().manual_seed(seed + 104729),
    )
    return model
