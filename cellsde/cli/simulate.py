"""``cellsde simulate``: simulate a population of a registered or SBML model to a file.

One plain run by default; ``--chunk-cells`` / ``--scheduler`` run it in chunks of cells (on
dask with a scheduler), and with a ``.zarr`` output each finished chunk is written at once so
that ``--resume`` can complete an interrupted run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import math
import sys
from pathlib import Path

import numpy as np

from cellsde.cli import _observables
from cellsde.cli._model_spec import model_from_spec, model_options, stimulus_coords
from cellsde.cli._paths import DATASET_SUFFIXES, output_file
from cellsde.errors import CellsdeError

log = logging.getLogger("cellsde")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate a heterogeneous cell population",
        description=(
            "Simulate N cells of MODEL (a registered name, see `cellsde models`, or an SBML "
            "file) from t=0 to --t-end, saving every --save-every, and write a dataset file."
        ),
    )
    p.add_argument("model", metavar="MODEL", help="registered model name or path to an SBML file")
    p.add_argument("--cells", type=int, default=100, help="number of cells (default 100)")
    p.add_argument("--t-end", type=float, required=True, help="end time (model time units)")
    p.add_argument(
        "--save-every", type=float, default=None, help="output spacing (default t-end/100)"
    )
    p.add_argument(
        "--method", default=None,
        help="ode, ssa, tau or cle for reaction networks; sde; lattice-ssa (default: ode / sde "
        "/ lattice-ssa by model kind)",
    )  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output file (.nc, .h5 or .zarr)")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="set a nominal parameter value (repeatable)",
    )  # fmt: skip
    p.add_argument("--heterogeneity", choices=("default", "none"), default="default")
    p.add_argument("--ligand", help="stimulus ligand of models with a two-phase protocol (guo2024)")
    p.add_argument("--dose", type=float, help="ligand dose, in --dose-units (required with it)")
    p.add_argument("--dose-units", help="units of --dose, e.g. ng/mL, nM, ug/mL")
    p.add_argument(
        "--molecules-per-unit", type=float, metavar="N",
        help="ssa/tau/cle on a model in concentrations of unknown scale: molecules per unit of "
        "concentration x compartment volume (e.g. 6.022e17 for µM and litres)",
    )  # fmt: skip
    p.add_argument(
        "--population", metavar="FILE",
        help="draw the cells from a population calibrated with `cellsde calibrate` and write the "
        "observable under its measured name (scale, offset and measurement noise applied)",
    )  # fmt: skip
    _observables.add_options(p, initial_state=False)
    p.add_argument("--dt", type=float, default=None, help="step of cle/sde")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS|local:N",
        help="run chunks of cells on dask: a scheduler address or local:N worker processes",
    )  # fmt: skip
    p.add_argument(
        "--chunk-cells", type=int, default=None, metavar="C",
        help="cells per chunk (default 1000 with --scheduler); with a .zarr output each "
        "finished chunk is written at once",
    )  # fmt: skip
    p.add_argument(
        "--resume", action="store_true",
        help="complete the missing chunks of an interrupted chunked run into the same .zarr",
    )  # fmt: skip
    p.set_defaults(func=run)


def parse_params(items: list[str]) -> dict[str, float]:
    """``["k=1.5", ...]`` -> ``{"k": 1.5}``; one clear error per bad item."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CellsdeError(f"--param {item!r}: expected NAME=VALUE, e.g. --param deltaR=0.1")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise CellsdeError(f"--param {item!r}: {value!r} is not a number") from None
    return out


def time_grid(t_end: float, save_every: float | None) -> np.ndarray:
    """Output times ``0, dt, 2 dt, ..., t_end`` (t_end included)."""
    if not (math.isfinite(t_end) and t_end > 0):
        raise CellsdeError(f"--t-end must be a finite number > 0, got {t_end}")
    step = t_end / 100 if save_every is None else save_every
    if not (math.isfinite(step) and 0 < step <= t_end):
        raise CellsdeError(f"--save-every must be in (0, t-end], got {save_every}")
    n = math.floor(t_end / step * (1 + 1e-12))
    times = np.arange(n + 1) * step
    return times if math.isclose(times[-1], t_end) else np.append(times, t_end)


def run(args: argparse.Namespace) -> int:
    if args.cells < 1:
        raise CellsdeError(f"--cells must be >= 1, got {args.cells}")
    out = output_file(args.out, suffixes=DATASET_SUFFIXES)
    chunk = _chunk_cells(args, out)
    recipes = _observables.parse_observables(args.observable)
    options = {
        "times": time_grid(args.t_end, args.save_every), "n_cells": args.cells,
        "method": args.method, "seed": args.seed, "params": parse_params(args.param),
        "heterogeneity": args.heterogeneity, "dt": args.dt, "device": args.device,
    }  # fmt: skip
    try:
        model = _counted(model_from_spec(args.model, model_options(args)), args)
        _check_recipes(model, recipes)
        if args.population is not None:
            return _run_population(args, out, model, options["times"], recipes)
        if chunk is not None:
            return _run_chunked(args, out, model, options, chunk, recipes)
        from cellsde.simulation import simulate

        ds = simulate(model, **options, progress=args.progress)
    except KeyError as err:  # unknown names: re-raise with a plain (unquoted) message
        raise CellsdeError(str(err.args[0]) if err.args else "unknown name") from None
    ds = _label(ds, model, args, recipes)
    from cellsde.datasets import save_dataset

    save_dataset(ds, out)
    print(
        f"wrote {out}: {ds.sizes['cell']} cells x {ds.sizes['time']} times x "
        f"{ds.sizes['species']} species ({ds.attrs['method']}, seed {args.seed})",
        file=sys.stdout,
    )
    return 0


def _counted(model, args: argparse.Namespace):
    """``model`` with ``--molecules-per-unit`` as its ``system_size`` (reaction networks only)."""
    if args.molecules_per_unit is None:
        return model
    from models_bio.network import ReactionNetwork

    n = args.molecules_per_unit
    if not (math.isfinite(n) and n > 0):
        raise CellsdeError(f"--molecules-per-unit must be a number > 0, got {n}")
    if not isinstance(model, ReactionNetwork):
        raise CellsdeError("--molecules-per-unit applies to reaction networks (SBML, guo2024...)")
    return dataclasses.replace(model, system_size=float(n))


def _check_recipes(model, recipes: dict) -> None:
    """Every part of an ``--observable`` is a variable the model can report."""
    if not recipes:
        return
    from cellsde.simulation.kinds import reportable, resolve_model

    resolved, kind = resolve_model(model)
    _observables.check_parts(recipes, reportable(resolved, kind)[0], whose="the model")


def _label(ds, model, args: argparse.Namespace, recipes: dict):
    """Add the ``--observable`` sums and the per-cell stimulus (``ligand``, ``dose``...)."""
    if recipes:
        from cellsde.inference.observables import derive_observables

        ds = derive_observables(ds, recipes, names=list(recipes))
    coords = stimulus_coords(model, args, ds.sizes["cell"])
    if coords:
        ds = ds.assign_coords({k: ("cell", np.asarray(v)) for k, v in coords.items()})
    return ds


def _run_population(
    args: argparse.Namespace, out: Path, model, times: np.ndarray, recipes: dict
) -> int:
    """Cells drawn from a calibrated population, as they would be measured."""
    from cellsde.calibration import open_population, simulate_population
    from cellsde.datasets import save_dataset

    if args.method not in (None, "ode") or args.chunk_cells or args.scheduler or args.param:
        raise CellsdeError(
            "--population runs the ODE model in one piece; drop --method/--param/chunks"
        )
    if recipes:
        raise CellsdeError(
            "--population writes the population's measured observable; drop --observable"
        )
    from models_bio.network import ReactionNetwork

    if not isinstance(model, ReactionNetwork):
        raise CellsdeError("--population needs a reaction-network model (registered or SBML)")
    pop = open_population(args.population, model=model.name)
    ds = simulate_population(model, pop, times=times, n_cells=args.cells, seed=args.seed)
    save_dataset(ds, out)
    print(f"wrote {out}: {args.cells} cells of {args.population} as {pop.attrs['measured']} "
          f"(seed {args.seed})", file=sys.stdout)  # fmt: skip
    return 0


def _chunk_cells(args: argparse.Namespace, out: Path) -> int | None:
    """Cells per chunk of a chunked run (--scheduler, --chunk-cells, --resume), else None."""
    from cellsde.distributed import DEFAULT_CHUNK_CELLS

    if args.scheduler is None and args.chunk_cells is None and not args.resume:
        return None
    chunk = DEFAULT_CHUNK_CELLS if args.chunk_cells is None else args.chunk_cells
    if chunk < 1:
        raise CellsdeError(f"--chunk-cells must be >= 1, got {chunk}")
    if args.resume and out.suffix != ".zarr":
        raise CellsdeError("--resume needs a .zarr output (chunks are kept only in zarr stores)")
    return chunk


def _run_chunked(
    args: argparse.Namespace, out: Path, model, options: dict, chunk: int, recipes: dict
) -> int:
    """Simulate in chunks (on dask with ``--scheduler``), writing a .zarr incrementally."""
    from cellsde.datasets import save_dataset
    from cellsde.distributed import connect
    from cellsde.simulation import simulate_chunked, simulate_to_zarr

    scheduler = (
        connect(args.scheduler) if args.scheduler is not None else contextlib.nullcontext(None)
    )
    with scheduler as client:
        if out.suffix == ".zarr":
            if args.observable or args.ligand:
                raise CellsdeError(
                    "--observable/--ligand records are not added to chunked .zarr stores; "
                    "write a .nc file, or use `cellsde subset` on the store afterwards"
                )
            try:
                simulate_to_zarr(
                    model, out, client=client, resume=args.resume, chunk_cells=chunk, **options
                )
            except KeyboardInterrupt:
                print(f"cellsde: interrupted; the finished chunks are in {out}; complete the "
                      "run with the same command and --resume", file=sys.stderr)  # fmt: skip
                return 130
        else:
            ds = simulate_chunked(model, client=client, chunk_cells=chunk, **options)
            save_dataset(_label(ds, model, args, recipes), out)
    n_chunks = -(-args.cells // min(chunk, args.cells))
    where = args.scheduler or "this process"
    print(
        f"wrote {out}: {args.cells} cells in {n_chunks} chunks of {min(chunk, args.cells)} "
        f"({where}, seed {args.seed})",
        file=sys.stdout,
    )
    return 0
