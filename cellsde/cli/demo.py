"""``cellsde demo``: the whole pipeline on an embedded example."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the whole pipeline on an embedded example",
        description="Simulate a heterogeneous population, fit an END-nSDE, evaluate it on held-out "
        "groups, infer their parameters, and write figures and report.md.",
    )
    p.add_argument("--out", default="demo", help="output folder (default: demo/)")
    p.add_argument("--fresh", action="store_true", help="recompute every stage")
    p.add_argument(
        "--data", help="Guo 2024 example_data.mat (default: ../shared/data/nfkb-guo2024)"
    )
    p.add_argument("--small", action="store_true", help="a reduced run (seconds; for tests)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cellsde.demo import DemoConfig, run_demo

    cfg = DemoConfig.small() if args.small else DemoConfig()
    run_demo(args.out, config=cfg, fresh=args.fresh, data=args.data, progress=None,
             log=lambda line: print(line, file=sys.stdout, flush=True))  # fmt: skip
    print(f"report: {args.out.rstrip('/')}/report.md", file=sys.stdout)
    return 0
