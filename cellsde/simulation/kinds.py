"""What a simulation needs to know of each kind of model, in one place.

Three kinds (the ``kind`` of :data:`cellsde.solvers.METHODS`): ``"network"`` (a
:class:`~models_bio.network.ReactionNetwork`), ``"sde"`` (an :class:`~models_bio.sde.SDEModel`
or any :class:`~models_bio.sde.SDEProtocol`, e.g. a fitted END-nSDE) and ``"lattice"`` (the RPA
:class:`~models_bio.rpa_dna.LatticeModel`). For each: its parameters and their nominal values,
new nominal values, the variables a run can report, and its time units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from models_bio.network import Parameter, ReactionNetwork
from models_bio.rpa_dna import OBSERVABLES as LATTICE_OBSERVABLES
from models_bio.rpa_dna import LatticeModel
from models_bio.sde import SDEModel, SDEProtocol


def resolve_model(model: Any) -> tuple[Any, str]:
    """``(model, kind)`` of a registered name or a model object.

    Raises
    ------
    KeyError
        For an unknown registered name (the message lists the available models).
    TypeError
        For an object of no known kind.
    """
    if isinstance(model, str):
        import models_bio

        model = models_bio.get(model)  # KeyError lists the available models
    if isinstance(model, ReactionNetwork):
        return model, "network"
    if isinstance(model, LatticeModel):
        return model, "lattice"
    if isinstance(model, SDEModel | SDEProtocol):
        return model, "sde"
    raise TypeError(
        "model must be a registered name, a ReactionNetwork, an SDEModel/SDEProtocol or a "
        f"LatticeModel; got {type(model).__name__}"
    )


def model_parameters(model: Any) -> tuple[tuple[str, ...], dict[str, float], Mapping[str, Any]]:
    """``(parameter names, nominal values, declared heterogeneity)`` of any cellsde model.

    Works for :class:`ReactionNetwork`, :class:`SDEModel`, ``LatticeModel``; another object
    satisfying :class:`~models_bio.sde.SDEProtocol` (a fitted END-nSDE) has no nominal values
    and no declared heterogeneity.
    """
    if isinstance(model, ReactionNetwork):
        return model.parameter_names, model.nominal, model.heterogeneity
    if isinstance(model, SDEModel):
        return model.param_names, model.nominal, model.heterogeneity
    if isinstance(model, LatticeModel):
        return tuple(model.parameter_names), dict(model.nominal), model.heterogeneity
    return tuple(model.param_names), {}, {}


def with_nominal(model: Any, kind: str, params: Mapping[str, float]) -> Any:
    """``model`` with new nominal values ``params`` (name -> value); unchanged when empty."""
    if not params:
        return model
    names, nominal, _ = model_parameters(model)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise KeyError(
            f"unknown parameter(s) {unknown} for model {getattr(model, 'name', '?')!r}; its "
            "parameters are " + ", ".join(names)
        )
    values = {k: float(v) for k, v in params.items()}
    bad = {k: v for k, v in values.items() if not np.isfinite(v)}
    if bad:
        raise ValueError(f"parameter values must be finite, got {bad}")
    if kind == "network":
        return model.with_parameters(**values)
    if kind == "lattice":
        return dataclasses.replace(model, nominal={**nominal, **values})
    if isinstance(model, SDEModel):
        new = tuple(
            Parameter(p.name, values.get(p.name, p.value), p.units, p.description)
            for p in model.parameters
        )
        return dataclasses.replace(model, parameters=new)
    raise CellsdeError("params= needs a model with nominal values; pass theta= instead")


def reportable(model: Any, kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(reported by default, all that may be asked for)`` as ``observables=`` of a model."""
    if kind == "network":
        return model.species_names, (*model.species_names, *model.observables)
    if kind == "lattice":
        return tuple(model.observed), LATTICE_OBSERVABLES
    return tuple(model.species), tuple(model.species)


def check_observables(model: Any, kind: str, observables: Sequence[str] | None) -> None:
    """Raise a KeyError naming the choices if ``observables`` asks for an unknown variable."""
    known = reportable(model, kind)[1]
    for name in observables or ():
        if name not in known:
            choices = ", ".join(known)
            if kind == "network":
                declared = ", ".join(model.observables) or "none declared"
                choices = f"species ({', '.join(model.species_names)}) or observables ({declared})"
            raise KeyError(f"unknown observable {name!r}; choose {choices}")


def time_units(model: Any, kind: str) -> str:
    """The model's time units; a bare SDEProtocol (a fitted network) declares none."""
    if kind == "sde" and not isinstance(model, SDEModel):
        return "dimensionless"
    return model.time_units


def value_units(model: Any, kind: str, reported: Sequence[str]) -> str | None:
    """The one unit of the ``reported`` variables (``x.attrs["units"]``), None when unknown.

    A network's species units (an observable takes its parts'), when they agree; the
    state of a dimensionless SDE model is dimensionless; anything else is not guessed.
    """
    if kind == "network":
        units = {s.name: s.units for s in model.species}
        found = set()
        for name in reported:
            parts = model.observables.get(name, {name: 1.0})
            found |= {units.get(part) or None for part in parts}
        return found.pop() if len(found) == 1 else None
    if kind == "sde" and time_units(model, kind) == "dimensionless":
        return "dimensionless"
    return None
