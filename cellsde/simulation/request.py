"""The request of a simulation: a frozen :class:`Population`, built and checked once at the door.

:func:`build_population` checks every argument of :func:`cellsde.simulate`, resolves the model
and the method (:data:`cellsde.solvers.METHODS`) and draws every cell's ``theta``. The result
is all that :func:`cellsde.simulation.run.run` needs. Plain, chunked and dask runs take the
same object; a chunk takes a slice of its cells (:meth:`Population.cells`) with its own seed,
so a population is the same cells whatever the chunking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cellsde.datasets.timegrid import check_times
from cellsde.errors import CellsdeError
from cellsde.nn.memory import check_memory, simulation_estimate
from cellsde.simulation.kinds import (
    check_observables,
    model_parameters,
    reportable,
    resolve_model,
    with_nominal,
)
from cellsde.simulation.molecules import counting_model
from cellsde.simulation.theta import explicit_theta, sample_theta
from cellsde.solvers.methods import choose_method
from models_bio.sde import SDEModel


@dataclass(frozen=True, eq=False)
class Population:
    """A checked simulation request: which cells to simulate, how, and with what randomness.

    Attributes
    ----------
    model : ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        The model, with ``params`` applied as its nominal values.
    kind : {"network", "sde", "lattice"}
        The model's kind (:mod:`cellsde.simulation.kinds`).
    method : str
        A key of :data:`cellsde.solvers.METHODS` that applies to ``kind``.
    times : ndarray, shape (time,)
        Strictly increasing output times in the model's time units; the run starts at
        ``times[0]``.
    theta : ndarray, shape (cell, param)
        Per-cell values of the parameters ``param_names`` (the others keep their nominal value).
    param_names : tuple of str, length param
        Column names of ``theta``, in the model's parameter order.
    group : ndarray of int, shape (cell,)
        Group (grid point or value set) of each cell.
    seed : int
        Seed of the solver's random numbers (``theta`` is already drawn).
    device : str
        Torch device of the methods that take one.
    dt : float or None
        Step of the fixed-step methods (cle, sde); as given for the others.
    x0 : ndarray, shape (species,) or (cell, species), or None
        Initial state of an SDE model; None: its declared one.
    observables : tuple of str or None
        Variables to report; None: the model's default (:attr:`species`).
    solver_options : dict
        Extra keyword arguments of the solver.
    provenance : dict
        How ``theta`` was asked for (``heterogeneity``, ``theta_given``, ``params``,
        ``cells_per_group``), recorded in the dataset's ``attrs["config"]``.
    """

    model: Any
    kind: str
    method: str
    times: np.ndarray
    theta: np.ndarray
    param_names: tuple[str, ...]
    group: np.ndarray
    seed: int
    device: str = "cpu"
    dt: float | None = None
    x0: np.ndarray | None = None
    observables: tuple[str, ...] | None = None
    solver_options: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(self.theta.shape[0])

    @property
    def species(self) -> tuple[str, ...]:
        """Names of the reported variables, the ``species`` of the dataset."""
        return self.observables or reportable(self.model, self.kind)[0]

    def cells(self, start: int, stop: int, *, seed: int) -> Population:
        """The cells ``start:stop`` of this population, simulated with ``seed``."""
        x0 = self.x0[start:stop] if self.x0 is not None and self.x0.ndim == 2 else self.x0
        return dataclasses.replace(
            self, theta=self.theta[start:stop], group=self.group[start:stop], x0=x0, seed=seed
        )

    def config(self) -> dict[str, Any]:
        """Every option of the request as JSON-ready values (``attrs["config"]``)."""
        return {
            "model": getattr(self.model, "name", type(self.model).__name__),
            "method": self.method, "n_cells": self.n_cells, "seed": self.seed,
            "device": str(self.device), "dt": self.dt, "times": self.times.tolist(),
            **self.provenance, "observables": list(self.species),
            "solver_options": {k: repr(v) for k, v in self.solver_options.items()},
        }  # fmt: skip


def build_population(
    model: Any, *, times: Any, n_cells: int | None = None, theta: Any = None,
    params: Mapping[str, float] | None = None, method: str | None = None, seed: int = 0,
    device: str = "cpu", dt: float | None = None, heterogeneity: Any = "default",
    cells_per_group: int | None = None, x0: Any = None, observables: Sequence[str] | None = None,
    solver_options: Mapping[str, Any] | None = None,
) -> Population:  # fmt: skip
    """Check the arguments of :func:`cellsde.simulate` and draw the per-cell parameters.

    The keywords, their defaults and meaning are those of :func:`cellsde.simulate` that say
    what to simulate (``progress``, ``client`` and ``chunk_cells`` say how to run it, and
    stay with the door).

    Returns
    -------
    Population
    """
    model, kind = resolve_model(model)
    times = check_times(times)
    chosen = choose_method(kind, method, model_label=type(model).__name__)
    for label, v in (("n_cells", n_cells), ("cells_per_group", cells_per_group)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{label} must be a positive int, got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    if n_cells is None and theta is None and cells_per_group is None:
        raise ValueError("give n_cells, cells_per_group or theta")
    model = with_nominal(model, kind, dict(params or {}))
    model = counting_model(model, kind, chosen.name)  # concentrations -> molecules, or refuse
    n_reported = len(observables or reportable(model, kind)[0])
    if n_cells is not None:  # before drawing theta for every cell
        _check_memory(int(n_cells), times.size, n_reported)
    theta = _covariate_theta(model, kind, theta)
    if theta is None:
        th, cols, group = sample_theta(
            model, n_cells=n_cells, seed=seed, heterogeneity=heterogeneity,
            cells_per_group=cells_per_group,
        )  # fmt: skip
    else:
        th, cols, group = explicit_theta(model, theta, n_cells, cells_per_group)
    if n_cells is None:
        _check_memory(th.shape[0], times.size, n_reported)
    if dt is None and "dt" in chosen.takes:
        dt = float(np.min(np.diff(times))) / 100 if times.size > 1 else 1.0
    check_observables(model, kind, observables)
    return Population(
        model=model, kind=kind, method=chosen.name, times=times, theta=th,
        param_names=tuple(cols), group=group, seed=int(seed), device=device, dt=dt,
        x0=_initial_state(model, kind, x0, th.shape[0], cols),
        observables=tuple(observables) if observables else None,
        solver_options=dict(solver_options or {}),
        provenance={
            "heterogeneity": heterogeneity if isinstance(heterogeneity, str) else
            {k: repr(v) for k, v in heterogeneity.items()},
            "theta_given": theta is not None,
            "params": {k: float(v) for k, v in (params or {}).items()},
            "cells_per_group": cells_per_group,
        },
    )  # fmt: skip


def _covariate_theta(model: Any, kind: str, theta: Any) -> Any:
    """``theta=`` with the raw values of a fitted model's known covariates encoded.

    ``{"omega": 0.1, "dose": 10.0, "ligand": "TNF"}`` -> the model's ``theta`` columns
    (:func:`cellsde.nn.covariates.encode_mapping`); other models and arrays pass unchanged.
    """
    if kind != "sde":
        return theta
    from cellsde.nn.base import PopulationModel
    from cellsde.nn.covariates import encode_mapping

    if not isinstance(model, PopulationModel) or not model.covariates:
        return theta
    if theta is None:
        names = ", ".join(repr(c.coord) for c in model.covariates)
        raise CellsdeError(
            f"the model is conditioned on the known covariates {names}; give their values in "
            f"theta=, e.g. theta={{{names.split(', ')[0]}: ...}}"
        )
    return encode_mapping(model.covariates, theta) if isinstance(theta, Mapping) else theta


def _initial_state(
    model: Any, kind: str, x0: Any, n: int, cols: Sequence[str]
) -> np.ndarray | None:
    """``x0`` checked against the model (SDE models only; the others declare theirs)."""
    if kind != "sde":
        if x0 is not None:
            raise CellsdeError(
                f"x0= sets the initial state of an SDE model; a {type(model).__name__} starts "
                "from its declared initial state (change it with params=/theta=)"
            )
        return None
    names, nominal, _ = model_parameters(model)
    missing = [q for q in names if q not in cols and q not in nominal]
    if missing:
        raise ValueError(f"parameter {missing[0]!r} has no nominal value; give it in theta=")
    if x0 is None:
        if not isinstance(model, SDEModel):
            raise ValueError("this SDE has no declared initial state; pass x0=")
        return None
    x0 = np.asarray(x0, dtype=float)
    k = len(model.species)
    if x0.shape != (k,) and x0.shape != (n, k):
        raise ValueError(
            f"x0 has shape {x0.shape}; expected (species,) = ({k},) or (cell, species) = ({n}, {k})"
        )
    return x0


def _check_memory(cells: int, times: int, species: int) -> None:
    """Refuse an output that would not fit in memory (:mod:`cellsde.nn.memory`)."""
    check_memory(simulation_estimate(
        cells=cells, times=times, species=species,
        fix="simulate fewer cells or output times (--save-every), or write a .zarr in chunks "
        "(simulate_to_zarr, --chunk-cells)",
    ))  # fmt: skip
