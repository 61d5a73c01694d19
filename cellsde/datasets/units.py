"""Units of time and of measured values: one table, the conversions, and the boundary check.

Every verb that puts a model next to data (``fit``, ``infer``, ``evaluate``, ``figures
--model``, ``calibrate``) calls :func:`match_units` first: times in another physical unit are
converted to the model's (minutes of data against a model trained in hours are divided by
60), values in another molar unit are rescaled, and anything that cannot be converted
(dimensionless against hours, ``a.u.`` against ``µM``) is refused with one line naming both
units and the fix. Nothing is assumed: a side that records no units is reported by name.

Value units are free text, but common spellings are made canonical (``uM``, ``μM`` and
``microM`` are ``µM``; ``molecule`` and ``count`` are ``molecules``; ``AU`` is ``a.u.``), so
that the model's ``uM`` and the data's ``µM`` compare equal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError, ModelMismatchError

__all__ = [
    "MOLAR",
    "TIME_SECONDS",
    "VALUE_UNITS",
    "canonical_units",
    "check_time_units",
    "match_units",
    "model_units",
    "time_factor",
    "to_time_units",
    "to_value_units",
    "value_factor",
    "value_units",
]

log = logging.getLogger("cellsde")

DIMENSIONLESS = "dimensionless"
# Seconds per unit of each physical time unit of the schema (S.TIME_UNITS).
TIME_SECONDS = MappingProxyType({"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0})
# Moles per litre per unit of each concentration unit.
MOLAR = MappingProxyType({"M": 1.0, "mM": 1e-3, "µM": 1e-6, "nM": 1e-9, "pM": 1e-12})
# Value units the lab import names in its help (any other text is kept as given).
VALUE_UNITS = ("a.u.", "molecules", "µM", "nM", "mM", "M", "pM", DIMENSIONLESS)
_SPELLINGS = {
    "um": "µM", "microm": "µM", "micromolar": "µM", "umol/l": "µM",
    "nm": "nM", "nanomolar": "nM", "nmol/l": "nM", "mm": "mM", "millimolar": "mM",
    "molar": "M", "mol/l": "M", "pm": "pM", "picomolar": "pM",
    "molecule": "molecules", "molecules": "molecules", "count": "molecules",
    "counts": "molecules", "copies": "molecules", "number": "molecules",
    "a.u.": "a.u.", "a.u": "a.u.", "au": "a.u.", "arbitrary": "a.u.", "arbitrary units": "a.u.",
    "dimensionless": DIMENSIONLESS, "1": DIMENSIONLESS,
}  # fmt: skip


def canonical_units(text: object) -> str | None:
    """The canonical spelling of a value unit (``"uM"`` -> ``"µM"``); None for no units.

    Unknown units are returned stripped, unchanged (``"ng/mL"`` stays ``"ng/mL"``).
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw or raw.lower() in ("concentration", "amount", "none", "unknown"):
        return None  # placeholders written when a file did not say
    if raw in MOLAR:
        return raw
    return _SPELLINGS.get(raw.lower().replace("μ", "u").replace("µ", "u"), raw)


def time_factor(source: str, target: str) -> float:
    """Factor that turns times in ``source`` units into ``target`` units (``"min"``, ``"h"`` -> 1/60).

    Raises
    ------
    ModelMismatchError
        One of the two is ``"dimensionless"`` (or unknown) and they differ.
    """
    if source == target:
        return 1.0
    if source in TIME_SECONDS and target in TIME_SECONDS:
        return TIME_SECONDS[source] / TIME_SECONDS[target]
    raise ModelMismatchError(
        f"time units {source!r} cannot be converted to {target!r}; only {tuple(TIME_SECONDS)} "
        "convert into one another"
    )


def value_factor(source: object, target: object) -> float | None:
    """Factor from values in ``source`` units to ``target`` units; None when they do not convert.

    Equal canonical units give 1; two molar units give their ratio (``"nM"`` -> ``"µM"``: 1e-3).
    """
    a, b = canonical_units(source), canonical_units(target)
    if a == b:
        return 1.0
    if a in MOLAR and b in MOLAR:
        return MOLAR[a] / MOLAR[b]
    return None


def value_units(ds: xr.Dataset) -> str | None:
    """The canonical units of ``x`` (``x.attrs["units"]``), None when the file records none."""
    return canonical_units(ds[S.X].attrs.get(S.ATTR_UNITS)) if S.X in ds else None


def to_time_units(
    ds: xr.Dataset, units: str, *, what: str = "data", whose: str = "the model"
) -> xr.Dataset:
    """``ds`` with its time coordinate expressed in ``units`` (the same object when it already is).

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset whose coord ``time`` carries ``attrs["units"]``.
    units : str
        Target time units, one of :data:`cellsde.datasets.schema.TIME_UNITS`.
    what, whose : str
        Names of ``ds`` and of the side whose units are the target, in messages.

    Raises
    ------
    ModelMismatchError
        The units do not convert (dimensionless against physical time).
    """
    have = ds[S.TIME].attrs.get(S.ATTR_UNITS)
    if have == units:
        return ds
    if have is None:
        raise ModelMismatchError(f"the {what} record no time units; {whose}'s are {units!r}")
    try:
        factor = time_factor(str(have), units)
    except ModelMismatchError:
        raise ModelMismatchError(
            f"time units differ: the {what} are in {have!r}, {whose} in {units!r}, and "
            f"{DIMENSIONLESS!r} does not convert; give the {what} the model's time units "
            f"(import-csv --time-units) or fit a model on data in {have!r}"
        ) from None
    time = xr.DataArray(
        ds[S.TIME].values * factor, dims=S.TIME, attrs={**ds[S.TIME].attrs, S.ATTR_UNITS: units}
    )
    out = ds.assign_coords({S.TIME: time})
    out.attrs[S.ATTR_TIME_UNITS] = units
    log.info("converted the %s's times from %s to %s (x %.6g)", what, have, units, factor)
    return out


def to_value_units(
    ds: xr.Dataset, units: str, *, what: str = "data", whose: str = "the model"
) -> xr.Dataset:
    """``ds`` with ``x`` expressed in ``units`` (the same object when it already is).

    Raises
    ------
    ModelMismatchError
        ``x`` records other units that do not convert (e.g. ``a.u.`` against ``µM``).
    """
    have = value_units(ds)
    target = canonical_units(units)
    if have == target or have is None or target is None:
        return ds
    factor = value_factor(have, target)
    if factor is None:
        raise ModelMismatchError(
            f"value units differ: the {what} are in {have!r}, {whose} in {target!r}, and they "
            f"do not convert; re-import the {what} with --value-units {target!r} if they are "
            "on the model's scale, or fit a model on them"
        )
    x = ds[S.X] * factor
    x.attrs = {**ds[S.X].attrs, S.ATTR_UNITS: target}
    log.info("converted the %s's values from %s to %s (x %.6g)", what, have, target, factor)
    return ds.assign({S.X: x})


def match_units(
    data: xr.Dataset,
    model_units: Mapping[str, str | None],
    *,
    what: str = "data",
    whose: str = "the model",
) -> xr.Dataset:
    """``data`` converted to the model's time and value units, or a one-line refusal.

    Parameters
    ----------
    data : xarray.Dataset
        cellsde dataset (``x``, coord ``time`` with units).
    model_units : mapping
        ``{"time": ..., "values": ...}`` as recorded with the model (a missing or None entry
        is not checked; see :func:`model_units`).
    what, whose : str
        Names of ``data`` and of the side whose units are the target, in messages.

    Returns
    -------
    xarray.Dataset
        ``data`` itself when nothing needed converting.

    Raises
    ------
    ModelMismatchError
        Units that do not convert.
    """
    time = model_units.get("time")
    if time is not None:
        data = to_time_units(data, str(time), what=what, whose=whose)
    values = model_units.get("values")
    if values is not None:
        data = to_value_units(data, str(values), what=what, whose=whose)
    return data


def model_units(model: object) -> dict[str, str | None]:
    """``{"time", "values"}`` units a fitted population model records (None where it does not).

    An object that is not a :class:`~cellsde.nn.base.PopulationModel` gives ``{}``. Read from
    the model's config (``to_dict()``: ``time_units``, ``species_units``) and from
    ``metadata["units"]`` written by ``cellsde fit``.
    """
    from cellsde.nn.base import PopulationModel  # torch: only when a model is at hand

    if not isinstance(model, PopulationModel):
        return {}  # the verb's own type check names the problem
    config = model.config.to_dict()  # type: ignore[attr-defined]  # PopulationModel contract
    meta = dict(model.metadata.get("units") or {})
    species_units = {canonical_units(u) for u in config.get("species_units") or ()} - {None}
    values = meta.get("values") or (species_units.pop() if len(species_units) == 1 else None)
    return {"time": meta.get("time") or config.get("time_units"), "values": values}


def check_time_units(units: object, *, option: str = "time_units") -> str:
    """``units`` if it is one of the schema's time units, else a one-line error listing them."""
    if units not in S.TIME_UNITS:
        raise CellsdeError(
            f"{option} must be one of {', '.join(S.TIME_UNITS)}; got {units!r} (say what the "
            "file's times are in: nothing is assumed)"
        )
    return str(units)
