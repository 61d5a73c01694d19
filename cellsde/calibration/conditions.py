"""From a lab Dataset to calibration conditions and measured clouds.

A condition is what changes at t = 0 after every cell's basal steady state (a ligand at a
dose). Conditions come either from the dataset's coords ``ligand``, ``dose`` and
``dose_units`` (read by a registered model's constructor, e.g. Guo 2024's
``guo2024(ligand=, dose=, dose_units=)``, which converts the dose to the model's stimulus),
or from an explicit mapping ``{group: {species: value}}`` keyed by the coord ``group``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import xarray as xr

from cellsde.calibration.spec import Condition
from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError, ModelMismatchError

CONDITION_COORDS = ("ligand", "dose", "dose_units")


@dataclass(frozen=True)
class Measured:
    """The measured clouds of every condition, padded to the largest condition.

    Attributes
    ----------
    conditions : tuple of Condition
    x : torch.Tensor, shape (condition, time, cell, 1)
        Measured values (0 where padded or not observed).
    mask : torch.Tensor of bool, shape (condition, time, cell)
        True for a measured value.
    times : ndarray, shape (time,)
        In the data's time units.
    cells : ndarray of int, shape (condition,)
        Measured cells per condition.
    """

    conditions: tuple[Condition, ...]
    x: torch.Tensor
    mask: torch.Tensor
    times: np.ndarray
    cells: np.ndarray


def _labels(data: xr.Dataset) -> tuple[np.ndarray, list[tuple]]:
    """Per cell, the index of its condition, and each condition's key."""
    if all(c in data.coords for c in CONDITION_COORDS):
        keys = list(
            zip(
                [str(v) for v in data["ligand"].values],
                [float(v) for v in data["dose"].values],
                [str(v) for v in data["dose_units"].values],
                strict=True,
            )
        )
    elif S.GROUP in data.coords:
        keys = [(g,) for g in data[S.GROUP].values.tolist()]
    else:
        raise CellsdeError(
            "the data name no conditions: give coords 'ligand', 'dose' and 'dose_units', or a "
            "'group' coord with conditions={group: {species: value}}"
        )
    unique = list(dict.fromkeys(keys))
    index = np.array([unique.index(k) for k in keys], dtype=int)
    return index, unique


def conditions_from_data(
    data: xr.Dataset,
    *,
    constructor: Callable[..., object] | None,
    conditions: Mapping[object, Mapping[str, float]] | None = None,
) -> tuple[tuple[Condition, ...], np.ndarray]:
    """The conditions of ``data`` and the condition index of each of its cells.

    Parameters
    ----------
    data : xarray.Dataset
        Lab data in the cellsde schema.
    constructor : callable or None
        The registered model's constructor; with coords ligand/dose/dose_units it is called
        as ``constructor(ligand=, dose=, dose_units=)`` and the result's ``stimulus`` is used.
    conditions : mapping, optional
        ``{group: {species: value}}``: explicit stimuli per value of the coord ``group``
        (overrides the coords).

    Returns
    -------
    conditions : tuple of Condition
    index : ndarray of int, shape (cell,)
    """
    if conditions is not None:
        if S.GROUP not in data.coords:
            raise CellsdeError("conditions= is keyed by the coord 'group', which the data lack")
        index, keys = _labels(data.drop_vars([c for c in CONDITION_COORDS if c in data.coords]))
        present = {k[0] for k in keys}
        empty = [g for g in conditions if g not in present]
        if empty:
            raise CellsdeError(
                f"conditions= names group(s) {empty} that have no cells in the data; the data's "
                f"groups are {sorted(present, key=str)}"
            )
        missing = [k[0] for k in keys if k[0] not in conditions]
        if missing:
            raise CellsdeError(
                f"conditions= has no entry for group(s) {missing}; give one stimulus mapping "
                "per group"
            )
        return tuple(Condition(str(k[0]), conditions[k[0]]) for k in keys), index
    index, keys = _labels(data)
    if len(keys[0]) == 1:
        raise CellsdeError(
            "the data have groups but no coords 'ligand', 'dose', 'dose_units'; pass "
            "conditions={group: {species: value}} to say what each group received"
        )
    if constructor is None or not {"ligand", "dose", "dose_units"} <= set(
        inspect.signature(constructor).parameters
    ):
        raise CellsdeError(
            "the data name ligands and doses, but the model cannot convert them to a stimulus "
            "(it is not a registered model taking ligand=, dose=, dose_units=); pass "
            "conditions={group: {species: value}}"
        )
    out = []
    for ligand, dose, units in keys:
        try:
            net = constructor(ligand=ligand, dose=dose, dose_units=units)
        except ValueError as err:
            raise CellsdeError(f"condition {ligand} {dose:g} {units}: {err}") from None
        out.append(Condition(f"{ligand} {dose:g} {units}", dict(net.stimulus)))
    return tuple(out), index


def measured_clouds(
    data: xr.Dataset, conditions: tuple[Condition, ...], index: np.ndarray, species: str
) -> Measured:
    """Pad the measured values of ``species`` into (condition, time, cell) clouds.

    Raises
    ------
    ModelMismatchError
        ``species`` is not in the data.
    CellsdeError
        A condition has no measured value at all.
    """
    names = [str(s) for s in data[S.SPECIES].values]
    if species not in names:
        raise ModelMismatchError(
            f"the data have no species {species!r} (they have {names}); set "
            "ObservationModel(measured=...)"
        )
    values = data[S.X].sel({S.SPECIES: species}).values  # (cell, time)
    counts = np.bincount(index, minlength=len(conditions))
    n_time = values.shape[1]
    x = np.zeros((len(conditions), n_time, counts.max()))
    mask = np.zeros(x.shape, dtype=bool)
    for c in range(len(conditions)):
        rows = values[index == c].T  # (time, cell)
        ok = np.isfinite(rows)
        if not ok.any():
            raise CellsdeError(f"condition {conditions[c].label!r} has no measured value")
        x[c, :, : rows.shape[1]] = np.where(ok, rows, 0.0)
        mask[c, :, : rows.shape[1]] = ok
    return Measured(
        conditions=conditions,
        x=torch.as_tensor(x)[..., None],
        mask=torch.as_tensor(mask),
        times=np.asarray(data[S.TIME].values, dtype=float),
        cells=counts,
    )
