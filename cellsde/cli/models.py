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
    p.add_argument("names", nargs="*", help="only these models (default: all)")
    p.set_defaults(func=run)


def describe(name: str) -> list[str]:
    """Lines describing the registered model ``name``."""
    import models_bio
    from cellsde.simulation.kinds import model_parameters

    model = models_bio.get(name)
    names, nominal, het = model_parameters(model)
    species, units = _species_units(model)
    lines = [
        f"{name}  ({type(model).__name__}, time in {model.time_units}, "
        f"{len(species)} species, {len(names)} parameters)",
        "  species: " + ", ".join(species),
        "  parameters:",
    ]
    for q in names:
        extra = f"   ~ {het[q]!r}" if q in het else ""
        lines.append(
            f"    {q} = {nominal.get(q, float('nan')):g} {units.get(q, '')}".rstrip() + extra
        )
    return lines


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

    names = args.names or list(models_bio.available())
    unknown = [n for n in names if n not in models_bio.available()]
    if unknown:
        raise CellsdeError(
            f"unknown model(s) {', '.join(unknown)}; available: {', '.join(models_bio.available())}"
        )
    for i, name in enumerate(names):
        if i:
            print()
        print("\n".join(describe(name)))
    return 0
