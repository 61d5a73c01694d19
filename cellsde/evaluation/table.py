"""Shared pieces of the evaluation tables: batched masked W2 and the (group, time) Dataset."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import ATTR_UNITS, GROUP, TIME
from cellsde.losses import w2_squared
from cellsde.nn.base import PopulationModel


def model_device(model: PopulationModel) -> torch.device:
    """Device of the model's first parameter or buffer (CPU for a model without tensors)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def masked_w2(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    a_mask: torch.Tensor | None = None,
    b_mask: torch.Tensor | None = None,
) -> np.ndarray:
    """Exact squared W2 per (group, time) between padded clouds; NaN where a cloud is empty.

    Parameters
    ----------
    a, b : torch.Tensor, shape (group, time, n, d) and (group, time, m, d)
        Point clouds, in species units.
    a_mask, b_mask : torch.Tensor of bool, shape (group, time, n) / (group, time, m), optional
        True for real points (default all).

    Returns
    -------
    numpy.ndarray, shape (group, time)
        Squared W2 in squared species units (float64).
    """
    am = torch.ones(a.shape[:-1], dtype=torch.bool) if a_mask is None else a_mask.cpu()
    bm = torch.ones(b.shape[:-1], dtype=torch.bool) if b_mask is None else b_mask.cpu()
    ok = am.any(-1) & bm.any(-1)  # (group, time)
    out = np.full(tuple(ok.shape), np.nan)
    if bool(ok.any()):
        val = w2_squared(
            a.detach().cpu()[ok].double(),
            b.detach().cpu()[ok].double(),
            a_mask=am[ok],
            b_mask=bm[ok],
        )
        out[ok.numpy()] = val.numpy()
    return out


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
