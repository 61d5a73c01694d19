"""Turn a Dataset of trajectories into the padded per-group tensors END-nSDE training uses.

Cells are grouped by the ``group`` coordinate (one group = one parameter set ``theta``). Groups
may hold different numbers of cells, and cells may miss observations (NaN): clouds are padded
to the largest group and carry a mask, so one batched W2 call handles every group and time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import CELL, GROUP, PARAM, SPECIES, THETA, TIME, X
from cellsde.errors import ModelMismatchError, SchemaError


@dataclass(frozen=True)
class GroupedData:
    """Padded training tensors.

    Attributes
    ----------
    obs : torch.Tensor, shape (group, cell, time, observed)
        Observed coordinates, NaN replaced by 0 where ``mask`` is False.
    mask : torch.Tensor of bool, shape (group, cell, time)
        True where the cell was observed at that time (all observed coordinates finite).
    x0 : torch.Tensor, shape (group, cell, species)
        Initial states (all species of the model) of each cell, NaN-free rows first.
    n0 : torch.Tensor of int, shape (group,)
        Number of usable initial states per group.
    theta : torch.Tensor, shape (group, param)
        The group's parameters.
    times : torch.Tensor, shape (time,)
        Observation times.
    labels : tuple
        Group labels, in order.
    readout : torch.Tensor, shape (species, observed)
        Linear map from the model's species to the observed coordinates (one-hot columns
        for observed species; sums for observables such as total nuclear NF-kB).
    fingerprint : str
        Hash of the data, to check that a resumed fit sees the same data.
    """

    obs: torch.Tensor
    mask: torch.Tensor
    x0: torch.Tensor
    n0: torch.Tensor
    theta: torch.Tensor
    times: torch.Tensor
    labels: tuple
    readout: torch.Tensor
    fingerprint: str

    def with_unknown(self, theta: torch.Tensor) -> GroupedData:
        """A copy whose leading ``theta`` columns are ``theta`` (group, p); the trailing ones
        (known covariates, :mod:`cellsde.nn.covariates`) are kept."""
        rest = self.theta[:, theta.shape[-1] :].to(device=theta.device, dtype=theta.dtype)
        return replace(self, theta=torch.cat([theta, rest], -1))

    def to(self, device: str | torch.device) -> GroupedData:
        """A copy on ``device``."""
        return GroupedData(
            self.obs.to(device), self.mask.to(device), self.x0.to(device), self.n0.to(device),
            self.theta.to(device), self.times.to(device), self.labels,
            self.readout.to(device), self.fingerprint,
        )  # fmt: skip


def group_tensors(
    ds: xr.Dataset,
    *,
    species: tuple[str, ...],
    params: tuple[str, ...],
    observed: tuple[str, ...],
    observables: Mapping[str, Mapping[str, float]] | None = None,
    initial_state: np.ndarray | None = None,
    dtype: torch.dtype = torch.float32,
) -> GroupedData:
    """Build :class:`GroupedData` from a cellsde Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        ``x`` (cell, time, species); ``theta`` (cell, param) when ``params`` is non-empty;
        coord ``group`` (absent = one group).
    species : tuple of str
        The model's species; the data must have every one of them at the first time.
    params : tuple of str
        The model's parameters; ``theta`` must hold them and be constant within each group.
    observed : tuple of str
        Data species compared by the loss.
    observables : mapping of str to mapping of str to float, optional
        How an observed data species is formed from model species, e.g.
        ``{"nfkb_nuclear": {"NFkBn": 1, "IkBaNFkBn": 1}}``; observed names not listed must be
        model species.
    initial_state : numpy.ndarray, shape (species,) or (n, species), optional
        Initial states for every group instead of the data's first time point (for data
        that do not measure every model species).
    """
    if X not in ds:
        raise SchemaError(f"dataset has no variable {X!r}; it has {sorted(ds.data_vars)}")
    x = ds[X]
    if tuple(x.dims) != (CELL, TIME, SPECIES):
        raise SchemaError(f"x must have dims ({CELL}, {TIME}, {SPECIES}), got {x.dims}")
    have = [str(s) for s in x[SPECIES].values]
    observables = dict(observables or {})
    need_x0 = () if initial_state is not None else species
    missing = [s for s in (*need_x0, *observed) if s not in have]
    if missing:
        raise ModelMismatchError(
            f"the data lack species {sorted(set(missing))} that the model uses; data species: {have}"
        )
    if params:
        if THETA not in ds:
            raise ModelMismatchError(
                f"the model is conditioned on parameters {list(params)} but the data have no "
                f"{THETA!r} variable; add theta(cell, param) or use a model without params"
            )
        have_p = [str(p) for p in ds[THETA][PARAM].values]
        missing_p = [p for p in params if p not in have_p]
        if missing_p:
            raise ModelMismatchError(
                f"the data's theta lacks parameters {missing_p}; it has {have_p}"
            )
    labels_all = ds[GROUP].values if GROUP in ds.coords else np.zeros(ds.sizes[CELL], dtype=int)
    labels = tuple(dict.fromkeys(labels_all.tolist()))
    readout = np.zeros((len(species), len(observed)))
    for j, name in enumerate(observed):
        combo = observables.get(name, {name: 1.0})
        unknown = sorted(set(combo) - set(species))
        if unknown:
            raise ModelMismatchError(
                f"observed {name!r} needs model species {unknown}, which the model does not have; "
                f"model species: {list(species)}"
            )
        for s_name, w in combo.items():
            readout[species.index(s_name), j] = float(w)
    sp_idx = [have.index(s) for s in species] if initial_state is None else []
    ob_idx = [have.index(s) for s in observed]
    values = np.asarray(x.values, dtype=float)  # (cell, time, species)
    theta_all = (
        ds[THETA].sel({PARAM: list(params)}).values if params else np.zeros((values.shape[0], 0))
    )
    members = [np.flatnonzero(labels_all == g) for g in labels]
    n_max = max(len(m) for m in members)
    n_t = values.shape[1]
    obs = np.zeros((len(labels), n_max, n_t, len(ob_idx)))
    mask = np.zeros((len(labels), n_max, n_t), dtype=bool)
    x0 = np.zeros((len(labels), n_max, len(species)))
    n0 = np.zeros(len(labels), dtype=np.int64)
    theta = np.zeros((len(labels), len(params)))
    for g, (label, idx) in enumerate(zip(labels, members)):
        o = values[idx][:, :, ob_idx]  # (cell, time, observed)
        ok = np.isfinite(o).all(-1)
        if not ok[:, 1:].any():
            raise SchemaError(
                f"group {label!r} has no observed values after the first time; drop it or fix the data"
            )
        obs[g, : len(idx)] = np.where(ok[..., None], o, 0.0)
        mask[g, : len(idx)] = ok
        if initial_state is not None:
            start = np.atleast_2d(np.asarray(initial_state, dtype=float))
            if start.shape[-1] != len(species) or not np.isfinite(start).all():
                raise ModelMismatchError(
                    f"initial_state must be finite with {len(species)} species per row, got shape {start.shape}"
                )
            start = start[:n_max]
        else:
            start = values[idx, 0][:, sp_idx]  # (cell, species)
        good = np.isfinite(start).all(-1)
        if not good.any():
            raise SchemaError(
                f"group {label!r} has no cell with every model species observed at the first time "
                f"{float(x[TIME].values[0])}; the SDE needs an initial state"
            )
        x0[g, : good.sum()] = start[good]
        n0[g] = good.sum()
        th = theta_all[idx]
        if th.size and (
            not np.isfinite(th).all()
            or np.ptp(th, axis=0).max() > 1e-12 * max(1.0, np.abs(th).max())
        ):
            raise SchemaError(
                f"theta differs between cells of group {label!r} (a parameter or a known covariate "
                "such as the dose), or is NaN; END-nSDE conditions on one parameter vector per group: group the cells "
                "by condition"
            )
        theta[g] = th[0] if th.size else theta[g]
    digest = hashlib.sha256()
    for arr in (obs, mask, x0, theta, np.asarray(x[TIME].values, dtype=float)):
        digest.update(np.ascontiguousarray(arr).tobytes())
    times = np.asarray(x[TIME].values, dtype=float)
    return GroupedData(
        obs=torch.as_tensor(obs, dtype=dtype),
        mask=torch.as_tensor(mask),
        x0=torch.as_tensor(x0, dtype=dtype),
        n0=torch.as_tensor(n0),
        theta=torch.as_tensor(theta, dtype=dtype),
        times=torch.tensor(times, dtype=dtype),
        labels=labels,
        readout=torch.as_tensor(readout, dtype=dtype),
        fingerprint=digest.hexdigest(),
    )
