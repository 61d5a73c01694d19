"""Shared pieces of the evaluation tables: checked groups, seeded samples, W2, the Dataset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import ATTR_UNITS, GROUP, SPECIES, TIME
from cellsde.losses.table import w2_table
from cellsde.nn.base import PopulationModel
from cellsde.nn.grouped_paths import model_groups, simulate_groups
from cellsde.nn.training_data import GroupedData


def model_device(model: PopulationModel) -> torch.device:
    """Device of the model's first parameter or buffer (CPU for a model without tensors)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def checked_groups(
    model: PopulationModel,
    data: xr.Dataset,
    observed: tuple[str, ...] | None,
    *,
    observables: Mapping[str, Mapping[str, float]] | None = None,
    initial_state: np.ndarray | None = None,
) -> tuple[GroupedData, tuple[str, ...]]:
    """Validate ``model`` and ``data``; per-group tensors on the model's device, observed names.

    With ``observables`` and no ``observed``, the data species that are model species or
    observables are compared.
    """
    if not isinstance(model, PopulationModel):
        raise TypeError(
            f"expected a PopulationModel (ENDnSDE, a baseline, MechanisticSDE), got {type(model).__name__}"
        )
    if not isinstance(data, xr.Dataset):
        raise TypeError(f"data must be an xarray.Dataset, got {type(data).__name__}")
    if observed is None and observables:
        have = [str(s) for s in data[SPECIES].values]
        observed = tuple(s for s in have if s in model.species or s in observables)
    grouped = model_groups(model, data, observed=observed, observables=observables,
                           initial_state=initial_state)  # fmt: skip
    return grouped.to(model_device(model)), tuple(observed) if observed else model.species


@contextmanager
def evaluating(model: PopulationModel) -> Iterator[None]:
    """Eval mode and no gradient for the block; the model's training flag is restored after."""
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(training)


def sample_groups(
    model: PopulationModel, grouped: GroupedData, *, n_paths: int, dt: float, seed: int
) -> torch.Tensor:
    """``n_paths`` paths per group, no gradient, eval mode; shape (group, path, time, species)."""
    gen = torch.Generator(device=grouped.x0.device).manual_seed(seed)
    with evaluating(model):
        return simulate_groups(model, grouped, n_paths=n_paths, dt=dt, generator=gen)


def w2_array(
    sim: torch.Tensor,
    obs: torch.Tensor,
    *,
    sim_mask: torch.Tensor | None = None,
    obs_mask: torch.Tensor | None = None,
) -> np.ndarray:
    """:func:`cellsde.losses.w2_table` in float64 on the CPU, NaN where not comparable.

    Parameters
    ----------
    sim, obs : torch.Tensor, shape (group, time, n, d) and (group, time, m, d)
        Point clouds, in species units.
    sim_mask, obs_mask : torch.Tensor of bool, shape (group, time, n) / (group, time, m), optional
        True for real points (default all).

    Returns
    -------
    numpy.ndarray, shape (group, time)
        Squared W2 in squared species units (float64).
    """
    cpu = [None if x is None else x.detach().cpu() for x in (sim, obs, sim_mask, obs_mask)]
    w2, ok = w2_table(cpu[0].double(), cpu[1].double(), sim_mask=cpu[2], obs_mask=cpu[3])
    return np.where(ok.numpy(), w2.numpy(), np.nan)


def grouped_table(
    w2: np.ndarray,
    grouped: GroupedData,
    data: xr.Dataset,
    *,
    model: PopulationModel,
    observed: tuple[str, ...],
    protocol: str,
    settings: dict,
    **errors: tuple[np.ndarray, np.ndarray],
) -> xr.Dataset:
    """:func:`score_table` of a model's scores on the groups of ``data``.

    Labels and times come from ``grouped``, the time units from ``data``; ``attrs`` record
    the model class, ``settings`` (seed, n_paths, dt...), the observed species and the
    ``protocol``.
    """
    attrs = {"model_class": type(model).__name__, **settings,
             "observed": ",".join(observed), "protocol": protocol}  # fmt: skip
    return score_table(
        w2,
        labels=grouped.labels,
        times=grouped.times.cpu().numpy(),
        time_units=str(data[TIME].attrs.get(ATTR_UNITS, "dimensionless")),
        attrs=attrs,
        **errors,
    )


def score_table(
    w2: np.ndarray,
    *,
    labels: tuple,
    times: np.ndarray,
    time_units: str,
    attrs: dict,
    drift_error: tuple[np.ndarray, np.ndarray] | None = None,
    diffusion_error: tuple[np.ndarray, np.ndarray] | None = None,
) -> xr.Dataset:
    """Assemble the evaluation Dataset.

    Parameters
    ----------
    w2 : numpy.ndarray, shape (group, time)
        Squared W2 (NaN where not comparable).
    labels : tuple
        Group labels.
    times : numpy.ndarray, shape (time,)
    time_units : str
    attrs : dict
        Provenance (netCDF-storable values).
    drift_error, diffusion_error : (numerator, denominator), each shape (group,), optional
        Sums ``sum |f_hat - f|`` and ``sum |f|`` (resp. for sigma sigma^T) per group; NaN
        variables when absent.

    Returns
    -------
    xarray.Dataset
        ``w2`` (group, time); ``tw2`` (group) = sum of ``w2`` over t > t0; ``tw2_total`` and
        ``tw2_mean`` over groups; ``drift_error``, ``diffusion_error`` (group) and their
        pooled ``*_total`` (ratio of sums over all groups).
    """
    g = len(labels)
    later = w2[:, 1:]
    finite = np.isfinite(later).any(-1)
    tw2 = np.where(finite, np.nansum(later, -1), np.nan)  # (group,)
    data = {
        "w2": ((GROUP, TIME), w2, {"long_name": "squared W2 per group and time",
                                   "units": "squared species units"}),
        "tw2": ((GROUP,), tw2, {"long_name": "time-decoupled squared W2 (sum over t > t0)"}),
        "tw2_total": ((), float(np.nansum(tw2)), {"long_name": "tw2 summed over groups"}),
        "tw2_mean": ((), float(np.nanmean(tw2)) if finite.any() else np.nan,
                     {"long_name": "tw2 averaged over groups"}),
    }  # fmt: skip
    for name, pair in (("drift_error", drift_error), ("diffusion_error", diffusion_error)):
        num, den = pair if pair is not None else (np.full(g, np.nan), np.full(g, np.nan))
        with np.errstate(invalid="ignore", divide="ignore"):
            data[name] = ((GROUP,), num / den, {"long_name": f"relative {name.replace('_', ' ')}"})
            data[f"{name}_total"] = ((), float(np.sum(num) / np.sum(den)), {})
    time = xr.DataArray(np.asarray(times, dtype=float), dims=TIME, attrs={ATTR_UNITS: time_units})
    return xr.Dataset(
        {k: xr.Variable(dims, np.asarray(v), a) for k, (dims, v, a) in data.items()},
        coords={GROUP: list(labels), TIME: time},
        attrs=attrs,
    )
