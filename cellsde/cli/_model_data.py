"""What the verbs that put a fitted model next to data share (``infer``, ``evaluate``,
``figures --model``): the warning when the data hold another ligand or dose than the model
was fitted on, and parameters per group taken from an ``infer`` result."""

from __future__ import annotations

import warnings
from typing import Any

from cellsde.errors import CellsdeError


def warn_conditions(model: Any, data: Any) -> None:
    """One warning line when the data hold a ligand or dose the model was not fitted on."""
    from cellsde.datasets.conditions import compare_conditions, conditions

    text = compare_conditions(model.metadata.get("conditions") or {}, conditions(data))
    if text:
        warnings.warn(text, stacklevel=2)


def with_theta(data: Any, path: str | None, group_map: list[str]) -> Any:
    """``data`` with theta from the infer result ``path`` (unchanged without one)."""
    from cellsde.datasets.conditions import assign_theta, parse_group_map
    from cellsde.datasets.io import read_table

    if path is None:
        if group_map:
            raise CellsdeError("--group-map pairs the groups of --theta; give --theta too")
        return data
    return assign_theta(data, read_table(path), mapping=parse_group_map(group_map))


def add_theta_options(parser: Any) -> None:
    """``--theta RESULT.nc`` and ``--group-map RESULT=DATA``."""
    parser.add_argument("--theta", metavar="RESULT.nc",
                        help="theta per group from `cellsde infer` (for data without theta)")  # fmt: skip
    parser.add_argument("--group-map", nargs="+", default=[], metavar="RESULT=DATA",
                        help="pair --theta groups with data groups whose labels differ")  # fmt: skip
