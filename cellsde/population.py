"""Resolve what :func:`cellsde.simulate` is asked for: the model, its method and every cell's theta.

Shared by the plain and the chunked (:mod:`cellsde.distributed`) runs, so a population is the
same cells whatever the chunking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.heterogeneity import _lattice_type, model_parameters, sample_theta
from models_bio.network import Parameter, ReactionNetwork
from models_bio.sde import SDEModel, SDEProtocol

METHODS = ("ode", "ssa", "tau", "cle", "sde", "lattice-ssa")
_BY_KIND = {
    "network": ("ode", "ssa", "tau", "cle"),
    "sde": ("sde",),
    "lattice": ("lattice-ssa",),
}


def _resolve_model(model: Any) -> tuple[Any, str]:
    if isinstance(model, str):
        import models_bio

        model = models_bio.get(model)  # KeyError lists the available models
    if isinstance(model, ReactionNetwork):
        return model, "network"
    lattice = _lattice_type()
    if lattice is not None and isinstance(model, lattice):
        return model, "lattice"
    if isinstance(model, SDEModel) or isinstance(model, SDEProtocol):
        return model, "sde"
    raise TypeError(
        "model must be a registered name, a ReactionNetwork, an SDEModel/SDEProtocol or a "
        f"LatticeModel; got {type(model).__name__}"
    )


def _with_nominal(model: Any, kind: str, params: Mapping[str, float]) -> Any:
    if not params:
        return model
    names, nominal, _ = model_parameters(model)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise KeyError(
            f"unknown parameter(s) {unknown} for model {getattr(model, 'name', '?')!r}; its "
            "parameters are " + ", ".join(names)
        )
    values = {k: float(v) for k, v in params.items()}
    bad = {k: v for k, v in values.items() if not np.isfinite(v)}
    if bad:
        raise ValueError(f"parameter values must be finite, got {bad}")
    if kind == "network":
        return model.with_parameters(**values)
    if kind == "lattice":
        return dataclasses.replace(model, nominal={**nominal, **values})
    if isinstance(model, SDEModel):
        new = tuple(
            Parameter(p.name, values.get(p.name, p.value), p.units, p.description)
            for p in model.parameters
        )
        return dataclasses.replace(model, parameters=new)
    raise CellsdeError("params= needs a model with nominal values; pass theta= instead")


def _check_times(times: Any) -> np.ndarray:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size < 1:
        raise ValueError(f"times must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite (found NaN or inf)")
    if np.any(np.diff(t) <= 0):
        i = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise ValueError(
            f"times must be strictly increasing; times[{i}] = {t[i]} >= times[{i + 1}] = {t[i + 1]}"
        )
    return t


def _explicit_theta(model, theta, n_cells, cells_per_group):
    """(theta (cell, param), names, group) from a user-given array or mapping."""
    names, _, declared = model_parameters(model)
    if isinstance(theta, Mapping):
        unknown = sorted(set(theta) - set(names))
        if unknown:
            raise KeyError(
                f"theta names unknown parameter(s) {unknown}; known: " + ", ".join(names)
            )
        cols = [q for q in names if q in theta]
        arrays = [np.atleast_1d(np.asarray(theta[q], dtype=float)) for q in cols]
        lengths = {a.size for a in arrays if a.size > 1}
        if len(lengths) > 1:
            raise ValueError(f"theta values have different lengths {sorted(lengths)}")
        m = lengths.pop() if lengths else 1
        group = np.zeros(m, dtype=int)
        if cells_per_group is not None:  # values per group
            group = np.repeat(np.arange(m), int(cells_per_group))
            arrays = [np.broadcast_to(a, (m,))[group] for a in arrays]
            m = group.size
        elif m == 1 and n_cells is not None:
            m, group = int(n_cells), np.zeros(int(n_cells), dtype=int)
        values = np.stack([np.broadcast_to(a, (m,)) for a in arrays], 1) if cols else None
        values = values if values is not None else np.empty((m, 0))
        return values.astype(float), tuple(cols), group
    values = np.asarray(theta, dtype=float)
    het = tuple(q for q in names if q in declared)
    if values.ndim != 2 or values.shape[1] not in (len(het), len(names)):
        raise ValueError(
            f"theta array has shape {values.shape}; expected (cell, {len(het)}) for the "
            f"heterogeneous parameters {het} or (cell, {len(names)}) for all parameters; or "
            "pass a mapping name -> values"
        )
    cols = het if values.shape[1] == len(het) else names
    return values, tuple(cols), np.zeros(values.shape[0], dtype=int)


def resolve_population(
    model: Any,
    *,
    times: Any,
    n_cells: int | None,
    theta: Any,
    params: Mapping[str, float] | None,
    method: str | None,
    seed: int,
    heterogeneity: Any,
    cells_per_group: int | None,
) -> tuple[Any, str, np.ndarray, str, np.ndarray, list[str], np.ndarray]:
    """Validate the arguments of :func:`simulate` and draw the per-cell parameters.

    Shared with the chunked runs of :mod:`cellsde.distributed`, so a population is the same
    whatever the chunking. Returns ``(model, kind, times, method, theta (cell, param),
    param names, group (cell,))``.
    """
    model, kind = _resolve_model(model)
    times = _check_times(times)
    method = method or _BY_KIND[kind][0]
    if method == "ssa" and kind == "lattice":
        method = "lattice-ssa"
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method not in _BY_KIND[kind]:
        raise CellsdeError(
            f"method {method!r} does not apply to a {type(model).__name__}; use one of "
            f"{', '.join(_BY_KIND[kind])}"
        )
    for label, v in (("n_cells", n_cells), ("cells_per_group", cells_per_group)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{label} must be a positive int, got {v!r}")
    if n_cells is None and theta is None and cells_per_group is None:
        raise ValueError("give n_cells, cells_per_group or theta")
    model = _with_nominal(model, kind, dict(params or {}))
    if theta is None:
        th, cols, group = sample_theta(
            model, n_cells=n_cells, seed=seed, heterogeneity=heterogeneity,
            cells_per_group=cells_per_group,
        )  # fmt: skip
    else:
        th, cols, group = _explicit_theta(model, theta, n_cells, cells_per_group)
        if n_cells is not None and th.shape[0] != n_cells:
            raise ValueError(f"theta describes {th.shape[0]} cells but n_cells={n_cells}")
    return model, kind, times, method, th, cols, group
