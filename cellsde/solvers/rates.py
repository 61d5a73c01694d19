"""The one check of a reaction network's per-cell parameter matrix.

Every network method meets the same matrix (``Kinetics.parameter_vector``), so the same rule
applies whoever builds it: all values finite, and every mass-action rate constant >= 0 (a
negative rate constant would make a propensity negative, which no method can simulate).
"""

from __future__ import annotations

import numpy as np

from cellsde.errors import CellsdeError
from models_bio.network import ReactionNetwork


def check_params(network: ReactionNetwork, params: np.ndarray) -> np.ndarray:
    """Check a per-cell parameter matrix of ``network`` and return it.

    Parameters
    ----------
    network : ReactionNetwork
        Gives the parameter order and which reactions are mass action.
    params : numpy.ndarray, shape (cell, parameter)
        Full per-cell parameter matrix, in ``network.parameter_names`` order.

    Returns
    -------
    numpy.ndarray, shape (cell, parameter)
        ``params`` unchanged.

    Raises
    ------
    CellsdeError
        If a value is NaN or infinite, or a mass-action rate constant is negative in some
        cell; the message names the parameter and the cell.
    """
    names = network.parameter_names
    if not np.all(np.isfinite(params)):
        c, j = (int(v) for v in np.argwhere(~np.isfinite(params))[0])
        raise CellsdeError(
            f"per-cell parameters must be finite; {names[j]!r} is {params[c, j]} in cell {c}"
        )
    for r in network.reactions:
        if r.mass_action:
            col = params[:, names.index(r.rate)]
            if np.any(col < 0):
                raise CellsdeError(
                    f"rate constant {r.rate!r} of reaction {r.name!r} is negative in "
                    f"{int(np.sum(col < 0))} cell(s) (first: cell {int(np.argmax(col < 0))}, "
                    f"min {col.min():.3g}); rate constants must be >= 0"
                )
    return params
