"""``cellsde fit``: fit an END-nSDE to a population dataset.

Everything a user can mistype fails in the first second, as one line: output names, an
unknown preset, an unknown or mistyped TOML key (with the nearest key suggested), a fit that
would not fit in memory. The training state is written after every epoch (unless the TOML
says otherwise), so Ctrl-C stops with one line and ``--resume`` continues from the last epoch.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from pathlib import Path
from typing import Any

from cellsde.errors import CellsdeError

log = logging.getLogger("cellsde")


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
    p.add_argument("--history", help="also write the per-epoch history to this file (.nc)")
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


def check_keys(table: dict[str, Any], known: set[str], *, where: str) -> None:
    """Raise one line for a key of ``table`` that is not in ``known`` (nearest key suggested)."""
    for key in table:
        if key not in known:
            near = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise CellsdeError(
                f"{where}: unknown key {key!r}; {hint}keys: {', '.join(sorted(known))}"
            )


def _build(factory: Any, options: dict[str, Any], *, where: str) -> Any:
    """``factory(**options)`` with a wrong value reported as one line naming ``where``."""
    try:
        return factory(**options)
    except (TypeError, ValueError) as err:
        raise CellsdeError(f"{where}: {err}") from None


def _config(args: argparse.Namespace) -> tuple[dict[str, Any], Any, bool]:
    """(model options, FitConfig, whether the TOML sets checkpoint_every)."""
    from cellsde.nn.endnsde import ENDnSDEConfig
    from cellsde.training import PRESETS, FitConfig, preset, preset_model_options

    if args.preset is not None and args.preset not in PRESETS:
        near = difflib.get_close_matches(args.preset, list(PRESETS), n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise CellsdeError(f"unknown preset {args.preset!r}; {hint}presets: {', '.join(PRESETS)}")
    model_opts: dict[str, Any] = preset_model_options(args.preset) if args.preset else {}
    fit_opts: dict[str, Any] = {}
    if args.config:
        doc = _read_toml(args.config)
        derived = {"species", "params", "time_units", "species_units", "param_units"}
        check_keys(doc.get("model", {}), set(ENDnSDEConfig.__dataclass_fields__) - derived,
                   where=f"{args.config} [model]")  # fmt: skip
        check_keys(doc.get("fit", {}), set(FitConfig.__dataclass_fields__),
                   where=f"{args.config} [fit]")  # fmt: skip
        model_opts.update(doc.get("model", {}))
        fit_opts.update(doc.get("fit", {}))
    if args.preset:
        base = _build(lambda **o: preset(args.preset, **o), fit_opts, where="[fit]")
    else:
        base = _build(FitConfig, fit_opts, where="[fit]")
    return model_opts, base, "checkpoint_every" in fit_opts


def run(args: argparse.Namespace) -> int:
    from cellsde.cli._groups import hold_out
    from cellsde.cli._paths import MODEL_SUFFIXES, TABLE_SUFFIXES, output_file
    from cellsde.datasets import open_dataset
    from cellsde.datasets.conditions import conditions
    from cellsde.datasets.schema import PARAM, SPECIES, THETA
    from cellsde.datasets.units import value_units
    from cellsde.nn.covariates import covariate_columns, covariates_from_data
    from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

    out = output_file(args.out, suffixes=MODEL_SUFFIXES)
    checkpoint = args.checkpoint or f"{args.out}.state"
    output_file(checkpoint, suffixes=(Path(checkpoint).suffix.lower(),), option="--checkpoint")
    if args.history:
        output_file(args.history, suffixes=TABLE_SUFFIXES, option="--history")
    model_opts, base, own_every = _config(args)
    overrides = {
        k: v
        for k, v in (("epochs", args.epochs), ("seed", args.seed), ("device", args.device))
        if v is not None
    }
    config = base.replace(
        **overrides, checkpoint_path=checkpoint, resume=args.resume, progress=None,
        checkpoint_every=base.checkpoint_every if own_every else 1,  # Ctrl-C loses no epoch
    )  # fmt: skip
    ds = open_dataset(args.data)
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
    time_units = ds["time"].attrs.get("units", "dimensionless")
    values = value_units(ds)
    model = _build(
        lambda **o: ENDnSDE(ENDnSDEConfig(**o), seed=config.seed),
        {"species": species, "params": params, "time_units": time_units, "covariates": covariates,
         "species_units": (values,) * len(species) if values else (), **model_opts},
        where="[model]",
    )  # fmt: skip
    result = _fit(model, ds, valid, config, args)
    meta = {
        "fit_config": config.to_json(),
        "data": str(Path(args.data).name),
        "best_epoch": result.best_epoch,
        "units": {"time": time_units, "values": values},
        "conditions": conditions(ds),
    }
    from cellsde.nn.checkpoint import save_model

    save_model(result.model, out, metadata=meta)
    if args.history:
        from cellsde.datasets.io import write_table

        write_table(result.history.assign_attrs(config=config.to_json()), args.history)
    last = result.history["train_loss"].values[-1]
    print(
        f"wrote {out} (epochs run: {result.history.sizes['epoch']}, final train tW2 {last:.6g})",
        file=sys.stdout,
    )
    return 0


def _fit(model: Any, ds: Any, valid: Any, config: Any, args: argparse.Namespace) -> Any:
    """Run the fit; Ctrl-C ends with one line naming the saved state and how to continue."""
    from cellsde.training import fit

    try:
        return fit(model, ds, valid=valid, config=config)
    except KeyboardInterrupt:
        state = Path(config.checkpoint_path)
        where = (
            f"the training state of the last finished epoch is in {state}; continue with the "
            "same command and --resume"
            if state.is_file()
            else "no epoch had finished, so no training state was saved"
        )
        raise FitInterrupted(f"interrupted: {where}") from None


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``, with the line to print."""
