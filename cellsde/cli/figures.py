"""``cellsde figures``: trajectory fans, marginals and W2 over time for a dataset file.

Fans and densities are drawn per group (condition), one panel each, never pooled across
conditions. With ``--model-data SIM.nc`` the simulated cells are overlaid, paired with the
data's groups by label, by condition (``--match-by ligand dose``) or by ``--group-map``; with
``--model MODEL.pt`` a fitted END-nSDE checkpoint is first simulated at the data's cells
(their first observed state, θ and group) on the data's time grid, after the data are
converted to the model's units. Either adds the W2-over-time figure. Nothing is written
unless every figure is made.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import numpy as np
import xarray as xr

from cellsde.cli import _observables
from cellsde.cli._model_data import add_theta_options, warn_conditions, with_theta
from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError, ModelMismatchError

FORMATS = ("png", "pdf", "svg")
N_MARGINAL_TIMES = 4


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "figures",
        help="make publication figures of a dataset (and a model)",
        description="Write trajectory fans and marginal densities per species, one panel per "
        "group, and, with a model, the squared W2 to the data over time.",
    )
    p.add_argument("data", help="dataset file (.nc, .h5 or .zarr)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model-data", metavar="SIM.nc", help="simulated dataset to overlay")
    src.add_argument("--model", metavar="MODEL.pt", help="fitted END-nSDE checkpoint to simulate")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--species", nargs="+", help="species to plot (default: all)")
    p.add_argument("--times", nargs="+", type=float,
                   help="times of the marginal densities (default: start, first peak and the "
                   "trough after it, or trough then peak when the median first falls, end)")  # fmt: skip
    p.add_argument("--group", help="plot only the cells of this group (matched as text)")
    p.add_argument("--match-by", nargs="+", default=["group"], metavar="COORD",
                   help="--model-data: pair its groups with the data's by these per-cell "
                   "coords (default: group labels; e.g. ligand dose)")  # fmt: skip
    p.add_argument("--format", nargs="+", default=["png"], choices=FORMATS, dest="formats")
    p.add_argument("--dpi", type=int, default=300)
    p.add_argument("--dt", type=float, help="--model: Euler step (default: 1/10 of the grid)")
    p.add_argument("--seed", type=int, default=0, help="--model: seed of the simulation")
    _observables.add_options(p)
    add_theta_options(p)
    p.set_defaults(func=run)


def simulate_checkpoint(
    model,
    data: xr.Dataset,
    *,
    dt: float | None = None,
    seed: int = 0,
    observables: dict | None = None,
    initial_state: np.ndarray | None = None,
):
    """Simulate a fitted END-nSDE at the data's cells: same x(t0), θ, group and time grid.

    Parameters
    ----------
    model : cellsde.nn.endnsde.ENDnSDE
        The fitted model (species and params are checked against ``data``).
    data : xarray.Dataset
        ``x`` (cell, time, species) in the model's units (see
        :func:`cellsde.datasets.units.match_units`), ``theta`` (cell, param) when the model
        has parameters, and the coordinates of the model's covariates (e.g. ``dose``,
        ``ligand``).
    dt : float, optional
        Largest Euler–Maruyama step in the data's time units (default: 1/10 of the smallest
        interval of the time grid).
    seed : int
        Seed of the Brownian increments (recorded in ``attrs["seed"]``).
    observables : dict, optional
        Data species formed as sums of model species (``{"n": {"A": 1, "B": 1}}``); they are
        added to the simulated cells.
    initial_state : numpy.ndarray, shape (n, species), optional
        Initial states of every model species (cycled over the cells), for data that do not
        measure them all.

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time, species + observables) for every data cell whose first state is
        fully observed (every cell with ``initial_state``).

    Raises
    ------
    cellsde.errors.ModelMismatchError
        The data lack a model species (and no ``initial_state``), a parameter or a
        covariate coordinate.
    """
    import torch

    from cellsde.datasets import from_arrays
    from cellsde.inference.observables import derive_observables
    from cellsde.nn.covariates import attach_covariates
    from cellsde.nn.rollout import rollout

    data = attach_covariates(model.covariates, data)  # known covariates from the coordinates
    species, params = list(model.species), list(model.param_names)
    have = [str(s) for s in data[S.SPECIES].values]
    missing = [s for s in species if s not in have]
    if missing and initial_state is None:
        raise ModelMismatchError(
            f"the model's species {missing} are not in the data (model: {species}, data: "
            f"{have}); give their initial states with --initial-state"
        )
    if params:
        if S.THETA not in data:
            raise ModelMismatchError(
                f"the model needs parameters {params} but the data have no {S.THETA!r}; "
                "give them with --theta RESULT.nc (from `cellsde infer`)"
            )
        got = [str(p) for p in data[S.PARAM].values]
        lacking = [p for p in params if p not in got]
        if lacking:
            raise ModelMismatchError(
                f"the model's parameters {lacking} are not in the data's theta (it has {got})"
            )
    t = np.asarray(data[S.TIME].values, dtype=np.float64)
    if t.size < 2:
        raise CellsdeError("the data have a single time; nothing to simulate")
    n_cells = data.sizes[S.CELL]
    if initial_state is not None:
        x0 = np.asarray(initial_state, dtype=float)[np.arange(n_cells) % len(initial_state)]
        keep = np.ones(n_cells, dtype=bool)
    else:
        x0 = data[S.X].transpose(*S.X_DIMS).sel({S.SPECIES: species}).values[:, 0]
        keep = np.isfinite(x0).all(1)
    if not keep.any():
        raise CellsdeError("no data cell has its first state fully observed; give --initial-state")
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
        theta=theta if params else None, params=params or None,
        time_units=data[S.TIME].attrs.get(S.ATTR_UNITS),
        attrs={"model": "END-nSDE", "method": "endnsde", "seed": int(seed)},
    )  # fmt: skip
    if S.ATTR_UNITS in data[S.X].attrs:
        sim[S.X].attrs[S.ATTR_UNITS] = data[S.X].attrs[S.ATTR_UNITS]
    if observables:
        sim = derive_observables(sim, observables, names=list(observables))
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


def _model_cells(args: argparse.Namespace, data: xr.Dataset) -> tuple[Any, xr.Dataset]:
    """(simulated cells or None, the data in the model's units)."""
    from cellsde.datasets import open_dataset
    from cellsde.datasets.conditions import pair_groups, parse_group_map

    if args.model_data:
        from cellsde.datasets.units import match_units, value_units

        sim = open_dataset(args.model_data)  # into the data's units (min vs h, nM vs µM)
        target = {"time": data[S.TIME].attrs.get(S.ATTR_UNITS), "values": value_units(data)}
        sim = match_units(sim, target, what="simulated cells", whose="the data")
        mapping = parse_group_map(args.group_map) if args.theta is None else None
        return pair_groups(sim, data, by=args.match_by, mapping=mapping), data
    if args.model:
        from cellsde.datasets.units import match_units, model_units
        from cellsde.nn.checkpoint import load_model

        model = load_model(args.model)
        warn_conditions(model, data)
        data = match_units(data, model_units(model))  # minutes vs hours: converted or refused
        recipes = _observables.parse_observables(args.observable)
        x0 = _observables.initial_state(args.initial_state, model.species)
        sim = simulate_checkpoint(model, data, dt=args.dt, seed=args.seed,
                                  observables=recipes, initial_state=x0)  # fmt: skip
        return sim, data
    if args.observable or args.initial_state:
        raise CellsdeError("--observable/--initial-state go with --model MODEL.pt")
    return None, data


def run(args: argparse.Namespace) -> int:
    from cellsde.cli._paths import output_folder, staged_folder
    from cellsde.datasets import open_dataset

    out = output_folder(args.out)
    data = open_dataset(args.data)
    if args.group_map and not (args.theta or args.model_data):
        raise CellsdeError("--group-map pairs the groups of --theta or --model-data; give one")
    data = with_theta(data, args.theta, args.group_map if args.theta else [])
    have = [str(s) for s in data[S.SPECIES].values]
    species = args.species or have
    unknown = [s for s in species if s not in have]
    if unknown:
        raise CellsdeError(f"species {unknown} are not in {args.data}; it has {have}")
    group = _group_label(data, args.group)
    model, data = _model_cells(args, data)
    if model is not None:
        missing = [s for s in species if s not in model[S.SPECIES].values.tolist()]
        if missing:
            raise ModelMismatchError(f"the model has no species {missing}; pass --species")
    with staged_folder(out) as stage:
        names = _draw_all(args, data, model, species, group, stage)
    for name in names:
        print(f"wrote {out / name}")
    return 0


def _draw_all(args, data, model, species, group, stage) -> list[str]:
    """Every figure into ``stage``; the file names written."""
    import matplotlib.pyplot as plt

    from cellsde.plot import (
        group_panels,
        marginal_times,
        marginals,
        save_figure,
        trajectory_fan,
        w2_over_time,
    )

    written: list[str] = []

    def save(fig, stem: str) -> None:
        written.extend(p.name for p in save_figure(fig, stage / stem, formats=args.formats,
                                                   dpi=args.dpi))  # fmt: skip
        plt.close(fig)

    for s in species:
        times = args.times or marginal_times(data, species=s, n=N_MARGINAL_TIMES, group=group)
        if group is not None:
            save(trajectory_fan(data, species=s, model=model, group=group), f"fan_{_safe(s)}")
            save(marginals(data, species=s, times=times, model=model, group=group),
                 f"marginals_{_safe(s)}")  # fmt: skip
            continue
        save(group_panels(data, trajectory_fan, species=s, model=model), f"fan_{_safe(s)}")
        save(group_panels(data, marginals, species=s, model=model, times=times),
             f"marginals_{_safe(s)}")  # fmt: skip
    if model is not None:
        from cellsde.losses import w2_per_time

        sub = data if group is None else data.isel({S.CELL: data[S.GROUP].values == group})
        sim = model if group is None else model.isel({S.CELL: model[S.GROUP].values == group})
        if S.GROUP in sub.coords and S.GROUP in sim.coords:  # the groups both have
            sub = sub.isel({S.CELL: np.isin(sub[S.GROUP].values, sim[S.GROUP].values)})
        table = w2_per_time(sim, sub, species=species)
        label = str(model.attrs.get(S.ATTR_MODEL) or "model")
        save(w2_over_time({label: table}, data=sub, species=species), "w2_over_time")
    return sorted(written)
