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
        help="bootstrap resamples for the uncertainty (0: none)",
    )
    p.add_argument("--amortizer", help="saved amortizer to reuse (method amortized)")
    p.add_argument("--save-amortizer", help="write the trained amortizer here (method amortized)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cellsde.datasets import open_dataset
    from cellsde.datasets.io import write_table
    from cellsde.errors import CellsdeError
    from cellsde.infer import infer
    from cellsde.inference.amortized import load_amortizer
    from cellsde.nn.checkpoint import load_model

    if args.method != "amortized" and (args.amortizer or args.save_amortizer):
        raise CellsdeError("--amortizer/--save-amortizer go with --method amortized")
    model = load_model(args.model)
    data = open_dataset(args.data)
    net = load_amortizer(args.amortizer) if args.amortizer else None
    result = infer(model, data, method=args.method, group_size=args.group_size, seed=args.seed,
                   n_bootstrap=args.bootstrap, amortizer=net)  # fmt: skip
    write_table(result, args.out)
    th = result["theta"].values
    for g in range(th.shape[0]):
        flag = " (outside training range)" if bool(result["out_of_range"].values[g].any()) else ""
        values = ", ".join(f"{p}={v:.4g}" for p, v in zip(result["param"].values, th[g]))
        print(f"group {g}: {values}; tW2 {result['tw2'].values[g]:.4g}{flag}", file=sys.stdout)
    print(f"wrote {args.out}", file=sys.stdout)
    return 0
