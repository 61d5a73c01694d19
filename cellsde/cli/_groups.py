"""``--valid-groups``: hold out whole groups of a dataset (shared by ``fit`` and ``compress``)."""

from __future__ import annotations

from typing import Any

from cellsde.errors import CellsdeError


def hold_out(ds: Any, groups: list[str], path: str) -> tuple[Any, Any]:
    """Split ``ds`` (read from ``path``) into (kept, held out) by the labels ``groups``.

    Labels are compared as strings, as typed on the command line.

    Raises
    ------
    CellsdeError
        ``ds`` has no ``group`` coordinate, a label is not a group of ``ds``, or every group
        would be held out.
    """
    import numpy as np

    from cellsde.datasets.schema import CELL, GROUP

    if GROUP not in ds.coords:
        raise CellsdeError(f"{path} has no 'group' coordinate; --valid-groups needs one")
    labels = np.asarray([str(g) for g in ds[GROUP].values])
    unknown = sorted(set(groups) - set(labels))
    if unknown:
        raise CellsdeError(
            f"--valid-groups {unknown} are not groups of {path}; groups: {sorted(set(labels))[:20]}"
        )
    held = np.isin(labels, groups)
    if held.all():
        raise CellsdeError("--valid-groups holds out every group; leave some for training")
    return ds.isel({CELL: np.flatnonzero(~held)}), ds.isel({CELL: np.flatnonzero(held)})
