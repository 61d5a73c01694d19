"""The chunked / dask path of ``cellsde simulate`` (--scheduler, --chunk-cells, --resume)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np

from cellsde.errors import CellsdeError


def run_chunked(args: argparse.Namespace, out: Path, times: np.ndarray) -> int:
    """Simulate in chunks (on dask with ``--scheduler``), writing a .zarr incrementally."""
    from cellsde.cli.simulate import model_options, parse_params, resolve_model_spec
    from cellsde.datasets import save_dataset
    from cellsde.distributed import DEFAULT_CHUNK_CELLS, connect, simulate_to_zarr
    from cellsde.distributed.population import simulate_chunked

    chunk = DEFAULT_CHUNK_CELLS if args.chunk_cells is None else args.chunk_cells
    if chunk < 1:
        raise CellsdeError(f"--chunk-cells must be >= 1, got {chunk}")
    zarr = out.suffix == ".zarr"
    if args.resume and not zarr:
        raise CellsdeError("--resume needs a .zarr output (chunks are kept only in zarr stores)")
    options = {
        "times": times, "n_cells": args.cells, "method": args.method, "seed": args.seed,
        "params": parse_params(args.param), "heterogeneity": args.heterogeneity, "dt": args.dt,
        "device": args.device, "chunk_cells": chunk,
    }  # fmt: skip
    scheduler = (
        connect(args.scheduler) if args.scheduler is not None else contextlib.nullcontext(None)
    )
    try:
        model = resolve_model_spec(args.model, model_options(args))
        with scheduler as client:
            if zarr:
                simulate_to_zarr(model, out, client=client, resume=args.resume, **options)
            else:
                save_dataset(simulate_chunked(model, client=client, **options), out)
    except KeyError as err:
        raise CellsdeError(str(err.args[0]) if err.args else "unknown name") from None
    n_chunks = -(-args.cells // min(chunk, args.cells))
    where = args.scheduler or "this process"
    print(
        f"wrote {out}: {args.cells} cells in {n_chunks} chunks of {min(chunk, args.cells)} "
        f"({where}, seed {args.seed})",
        file=sys.stdout,
    )
    return 0
