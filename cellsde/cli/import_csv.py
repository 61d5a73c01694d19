"""``cellsde import-csv``: lab tracks from a CSV file into a cellsde dataset file."""

from __future__ import annotations

import argparse
import sys

from cellsde.datasets.schema import TIME_UNITS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import-csv",
        help="import single-cell tracks from a CSV file",
        description="Import single-cell tracks (long: one row per cell and frame; wide: one "
        "row per cell, one column per time) into a netCDF/zarr dataset, and report what "
        "happened to every row. Units are never assumed: --time-units is required and "
        "--value-units labels every figure.",
    )
    p.add_argument("path", help="CSV file")
    p.add_argument("--cell-col", required=True, help="column with the cell id")
    p.add_argument("--time-col", help="column with the time (long layout)")
    p.add_argument("--species", nargs="+", help="species columns (default: all others)")
    p.add_argument("--time-units", required=True, choices=TIME_UNITS,
                   help="units of the times in the file (required)")  # fmt: skip
    p.add_argument("--value-units", metavar="UNITS",
                   help="units of the values: a.u., µM (uM), nM, molecules, ... (default: "
                   "not recorded; figures then say so)")  # fmt: skip
    p.add_argument("--layout", default="auto", choices=("auto", "long", "wide"))
    p.add_argument(
        "--time-tolerance",
        type=float,
        help="merge times closer than this (default: 1/4 of the frame interval; 0 = exact)",
    )
    p.add_argument("--duplicates", default="error", choices=("error", "mean", "first"))
    p.add_argument("--group-col", help="column with each cell's condition (coord 'group')")
    p.add_argument("--cell-coords", nargs="+", default=(),
                   help="further per-cell columns (e.g. ligand dose dose_units)")  # fmt: skip
    p.add_argument(
        "--sep", default=",", help="field separator (default ','; 'tab' or '\\t' for tabs)"
    )
    p.add_argument("--out", required=True, help="output file (.nc, .h5 or .zarr)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cellsde.cli._paths import DATASET_SUFFIXES, output_file
    from cellsde.datasets import import_csv, import_report, save_dataset

    out = output_file(args.out, suffixes=DATASET_SUFFIXES)
    ds = import_csv(
        args.path,
        cell_col=args.cell_col,
        time_col=args.time_col,
        species=args.species,
        time_units=args.time_units,
        value_units=args.value_units,
        layout=args.layout,
        time_tolerance=args.time_tolerance,
        duplicates=args.duplicates,
        group_col=args.group_col,
        cell_coords=args.cell_coords,
        sep="\t" if args.sep in ("tab", "\\t") else args.sep,
    )
    path = save_dataset(ds, out)
    for line in import_report(ds).lines():
        print(line, file=sys.stdout)
    print(f"values in: {ds['x'].attrs.get('units', 'units not recorded (--value-units)')}")
    print(f"wrote {path}", file=sys.stdout)
    return 0
