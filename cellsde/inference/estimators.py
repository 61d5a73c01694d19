"""The per-method step of :func:`cellsde.infer`: an estimator maps the groups' data to theta.

Both estimators share one protocol, so the uncertainty step can re-run either on resampled or
simulated groups:

- ``estimator(data) -> theta (group, param)``: estimate from scratch;
- ``estimator.refit(data, warm) -> theta``: re-estimate from a warm start (a bootstrap
  replicate starts at its group's estimate);
- ``estimator.box() -> (lo, hi)``: the range its estimates are confined to (the search box
  of ``"w2"``, the training box of a bounded amortizer); :func:`cellsde.infer` flags
  estimates at its edge.

``theta`` is the unknown part of the conditioning only; a model's known covariates are the
trailing columns of ``data.theta``, fixed from the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from cellsde.errors import CellsdeError
from cellsde.inference.amortized import Amortizer, save_amortizer
from cellsde.inference.amortized_train import simulate_training_sets, train_amortizer
from cellsde.inference.prepare import Prepared
from cellsde.inference.w2_search import minimise_tw2, objective, search_box
from cellsde.nn.base import PopulationModel
from cellsde.nn.covariates import covariate_columns
from cellsde.nn.training_data import GroupedData


def halton_starts(lo: torch.Tensor, hi: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` starting points spread over the box [lo, hi], shape (n, param) (a Halton lattice)."""
    p = lo.shape[0]
    primes = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29)
    pts = torch.empty(n, p)
    for j in range(p):
        base = primes[j % len(primes)]
        for i in range(n):
            f, r, k = 1.0, 0.0, i + 1
            while k > 0:
                f /= base
                r += f * (k % base)
                k //= base
            pts[i, j] = r
    return lo + (hi - lo) * pts


@dataclass(frozen=True)
class W2Estimator:
    """theta minimising tW2 through the model (:func:`cellsde.inference.w2_search.minimise_tw2`)."""

    model: PopulationModel
    lo: torch.Tensor
    hi: torch.Tensor
    n_paths: int
    dt: float
    seed: int
    n_starts: int
    iterations: int
    debiased: bool

    def __call__(self, data: GroupedData) -> torch.Tensor:
        return self._search(data, halton_starts(self.lo, self.hi, self.n_starts), self.seed)

    def box(self) -> tuple[torch.Tensor, torch.Tensor]:
        return search_box(self.lo, self.hi)

    def refit(self, data: GroupedData, warm: torch.Tensor) -> torch.Tensor:
        # As many steps as the estimate itself: fewer from the warm start would pull the
        # replicates towards it and understate the spread.
        return self._search(data, warm[:, None, :], self.seed + 1)

    def _search(self, data: GroupedData, starts: torch.Tensor, seed: int) -> torch.Tensor:
        theta, _ = minimise_tw2(self.model, data, lo=self.lo, hi=self.hi, starts=starts,
                                n_paths=self.n_paths, dt=self.dt, seed=seed,
                                iterations=self.iterations, debiased=self.debiased)  # fmt: skip
        return theta


@dataclass(frozen=True)
class AmortizedEstimator:
    """theta read off by a trained :class:`~cellsde.inference.amortized.Amortizer`."""

    net: Amortizer

    def __call__(self, data: GroupedData) -> torch.Tensor:
        y, members = amortizer_inputs(self.net, data)
        known = data.theta[:, len(self.net.config.params) :] if self.net.config.covariates else None
        with torch.no_grad():
            return self.net(y, members, known)

    def box(self) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = self.net.box()
        return lo.detach().cpu(), hi.detach().cpu()

    def refit(self, data: GroupedData, warm: torch.Tensor) -> torch.Tensor:
        return self(data)  # the network needs no starting point


def make_estimator(
    method: str,
    model: PopulationModel,
    prep: Prepared,
    lo: torch.Tensor,
    hi: torch.Tensor,
    *,
    seed: int,
    n_starts: int,
    iterations: int,
    debiased: bool,
    amortizer: Amortizer | None,
    amortizer_out: str | os.PathLike[str] | None,
) -> W2Estimator | AmortizedEstimator:
    """The estimator of ``method``; ``"amortized"`` without ``amortizer`` trains one now."""
    if method == "w2":
        return W2Estimator(model=model, lo=lo, hi=hi, n_paths=prep.n_paths, dt=prep.dt, seed=seed,
                           n_starts=n_starts, iterations=iterations, debiased=debiased)  # fmt: skip
    net = amortizer or _train_on_model(model, prep, lo, hi, seed=seed)
    if amortizer_out is not None:
        save_amortizer(net, amortizer_out)
    return AmortizedEstimator(net)


def _train_on_model(
    model: PopulationModel, prep: Prepared, lo: torch.Tensor, hi: torch.Tensor, *, seed: int
) -> Amortizer:
    """An amortizer trained on simulations of ``model`` over the box [lo, hi].

    Without covariates: 512 sets from the initial states of the first group. With known
    covariates: the same number of sets split over the data's distinct conditions (at
    least 32 each), each simulated from the initial states of the first group with that
    condition, so the network sees exactly the conditions it will be asked about.
    """
    gd = prep.data
    p = lo.shape[0]
    known = gd.theta[:, p:]  # (group, covariate)
    rows = torch.unique(known, dim=0) if known.shape[1] else known[:1]
    per = 512 if known.shape[1] == 0 else max(32, 512 // rows.shape[0])
    gen = torch.Generator(device=gd.x0.device).manual_seed(seed)  # one stream: sets, then subsets
    ys, thetas = [], []
    for row in rows:
        g = int(torch.nonzero((known == row).all(-1))[0]) if known.shape[1] else 0
        y, theta = simulate_training_sets(model, x0=gd.x0[g, : int(gd.n0[g])], lo=lo, hi=hi,
                                          times=gd.times, readout=gd.readout, dt=prep.dt,
                                          n_sets=per, generator=gen,
                                          covariates=row if known.shape[1] else None)  # fmt: skip
        ys.append(y)
        thetas.append(theta)
    return train_amortizer(torch.cat(ys), torch.cat(thetas), observed=prep.observed,
                           params=model.unknown_params, times=gd.times, lo=lo, hi=hi,
                           covariates=covariate_columns(model.covariates), generator=gen,
                           seed=seed)  # fmt: skip


def amortizer_inputs(net: Amortizer, gd: GroupedData) -> tuple[torch.Tensor, torch.Tensor]:
    """The network's inputs: observations with gaps filled by its reference, and membership.

    Returns
    -------
    y : torch.Tensor, shape (group, cell, time, observed)
    members : torch.Tensor of bool, shape (group, cell)
    """
    if gd.obs.shape[-1] != len(net.config.observed):
        raise CellsdeError(
            f"the amortizer reads {list(net.config.observed)} but {gd.obs.shape[-1]} data species "
            "were given; pass observed= the amortizer's species"
        )
    times = tuple(gd.times.tolist())
    if len(times) != len(net.config.times) or not np.allclose(
        times, net.config.times, rtol=1e-6, atol=1e-9
    ):
        raise CellsdeError(
            f"the amortizer was trained on times {list(net.config.times)[:5]}... but the data have "
            f"{list(times)[:5]}...; resample the data or train a new amortizer"
        )
    ref = net.reference.view(len(times), -1)  # (time, observed)
    y = torch.where(gd.mask[..., None], gd.obs, ref)  # fill unobserved entries with the reference
    return y, gd.mask.any(-1)


def achieved_tw2(
    model: PopulationModel, prep: Prepared, theta: torch.Tensor, *, seed: int
) -> torch.Tensor:
    """tW2 per group at the estimate, shape (group,), with noise independent of the search."""
    with torch.no_grad():
        return objective(model, prep.data, theta, n_paths=prep.n_paths,
                         dt=prep.dt, seed=seed + 7919)  # fmt: skip
