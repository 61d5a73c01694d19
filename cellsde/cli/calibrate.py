"""``cellsde calibrate``: estimate a mechanistic model's cell population from lab data."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "calibrate",
        help="estimate a model's population (median, spread per free parameter) from lab data",
        description=(
            "Fit the population distribution of MODEL's free parameters to the measured cells "
            "in DATA (time-decoupled W2 per condition and frame). Conditions come from the "
            "data's ligand/dose/dose_units coords (registered models) or from --condition."
        ),
        epilog=(
            "example: cellsde calibrate guo2024 lab.nc --free NFkB_total p54 p99 "
            "--observable nfkb_nuclear --noise fit --out population.nc"
        ),
    )
    p.add_argument("model", help="registered model name or SBML file (.xml)")
    p.add_argument("data", help="measured cells (.nc/.zarr), time 0 = stimulus")
    p.add_argument("--out", required=True, help="population file to write (.nc)")
    p.add_argument("--free", nargs="+", required=True, metavar="NAME[:LOW:HIGH]",
                   help="free parameters, optionally with bounds (default: the model's, else x/10..10x)")  # fmt: skip
    p.add_argument(
        "--observable", help="model observable or recipe A+2*B (default: the data's species)"
    )
    p.add_argument(
        "--measured", help="data species compared with the observable (default: the only one)"
    )
    for name, default in (("scale", "1"), ("offset", "0"), ("noise", "0")):
        p.add_argument(
            f"--{name}", default=default, help=f"'fit' or a fixed value (default {default})"
        )
    p.add_argument("--condition", action="append", default=[], metavar="GROUP:SPECIES=VALUE",
                   help="stimulus of a data group (repeatable), when the data have no ligand/dose coords")  # fmt: skip
    p.add_argument("--cells", type=int, help="simulated cells per condition (default: as measured)")
    p.add_argument("--plain", action="store_true", help="plain W2 loss instead of the debiased one")
    p.add_argument("--correlated", action="store_true", help="estimate correlations too")
    p.add_argument(
        "--redraw", action="store_true",
        help="new simulated cells at every iteration (stochastic search of the expected loss) "
        "instead of one fixed set of draws",
    )  # fmt: skip
    p.add_argument(
        "--method", default="ode",
        help="how cells are simulated: ode (exact gradients) or a stochastic method (cle, ssa, "
        "tau; needs --optimizer cmaes)",
    )  # fmt: skip
    p.add_argument(
        "--optimizer", default=None,
        help="adam on exact gradients (ode) or derivative-free cmaes (default: adam for ode, "
        "cmaes otherwise)",
    )  # fmt: skip
    p.add_argument("--starts", type=int, default=4, help="multi-start: starting points explored")
    p.add_argument("--explore", type=int, default=25, help="iterations of every start")
    p.add_argument("--iterations", type=int, default=150, help="iterations of the best start")
    p.add_argument(
        "--lr", type=float, default=None, help="Adam learning rate (unconstrained scale)"
    )
    p.add_argument(
        "--bootstrap", type=int, default=200, help="replicates for the intervals (0: none)"
    )
    p.add_argument("--seed", type=int, default=0, help="seeds the draws, starts and bootstrap")
    p.add_argument("--checkpoint", help="resumable state, written after every iteration")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=run)


def _free(text: str):
    from cellsde.calibration import FreeParameter
    from cellsde.errors import CellsdeError

    name, *bounds = text.split(":")
    if len(bounds) not in (0, 2):
        raise CellsdeError(f"--free {text!r}: write NAME or NAME:LOW:HIGH")
    try:
        lo, hi = (float(b) for b in bounds) if bounds else (None, None)
    except ValueError:
        raise CellsdeError(f"--free {text!r}: the bounds must be numbers") from None
    return FreeParameter(name, lo, hi)


def _fixed_or_fit(name: str, text: str) -> float | str:
    from cellsde.errors import CellsdeError

    if text == "fit":
        return text
    try:
        return float(text)
    except ValueError:
        raise CellsdeError(f"--{name} {text!r}: give 'fit' or a number") from None


def _conditions(items: list[str]) -> dict | None:
    from cellsde.errors import CellsdeError

    if not items:
        return None
    out: dict = {}
    for item in items:
        group, sep, rest = item.partition(":")
        species, eq, value = rest.partition("=")
        if not (sep and eq and species.strip()):
            raise CellsdeError(f"--condition {item!r}: write GROUP:SPECIES=VALUE")
        key: Any = int(group) if group.strip().lstrip("-").isdigit() else group.strip()
        try:
            out.setdefault(key, {})[species.strip()] = float(value)
        except ValueError:
            raise CellsdeError(f"--condition {item!r}: the value must be a number") from None
    return out


def run(args: argparse.Namespace) -> int:
    from cellsde.calibration import CalibrationConfig, ObservationModel, calibrate, write_population
    from cellsde.cli._paths import TABLE_SUFFIXES, output_file
    from cellsde.datasets import open_dataset
    from cellsde.errors import CellsdeError

    out = output_file(args.out, suffixes=TABLE_SUFFIXES)  # a population is a netCDF table
    if args.resume and not args.checkpoint:
        raise CellsdeError("--resume needs --checkpoint PATH")
    free = [_free(t) for t in args.free]
    data = open_dataset(args.data)
    species = [str(s) for s in data["species"].values]
    measured = args.measured or (species[0] if len(species) == 1 else None)
    if measured is None:
        raise CellsdeError(f"the data have species {species}; name one with --measured")
    observation = ObservationModel(
        observable=args.observable or measured, measured=measured,
        scale=_fixed_or_fit("scale", args.scale), offset=_fixed_or_fit("offset", args.offset),
        noise=_fixed_or_fit("noise", args.noise),
    )  # fmt: skip
    options = {"lr": args.lr} if args.lr is not None else {}
    config = CalibrationConfig(
        cells=args.cells, debiased=not args.plain, correlated=args.correlated,
        redraw=args.redraw, method=args.method,
        optimizer=args.optimizer or ("adam" if args.method == "ode" else "cmaes"),
        starts=args.starts, explore_iterations=min(args.explore, args.iterations),
        iterations=args.iterations, bootstrap=args.bootstrap, seed=args.seed,
        checkpoint_path=args.checkpoint, resume=args.resume, progress=args.progress, **options,
    )  # fmt: skip
    result = calibrate(args.model, data, free=free, observation=observation,
                       conditions=_conditions(args.condition), config=config)  # fmt: skip
    write_population(result.population, out)
    pop = result.population
    has_ci = "median_interval" in pop
    for j, name in enumerate(pop["param"].values):
        ci = ""
        if has_ci:
            lo, hi = pop["median_interval"].values[j]
            ci = f" [{lo:.4g}, {hi:.4g}]"
        print(f"{name}: median {pop['median'].values[j]:.4g}{ci}, spread {pop['spread'].values[j]:.3g}",
              file=sys.stdout)  # fmt: skip
    print(f"loss {pop.attrs['loss']:.4g}; wrote {out}", file=sys.stdout)
    return 0
