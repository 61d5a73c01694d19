"""The truth-vs-truth sampling floor of the W2 scores.

With N paths per group, tW2 between two samples of the *same* distribution is not zero; a
perfect model scores about this much (reference/end-nsde.md section 2, pitfall 13). Report it
next to every model score.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from cellsde.datasets.schema import CELL, GROUP, SPECIES, TIME, X
from cellsde.errors import SchemaError
from cellsde.evaluation.table import (
    checked_groups,
    grouped_table,
    sample_groups,
    score_table,
    w2_array,
)
from cellsde.nn.base import PopulationModel
from cellsde.nn.grouped_paths import observe
from cellsde.nn.mechanistic import MechanisticSDE
from models_bio.sde import SDEProtocol


def sampling_floor(
    truth: SDEProtocol | PopulationModel | xr.Dataset,
    data: xr.Dataset | None = None,
    *,
    n_paths: int | None = None,
    dt: float = 1e-3,
    seed: int = 0,
    observed: tuple[str, ...] | None = None,
    against: str = "truth",
) -> xr.Dataset:
    """tW2 between two independent samples of the truth, per group of ``data``.

    Parameters
    ----------
    truth : SDEProtocol, PopulationModel or xarray.Dataset
        - An SDE (e.g. ``models_bio.damped_oscillator(...)``, wrapped in
          :class:`~cellsde.baselines.MechanisticSDE`) or any population model: two samples of
          ``n_paths`` paths per group, started from the initial states and parameters of
          ``data``'s groups, with the generators seeded ``seed`` and ``seed + 1``.
        - A Dataset (then ``data`` must be None): each group's cells are shuffled (seeded) and
          split in two halves, compared with each other. This is the floor for N/2 cells, so
          it overestimates the N-path floor (W2 sampling error shrinks with N).
    data : xarray.Dataset, optional
        Groups, initial states, parameters and times (needed for an SDE truth).
    n_paths : int, optional
        Paths per sample and group (SDE truth; default the largest group of ``data``).
    dt : float
        Euler–Maruyama step, in the data's time units.
    seed : int
    observed : tuple of str, optional
        Species compared; default all species of the truth (of the Dataset).
    against : {"truth", "data"}
        SDE truth only. ``"truth"``: two independent samples of the truth, ``n_paths`` each.
        ``"data"``: one sample of ``n_paths`` paths of the truth against the data's own cells,
        the protocol of :func:`cellsde.evaluation.evaluate` (same sizes, same data cloud):
        the score a perfect model gets, size-matched to a model evaluated with the same
        ``n_paths``, so a fitted model cannot sit below it through sample sizes alone.

    Returns
    -------
    xarray.Dataset
        The table of :func:`cellsde.evaluation.evaluate` (coefficient errors are NaN).
    """
    if isinstance(truth, xr.Dataset):
        if data is not None:
            raise ValueError("pass either a true model with data, or a dataset alone")
        return _split_floor(truth, seed=seed, observed=observed)
    if data is None:
        raise ValueError("sampling_floor(model, data): data is needed for groups, x0 and theta")
    model = truth if isinstance(truth, PopulationModel) else MechanisticSDE(truth)
    if against not in ("truth", "data"):
        raise ValueError(f"against must be 'truth' or 'data', got {against!r}")
    if against == "data":
        from cellsde.evaluation.scores import evaluate

        table = evaluate(model, data, n_paths=n_paths, dt=dt, seed=seed, observed=observed)
        return table.assign_attrs(protocol="truth vs data: a perfect model's score at the "
                                  "same sizes (size-matched floor)")  # fmt: skip
    grouped, observed = checked_groups(model, data, observed)
    n = int(n_paths or grouped.mask.shape[1])
    a, b = (sample_groups(model, grouped, n_paths=n, dt=dt, seed=s) for s in (seed, seed + 1))
    w2 = w2_array(observe(a, grouped), observe(b, grouped))
    return grouped_table(w2, grouped, data, model=model, observed=observed,
                         settings={"seed": seed, "n_paths": n, "dt": dt},
                         protocol="truth vs truth: two independent samples (seeds seed, seed + 1)")  # fmt: skip


def _split_floor(ds: xr.Dataset, *, seed: int, observed: tuple[str, ...] | None) -> xr.Dataset:
    if X not in ds:
        raise SchemaError(f"dataset has no variable {X!r}")
    have = [str(s) for s in ds[X][SPECIES].values]
    names = list(observed) if observed is not None else have
    missing = sorted(set(names) - set(have))
    if missing:
        raise SchemaError(f"species {missing} are not in the dataset (it has {have})")
    values = ds[X].transpose(CELL, TIME, SPECIES).sel({SPECIES: names}).values  # (cell, time, d)
    labels_all = np.asarray(ds[GROUP].values) if GROUP in ds.coords else np.zeros(len(values))
    labels = tuple(dict.fromkeys(labels_all.tolist()))
    rng = np.random.default_rng(seed)
    halves = []
    for g in labels:
        idx = rng.permutation(np.flatnonzero(labels_all == g))
        if len(idx) < 2:
            raise SchemaError(f"group {g!r} has {len(idx)} cell; a split floor needs >= 2")
        halves.append((idx[: len(idx) // 2], idx[len(idx) // 2 : 2 * (len(idx) // 2)]))
    width = max(len(h[0]) for h in halves)
    clouds = np.zeros((2, len(labels), values.shape[1], width, values.shape[2]))
    mask = np.zeros(clouds.shape[:-1], dtype=bool)
    for k, pair in enumerate(halves):
        for side, idx in enumerate(pair):
            v = values[idx].transpose(1, 0, 2)  # (time, cell, d)
            ok = np.isfinite(v).all(-1)
            clouds[side, k, :, : len(idx)] = np.where(ok[..., None], v, 0.0)
            mask[side, k, :, : len(idx)] = ok
    t = torch.as_tensor
    w2 = w2_array(t(clouds[0]), t(clouds[1]), sim_mask=t(mask[0]), obs_mask=t(mask[1]))
    attrs = {
        "seed": seed,
        "n_paths": width,
        "observed": ",".join(names),
        "protocol": "data split in halves: floor for N/2 cells per group",
    }
    return score_table(
        w2,
        labels=labels,
        times=np.asarray(ds[TIME].values, dtype=float),
        time_units=str(ds[TIME].attrs.get("units", "dimensionless")),
        attrs=attrs,
    )
