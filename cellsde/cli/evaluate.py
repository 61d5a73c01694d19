"""``cellsde evaluate``: score a fitted END-nSDE on a (held-out) population dataset.

The model is compared with the data through ``--observable`` sums when the data measure
fewer species than the model has, started from ``--initial-state`` when the data do not
give every model species at t0, and run at the parameters of ``--theta`` (an ``infer``
result, paired with the data's groups by label or ``--group-map``) when the data carry none.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cellsde.cli import _observables
from cellsde.cli._model_data import add_theta_options, warn_conditions, with_theta


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="per-group tW2 of a fitted model on a dataset",
        description=(
            "Simulate MODEL (a .pt written by `cellsde fit`) from the initial states and "
            "parameters of each group of DATA and print the time-decoupled squared W2 per "
            "group and in total."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="fitted END-nSDE model file (.pt)")
    p.add_argument("data", metavar="DATA", help="dataset (.nc/.zarr) with x, theta, group")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulation noise (default 0)")
    p.add_argument("--n-paths", type=int, default=None, help="paths per group (default: cells)")
    p.add_argument("--dt", type=float, default=None, help="Euler step (default: the fit's dt)")
    p.add_argument("--observed", nargs="+", default=None, metavar="S", help="species compared")
    _observables.add_options(p)
    add_theta_options(p)
    p.add_argument("--out", default=None, help="also write the table (.nc)")
    p.set_defaults(func=run)


def _fit_dt(model: Any) -> float:
    """The Euler step the model was fitted with (1e-3 when the file does not say)."""
    try:  # load_model sets ``metadata`` from the file
        return float(json.loads(model.metadata.get("fit_config", "{}")).get("dt", 1e-3))
    except (TypeError, ValueError, AttributeError):
        return 1e-3


def run(args: argparse.Namespace) -> int:
    from cellsde.cli._paths import TABLE_SUFFIXES, output_file
    from cellsde.datasets import open_dataset
    from cellsde.datasets.io import write_table
    from cellsde.evaluation import evaluate
    from cellsde.nn.checkpoint import load_model

    out = output_file(args.out, suffixes=TABLE_SUFFIXES) if args.out else None
    observables = _observables.parse_observables(args.observable)
    model = load_model(args.model)
    data = with_theta(open_dataset(args.data), args.theta, args.group_map)
    warn_conditions(model, data)
    x0 = _observables.initial_state(args.initial_state, model.species)
    dt = args.dt if args.dt is not None else _fit_dt(model)
    table = evaluate(
        model,
        data,
        n_paths=args.n_paths,
        dt=dt,
        seed=args.seed,
        observed=tuple(args.observed) if args.observed else None,
        observables=observables or None,
        initial_state=x0,
    )
    table.attrs.update(model_file=str(Path(args.model).name), data=str(Path(args.data).name))
    if out is not None:
        write_table(table, out)
    width = max(5, *(len(str(g)) for g in table["group"].values))
    lines = [f"{'group':<{width}}  tW2"]
    for g, v in zip(table["group"].values, table["tw2"].values):
        lines.append(f"{g!s:<{width}}  {v:.6g}")
    lines.append(f"{'total':<{width}}  {float(table['tw2_total']):.6g}")
    lines.append(
        f"(squared W2 summed over times after t0; {table.attrs['n_paths']} paths per group, "
        f"dt {dt:g}, seed {args.seed})"
    )
    print("\n".join(lines), file=sys.stdout)
    if out is not None:
        print(f"wrote {out}", file=sys.stdout)
    return 0
