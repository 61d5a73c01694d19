"""``calibrate``: estimate the population of a mechanistic model from lab time-lapse data."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from cellsde.calibration.conditions import conditions_from_data, measured_clouds
from cellsde.calibration.objective import Draws, Objective
from cellsde.calibration.optimize import HISTORY, history_table, search, search_cmaes
from cellsde.calibration.population import Population
from cellsde.calibration.result import population_dataset
from cellsde.calibration.simulator import TwoPhaseODE
from cellsde.calibration.spec import CalibrationConfig, FreeParameter, ObservationModel
from cellsde.calibration.stochastic import StochasticCells
from cellsde.calibration.uncertainty import one_step_bootstrap
from cellsde.datasets import schema as S
from cellsde.datasets import validate_dataset
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.nn.memory import calibration_estimate, check_memory
from cellsde.simulation.adapters import observable_weights
from models_bio.network import ReactionNetwork


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` returns.

    Attributes
    ----------
    population : xarray.Dataset
        The estimated population (:mod:`cellsde.calibration.result`); write it with
        :func:`cellsde.datasets.io.write_table`, read it with :func:`open_population`.
    history : xarray.Dataset
        Per iteration: ``start``, ``loss``, ``grad_norm``, ``lr``, ``wall_time`` (s).
    """

    population: xr.Dataset
    history: xr.Dataset


def _model(model: Any) -> tuple[ReactionNetwork, str, Any]:
    """(network, name, registry constructor or None) of a name, a network or an SBML path."""
    if isinstance(model, ReactionNetwork):
        return model, model.name, None
    if isinstance(model, str | os.PathLike) and str(model).lower().endswith((".xml", ".sbml")):
        from models_bio.sbml import read_sbml

        net = read_sbml(model)
        return net, net.name, None
    if isinstance(model, str):
        from models_bio.registry import constructor

        build = constructor(model)  # KeyError lists the registered models
        net = build()
        if not isinstance(net, ReactionNetwork):
            raise CellsdeError(f"calibrate needs a reaction network; {model!r} is not one")
        return net, model, build
    raise TypeError(
        f"model must be a registered name, a ReactionNetwork or an SBML path, got {type(model).__name__}"
    )


def _free(net: ReactionNetwork, free: Sequence[str | FreeParameter]) -> list[FreeParameter]:
    out = [f if isinstance(f, FreeParameter) else FreeParameter(str(f)) for f in free]
    if not out:
        raise CellsdeError("name at least one free parameter")
    names = [f.name for f in out]
    unknown = [n for n in names if n not in net.parameter_names]
    if unknown:
        raise CellsdeError(
            f"free parameter(s) {unknown} are not parameters of model {net.name!r}; its "
            f"parameters are {', '.join(net.parameter_names)}"
        )
    if len(set(names)) != len(names):
        raise CellsdeError(f"free parameters are named twice: {names}")
    resolved = []
    for f in out:
        par = net.parameter(f.name)
        if par.value <= 0:
            raise CellsdeError(
                f"free parameter {f.name!r} has nominal value {par.value}; it must be > 0"
            )
        declared = par.bounds if par.bounds is not None else (par.value / 10.0, par.value * 10.0)
        lo = f.lower if f.lower is not None else declared[0]
        hi = f.upper if f.upper is not None else declared[1]
        resolved.append(FreeParameter(f.name, lo, hi))  # re-validates lo < hi
    return resolved


def _fingerprint(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(
            p.tobytes()
            if isinstance(p, np.ndarray)
            else json.dumps(p, sort_keys=True, default=str).encode()
        )
    return h.hexdigest()[:16]


def calibrate(
    model: Any,
    data: xr.Dataset,
    *,
    free: Sequence[str | FreeParameter],
    observation: ObservationModel | None = None,
    conditions: Mapping[Any, Mapping[str, float]] | None = None,
    config: CalibrationConfig | None = None,
) -> Calibration:
    """Estimate the population distribution of a model's free parameters from lab data.

    Every cell draws its free parameters from a log-normal population (median, spread, and
    optionally correlations, :mod:`cellsde.calibration.population`); cells are brought to
    their basal steady state, stimulated at t = 0 with their condition's stimulus and
    integrated with a stiff solver (:mod:`cellsde.calibration.simulator`); the loss is the
    time-decoupled W2 between simulated and measured cells per condition and frame, the loss
    of :func:`cellsde.fit`; the search is multi-start Adam on exact gradients (discrete
    adjoint) or CMA-ES; intervals come from a one-step cell bootstrap
    (:mod:`cellsde.calibration.uncertainty`).

    Parameters
    ----------
    model : str, ReactionNetwork or path
        A registered model (conditions are then read from coords ``ligand``, ``dose``,
        ``dose_units`` through its constructor), a network, or an SBML file.
    data : xarray.Dataset
        Measured cells in the cellsde schema, time 0 = stimulus, in the model's time units.
    free : sequence of str or FreeParameter
        The parameters whose population is estimated (bounds default to the model's).
    observation : ObservationModel, optional
        Observable, measured species, scale/offset/noise (default: the data's species as a
        declared observable of the model, scale 1, offset 0, no noise).
    conditions : mapping, optional
        ``{group: {species: value}}`` when the data have no ligand/dose coords.
    config : CalibrationConfig, optional

    Returns
    -------
    Calibration

    Raises
    ------
    CellsdeError
        Unknown or duplicated free parameters, reversed bounds, a condition without cells,
        data and model in different time units, or a checkpoint of another problem.
    """
    config = config or CalibrationConfig()
    validate_dataset(data)
    net, name, build = _model(model)
    units = data[S.TIME].attrs.get(S.ATTR_UNITS)
    if units != net.time_units:
        raise ModelMismatchError(
            f"the data's time is in {units!r} but model {name!r} runs in {net.time_units!r}; "
            "convert the data's time coord first"
        )
    free_params = _free(net, free)
    species = [str(s) for s in data[S.SPECIES].values]
    if observation is None:
        if len(species) != 1:
            raise CellsdeError(f"the data have several species {species}; pass observation=")
        observation = ObservationModel(observable=species[0])
    measured_name = observation.measured or (species[0] if len(species) == 1 else None)
    if measured_name is None:
        raise CellsdeError("name the measured species: ObservationModel(measured=...)")
    conds, index = conditions_from_data(data, constructor=build, conditions=conditions)
    measured = measured_clouds(data, conds, index, measured_name)
    readout = observable_weights(net, observation.observable)
    cells = np.full(len(conds), config.cells) if config.cells else measured.cells
    clouds = 2 if config.debiased else 1
    if config.method == "ode":  # before any draw; the stochastic methods check in simulate
        check_memory(calibration_estimate(
            cells=np.asarray(cells) * clouds, measured=measured.cells, frames=measured.times.size,
            species=len(net.species_names), free=len(free_params)))  # fmt: skip

    def make_draws(seed: int) -> Draws:
        return Draws.make(np.asarray(cells) * clouds, len(free_params), measured.times.size,
                          seed, clouds=clouds)  # fmt: skip

    draws_ = make_draws(config.seed)
    stim_species = sorted({s for c in conds for s in c.stimulus})
    unknown = [s for s in stim_species if s not in net.species_names]
    if unknown:
        raise ModelMismatchError(f"stimulus species {unknown} are not species of {name!r}")
    stimulus = {
        s: np.array([conds[c].stimulus.get(s, 0.0) for c in draws_.condition]) for s in stim_species
    }
    names = [f.name for f in free_params]
    if config.method == "ode":
        engine = TwoPhaseODE(net, free=names, stimulus=stimulus, times=measured.times,
                             readout=readout, rtol=config.rtol, atol=config.atol)  # fmt: skip
    else:
        engine = StochasticCells(net, free=names, conditions=conds, condition=draws_.condition,
                                 times=measured.times, readout=readout, method=config.method,
                                 seed=config.seed)  # fmt: skip
    finite = measured.x[..., 0][measured.mask]
    population = Population(
        names=tuple(f.name for f in free_params),
        lower=np.array([f.lower for f in free_params]), upper=np.array([f.upper for f in free_params]),
        spread_max=config.spread_max, correlated=config.correlated, observed=observation.fitted,
        noise_scale=float(finite.std()) if finite.numel() > 1 else 1.0,
    )  # fmt: skip
    objective = Objective(population, observation, engine, measured, draws_,
                          reduce=config.reduce_conditions, skip_first=config.skip_first,
                          debiased=config.debiased, resample=make_draws)  # fmt: skip
    nominal = np.array([net.parameter(f.name).value for f in free_params])
    starts = population.starts(config.starts, nominal=np.clip(nominal, population.lower, population.upper),
                               seed=config.seed)  # fmt: skip
    fingerprint = _fingerprint(name, [f.__dict__ for f in free_params], observation.__dict__,
                               [(c.label, dict(c.stimulus)) for c in conds], measured.x.numpy(),
                               measured.mask.numpy(), json.loads(config.to_json()) | {"resume": None,
                               "progress": None, "checkpoint_path": None, "bootstrap": None})  # fmt: skip
    if config.optimizer == "cmaes":
        phi, state = search_cmaes(objective, starts[0], config, fingerprint)
    else:
        phi, state = search(objective, starts, config, fingerprint)
    searched = time.perf_counter()
    objective.draws = draws_  # the final loss and the intervals use the draws of the seed
    with torch.no_grad():
        loss, per_condition = objective(phi)
    boot = None
    if config.bootstrap:
        boot = one_step_bootstrap(objective, phi, replicates=config.bootstrap, seed=config.seed + 1)
    ds = population_dataset(
        model=name, population=population, spec=observation, phi=phi.numpy(),
        replicates=None if boot is None else boot.phi,
        eigenvalues=None if boot is None else boot.eigenvalues, level=config.level,
        conditions=conds, tw2=per_condition.numpy(), cells=measured.cells,
        time_units=net.time_units,
        attrs={"seed": config.seed, "config": config.to_json(), "loss": float(loss),
               "measured": measured_name, "free": json.dumps([f.__dict__ for f in free_params]),
               "data_fingerprint": fingerprint,
               # wall time of the search (kept across resumes) and of what followed it
               "wall_seconds": float(state.elapsed) + time.perf_counter() - searched},
    )  # fmt: skip
    table = history_table(state)
    history = xr.Dataset(
        {k: ("iteration", table[k]) for k in HISTORY if k != "iteration"},
        coords={"iteration": np.arange(table["loss"].size)},
        attrs={"units_loss": "squared measured units, summed over frames and conditions"},
    )
    return Calibration(population=ds, history=history)


def write_population(population: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write a population Dataset atomically (netCDF)."""
    from cellsde.datasets.io import write_table

    return write_table(population, path)
