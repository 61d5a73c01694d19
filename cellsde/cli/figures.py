"""``cellsde figures``: trajectory fans, marginals and W2 over time for a dataset file.

With ``--model-data SIM.nc`` the simulated cells are overlaid; with ``--model MODEL.pt`` a
fitted END-nSDE checkpoint is first simulated at the data's cells (their first observed state,
θ and group) on the data's time grid. Either adds the W2-over-time figure.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError, ModelMismatchError

FORMATS = ("png", "pdf", "svg")
N_MARGINAL_TIMES = 4


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "figures",
        help="make publication figures of a dataset (and a model)",
        description="Write trajectory fans and marginal densities per species and, with a "
        "model, the squared W2 to the data over time.",
    )
    p.add_argument("data", help="dataset file (.nc, .h5 or .zarr)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model-data", metavar="SIM.nc", help="simulated dataset to overlay")
    src.add_argument("--model", metavar="MODEL.pt", help="fitted END-nSDE checkpoint to simulate")
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--species", nargs="+", help="species to plot (default: all)")
    p.add_argument("--times", nargs="+", type=float, help="times of the marginal densities")
    p.add_argument("--group", help="plot only the cells of this group (matched as text)")
    p.add_argument("--format", nargs="+", default=["png"], choices=FORMATS, dest="formats")
    p.add_argument("--dpi", type=int, default=300)
    p.add_argument("--dt", type=float, help="--model: Euler step (default: 1/10 of the grid)")
    p.add_argument("--seed", type=int, default=0, help="--model: seed of the simulation")
    p.set_defaults(func=run)


def _open(path: str) -> xr.Dataset:
    from cellsde.datasets import open_dataset

    return open_dataset(path)


def simulate_checkpoint(model, data: xr.Dataset, *, dt: float | None = None, seed: int = 0):
    """Simulate a fitted END-nSDE at the data's cells: same x(t0), θ, group and time grid.

    Parameters
    ----------
    model : cellsde.nn.endnsde.ENDnSDE
        The fitted model (species, params and time units are checked against ``data``).
    data : xarray.Dataset
        ``x`` (cell, time, species), ``theta`` (cell, param) when the model has parameters,
        and the coordinates of the model's covariates (e.g. ``dose``, ``ligand``).
    dt : float, optional
        Largest Euler–Maruyama step in the data's time units (default: 1/10 of the smallest
        interval of the time grid).
    seed : int
        Seed of the Brownian increments (recorded in ``attrs["seed"]``).

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time, species) for every data cell whose first state is fully observed.

    Raises
    ------
    cellsde.errors.ModelMismatchError
        The data lack a model species, parameter or covariate coordinate, or the time units
        differ.
    """
    import torch

    from cellsde.datasets import from_arrays
    from cellsde.nn.covariates import attach_covariates
    from cellsde.nn.rollout import rollout

    data = attach_covariates(model.covariates, data)  # known covariates from the coordinates
    species, params = list(model.species), list(model.param_names)
    have = [str(s) for s in data[S.SPECIES].values]
    missing = [s for s in species if s not in have]
    if missing:
        raise ModelMismatchError(
            f"the model's species {missing} are not in the data (model: {species}, data: {have})"
        )
    if params:
        if S.THETA not in data:
            raise ModelMismatchError(
                f"the model needs parameters {params} but the data have no {S.THETA!r}"
            )
        got = [str(p) for p in data[S.PARAM].values]
        lacking = [p for p in params if p not in got]
        if lacking:
            raise ModelMismatchError(
                f"the model's parameters {lacking} are not in the data's theta (it has {got})"
            )
    tu = data[S.TIME].attrs.get(S.ATTR_UNITS)
    if tu != model.time_units:
        raise ModelMismatchError(
            f"time units differ: model trained in {model.time_units!r}, data in {tu!r}"
        )
    t = np.asarray(data[S.TIME].values, dtype=np.float64)
    if t.size < 2:
        raise CellsdeError("the data have a single time; nothing to simulate")
    x0 = data[S.X].transpose(*S.X_DIMS).sel({S.SPECIES: species}).values[:, 0]  # (cell, species)
    keep = np.isfinite(x0).all(1)
    if not keep.any():
        raise CellsdeError(
            "no data cell has its first state fully observed; cannot start the model"
        )
    theta = (
        data[S.THETA].transpose(*S.THETA_DIMS).sel({S.PARAM: params}).values[keep]
        if params
        else np.zeros((int(keep.sum()), 0))
    )  # (cell, param)
    step = float(dt) if dt is not None else float(np.diff(t).min()) / 10.0
    dtype = next(model.parameters()).dtype
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        out = rollout(
            model,
            torch.tensor(x0[keep], dtype=dtype),
            torch.tensor(theta, dtype=dtype),
            torch.tensor(t, dtype=dtype),
            dt=step,
            generator=gen,
        )  # (cell, time, species)
    group = data[S.GROUP].values[keep] if S.GROUP in data.coords else None
    sim = from_arrays(
        out.numpy().astype(np.float64), times=t, species=species, group=group,
        theta=theta if params else None, params=params or None, time_units=tu,
        attrs={"model": "END-nSDE", "method": "endnsde", "seed": int(seed)},
    )  # fmt: skip
    if S.ATTR_UNITS in data[S.X].attrs:
        sim[S.X].attrs[S.ATTR_UNITS] = data[S.X].attrs[S.ATTR_UNITS]
    return sim


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "species"


def _group_label(data: xr.Dataset, text: str | None):
    if text is None:
        return None
    if S.GROUP not in data.coords:
        raise CellsdeError("the data have no group coordinate; drop --group")
    labels = list(dict.fromkeys(data[S.GROUP].values.tolist()))
    for g in labels:
        if str(g) == text:
            return g
    raise CellsdeError(f"group {text!r} is not in the data; its groups are {labels[:10]}")


def run(args: argparse.Namespace) -> int:
    from cellsde.plot import marginals, save_figure, trajectory_fan, w2_over_time

    data = _open(args.data)
    have = [str(s) for s in data[S.SPECIES].values]
    species = args.species or have
    unknown = [s for s in species if s not in have]
    if unknown:
        raise CellsdeError(f"species {unknown} are not in {args.data}; it has {have}")
    group = _group_label(data, args.group)
    model = None
    if args.model_data:
        model = _open(args.model_data)
    elif args.model:
        from cellsde.nn.checkpoint import load_model

        model = simulate_checkpoint(load_model(args.model), data, dt=args.dt, seed=args.seed)
    if model is not None:
        missing = [s for s in species if s not in model[S.SPECIES].values.tolist()]
        if missing:
            raise ModelMismatchError(f"the model has no species {missing}; pass --species")
    t = np.asarray(data[S.TIME].values, dtype=np.float64)
    times = args.times
    if times is None:
        idx = np.unique(np.linspace(0, t.size - 1, min(N_MARGINAL_TIMES, t.size)).round())
        times = t[idx.astype(int)].tolist()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig, stem: str) -> None:
        written.extend(save_figure(fig, out / stem, formats=args.formats, dpi=args.dpi))

    for s in species:
        save(trajectory_fan(data, species=s, model=model, group=group), f"fan_{_safe(s)}")
        save(marginals(data, species=s, times=times, model=model, group=group),
             f"marginals_{_safe(s)}")  # fmt: skip
    if model is not None:
        from cellsde.losses import w2_per_time

        sub = data if group is None else data.isel({S.CELL: data[S.GROUP].values == group})
        sim = model if group is None else model.isel({S.CELL: model[S.GROUP].values == group})
        table = w2_per_time(sim, sub, species=species)
        label = str(model.attrs.get(S.ATTR_MODEL) or "model")
        save(w2_over_time({label: table}, data=sub, species=species), "w2_over_time")
    for path in written:
        print(f"wrote {path}")
    return 0
