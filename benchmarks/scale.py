"""Scaling a population simulation out with dask: 1 vs N workers, and dask's overhead.

Runs ``--cells`` cells of ``--model`` with ``--method`` from 0 to ``--t-end`` three ways, with the
same seed: a plain :func:`cellsde.simulate` in this process (the peer), and
``cellsde.simulate(..., client=..., chunk_cells=C)`` on a ``LocalCluster`` of 1 and of
``--workers`` single-threaded worker processes. Reports wall times, the speed-up of N workers
over 1, the overhead of the chunked dask run over the plain run, and the peak RSS of each
worker (``ru_maxrss``), which is bounded by the chunk size, not the population size.

The issue's target, 100 000 Vilar cells x 100 h, is the same script with larger numbers::

    python benchmarks/scale.py --cells 100000 --t-end 100 --save-every 1 --chunk-cells 1000 \\
        --workers 16 --skip-plain

or, writing the population to disk as it is made::

    cellsde simulate vilar2002 --method tau --cells 100000 --t-end 100 --save-every 1 \\
        --chunk-cells 1000 --scheduler local:16 --out vilar.zarr     # add --resume after a crash

Usage here (2 shared cores): ``OMP_NUM_THREADS=1 python benchmarks/scale.py --write-docs``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Scaling with dask"


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _warm() -> bool:
    # import torch and the solvers before timing
    import cellsde.simulation
    import cellsde.solvers.tau_leap  # noqa: F401

    return True


def _cluster_run(n_workers: int, kwargs: dict, chunk_cells: int, *, dask_malloc: bool = False):
    """Time ``simulate`` on ``connect("local:N")`` (what ``--scheduler local:N`` uses).

    ``dask_malloc=True`` keeps dask's default workers (MALLOC_TRIM_THRESHOLD_=65536, profiler
    on), which ``connect`` changes, to show what those defaults cost.
    """
    import contextlib

    from distributed import Client, LocalCluster

    import cellsde
    from cellsde.distributed import connect

    @contextlib.contextmanager
    def dask_default():  # a plain LocalCluster, dask's worker environment untouched
        with (
            LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True,
                dashboard_address=None, host="127.0.0.1",
            ) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            yield client

    t0 = time.perf_counter()
    with dask_default() if dask_malloc else connect(f"local:{n_workers}") as client:
        client.run(_warm)
        start = time.perf_counter() - t0
        cpu0 = sum(client.run(_cpu_seconds).values()) + time.process_time()
        t0 = time.perf_counter()
        ds = cellsde.simulate(**kwargs, client=client, chunk_cells=chunk_cells)
        wall = time.perf_counter() - t0
        cpu = sum(client.run(_cpu_seconds).values()) + time.process_time() - cpu0
        rss = sorted(client.run(_peak_rss_mib).values())
    return ds, wall, cpu, start, rss


def _write_docs(text: str) -> Path:
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find(HEADING + "\n")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(HEADING))
        new = old[:start] + text + (old[end + 1 :] if end >= 0 else "")
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(new)
    os.replace(tmp, path)
    return path


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="vilar2002")
    p.add_argument("--method", default="tau")
    p.add_argument("--cells", type=int, default=4000)
    p.add_argument("--chunk-cells", type=int, default=1000)
    p.add_argument("--t-end", type=float, default=2.0, help="hours (model time units)")
    p.add_argument("--save-every", type=float, default=0.1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-plain", action="store_true", help="no single-process peer run")
    p.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = p.parse_args(argv)

    import cellsde

    times = np.arange(0.0, args.t_end + 1e-9, args.save_every)
    kwargs = {"model": args.model, "times": times, "n_cells": args.cells,
              "method": args.method, "seed": args.seed}  # fmt: skip
    load0 = os.getloadavg()
    plain_wall = plain_cpu = plain_rss = float("nan")
    if not args.skip_plain:
        rss0 = _peak_rss_mib()
        t0, c0 = time.perf_counter(), time.process_time()
        plain = cellsde.simulate(**kwargs)
        plain_wall, plain_cpu = time.perf_counter() - t0, time.process_time() - c0
        plain_rss = _peak_rss_mib()
        del plain
        plain_rss = max(plain_rss - rss0, 0.0)
    t0, c0 = time.perf_counter(), time.process_time()
    here = cellsde.simulate(**kwargs, chunk_cells=args.chunk_cells)  # chunked, no dask
    here_wall, here_cpu = time.perf_counter() - t0, time.process_time() - c0
    one, wall1, cpu1, start1, rss1 = _cluster_run(1, kwargs, args.chunk_cells)
    many, wall_n, cpu_n, start_n, rss_n = _cluster_run(args.workers, kwargs, args.chunk_cells)
    _, wall_d, cpu_d, _, rss_d = _cluster_run(1, kwargs, args.chunk_cells, dask_malloc=True)
    same = all(np.array_equal(here.x.values, d.x.values, equal_nan=True) for d in (one, many))
    load1 = os.getloadavg()
    n_chunks = one.attrs["n_chunks"]

    lines = [
        HEADING,
        "",
        f"### {args.model} ({args.method}), {args.cells} cells × {args.t_end:g} h "
        f"(output every {args.save_every:g} h), chunks of {args.chunk_cells} cells "
        f"({n_chunks} chunks), seed {args.seed}",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores shared "
        f"with other jobs: load average {load0[0]:.1f} before, {load1[0]:.1f} after (so the "
        "speed-up is a lower bound of what idle cores give). LocalCluster of single-threaded "
        "worker processes on loopback, OMP_NUM_THREADS=1; cluster start and worker imports "
        f"({start1:.1f} s / {start_n:.1f} s) not included. 1-worker and "
        f"{args.workers}-worker results identical to the in-process chunked run: {same}. "
        "CPU = user + system seconds of the client (which hosts the scheduler) and all "
        f"workers. The plain run got {plain_cpu / plain_wall:.2f} of a core (CPU / wall): "
        "when that is well below 1 the machine is saturated, wall-clock speed-ups cannot "
        "show, and the CPU columns are the load-independent measure of overhead.",
        "",
        "| run | wall (s) | CPU (s) | wall / plain | CPU / plain | wall speed-up vs 1 worker "
        "| peak RSS per worker (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| plain `simulate`, one process (peer) | {plain_wall:.1f} | {plain_cpu:.1f} | 1.00× | "
        f"1.00× | – | +{plain_rss:.0f} (growth of this process) |",
        f"| chunked, no dask (`chunk_cells={args.chunk_cells}`) | {here_wall:.1f} | "
        f"{here_cpu:.1f} | {here_wall / plain_wall:.2f}× | {here_cpu / plain_cpu:.2f}× | – | – |",
        f"| dask, 1 worker | {wall1:.1f} | {cpu1:.1f} | {wall1 / plain_wall:.2f}× | "
        f"{cpu1 / plain_cpu:.2f}× | 1.00× | {', '.join(f'{r:.0f}' for r in rss1)} |",
        f"| dask, {args.workers} workers | {wall_n:.1f} | {cpu_n:.1f} | "
        f"{wall_n / plain_wall:.2f}× | {cpu_n / plain_cpu:.2f}× | {wall1 / wall_n:.2f}× | "
        f"{', '.join(f'{r:.0f}' for r in rss_n)} |",
        f"| dask, 1 worker, dask's default workers (MALLOC_TRIM_THRESHOLD_=65536, profiler on) | "
        f"{wall_d:.1f} | {cpu_d:.1f} | {wall_d / plain_wall:.2f}× | {cpu_d / plain_cpu:.2f}× | "
        f"{wall1 / wall_d:.2f}× | {', '.join(f'{r:.0f}' for r in rss_d)} |",
        "",
        f"Dask overhead (1-worker run / plain run): {wall1 / plain_wall:.2f}× wall, "
        f"{cpu1 / plain_cpu:.2f}× CPU; of which chunking alone: {here_wall / plain_wall:.2f}× "
        f"wall. Speed-up of {args.workers} workers over 1: {wall1 / wall_n:.2f}× wall. A "
        f"worker holds one chunk ({args.chunk_cells} cells) at a time, so its peak RSS is the "
        "imported libraries (torch, numpy, xarray) plus one chunk, whatever the population. "
        "The clusters are made by `cellsde.distributed.connect('local:N')` (what "
        "`--scheduler local:N` uses), which unsets dask's MALLOC_TRIM_THRESHOLD_=65536 worker "
        "setting (with it glibc maps and unmaps every numpy temporary above 128 KiB) and "
        "switches off the dashboard's worker profiler; the last row shows what dask's defaults "
        "cost. On your own cluster use the dask config in docs/api/distributed.md.",
        "",
        "Full-size command (issue #9 target, 100 000 cells × 100 h):",
        "",
        "```",
        "cellsde simulate vilar2002 --method tau --cells 100000 --t-end 100 --save-every 1 \\",
        "    --chunk-cells 1000 --scheduler local:16 --out vilar.zarr   # --resume after a crash",
        "```",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        print(f"updated {_write_docs(text)}")
    return text


if __name__ == "__main__":
    main()
