"""``cellsde info``: summarise a cellsde dataset file."""

from __future__ import annotations

import argparse

import numpy as np

from cellsde.datasets import import_report, open_dataset
from cellsde.datasets import schema as S

_MAX_LABELS = 10
_MAX_ATTR = 120


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="summarise a dataset file",
        description="Print dims, species, groups, time span, NaN fraction and attributes.",
    )
    p.add_argument("path", help="dataset file (.nc, .h5 or .zarr)")
    p.set_defaults(func=run)


def summary_lines(ds, path: str) -> list[str]:
    """Lines describing ``ds`` (what ``cellsde info`` prints)."""
    x = ds[S.X].values  # (cell, time, species)
    t = ds[S.TIME].values
    units = ds[S.TIME].attrs[S.ATTR_UNITS]
    lines = [
        f"file: {path}",
        "dims: " + ", ".join(f"{k}={v}" for k, v in ds.sizes.items()),
        "species: " + _labels(ds[S.SPECIES].values),
    ]
    if S.PARAM in ds.coords:
        lines.append("params: " + _labels(ds[S.PARAM].values))
    if S.GROUP in ds.coords:
        groups, counts = np.unique(ds[S.GROUP].values, return_counts=True)
        shown = ", ".join(f"{g} ({c} cells)" for g, c in zip(groups[:_MAX_LABELS], counts))
        more = f", ... ({len(groups)} in all)" if len(groups) > _MAX_LABELS else ""
        lines.append(f"groups: {len(groups)}: {shown}{more}")
    extra = [c for c in ds.coords if ds[c].dims == (S.CELL,) and c not in (S.GROUP, S.CELL)]
    if extra:
        lines.append("per-cell coords: " + ", ".join(extra))
    span = f"{t[0]:g} to {t[-1]:g} {units}" if t.size else "empty"
    lines.append(f"time: {span} ({t.size} points)")
    nan = float(np.mean(np.isnan(x))) if x.size else 0.0
    lines.append(f"NaN fraction of x: {nan:.3f}")
    lines.append("attrs:")
    for key, value in ds.attrs.items():
        if key == S.ATTR_IMPORT_REPORT:
            lines += ["  import report:"] + ["    " + ln for ln in import_report(ds).lines()]
            continue
        text = str(value)
        if len(text) > _MAX_ATTR:
            text = text[: _MAX_ATTR - 3] + "..."
        lines.append(f"  {key}: {text}")
    return lines


def _labels(values) -> str:
    names = [str(v) for v in values.tolist()]
    more = f", ... ({len(names)} in all)" if len(names) > _MAX_LABELS else ""
    return ", ".join(names[:_MAX_LABELS]) + more


def run(args: argparse.Namespace) -> int:
    ds = open_dataset(args.path)
    for line in summary_lines(ds, args.path):
        print(line)
    return 0
