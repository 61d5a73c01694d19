"""``cellsde infer``: estimate each group's heterogeneity parameters with a fitted model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cellsde.cli import _observables
from cellsde.cli._model_data import warn_conditions

MIN_PARAMETRIC_BOOTSTRAP = 100  # below this the parametric intervals under-cover (measured)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "infer",
        help="infer theta per group of cells with a fitted END-nSDE",
        description="Estimate theta(group, param) for the cells in DATA with the model in MODEL.",
    )
    p.add_argument("model", help="fitted END-nSDE (.pt)")
    p.add_argument("data", help="trajectories (.nc/.zarr); theta is ignored if present")
    p.add_argument("--out", required=True, help="result table to write (.nc)")
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
    p.add_argument("--dt", type=float, help="Euler step (default: the fit's dt)")
    p.add_argument("--n-paths", type=int, help="simulated paths per group (default >= 64)")
    p.add_argument("--iterations", type=int, default=120, help="W2 search steps (default 120)")
    p.add_argument("--starts", type=int, default=4, help="W2 search starts per group (default 4)")
    p.add_argument("--amortizer", help="saved amortizer to reuse (method amortized)")
    p.add_argument("--save-amortizer", help="write the trained amortizer here (.pt)")
    _observables.add_options(p)
    p.add_argument(
        "--observed",
        help="comma-separated data species to compare (default: the amortizer's, else all "
        "that are model species or observables)",
    )
    p.set_defaults(func=run)


def check_request(args: argparse.Namespace) -> None:
    """Options that contradict each other, refused before any work."""
    from cellsde.errors import CellsdeError

    if args.method != "amortized" and (args.amortizer or args.save_amortizer):
        raise CellsdeError("--amortizer/--save-amortizer go with --method amortized")
    if args.uncertainty == "parametric" and 0 < args.bootstrap < MIN_PARAMETRIC_BOOTSTRAP:
        raise CellsdeError(
            f"--uncertainty parametric with --bootstrap {args.bootstrap}: the intervals need "
            f">= {MIN_PARAMETRIC_BOOTSTRAP} replicates to cover (20 covered 4 of 10 true values); "
            f"pass --bootstrap {MIN_PARAMETRIC_BOOTSTRAP} or use --uncertainty cells"
        )
    for name in ("iterations", "starts"):
        if getattr(args, name) < 1:
            raise CellsdeError(f"--{name} must be >= 1, got {getattr(args, name)}")


def run(args: argparse.Namespace) -> int:
    from cellsde.cli._paths import MODEL_SUFFIXES, TABLE_SUFFIXES, output_file
    from cellsde.datasets import open_dataset
    from cellsde.datasets.io import write_table
    from cellsde.inference.amortized import load_amortizer
    from cellsde.inference.infer import infer
    from cellsde.nn.checkpoint import load_model

    out = output_file(args.out, suffixes=TABLE_SUFFIXES)
    if args.save_amortizer:
        output_file(args.save_amortizer, suffixes=MODEL_SUFFIXES, option="--save-amortizer")
    check_request(args)
    observables = _observables.parse_observables(args.observable)
    observed = [s.strip() for s in args.observed.split(",")] if args.observed else None
    model = load_model(args.model)
    data = open_dataset(args.data)
    warn_conditions(model, data)
    x0 = _observables.initial_state(args.initial_state, model.species)
    net = load_amortizer(args.amortizer) if args.amortizer else None
    result = infer(model, data, method=args.method, group_size=args.group_size, seed=args.seed,
                   n_bootstrap=args.bootstrap, amortizer=net, observables=observables,
                   observed=observed, initial_state=x0, uncertainty=args.uncertainty,
                   level=args.level, amortizer_out=args.save_amortizer, dt=args.dt,
                   n_paths=args.n_paths, iterations=args.iterations, n_starts=args.starts)  # fmt: skip
    write_table(result, out)
    for line in result_lines(result):
        print(line, file=sys.stdout)
    print(f"wrote {out}", file=sys.stdout)
    return 0


def result_lines(result: Any) -> list[str]:
    """One line per group, labelled as in the data (``source_group``), with its tW2."""
    labels = (
        result["source_group"].values if "source_group" in result.coords else result["group"].values
    )
    th = result["theta"].values
    lines = []
    for g, label in enumerate(labels):
        flag = " (outside training range)" if bool(result["out_of_range"].values[g].any()) else ""
        flag += " (at the bound: a limit)" if bool(result["at_bound"].values[g].any()) else ""
        values = ", ".join(f"{p}={v:.4g}" for p, v in zip(result["param"].values, th[g]))
        lines.append(f"group {label}: {values}; tW2 {result['tw2'].values[g]:.4g}{flag}")
    return lines
