"""``cellsde models``: list the registered models with species, parameters and heterogeneity."""

from __future__ import annotations

import argparse

from cellsde.errors import CellsdeError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "models",
        help="list models with their parameters",
        description="List registered models: kind, time units, species, parameters "
        "(default value, units) and declared heterogeneity.",
    )
    p.add_argument("names", nargs="*", metavar="MODEL",
                   help="only these models: registered names or SBML files (default: all)")  # fmt: skip
    p.set_defaults(func=run)


def describe(name: str) -> list[str]:
    """Lines describing the model ``name``: a registered name or an SBML file."""
    from cellsde.cli._model_spec import model_from_spec
    from cellsde.simulation.kinds import model_parameters

    model = model_from_spec(name)
    names, nominal, het = model_parameters(model)
    species, units = _species_units(model)
    lines = [
        f"{name}  ({type(model).__name__}, time in {model.time_units}, "
        f"{len(species)} species, {len(names)} parameters)",
        "  species: " + ", ".join(species),
        *_value_units(model),
        "  parameters:",
    ]
    for q in names:
        extra = f"   ~ {het[q]!r}" if q in het else ""
        lines.append(
            f"    {q} = {nominal.get(q, float('nan')):g} {units.get(q, '')}".rstrip() + extra
        )
    return lines


def _value_units(model) -> list[str]:
    """The units of a network's state, and what ssa/tau need to count molecules."""
    from models_bio.network import ReactionNetwork

    if not isinstance(model, ReactionNetwork):
        return []
    units = sorted({s.units or "not stated" for s in model.species})
    line = f"  state in: {', '.join(units)}"
    if model.system_size != 1.0:
        line += f" ({model.system_size:g} molecules per unit x volume for ssa/tau/cle)"
    return [line]


def _species_units(model) -> tuple[tuple[str, ...], dict[str, str]]:
    """(species or observables, parameter units) of a network, SDE or lattice model."""
    from models_bio.network import ReactionNetwork
    from models_bio.sde import SDEModel

    if isinstance(model, ReactionNetwork):
        return model.species_names, model.units
    if isinstance(model, SDEModel):
        return model.species, {p.name: p.units for p in model.parameters}
    return tuple(model.observables), dict(model.parameter_units)


def run(args: argparse.Namespace) -> int:
    import models_bio
    from cellsde.cli._model_spec import is_sbml_path

    names = args.names or list(models_bio.available())
    unknown = [n for n in names if n not in models_bio.available() and not is_sbml_path(n)]
    if unknown:
        raise CellsdeError(
            f"unknown model(s) {', '.join(unknown)}; available: {', '.join(models_bio.available())}"
        )
    for i, name in enumerate(names):
        if i:
            print()
        print("\n".join(describe(name)))
    return 0
