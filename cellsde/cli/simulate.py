"""``cellsde simulate``: simulate a population of a registered or SBML model to a file.

One plain run by default; ``--chunk-cells`` / ``--scheduler`` run it in chunks of cells (on
dask with a scheduler), and with a ``.zarr`` output each finished chunk is written at once so
that ``--resume`` can complete an interrupted run.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from pathlib import Path

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers.methods import METHODS


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
        "--method", choices=tuple(METHODS), default=None, help="default: ode / sde by model kind"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output file (.nc, .h5 or .zarr)")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="set a nominal parameter value (repeatable)",
    )  # fmt: skip
    p.add_argument("--heterogeneity", choices=("default", "none"), default="default")
    p.add_argument("--ligand", help="stimulus ligand of models with a two-phase protocol (guo2024)")
    p.add_argument("--dose", type=float, help="ligand dose, in --dose-units")
    p.add_argument("--dose-units", help="units of --dose, e.g. ng/mL, nM, ug/mL")
    p.add_argument(
        "--population", metavar="FILE",
        help="draw the cells from a population calibrated with `cellsde calibrate` and write the "
        "observable under its measured name (scale, offset and measurement noise applied)",
    )  # fmt: skip
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


def model_options(args: argparse.Namespace) -> dict[str, object]:
    """Constructor options given on the command line (``--ligand``, ``--dose``, ``--dose-units``)."""
    given = {"ligand": args.ligand, "dose": args.dose, "dose_units": args.dose_units}
    return {k: v for k, v in given.items() if v is not None}


def model_from_spec(spec: str, options: dict[str, object] | None = None):
    """A registered model (built with ``options``), or an SBML file read with ``read_sbml``."""
    import inspect

    import models_bio
    from models_bio.registry import constructor

    options = options or {}
    if spec in models_bio.available():
        accepted = inspect.signature(constructor(spec)).parameters
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
            raise CellsdeError(f"model {spec!r} takes no {flags} option")
        return models_bio.get(spec, **options)
    if options:
        raise CellsdeError(
            "--ligand/--dose/--dose-units apply to registered models such as guo2024"
        )
    path = Path(spec)
    if path.suffix.lower() in (".xml", ".sbml") or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"SBML file {spec!r} does not exist")
        try:
            from models_bio.sbml import read_sbml
        except ImportError as err:
            raise CellsdeError(f"cannot read SBML ({err}); install cellsde[sbml]") from None
        return read_sbml(path)
    raise CellsdeError(
        f"unknown model {spec!r}; available models: {', '.join(models_bio.available())} "
        "(or give the path of an SBML .xml file)"
    )


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
    out = Path(args.out)
    if out.suffix not in (".nc", ".h5", ".zarr"):
        raise CellsdeError(f"--out {args.out!r}: use a .nc, .h5 or .zarr file name")
    chunk = _chunk_cells(args, out)
    options = {
        "times": time_grid(args.t_end, args.save_every), "n_cells": args.cells,
        "method": args.method, "seed": args.seed, "params": parse_params(args.param),
        "heterogeneity": args.heterogeneity, "dt": args.dt, "device": args.device,
    }  # fmt: skip
    try:
        model = model_from_spec(args.model, model_options(args))
        if args.population is not None:
            return _run_population(args, out, model, options["times"])
        if chunk is not None:
            return _run_chunked(args, out, model, options, chunk)
        from cellsde.datasets import save_dataset
        from cellsde.simulation import simulate

        ds = simulate(model, **options, progress=args.progress)
    except KeyError as err:  # unknown names: re-raise with a plain (unquoted) message
        raise CellsdeError(str(err.args[0]) if err.args else "unknown name") from None
    save_dataset(ds, out)
    print(
        f"wrote {out}: {ds.sizes['cell']} cells x {ds.sizes['time']} times x "
        f"{ds.sizes['species']} species ({ds.attrs['method']}, seed {args.seed})",
        file=sys.stdout,
    )
    return 0


def _run_population(args: argparse.Namespace, out: Path, model, times: np.ndarray) -> int:
    """Cells drawn from a calibrated population, as they would be measured."""
    from cellsde.calibration import open_population, simulate_population
    from cellsde.datasets import save_dataset

    if args.method not in (None, "ode") or args.chunk_cells or args.scheduler or args.param:
        raise CellsdeError(
            "--population runs the ODE model in one piece; drop --method/--param/chunks"
        )
    pop = open_population(args.population, model=getattr(model, "name", None))
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


def _run_chunked(args: argparse.Namespace, out: Path, model, options: dict, chunk: int) -> int:
    """Simulate in chunks (on dask with ``--scheduler``), writing a .zarr incrementally."""
    from cellsde.datasets import save_dataset
    from cellsde.distributed import connect
    from cellsde.simulation import simulate_chunked, simulate_to_zarr

    scheduler = (
        connect(args.scheduler) if args.scheduler is not None else contextlib.nullcontext(None)
    )
    with scheduler as client:
        if out.suffix == ".zarr":
            simulate_to_zarr(
                model, out, client=client, resume=args.resume, chunk_cells=chunk, **options
            )
        else:
            save_dataset(simulate_chunked(model, client=client, chunk_cells=chunk, **options), out)
    n_chunks = -(-args.cells // min(chunk, args.cells))
    where = args.scheduler or "this process"
    print(
        f"wrote {out}: {args.cells} cells in {n_chunks} chunks of {min(chunk, args.cells)} "
        f"({where}, seed {args.seed})",
        file=sys.stdout,
    )
    return 0
