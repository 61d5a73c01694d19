"""``cellsde fit``: fit an END-nSDE to a population dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cellsde.errors import CellsdeError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit an END-nSDE to population data (tW2 loss)",
        description="Fit an extrinsic-noise-driven neural SDE to DATA; groups are parameter sets.",
    )
    p.add_argument(
        "data", help="training dataset (.nc/.zarr) with x(cell, time, species), theta, group"
    )
    p.add_argument("--out", required=True, help="model file to write (.pt)")
    p.add_argument("--preset", help="paper settings: damped_oscillator, rpa, nfkb")
    p.add_argument("--config", help="TOML file with [model] and [fit] tables (override the preset)")
    p.add_argument(
        "--valid-groups",
        nargs="+",
        default=(),
        metavar="G",
        help="group labels held out for validation",
    )
    p.add_argument(
        "--covariate",
        action="append",
        default=[],
        metavar="ENC:COORD",
        help="condition the model on a known per-cell coordinate of DATA, encoded as "
        "log10:COORD, onehot:COORD or identity:COORD (e.g. --covariate log10:dose "
        "--covariate onehot:ligand); repeatable",
    )
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--seed", type=int, help="seed of the Brownian increments")
    p.add_argument("--device", help="cpu or cuda")
    p.add_argument("--checkpoint", help="training-state file (default: OUT + '.state')")
    p.add_argument("--resume", action="store_true", help="continue from the training-state file")
    p.add_argument("--history", help="also write the per-epoch history to this dataset file")
    p.set_defaults(func=run)


def _read_toml(path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise CellsdeError(f"{path}: not valid TOML ({err})") from None
    unknown = sorted(set(doc) - {"model", "fit"})
    if unknown:
        raise CellsdeError(f"{path}: unknown tables {unknown}; use [model] and [fit]")
    return doc


def run(args: argparse.Namespace) -> int:
    from cellsde.cli._groups import hold_out
    from cellsde.datasets import open_dataset
    from cellsde.datasets.io import write_table
    from cellsde.datasets.schema import PARAM, SPECIES, THETA
    from cellsde.nn.checkpoint import save_model
    from cellsde.nn.covariates import covariate_columns, covariates_from_data
    from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
    from cellsde.training import FitConfig, fit, preset, preset_model_options

    ds = open_dataset(args.data)
    model_opts: dict[str, Any] = preset_model_options(args.preset) if args.preset else {}
    fit_opts: dict[str, Any] = {}
    if args.config:
        doc = _read_toml(args.config)
        model_opts.update(doc.get("model", {}))
        fit_opts.update(doc.get("fit", {}))
    base = preset(args.preset, **fit_opts) if args.preset else FitConfig(**fit_opts)
    overrides = {
        k: v
        for k, v in (("epochs", args.epochs), ("seed", args.seed), ("device", args.device))
        if v is not None
    }
    checkpoint = args.checkpoint or f"{args.out}.state"
    config = base.replace(
        **overrides, checkpoint_path=checkpoint, resume=args.resume, progress=None
    )
    valid = None
    if args.valid_groups:
        ds, valid = hold_out(ds, list(args.valid_groups), args.data)
    try:
        covariates = covariates_from_data(ds, args.covariate)  # levels: the training groups'
    except ValueError as err:  # a malformed spec
        raise CellsdeError(f"--covariate: {err}") from None
    species = tuple(str(s) for s in ds[SPECIES].values)
    known = covariate_columns(covariates)
    params = tuple(str(p) for p in ds[PARAM].values if str(p) not in known) if THETA in ds else ()
    units = ds["time"].attrs.get("units", "dimensionless")
    model = ENDnSDE(
        ENDnSDEConfig(
            species=species, params=params, time_units=units, covariates=covariates, **model_opts
        ),
        seed=config.seed,
    )
    result = fit(model, ds, valid=valid, config=config)
    meta = {
        "fit_config": config.to_json(),
        "data": str(Path(args.data).name),
        "best_epoch": result.best_epoch,
    }
    save_model(result.model, args.out, metadata=meta)
    if args.history:
        write_table(result.history.assign_attrs(config=config.to_json()), args.history)
    last = result.history["train_loss"].values[-1]
    print(
        f"wrote {args.out} (epochs run: {result.history.sizes['epoch']}, final train tW2 {last:.6g})",
        file=sys.stdout,
    )
    return 0
