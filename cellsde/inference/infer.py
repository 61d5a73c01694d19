"""Heterogeneity inference: estimate each population's parameters theta from its trajectories.

``infer(model, data, method="w2" | "amortized")`` returns a Dataset with ``theta(group, param)``,
its bootstrap uncertainty, the achieved tW2 per group and a flag for estimates outside the
parameter range the model was trained on.

Only the model's unknown parameters are estimated: a model with known covariates
(:mod:`cellsde.nn.covariates`, e.g. log dose and ligand) reads them from the data's
coordinates and keeps them fixed, and the result carries them as group coordinates.

Out-of-range estimates are flagged (``out_of_range``), never clipped. ``"w2"`` searches a box
25 % wider than the range on each side. The amortized network's output is bounded to the box
it was trained on: :func:`infer` trains it on the model's range, so pass an ``amortizer``
trained on a wider box (``simulate_training_sets(lo=..., hi=...)`` then ``train_amortizer``)
to detect populations outside it. Estimates at (within 1 % of) the edge of the estimator's
box are flagged ``at_bound``: the data point beyond what it can report.

Uncertainty (both methods, ``uncertainty=``):

- ``"cells"`` (default, cheap): the group's cells are resampled with replacement
  ``n_bootstrap`` times and theta re-estimated on each resample; ``theta_std`` is the standard
  deviation, ``theta_q05``/``theta_q95`` the 5 % and 95 % quantiles and ``theta_lo``/``theta_hi``
  the percentile interval at ``level``. It understates the uncertainty: both estimators shrink
  towards the middle of the range, so the estimates move less than theta does (measured on the
  damped oscillator: 83 % coverage at +-2 SD, see docs/benchmarks.md).
- ``"parametric"`` (calibrated): replicate groups are simulated from the model at the estimate,
  the whole estimator is re-run on them, and the spread is mapped to theta through the
  estimator's slope, measured by common-random-number finite differences; the interval
  ``theta_lo``-``theta_hi`` is centred on the bias-corrected ``theta_debiased``
  (:mod:`cellsde.inference.parametric`). Cost: ``(1 + 2 * param) * n_bootstrap`` re-estimates
  per group (milliseconds for ``"amortized"``, full searches for ``"w2"``). Coverage on held-out
  damped-oscillator groups at ``level=0.95`` with ``method="amortized"``: >= 90 % (slow test).

Both measure the sampling variability of the group (and of the estimator), not model error.

The steps, one module each: check the options, fix the parameter box and build the per-group
tensors (:mod:`~cellsde.inference.prepare`); estimate with the method's estimator
(:mod:`~cellsde.inference.estimators`); the uncertainty (:mod:`~cellsde.inference.uncertainty`);
the result Dataset (:mod:`~cellsde.inference.result`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.units import match_units, model_units
from cellsde.evaluation.table import model_device
from cellsde.inference.amortized import Amortizer
from cellsde.inference.estimators import achieved_tw2, make_estimator
from cellsde.inference.prepare import check_options, parameter_box, prepare
from cellsde.inference.result import inference_result
from cellsde.inference.uncertainty import estimate_uncertainty
from cellsde.nn.base import PopulationModel
from cellsde.nn.memory import check_memory, infer_estimate


def infer(
    model: PopulationModel,
    data: xr.Dataset,
    *,
    method: str = "w2",
    group_size: int | None = None,
    seed: int = 0,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    observables: Mapping[str, Mapping[str, float]] | None = None,
    observed: Sequence[str] | None = None,
    initial_state: np.ndarray | None = None,
    n_paths: int | None = None,
    dt: float | None = None,
    n_starts: int = 4,
    iterations: int = 120,
    n_bootstrap: int = 20,
    amortizer: Amortizer | None = None,
    amortizer_out: str | os.PathLike[str] | None = None,
    uncertainty: str = "cells",
    level: float = 0.95,
    debiased: bool = False,
) -> xr.Dataset:
    """Estimate theta for every group of cells in ``data``.

    Parameters
    ----------
    model : PopulationModel
        A fitted END-nSDE (or any model drawing paths given theta).
    data : xarray.Dataset
        ``x`` (cell, time, species); ``group`` says which cells share theta (absent: one
        group), unless ``group_size`` cuts the cells into consecutive groups of K; the
        per-cell coordinates of the model's known covariates, if it has any (each group
        must share one value).
    method : {"w2", "amortized"}
        ``"w2"``: minimise tW2 over theta (gradient through the SDE, common random numbers,
        ``n_starts`` starts). ``"amortized"``: the attention-pooling network (``amortizer``,
        or one trained now on simulations of ``model``).
    group_size : int, optional
        K cells per group; leftover cells are reported with group -1.
    seed : int
        Seeds the simulations, the bootstrap and the amortizer training.
    bounds : mapping of str to (float, float), optional
        Parameter range; default the model's training range.
    observables : mapping, optional
        How observed data species are formed from model species (see
        :func:`cellsde.nn.training_data.group_tensors`). An observable missing from the
        data is computed from the data's species by the same recipe when they have its
        parts (e.g. total nuclear NF-kB from ``NFkBn`` and ``IkBaNFkBn``).
    observed : sequence of str, optional
        The data species (or observables) compared; default the amortizer's inputs when
        ``amortizer`` is given, else every data species that is a model species or a
        declared observable.
    initial_state : numpy.ndarray, shape (species,) or (n, species), optional
        Initial states when the data do not measure every model species.
    n_paths : int, optional
        Simulated paths per group (default: the smallest multiple of the largest group size
        that is >= 64, which keeps the exact W2 an assignment problem).
    dt : float, optional
        Euler–Maruyama step (default: the fit's ``dt`` if recorded, else 1/20 of the first
        observation interval).
    n_starts, iterations, n_bootstrap : int
        Search settings (``n_bootstrap=0`` disables the uncertainty; use >= 100 with
        ``uncertainty="parametric"`` for a stable interval).
    amortizer : Amortizer, optional
        A trained network to reuse (``method="amortized"``).
    amortizer_out : path-like, optional
        ``method="amortized"`` without ``amortizer``: also write the network trained here
        (atomically) for reuse.
    uncertainty : {"cells", "parametric"}
        How ``theta_std``/``theta_lo``/``theta_hi`` are obtained (module docstring):
        bootstrap over the group's cells, or the calibrated parametric bootstrap.
    level : float
        Nominal two-sided coverage of ``theta_lo``-``theta_hi``, in (0, 1).
    debiased : bool
        ``method="w2"`` only: minimise the size-matched debiased tW2
        (:func:`cellsde.inference.w2_search.debiased_tw2`), which removes most of the plain
        objective's bias towards too little noise; give ``n_paths`` >= 4 K (measured on the
        damped oscillator, K = 8: error 0.50 vs 0.74; K = 32: 0.35 vs 0.42).

    Returns
    -------
    xarray.Dataset
        ``theta``, ``theta_std``, ``theta_q05``, ``theta_q95``, ``theta_lo``, ``theta_hi``
        (interval at ``level``), ``theta_debiased`` (bootstrap bias-corrected estimate)
        (group, param), NaN without bootstrap;
        ``out_of_range``, ``at_bound`` (group, param) bool; ``tw2`` (group) with an
        independent stream; ``n_cells`` (group); ``cell_group`` (cell): each input cell's
        group, -1 if unused. ``param`` lists the model's unknown parameters only; the
        coordinates of its known covariates (e.g. ``dose``, ``ligand``) become group coords.
    """
    check_options(model, data, method=method, uncertainty=uncertainty, level=level,
                  amortizer=amortizer, amortizer_out=amortizer_out)  # fmt: skip
    if uncertainty == "parametric" and 0 < n_bootstrap < 100:
        warnings.warn(
            f"uncertainty='parametric' with n_bootstrap={n_bootstrap}: the intervals need >= 100 "
            "replicates to reach their coverage (20 covered 4 of 10 true values)",
            stacklevel=2,
        )
    data = match_units(data, model_units(model))  # minutes vs hours: converted or refused
    lo, hi = parameter_box(model, bounds)
    prep = prepare(model, data, n_params=lo.shape[0], group_size=group_size, n_bootstrap=n_bootstrap,
                   observables=observables, observed=observed, amortizer=amortizer, method=method,
                   initial_state=initial_state, n_paths=n_paths, dt=dt)  # fmt: skip
    check_memory(infer_estimate(model, prep.grouped, dt=prep.dt, n_paths=prep.n_paths,
                                n_starts=n_starts, method=method), device=model_device(model))  # fmt: skip
    gen = torch.Generator().manual_seed(seed)  # the resampling of cells
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        estimator = make_estimator(method, model, prep, lo, hi, seed=seed, n_starts=n_starts,
                                   iterations=iterations, debiased=debiased, amortizer=amortizer,
                                   amortizer_out=amortizer_out)  # fmt: skip
        theta = estimator(prep.data)
        spread = estimate_uncertainty(uncertainty, estimator, model, prep, theta, n_bootstrap=n_bootstrap,
                                      level=level, seed=seed, lo=lo, hi=hi, generator=gen)  # fmt: skip
        tw2 = achieved_tw2(model, prep, theta, seed=seed)
    settings = {"method": method, "seed": seed, "group_size": group_size or -1, "n_paths": prep.n_paths,
                "dt": prep.dt, "n_starts": n_starts, "iterations": iterations, "n_bootstrap": n_bootstrap,
                "uncertainty": uncertainty, "level": level, "debiased": debiased}  # fmt: skip
    return inference_result(data, prep, theta, spread, tw2, lo, hi, model, box=estimator.box(),
                            attrs=settings)  # fmt: skip
