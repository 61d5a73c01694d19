"""``--observable NAME=A+B`` and ``--initial-state FILE``: how model species meet data species.

Shared by ``simulate`` (add the sums to the file), ``infer``, ``evaluate`` and ``figures
--model`` (compare the model through them), so the same text means the same thing everywhere.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from cellsde.errors import CellsdeError

OBSERVABLE_HELP = (
    "a data species formed as a sum of model species, e.g. nfkb_nuclear=NFkBn+IkBaNFkBn "
    "(weights as 2*A+B); repeatable"
)
INITIAL_STATE_HELP = (
    "dataset (.nc/.zarr) whose first time gives the initial states of every model species "
    "(for data that do not measure them all, e.g. a simulation of the mechanistic model)"
)


def add_options(parser: argparse.ArgumentParser, *, initial_state: bool = True) -> None:
    """Add ``--observable`` (and ``--initial-state``) to a verb's parser."""
    parser.add_argument("--observable", action="append", default=[], metavar="NAME=A+B",
                        help=OBSERVABLE_HELP)  # fmt: skip
    if initial_state:
        parser.add_argument("--initial-state", metavar="FILE", help=INITIAL_STATE_HELP)


def parse_observable(text: str) -> tuple[str, dict[str, float]]:
    """``"name=A+2*B"`` -> ``("name", {"A": 1.0, "B": 2.0})``.

    Raises
    ------
    CellsdeError
        No ``=``, an empty name or term, or a weight that is not a number.
    """
    name, sep, rhs = text.partition("=")
    terms = [t.strip() for t in rhs.split("+")]
    if not sep or not name.strip() or not all(terms):
        raise CellsdeError(
            f"--observable {text!r}: write NAME=SPECIES+SPECIES (e.g. n=NFkBn+IkBaNFkBn)"
        )
    recipe: dict[str, float] = {}
    for term in terms:
        weight, _, species = term.rpartition("*") if "*" in term else ("1", "", term)
        try:
            recipe[species.strip()] = recipe.get(species.strip(), 0.0) + float(weight)
        except ValueError:
            raise CellsdeError(
                f"--observable {text!r}: weight {weight!r} is not a number"
            ) from None
    return name.strip(), recipe


def parse_observables(items: Sequence[str]) -> dict[str, dict[str, float]]:
    """Every ``--observable`` as ``{name: {species: weight}}``; a repeated name is an error."""
    out: dict[str, dict[str, float]] = {}
    for text in items:
        name, recipe = parse_observable(text)
        if name in out:
            raise CellsdeError(f"--observable {name!r} is given twice")
        out[name] = recipe
    return out


def check_parts(
    recipes: dict[str, dict[str, float]], species: Sequence[str], *, whose: str
) -> None:
    """Raise one line when a recipe names a species that ``whose`` does not have."""
    have = [str(s) for s in species]
    for name, recipe in recipes.items():
        missing = [s for s in recipe if s not in have]
        if missing:
            shown = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
            raise CellsdeError(
                f"--observable {name}: {missing} are not species of {whose} ({shown})"
            )


def initial_state(path: str | None, species: Sequence[str]) -> Any:
    """Rows of the first time of ``path`` with every species in ``species`` observed.

    Returns
    -------
    numpy.ndarray, shape (n, species), or None without ``path``

    Raises
    ------
    CellsdeError
        The file lacks some of ``species`` or has no fully observed row.
    """
    if path is None:
        return None
    import numpy as np

    from cellsde.datasets import open_dataset

    start = open_dataset(path)
    have = [str(s) for s in start["species"].values]
    missing = [s for s in species if s not in have]
    if missing:
        raise CellsdeError(
            f"--initial-state {path!r} lacks model species {missing[:5]}"
            f"{'...' if len(missing) > 5 else ''}"
        )
    x0 = start["x"].isel(time=0).sel(species=list(species)).values  # (cell, species)
    x0 = x0[np.isfinite(x0).all(-1)]
    if x0.shape[0] == 0:
        raise CellsdeError(f"--initial-state {path!r}: no cell has every species at its first time")
    return x0
