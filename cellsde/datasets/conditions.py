"""Experimental conditions of cells: which ligand at which dose, and the group they make.

Lab and public data carry the stimulus per cell (coords ``ligand``, ``dose``, ``dose_units``,
:mod:`cellsde.datasets.schema`); ``cellsde simulate --ligand`` writes the same coords. Here:
selecting cells by condition (:func:`select`, the ``subset`` verb), naming a group's condition
(:func:`condition_text`, figure titles), the conditions a dataset holds (:func:`conditions`,
recorded with a fitted model) and pairing a model's groups with the data's (:func:`pair_groups`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError

__all__ = [
    "assign_theta",
    "compare_conditions",
    "condition_text",
    "conditions",
    "pair_groups",
    "parse_group_map",
    "parse_pairs",
    "parse_where",
    "select",
]

CONDITION_COORDS = (S.LIGAND, S.DOSE, S.DOSE_UNITS)


def parse_pairs(items: Sequence[str], *, option: str, example: str) -> dict[str, str]:
    """``["ligand=TNF", "dose=10"]`` -> ``{"ligand": "TNF", "dose": "10"}``, for ``--where``
    and ``--group-map``; a malformed item is one line naming ``option`` and an ``example``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CellsdeError(f"{option} {item!r}: write {example}")
        out[name.strip()] = value.strip()
    return out


def parse_where(items: Sequence[str]) -> dict[str, str]:
    """``--where`` items as ``{coord: value}``."""
    return parse_pairs(items, option="--where", example="COORD=VALUE, e.g. ligand=TNF dose=10")


def parse_group_map(items: Sequence[str]) -> dict[str, str]:
    """``--group-map`` items as ``{their group: data group}`` (``["0=TNF_10"]``)."""
    return parse_pairs(items, option="--group-map", example="THEIRS=DATA, e.g. 0=TNF_10")


def _matches(values: np.ndarray, wanted: str) -> np.ndarray:
    """Cells whose value equals ``wanted`` (or one of ``"a,b"``): numerically for numbers
    (1e-9 relative), else as text."""
    if "," in wanted:
        return np.logical_or.reduce([_matches(values, w.strip()) for w in wanted.split(",")])
    if np.issubdtype(values.dtype, np.number):
        try:
            target = float(wanted)
        except ValueError:
            return np.zeros(values.shape, dtype=bool)
        return np.isclose(values.astype(float), target, rtol=1e-9, atol=0.0)
    return np.char.lower(values.astype(str)) == wanted.lower()


def select(ds: xr.Dataset, where: Mapping[str, str], *, name: str = "the data") -> xr.Dataset:
    """The cells of ``ds`` whose per-cell coords equal every value of ``where``.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset with per-cell coords (``group``, ``ligand``, ``dose``, any ``--cell-coords``).
    where : mapping of str to str
        Coord name -> value as typed (numbers compare numerically, text case-insensitively;
        ``"3,7"`` keeps either).
    name : str
        Name of ``ds`` in messages.

    Raises
    ------
    CellsdeError
        An unknown coord (the per-cell coords are listed), or no cell matching (the values
        present are listed).
    """
    keep = np.ones(ds.sizes[S.CELL], dtype=bool)
    per_cell = [str(c) for c in ds.coords if ds[c].dims == (S.CELL,) and c != S.CELL]
    for coord, wanted in where.items():
        if coord not in per_cell:
            raise CellsdeError(
                f"{name} has no per-cell coord {coord!r}; it has {per_cell or 'none'}"
            )
        hit = _matches(np.asarray(ds[coord].values), wanted)
        if not (keep & hit).any():
            present = sorted({str(v) for v in np.asarray(ds[coord].values)[keep]})
            raise CellsdeError(
                f"no cell of {name} has {coord}={wanted}"
                f"{' together with the other conditions' if not keep.all() else ''}; "
                f"{coord} values: {', '.join(present[:15])}"
            )
        keep &= hit
    return ds.isel({S.CELL: np.flatnonzero(keep)})


def condition_text(ds: xr.Dataset, group: object = None) -> str | None:
    """``"TNF 10 ng/mL"`` when the cells (of ``group``) share one ligand and dose, else None."""
    cells = ds
    if group is not None and S.GROUP in ds.coords:
        cells = ds.isel({S.CELL: np.flatnonzero(np.asarray(ds[S.GROUP].values) == group)})
    parts = []
    for coord in CONDITION_COORDS:
        if coord not in cells.coords or cells.sizes[S.CELL] == 0:
            continue
        values = {str(v) for v in np.asarray(cells[coord].values)}
        if len(values) != 1:
            return None
        value = values.pop()
        parts.append(f"{float(value):g}" if coord == S.DOSE else value)
    return " ".join(parts) or None


def conditions(ds: xr.Dataset) -> dict[str, list]:
    """The distinct values of the condition coords present (``{"ligand": ["TNF"], ...}``)."""
    out: dict[str, list] = {}
    for coord in CONDITION_COORDS:
        if coord in ds.coords:
            out[coord] = np.unique(np.asarray(ds[coord].values)).tolist()
    return out


def pair_groups(
    model: xr.Dataset,
    data: xr.Dataset,
    *,
    by: Sequence[str] = (S.GROUP,),
    mapping: Mapping[str, str] | None = None,
) -> xr.Dataset:
    """``model`` with its ``group`` coord relabelled to the data's group of the same condition.

    Parameters
    ----------
    model, data : xarray.Dataset
        Simulated and measured cells.
    by : sequence of str
        Per-cell coords that must agree (default the group labels themselves, compared as
        text); e.g. ``("ligand", "dose")`` pairs a simulation at TNF 10 with the data's TNF 10
        group whatever the labels.
    mapping : mapping of str to str, optional
        Explicit ``{model group: data group}`` (as text); overrides ``by``.

    Returns
    -------
    xarray.Dataset
        The model's cells of paired groups only, ``group`` holding the data's labels.

    Raises
    ------
    CellsdeError
        No group pairs, a coord missing, or a mapping naming unknown groups.
    """
    if S.GROUP not in data.coords:
        return model
    d_labels = np.asarray(data[S.GROUP].values)
    d_text = {str(g): g for g in d_labels.tolist()}
    m_groups = (
        np.asarray(model[S.GROUP].values)
        if S.GROUP in model.coords
        else np.zeros(model.sizes[S.CELL], dtype=int)
    )
    m_text = np.asarray([str(g) for g in m_groups.tolist()])
    if mapping:
        unknown = sorted(set(mapping) - set(m_text)) + sorted(set(mapping.values()) - set(d_text))
        if unknown:
            raise CellsdeError(
                f"--group-map names groups {unknown} that are not in the model "
                f"({sorted(set(m_text))[:10]}) or the data ({sorted(d_text)[:10]})"
            )
        target = {m: d_text[d] for m, d in mapping.items()}
    else:
        for coord in by:
            for ds, who in ((model, "model"), (data, "data")):
                if coord != S.GROUP and coord not in ds.coords:
                    raise CellsdeError(f"the {who} cells have no {coord!r} coord to match by")
        target = {}
        for m in dict.fromkeys(m_text.tolist()):
            key = _key(model, m_text == m, by, m)
            hits = [g for g in d_text if _key(data, d_labels.astype(str) == g, by, g) == key]
            if len(hits) == 1:
                target[m] = d_text[hits[0]]
    keep = np.isin(m_text, list(target))
    if not keep.any():
        raise CellsdeError(
            f"no group of the model matches a group of the data by {', '.join(by)} (model "
            f"groups {sorted(set(m_text))[:8]}, data groups {sorted(d_text)[:8]}); pass "
            "--group-map MODEL=DATA ... or --match-by ligand dose"
        )
    out = model.isel({S.CELL: np.flatnonzero(keep)})
    labels = np.asarray([target[m] for m in m_text[keep]])
    return out.assign_coords({S.GROUP: (S.CELL, labels)})


def _key(ds: xr.Dataset, cells: np.ndarray, by: Sequence[str], label: str) -> tuple:
    """The values of ``by`` shared by ``cells`` (None for a coord that varies among them)."""
    key = []
    for coord in by:
        if coord == S.GROUP:
            key.append(label)
            continue
        values = {str(v) for v in np.asarray(ds[coord].values)[cells]}
        if coord == S.DOSE and len(values) == 1:
            values = {f"{float(values.pop()):.9g}"}
        key.append(values.pop() if len(values) == 1 else None)
    return tuple(key)


def compare_conditions(
    recorded: Mapping[str, Sequence], found: Mapping[str, Sequence]
) -> str | None:
    """A sentence when data hold conditions a model was not fitted on, else None.

    ``recorded``: :func:`conditions` of the training data (``metadata["conditions"]`` of a
    model written by ``cellsde fit``); ``found``: those of the data at hand.
    """
    differ = []
    for coord in CONDITION_COORDS:
        if coord in recorded and coord in found:
            new = sorted({str(v) for v in found[coord]} - {str(v) for v in recorded[coord]})
            if new:
                was = ", ".join(str(v) for v in recorded[coord])
                differ.append(f"{coord} {', '.join(new)} (the model was fitted on {was})")
    if not differ:
        return None
    return "the data hold " + "; ".join(differ) + "; its dynamics may not carry over"


def assign_theta(
    data: xr.Dataset, result: xr.Dataset, *, mapping: Mapping[str, str] | None = None
) -> xr.Dataset:
    """``data`` with ``theta`` (cell, param) taken from an inference result, group by group.

    Parameters
    ----------
    data : xarray.Dataset
        Trajectories with a ``group`` coord (their own ``theta``, if any, is replaced).
    result : xarray.Dataset
        What :func:`cellsde.infer` returns: ``theta`` (group, param), labelled by
        ``source_group`` (the data's labels) when present, else by ``group``.
    mapping : mapping of str to str, optional
        ``{result group: data group}`` as text, when the labels differ.

    Returns
    -------
    xarray.Dataset
        The cells of the data groups that have an estimate.

    Raises
    ------
    CellsdeError
        ``result`` is not an inference result, the data have no groups, or no group pairs.
    """
    if S.THETA not in result or "group" not in result[S.THETA].dims:
        raise CellsdeError("--theta must be a result of `cellsde infer` (theta per group)")
    if S.GROUP not in data.coords:
        raise CellsdeError("the data have no group coord to pair with the --theta groups")
    rows = (
        result["source_group"].values if "source_group" in result.coords else result["group"].values
    )
    rows = [str(r) for r in rows.tolist()]
    if mapping:
        unknown = sorted(set(mapping) - set(rows))
        if unknown:
            raise CellsdeError(f"--group-map names {unknown}, not groups of --theta ({rows[:10]})")
    to_row = {(mapping or {}).get(r, r): k for k, r in enumerate(rows)}
    labels = [str(g) for g in np.asarray(data[S.GROUP].values).tolist()]
    keep = np.asarray([g in to_row for g in labels])
    if not keep.any():
        raise CellsdeError(
            f"no data group has an estimate in --theta (its groups: {rows[:10]}; the data's: "
            f"{sorted(set(labels))[:10]}); pass --group-map RESULT=DATA"
        )
    index = np.asarray([to_row[g] for g, k in zip(labels, keep) if k])
    theta = np.asarray(result[S.THETA].values, dtype=float)[index]  # (cell, param)
    out = data.drop_vars(S.THETA, errors="ignore").isel({S.CELL: np.flatnonzero(keep)})
    params = [str(p) for p in result[S.PARAM].values]
    return out.assign({S.THETA: (S.THETA_DIMS, theta)}).assign_coords({S.PARAM: params})
