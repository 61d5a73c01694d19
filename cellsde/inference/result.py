"""The Dataset that :func:`cellsde.infer` returns: estimates, intervals, flags and provenance.

Two flags per (group, param): ``out_of_range`` (outside the model's training range of the
parameter) and ``at_bound`` (at, or within ``AT_BOUND_TOL`` of its width from, the edge of
the box the estimator is confined to: the training box of a bounded amortizer, the widened
search box of ``"w2"``). An estimate at its bound says the data point beyond the range the
estimator can report: treat the value as a limit, not an estimate.
"""

from __future__ import annotations

import json
import math

import numpy as np
import torch
import xarray as xr

from cellsde._version import __version__
from cellsde.datasets.schema import CELL, GROUP, PARAM, TIME
from cellsde.inference.parametric import ParametricInterval
from cellsde.inference.prepare import Prepared
from cellsde.nn.base import PopulationModel

AT_BOUND_TOL = 0.01  # fraction of the box width counted as "at the bound"

UNCERTAINTY_TEXT = {
    "cells": "bootstrap over the group's cells (std, 5-95 % quantiles, percentile interval at level); "
    "understates the uncertainty",
    "parametric": "parametric bootstrap at the estimate, bias- and slope-corrected (first-order "
    "Neyman inversion): std, 5-95 % quantiles, normal interval at level around theta_debiased",
}


def _summaries(
    th: np.ndarray, boot: torch.Tensor | ParametricInterval | None, *, level: float
) -> tuple[np.ndarray, ...]:
    """(std, q05, q95, lo, hi, debiased), each (group, param); NaN without a bootstrap."""
    if boot is None:
        nan = np.full_like(th, math.nan)
        return nan, nan, nan, nan, nan, nan
    if isinstance(boot, ParametricInterval):

        def arr(t: torch.Tensor) -> np.ndarray:
            return t.detach().cpu().numpy().astype(float)

        d = arr(boot.draws)  # (group, boot, param)
        q05, q95 = np.quantile(d, 0.05, axis=1), np.quantile(d, 0.95, axis=1)
        return arr(boot.std), q05, q95, arr(boot.lo), arr(boot.hi), arr(boot.centre)
    b = boot.detach().cpu().numpy().astype(float)  # (group, boot, param)
    a = (1 - level) / 2
    return (b.std(1, ddof=1), np.quantile(b, 0.05, axis=1), np.quantile(b, 0.95, axis=1),
            np.quantile(b, a, axis=1), np.quantile(b, 1 - a, axis=1), 2 * th - b.mean(1))  # fmt: skip


def inference_result(
    data: xr.Dataset,
    prep: Prepared,
    theta: torch.Tensor,
    boot: torch.Tensor | ParametricInterval | None,
    tw2: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    model: PopulationModel,
    *,
    box: tuple[torch.Tensor, torch.Tensor],
    attrs: dict,
) -> xr.Dataset:
    """Assemble the result of :func:`cellsde.infer`.

    Parameters
    ----------
    data : xarray.Dataset
        The input trajectories (for the ``source_group`` labels and the time units).
    prep : Prepared
        The grouped data (each cell's group, cells per group).
    theta : torch.Tensor, shape (group, param)
        Estimates.
    boot : torch.Tensor of shape (group, boot, param), ParametricInterval or None
        Bootstrap draws (``uncertainty="cells"``), the calibrated interval, or none.
    tw2 : torch.Tensor, shape (group,)
        Achieved tW2 per group.
    lo, hi : torch.Tensor, shape (param,)
        The model's training range (estimates outside it are flagged, not clipped).
    box : (torch.Tensor, torch.Tensor), shape (param,) each
        The range the estimator's output is confined to (estimates at its edge are flagged).
    attrs : dict
        The call's settings (recorded as JSON in ``attrs["config"]``).
    """
    assignment, n_cells = prep.assignment, prep.n_cells
    params = list(model.unknown_params)
    th = theta.detach().cpu().numpy().astype(float)
    std, q05, q95, c_lo, c_hi, debiased = _summaries(th, boot, level=attrs["level"])
    lo_n, hi_n = lo.numpy().astype(float), hi.numpy().astype(float)
    out = (th < lo_n) | (th > hi_n)
    b_lo, b_hi = (b.detach().cpu().numpy().astype(float) for b in box)
    tol = AT_BOUND_TOL * np.where(b_hi > b_lo, b_hi - b_lo, 1.0)
    at_bound = (th <= b_lo + tol) | (th >= b_hi - tol)
    gp = ("group", PARAM)
    ds = xr.Dataset(
        {
            "theta": (gp, th), "theta_std": (gp, std), "theta_q05": (gp, q05), "theta_q95": (gp, q95),
            "theta_lo": (gp, c_lo), "theta_hi": (gp, c_hi), "theta_debiased": (gp, debiased),
            "out_of_range": (gp, out), "at_bound": (gp, at_bound),
            "tw2": ("group", tw2.detach().cpu().numpy().astype(float)),
            "n_cells": ("group", n_cells.cpu().numpy().astype(int)),
            "cell_group": (CELL, assignment),
            "train_lo": (PARAM, lo_n), "train_hi": (PARAM, hi_n),
        },
        coords={"group": np.arange(th.shape[0]), PARAM: params},
    )  # fmt: skip
    first = [np.flatnonzero(assignment == gi)[0] for gi in range(th.shape[0])]
    if GROUP in data.coords:
        ds = ds.assign_coords(source_group=("group", np.asarray(data[GROUP].values)[first]))
    for cov in model.covariates:  # the fixed known covariates of each group, as given
        if cov.coord in data.coords and data[cov.coord].dims == (CELL,):
            ds = ds.assign_coords({cov.coord: ("group", np.asarray(data[cov.coord].values)[first])})
    units = data[TIME].attrs.get("units", "")
    ds.attrs.update({"cellsde_version": __version__, "time_units": units, "config": json.dumps(attrs),
                     "method": attrs["method"], "seed": attrs["seed"],
                     "uncertainty": UNCERTAINTY_TEXT[attrs["uncertainty"]], "level": attrs["level"]})  # fmt: skip
    ds["theta_lo"].attrs["description"] = f"lower end of the {attrs['level']:.0%} interval of theta"
    ds["theta_hi"].attrs["description"] = f"upper end of the {attrs['level']:.0%} interval of theta"
    ds["tw2"].attrs["description"] = (
        "sum over t > t0 of squared W2 at the estimate (independent noise)"
    )
    ds["out_of_range"].attrs["description"] = "estimate outside the model's training range of theta"
    ds["at_bound"].attrs["description"] = (
        f"estimate within {AT_BOUND_TOL:.0%} of the edge of the box the estimator is confined to "
        "(a limit, not an estimate)"
    )
    return ds
