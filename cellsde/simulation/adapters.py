"""How each kind of model meets its solvers: the solver's inputs from a :class:`Population`, and
the reported variables from the solver's output.

Networks: the per-cell parameter matrix, the initial state (for a model with a ``stimulus``,
each cell's steady state with the stimulus held at 0, then the stimulus set; rounded to whole
molecules for ssa/tau), and observables as weighted sums of species. SDE models: the full
parameter matrix and the initial state, in the dtype of a network's weights. Lattice models:
the per-cell rates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.simulation.kinds import model_parameters
from cellsde.solvers.methods import Method
from cellsde.solvers.rates import check_params
from models_bio.network import ReactionNetwork

if TYPE_CHECKING:
    from cellsde.simulation.request import Population


def _network_inputs(pop: Population, method: Method, progress: bool) -> dict[str, Any]:
    from cellsde.solvers.ode import POPULATION_METHODS, stimulated_start

    net, kin = pop.model, pop.model.kinetics
    if method.counts and not kin.stoichiometry_is_integer:
        raise CellsdeError(
            f"method {method.name!r} needs whole-number stoichiometry; model {net.name!r} has "
            "parameter-valued or fractional coefficients; use method='ode' or 'cle'"
        )
    columns = {q: pop.theta[:, j] for j, q in enumerate(pop.param_names)}
    p = check_params(net, kin.parameter_vector(columns, pop.n_cells))  # (cell, parameter)
    x0 = kin.initial_state(p)  # (cell, species)
    if net.stimulus:
        chosen = pop.solver_options.get("method")  # a population integrator: its Newton search
        phase1 = {"method": chosen} if chosen in POPULATION_METHODS else {}
        x0 = stimulated_start(net, x0=x0, params=p, progress=progress, **phase1)
    if method.counts:  # whole molecules (a steady state is not integer)
        scale = kin.count_scale()
        x0 = np.where(kin.boundary, x0, np.round(x0 * scale) / scale)  # molecules only
    return {"x0": x0, "params": p, "times": pop.times}


def _network_output(pop: Population, x: Any) -> np.ndarray:
    x = np.asarray(x)  # (cell, time, species)
    return x @ observable_matrix(pop.model, pop.observables) if pop.observables else x


def observable_weights(net: ReactionNetwork, recipe: str) -> np.ndarray:
    """Weights (species,) of a recipe ``"A+2*B"``: a weighted sum of species and observables.

    Raises
    ------
    ModelMismatchError
        A term names neither a species nor a declared observable, or a weight is not a number.
    """
    from cellsde.errors import ModelMismatchError

    w = np.zeros(len(net.species_names))
    for term in (t.strip() for t in recipe.split("+")):
        weight, _, name = term.rpartition("*") if "*" in term else ("1", "", term)
        name = name.strip()
        try:
            factor = float(weight)
        except ValueError:
            raise ModelMismatchError(
                f"observable {recipe!r}: weight {weight!r} is not a number"
            ) from None
        if name not in net.species_names and name not in net.observables:
            raise ModelMismatchError(
                f"observable {recipe!r} names {name!r}, which is neither a species nor a declared "
                f"observable of {net.name!r} (observables: {', '.join(net.observables) or 'none'})"
            )
        w += factor * observable_matrix(net, [name])[:, 0]
    return w


def observable_matrix(net: ReactionNetwork, observables: Sequence[str]) -> np.ndarray:
    """Weights (species, observable): a species, or a declared observable's weighted sum."""
    sp = net.species_names
    w = np.zeros((len(sp), len(observables)))
    for j, name in enumerate(observables):
        for s, c in net.observables.get(name, {name: 1.0}).items():
            w[sp.index(s), j] = c
    return w


def _sde_inputs(pop: Population, method: Method, progress: bool) -> dict[str, Any]:
    import torch

    names, nominal, _ = model_parameters(pop.model)
    full = np.empty((pop.n_cells, len(names)))  # (cell, param) in the model's order
    for j, q in enumerate(names):
        full[:, j] = pop.theta[:, pop.param_names.index(q)] if q in pop.param_names else nominal[q]
    species = tuple(pop.model.species)
    x0 = pop.model.initial if pop.x0 is None else pop.x0
    x0 = np.broadcast_to(np.asarray(x0, dtype=float), (pop.n_cells, len(species)))
    inputs = {"x0": x0, "theta": full, "times": pop.times}
    if "dtype" not in pop.solver_options:
        # Mechanistic SDEs run in float64; a network runs in the dtype of its weights.
        dtype = torch.float64
        if isinstance(pop.model, torch.nn.Module):
            weights = pop.model.state_dict().values()
            dtype = next(iter(weights), torch.zeros((), dtype=torch.float64)).dtype
        inputs["dtype"] = dtype
    return inputs


def _sde_output(pop: Population, x: Any) -> np.ndarray:
    x = x.detach().cpu().numpy()  # (cell, time, species)
    if pop.observables:
        species = tuple(pop.model.species)
        x = x[..., [species.index(o) for o in pop.observables]]
    return x


def _lattice_inputs(pop: Population, method: Method, progress: bool) -> dict[str, Any]:
    rates = {q: pop.theta[:, j] for j, q in enumerate(pop.param_names)}
    return {"times": pop.times, "n_cells": pop.n_cells, "rates": rates}


def _lattice_output(pop: Population, result: Any) -> np.ndarray:
    return result.x[..., [result.observables.index(o) for o in pop.species]]


Inputs = Callable[["Population", Method, bool], dict[str, Any]]
Output = Callable[["Population", Any], np.ndarray]

ADAPTERS: MappingProxyType[str, tuple[Inputs, Output]] = MappingProxyType(
    {
        "network": (_network_inputs, _network_output),
        "sde": (_sde_inputs, _sde_output),
        "lattice": (_lattice_inputs, _lattice_output),
    }
)
"""Model kind -> (solver inputs from a Population, reported variables from the solver's output)."""
