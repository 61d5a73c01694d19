"""``cellsde subset``: keep the cells of one condition (e.g. ligand=TNF dose=10) in a new file.

The Guo 2024 table and many lab exports repeat cell ids across conditions; ``subset`` picks
one condition (or group) so that ``fit``, ``infer`` and ``figures`` see one population.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "subset",
        help="keep the cells of chosen conditions (ligand, dose, group...)",
        description="Write the cells of FILE whose per-cell coords equal every --where value "
        "(numbers compare numerically, text case-insensitively), e.g. "
        "`cellsde subset guo.nc --where ligand=TNF dose=10 --out tnf10.nc`.",
    )
    p.add_argument("path", metavar="FILE", help="dataset file (.nc, .h5 or .zarr)")
    p.add_argument("--where", nargs="+", required=True, metavar="COORD=VALUE",
                   help="conditions every kept cell meets (group=3, ligand=TNF, dose=10, ...)")  # fmt: skip
    p.add_argument("--out", required=True, help="output file (.nc, .h5 or .zarr)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from cellsde.cli._paths import DATASET_SUFFIXES, output_file
    from cellsde.datasets import open_dataset, save_dataset
    from cellsde.datasets.conditions import parse_where, select

    out = output_file(args.out, suffixes=DATASET_SUFFIXES)
    where = parse_where(args.where)
    ds = open_dataset(args.path)
    kept = select(ds, where, name=args.path).load()
    kept.attrs["subset"] = json.dumps({"from": str(args.path), "where": where}, sort_keys=True)
    save_dataset(kept, out)
    print(f"wrote {out}: {kept.sizes['cell']} of {ds.sizes['cell']} cells "
          f"({', '.join(f'{k}={v}' for k, v in where.items())})", file=sys.stdout)  # fmt: skip
    return 0
