"""The uncertainty step of :func:`cellsde.infer`: bootstrap over the cells, or the calibrated
parametric bootstrap (:mod:`cellsde.inference.parametric`); see :mod:`cellsde.inference.infer`."""

from __future__ import annotations

import torch

from cellsde.inference.bootstrap import resample_cells
from cellsde.inference.estimators import AmortizedEstimator, W2Estimator
from cellsde.inference.parametric import ParametricInterval, parametric_interval
from cellsde.inference.prepare import Prepared
from cellsde.nn.base import PopulationModel


def estimate_uncertainty(
    kind: str,
    estimator: W2Estimator | AmortizedEstimator,
    model: PopulationModel,
    prep: Prepared,
    theta: torch.Tensor,
    *,
    n_bootstrap: int,
    level: float,
    seed: int,
    lo: torch.Tensor,
    hi: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor | ParametricInterval | None:
    """Bootstrap draws (group, boot, param) for ``"cells"``, the interval for ``"parametric"``.

    None when ``n_bootstrap`` is 0.
    """
    if not n_bootstrap:
        return None
    if kind == "cells":
        return cells_bootstrap(estimator, prep, theta, n_boot=n_bootstrap, generator=generator)
    step = 0.05 * torch.where(hi > lo, hi - lo, torch.ones_like(hi))  # finite-difference step
    return parametric_interval(model, prep.data, theta.detach(), estimator, n_boot=n_bootstrap,
                               dt=prep.dt, seed=seed + 104729, step=step, level=level)  # fmt: skip


def cells_bootstrap(
    estimator: W2Estimator | AmortizedEstimator,
    prep: Prepared,
    theta: torch.Tensor,
    *,
    n_boot: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Re-estimates on ``n_boot`` resamples of every group's cells, shape (group, boot, param)."""
    resampled = resample_cells(prep.data, n_boot=n_boot, generator=generator)
    boot = estimator.refit(resampled, theta.repeat_interleave(n_boot, 0))  # (group*boot, param)
    return boot.view(prep.data.obs.shape[0], n_boot, -1)
