"""``cellsde infer``: estimate each group's heterogeneity parameters with a fitted model."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "infer",
        help="infer theta per group of cells with a fitted END-nSDE",
        description="Estimate theta(group, param) for the cells in DATA with the model in MODEL.",
    )
    p.add_argument("model", help="fitted END-nSDE (.pt)")
    p.add_argument("data", help="trajectories (.nc/.zarr); theta is ignored if present")
    p.add_argument("--out", required=True, help="result dataset to write (.nc/.zarr)")
    p.add_argument("--method", choices=("w2", "amortized"), default="w2")
    p.add_argument("--group-size", type=int, help="cut cells into consecutive groups of K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--bootstrap",
        type=int,
        default=20,
        help="bootstrap resamples for the uncertainty (0: none; >= 100 with parametric)",
    )
    p.add_argument(
        "--uncertainty",
        choices=("cells", "parametric"),
        default="cells",
        help="cells: bootstrap over each group's cells (cheap, too narrow); parametric: "
        "calibrated, re-simulates groups at the estimate ((1 + 2 * params) * bootstrap re-estimates)",
    )
    p.add_argument("--level", type=float, default=0.95, help="coverage of theta_lo..theta_hi")
    p.add_argument("--amortizer", help="saved amortizer to reuse (method amortized)")
    p.add_argument("--save-amortizer", help="write the trained amortizer here (method amortized)")
    p.add_argument(
        "--observable",
        action="append",
        default=[],
        metavar="NAME=A+B",
        help="a data species formed as a sum of model species, e.g. "
        "nfkb_nuclear=NFkBn+IkBaNFkBn (weights as 2*A+B); repeatable",
    )
    p.add_argument(
        "--observed",
        help="comma-separated data species to compare (default: the amortizer's, else all "
        "that are model species or observables)",
    )
    p.add_argument(
        "--initial-state",
        help="dataset (.nc/.zarr) whose first time point gives the initial states of every "
        "model species (for data that do not measure them all)",
    )
    p.set_defaults(func=run)


def parse_observable(text: str) -> tuple[str, dict[str, float]]:
    """``"name=A+2*B"`` -> ``("name", {"A": 1.0, "B": 2.0})``."""
    from cellsde.errors import CellsdeError

    name, sep, rhs = text.partition("=")
    terms = [t.strip() for t in rhs.split("+")]
    if not sep or not name.strip() or not all(terms):
        raise CellsdeError(
            f"--observable {text!r}: write NAME=SPECIES+SPECIES (e.g. n=NFkBn+IkBaNFkBn)"
        )
    recipe: dict[str, float] = {}
    for term in terms:
        weight, _, species = term.rpartition("*") if "*" in term else ("1", "", term)
        try:
            recipe[species.strip()] = recipe.get(species.strip(), 0.0) + float(weight)
        except ValueError:
            raise CellsdeError(
                f"--observable {text!r}: weight {weight!r} is not a number"
            ) from None
    return name.strip(), recipe


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from cellsde.datasets import open_dataset
    from cellsde.datasets.io import write_table
    from cellsde.errors import CellsdeError
    from cellsde.inference.amortized import load_amortizer
    from cellsde.inference.infer import infer
    from cellsde.nn.checkpoint import load_model

    if args.method != "amortized" and (args.amortizer or args.save_amortizer):
        raise CellsdeError("--amortizer/--save-amortizer go with --method amortized")
    observables = dict(parse_observable(t) for t in args.observable)
    observed = [s.strip() for s in args.observed.split(",")] if args.observed else None
    model = load_model(args.model)
    data = open_dataset(args.data)
    x0 = None
    if args.initial_state:
        start = open_dataset(args.initial_state)
        have = [str(s) for s in start["species"].values]
        missing = [s for s in model.species if s not in have]
        if missing:
            raise CellsdeError(
                f"--initial-state {args.initial_state!r} lacks model species {missing[:5]}"
                f"{'...' if len(missing) > 5 else ''}"
            )
        x0 = start["x"].isel(time=0).sel(species=list(model.species)).values  # (cell, species)
        x0 = x0[np.isfinite(x0).all(-1)]  # rows without NaN
    net = load_amortizer(args.amortizer) if args.amortizer else None
    result = infer(model, data, method=args.method, group_size=args.group_size, seed=args.seed,
                   n_bootstrap=args.bootstrap, amortizer=net, observables=observables,
                   observed=observed, initial_state=x0, uncertainty=args.uncertainty,
                   level=args.level, amortizer_out=args.save_amortizer)  # fmt: skip
    write_table(result, args.out)
    th = result["theta"].values
    for g in range(th.shape[0]):
        flag = " (outside training range)" if bool(result["out_of_range"].values[g].any()) else ""
        flag += " (at the bound: a limit)" if bool(result["at_bound"].values[g].any()) else ""
        values = ", ".join(f"{p}={v:.4g}" for p, v in zip(result["param"].values, th[g]))
        print(f"group {g}: {values}; tW2 {result['tw2'].values[g]:.4g}{flag}", file=sys.stdout)
    print(f"wrote {args.out}", file=sys.stdout)
    return 0
