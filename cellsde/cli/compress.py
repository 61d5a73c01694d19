"""``cellsde compress``: narrow END-nSDEs with dendrites vs the fitted wide one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compress",
        help="train narrow END-nSDEs (+ dendrites) and keep the smallest as good as MODEL",
        description=(
            "Train narrow END-nSDEs of each width with 0..K dendrite sets, and plain networks "
            "of equal parameter count and of equal compute, on DATA (same loss and epoch budget "
            "as MODEL's fit); print tW2 per split and parameters, and write the smallest network "
            "whose tW2 on the --test-groups (else the --valid-groups) is within --tolerance of "
            "MODEL's (MODEL itself when none is). The rule is printed with the verdict."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="fitted wide END-nSDE (.pt from `cellsde fit`)")
    p.add_argument("data", metavar="DATA", help="dataset (.nc/.zarr) with x, theta, group")
    p.add_argument("--out", required=True, help="model file to write (.pt)")
    p.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32], metavar="W",
                   help="hidden widths to try (default 8 16 32)")  # fmt: skip
    p.add_argument("--max-dendrites", type=int, default=2, metavar="K",
                   help="try 0..K dendrite sets per width (default 2)")  # fmt: skip
    p.add_argument("--mode", choices=("gd", "cascade"), default="gd",
                   help="gd: fixed K, joint backprop; cascade: perforate schedule (default gd)")  # fmt: skip
    p.add_argument("--valid-groups", nargs="+", required=True, metavar="G",
                   help="group labels held out for early stopping and the dendrite schedule")  # fmt: skip
    p.add_argument("--test-groups", nargs="+", default=[], metavar="G",
                   help="group labels held out untouched: the choice is made on them")  # fmt: skip
    p.add_argument("--epochs", type=int, help="epoch budget (default: MODEL's fit)")
    p.add_argument("--tolerance", type=float, default=0.05,
                   help="relative tolerance on MODEL's held-out tW2 (default 0.05)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed (weights, noise; default 0)")
    p.add_argument("--table", help="also write the table (.nc)")
    p.set_defaults(func=run)


def _fit_config(model: Any, epochs: int | None) -> Any:
    """The FitConfig MODEL was fitted with (from its metadata), epochs overridden.

    ``cellsde fit`` stores it as ``fit_config``, the benchmark scripts (e.g. the NF-κB and
    RPA END-nSDEs) as ``fit``; without it the loss would compare every species.
    """
    from cellsde.training.config import FitConfig

    try:
        opts = json.loads(model.metadata.get("fit_config") or model.metadata.get("fit") or "{}")
    except (TypeError, ValueError):
        opts = {}
    known = set(FitConfig.__dataclass_fields__)
    opts = {k: v for k, v in opts.items() if k in known}
    opts.update(checkpoint_path=None, resume=False, progress=False)
    if epochs is not None:
        opts["epochs"] = epochs
    return FitConfig(**opts)


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from cellsde.cli._groups import hold_out
    from cellsde.cli._paths import MODEL_SUFFIXES, TABLE_SUFFIXES, output_file
    from cellsde.compression import compress
    from cellsde.datasets import open_dataset
    from cellsde.errors import CellsdeError
    from cellsde.nn.checkpoint import load_model, save_model

    out = output_file(args.out, suffixes=MODEL_SUFFIXES)
    if args.table:
        output_file(args.table, suffixes=TABLE_SUFFIXES, option="--table")
    model = load_model(args.model)
    data = open_dataset(args.data)
    test = None
    if args.test_groups:
        both = sorted(set(args.test_groups) & set(args.valid_groups))
        if both:
            raise CellsdeError(f"--test-groups {both} are also --valid-groups; keep them apart")
        data, test = hold_out(data, list(args.test_groups), args.data)
    train, valid = hold_out(data, list(args.valid_groups), args.data)
    config = _fit_config(model, args.epochs)
    # one tick per trained candidate, on a terminal only (tqdm's disable=None)
    with tqdm(desc="compress", unit="network", disable=None) as bar:
        result = compress(
            model, train, valid=valid, test=test, widths=args.widths,
            max_dendrites=args.max_dendrites, mode=args.mode, tolerance=args.tolerance,
            config=config, seed=args.seed, callback=lambda row: bar.update(1),
        )  # fmt: skip
    table = result.table
    # the units and the stimulus stay with the model: later verbs check them against data
    kept = {k: model.metadata[k] for k in ("units", "conditions") if k in model.metadata}
    meta = {
        **kept,
        "fit_config": config.to_json(),
        "data": str(Path(args.data).name),
        "compressed_from": str(Path(args.model).name),
        "compression": {"candidate": result.best, "mode": result.mode,
                        "tolerance": result.tolerance, "compressed": result.compressed},
    }  # fmt: skip
    save_model(result.best_model, out, metadata=meta)
    if args.table:
        from cellsde.datasets.io import write_table

        xtable = table.set_index("candidate").to_xarray()
        write_table(xtable.assign_attrs(best=result.best, mode=result.mode), args.table)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.6g}"), file=sys.stdout)
    wide = table.loc[table["kind"] == "wide"].iloc[0]
    best = table.loc[table["candidate"] == result.best].iloc[0]
    col = "test_tw2" if test is not None else "valid_tw2"
    if result.compressed:
        verdict = (
            f"best: {result.best} ({int(best['params'])} parameters, "
            f"{best['params'] / wide['params']:.1%} of the wide model; {col} "
            f"{best[col]:.6g} vs {wide[col]:.6g})"
        )
    else:
        verdict = "no smaller network within the rule; wrote the wide model unchanged"
    print(f"rule: {result.rule}\n{verdict}\nwrote {args.out}", file=sys.stdout)
    return 0
