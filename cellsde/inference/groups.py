"""Which cells are inferred together: the data's groups, or consecutive chunks of K cells."""

from __future__ import annotations

import numpy as np
import xarray as xr

from cellsde.datasets.schema import CELL, GROUP
from cellsde.errors import CellsdeError


def assign_groups(
    ds: xr.Dataset, *, group_size: int | None, min_cells: int = 2
) -> tuple[xr.Dataset, np.ndarray]:
    """Return ``ds`` with a ``group`` coordinate for inference, and each cell's group index.

    Parameters
    ----------
    ds : xarray.Dataset
        Trajectories; an existing ``group`` coordinate is used when ``group_size`` is None.
    group_size : int or None
        Cut the cells, in the dataset's order, into consecutive groups of this many cells
        (within each existing group, if any). Cells left over at the end of a group (fewer
        than ``group_size``) are not inferred; their index is -1.
    min_cells : int
        Smallest group that can be inferred.

    Returns
    -------
    ds : xarray.Dataset
        The cells that are inferred, with ``group`` relabelled ``0..G-1`` in order.
    assignment : numpy.ndarray of int, shape (cell,)
        For every input cell, the index of its group, or -1 when it was left out.
    """
    if group_size is not None and group_size < min_cells:
        raise CellsdeError(f"group_size must be >= {min_cells}, got {group_size}")
    n = ds.sizes[CELL]
    if n == 0:
        raise CellsdeError("the dataset has no cells to infer from")
    labels = ds[GROUP].values if GROUP in ds.coords else np.zeros(n, dtype=int)
    assignment = np.full(n, -1, dtype=int)
    next_group = 0
    for label in dict.fromkeys(labels.tolist()):
        idx = np.flatnonzero(labels == label)
        if group_size is None:
            if len(idx) < min_cells:
                raise CellsdeError(
                    f"group {label!r} has {len(idx)} cell(s); inference needs at least {min_cells}"
                )
            assignment[idx] = next_group
            next_group += 1
            continue
        if group_size > len(idx):
            raise CellsdeError(
                f"group_size K={group_size} is larger than the {len(idx)} cells of group {label!r}; "
                f"choose K <= {len(idx)}"
            )
        for start in range(0, len(idx) - group_size + 1, group_size):
            assignment[idx[start : start + group_size]] = next_group
            next_group += 1
    keep = np.flatnonzero(assignment >= 0)
    out = ds.isel({CELL: keep}).assign_coords({GROUP: (CELL, assignment[keep])})
    return out, assignment
