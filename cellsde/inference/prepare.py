"""The first steps of :func:`cellsde.infer`: check the options, fix the parameter box, and turn
the data into the padded per-group tensors every estimator reads.

Only the model's unknown parameters (:attr:`~cellsde.nn.base.PopulationModel.unknown_params`)
are estimated. Its known covariates (:mod:`cellsde.nn.covariates`) are read from the data's
coordinates here and fixed: they fill the trailing columns of ``GroupedData.theta``, after
the placeholder zeros of the unknown ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import SPECIES, X
from cellsde.errors import CellsdeError
from cellsde.inference.amortized import Amortizer
from cellsde.inference.groups import assign_groups
from cellsde.inference.observables import derive_observables
from cellsde.nn.base import PopulationModel
from cellsde.nn.covariates import attach_covariates, covariate_columns
from cellsde.nn.training_data import GroupedData, group_tensors

METHODS = ("w2", "amortized")
UNCERTAINTIES = ("cells", "parametric")


def check_options(
    model: PopulationModel,
    data: xr.Dataset,
    *,
    method: str,
    uncertainty: str,
    level: float,
    amortizer: Amortizer | None,
    amortizer_out: object,
) -> None:
    """Reject inconsistent options before any work, with a message naming the fix."""
    if amortizer_out is not None and (method != "amortized" or amortizer is not None):
        raise CellsdeError(
            "amortizer_out saves a newly trained amortizer: use it with method='amortized' "
            "and without amortizer="
        )
    if method not in METHODS:
        raise CellsdeError(f"unknown inference method {method!r}; use one of {METHODS}")
    if uncertainty not in UNCERTAINTIES:
        raise CellsdeError(f"unknown uncertainty {uncertainty!r}; use one of {UNCERTAINTIES}")
    if not 0.0 < level < 1.0:
        raise CellsdeError(f"level must be in (0, 1) (e.g. 0.95), got {level}")
    if not isinstance(model, PopulationModel):
        raise TypeError(
            f"infer expects a fitted END-nSDE (PopulationModel), got {type(model).__name__}"
        )
    if X not in data:
        raise CellsdeError(f"the data have no variable {X!r}")
    if amortizer is not None:
        want = (model.unknown_params, covariate_columns(model.covariates))
        got = (amortizer.config.params, amortizer.config.covariates)
        if got != want:
            raise CellsdeError(
                f"the amortizer estimates {list(got[0])} given covariates {list(got[1])}, but the "
                f"model's unknown parameters are {list(want[0])} and its covariates "
                f"{list(want[1])}; train an amortizer for this model"
            )


def parameter_box(
    model: PopulationModel, bounds: Mapping[str, tuple[float, float]] | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The range of the unknown parameters, ``lo`` and ``hi`` of shape (param,): ``bounds`` or
    the training range."""
    names = model.unknown_params
    if not names:
        known = f" (it is conditioned only on known covariates {list(model.param_names)})"
        raise CellsdeError(
            f"the model has no unknown parameters to infer{known if model.param_names else ''}"
        )
    if bounds is not None:
        missing = [p for p in names if p not in bounds]
        if missing:
            raise CellsdeError(
                f"bounds lack parameters {missing}; give (lo, hi) for each of {list(names)}"
            )
        lo = torch.tensor([float(bounds[p][0]) for p in names])
        hi = torch.tensor([float(bounds[p][1]) for p in names])
    else:
        rng = model.theta_range()
        if rng is None:
            raise CellsdeError(
                "the model does not know its training range of theta; pass bounds={name: (lo, hi)}"
            )
        lo, hi = rng[0][: len(names)], rng[1][: len(names)]  # covariates are not searched
    if bool((hi < lo).any()) or not bool(torch.isfinite(lo).all() & torch.isfinite(hi).all()):
        raise CellsdeError(f"invalid bounds lo={lo.tolist()} hi={hi.tolist()}")
    return lo.float(), hi.float()


@dataclass(frozen=True)
class Prepared:
    """The data of :func:`cellsde.infer` ready for the estimators.

    Attributes
    ----------
    grouped : xarray.Dataset
        The cells that take part, with their group and any derived observables.
    assignment : numpy.ndarray of int, shape (cell,)
        Each input cell's group, -1 if unused.
    data : GroupedData
        Padded per-group tensors; ``theta`` (group, param + covariate): zero placeholders of
        the unknown parameters, then the group's known covariates.
    observed : tuple of str
        The data species (or observables) compared.
    n_cells : torch.Tensor of int, shape (group,)
        Cells per group.
    n_paths : int
        Simulated paths per group.
    dt : float
        Euler–Maruyama step, in the data's time units.
    """

    grouped: xr.Dataset
    assignment: np.ndarray
    data: GroupedData
    observed: tuple[str, ...]
    n_cells: torch.Tensor
    n_paths: int
    dt: float


def prepare(
    model: PopulationModel,
    data: xr.Dataset,
    *,
    n_params: int,
    group_size: int | None,
    n_bootstrap: int,
    observables: Mapping[str, Mapping[str, float]] | None,
    observed: Sequence[str] | None,
    amortizer: Amortizer | None,
    method: str,
    initial_state: np.ndarray | None,
    n_paths: int | None,
    dt: float | None,
) -> Prepared:
    """Group the cells, settle the observed species and build the tensors (see :func:`cellsde.infer`)."""
    grouped, assignment = assign_groups(
        data, group_size=group_size, min_cells=2 if n_bootstrap else 1
    )
    observables = dict(observables or {})
    if observed is None and amortizer is not None:
        observed = amortizer.config.observed
    if observed is not None:
        observed = tuple(str(s) for s in observed)
        bad = [s for s in observed if s not in model.species and s not in observables]
        if not observed or bad:
            raise CellsdeError(
                f"observed {bad or '()'} must be model species or declared observables; "
                f"model species: {list(model.species)}, observables: {list(observables)}"
            )
        grouped = derive_observables(grouped, observables, names=observed)
    data_species = [str(s) for s in grouped[SPECIES].values]
    if observed is None:
        observed = tuple(s for s in data_species if s in model.species or s in observables)
    if method == "amortized" and amortizer is not None and observed != amortizer.config.observed:
        raise CellsdeError(
            f"the amortizer reads {list(amortizer.config.observed)}, not {list(observed)}; "
            "pass observed= its species (with observables= recipes if the data lack them)"
        )
    if not observed:
        raise CellsdeError(
            f"none of the data's species {data_species} is a model species {list(model.species)} "
            "or a declared observable"
        )
    known = covariate_columns(model.covariates)
    if known:  # the covariates from the coordinates; other theta columns are not read
        grouped = attach_covariates(model.covariates, grouped)
    else:
        grouped = grouped.drop_vars("theta", errors="ignore")
    gd = group_tensors(grouped, species=model.species, params=known, observed=observed,
                       observables=observables, initial_state=initial_state)  # fmt: skip
    gd = replace(gd, theta=torch.cat([torch.zeros(gd.obs.shape[0], n_params), gd.theta], -1))
    n_cells = gd.mask.any(-1).sum(-1)
    if n_paths is None:
        # A multiple of the group size: equal-weight clouds of sizes n and k*n have an exact
        # assignment solution (fast); other sizes need the transport LP (much slower).
        k_max = int(n_cells.max())
        n_paths = k_max * max(1, math.ceil(64 / k_max))
    return Prepared(grouped=grouped, assignment=assignment, data=gd, observed=observed,
                    n_cells=n_cells, n_paths=int(n_paths),
                    dt=float(dt or _default_dt(model, gd.times)))  # fmt: skip


def _default_dt(model: PopulationModel, times: torch.Tensor) -> float:
    fit_cfg = json.loads(model.metadata.get("fit_config", "{}"))
    if "dt" in fit_cfg:
        return float(fit_cfg["dt"])
    if isinstance(model.metadata.get("dt"), (int, float)):  # checkpoints that record only dt
        return float(model.metadata["dt"])
    return float(times[1] - times[0]) / 20
