"""Resolve a scheduler spec to a dask client, and run tasks on it in completion order."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tqdm.auto import tqdm

from cellsde.errors import CellsdeError

# dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in every worker it spawns. Setting that
# variable switches off glibc's adaptive mmap threshold, so every numpy temporary above 128 KiB
# is mmap'ed and unmapped again: the SSA/tau-leaping loops of a 1000-cell chunk then cost
# 1.6-1.9x the CPU of the same chunk in a normal process (measured, benchmarks/scale.py).
# ``None`` unsets a variable in ``distributed.nanny.pre-spawn-environ``. The statistical
# profiler samples every task thread each 10 ms for the dashboard, which local clusters do not
# start; it costs another ~5-10 % of a worker's CPU on these Python-level loops.
LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}


def _require_distributed():
    try:
        import distributed
    except ImportError:
        raise CellsdeError(
            "dask.distributed is not installed; install it with pip install 'cellsde[dask]'"
        ) from None
    return distributed


@contextlib.contextmanager
def connect(spec: str, *, timeout: float = 30.0) -> Iterator[Any]:
    """A :class:`distributed.Client` for ``spec``, closed (with its local cluster) on exit.

    Parameters
    ----------
    spec : str
        ``"local:N"``: start a ``LocalCluster`` of N single-threaded worker processes (no
        dashboard, loopback only), without dask's ``MALLOC_TRIM_THRESHOLD_`` worker setting,
        which slows numpy-heavy simulation loops ~1.7x, and without the worker profiler. Anything else is a scheduler
        address, e.g. ``"tcp://10.0.0.5:8786"``; for such clusters start the workers with
        ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`` in the dask
        config for the same speed.
    timeout : float
        Seconds to wait for a remote scheduler.

    Yields
    ------
    distributed.Client
    """
    distributed = _require_distributed()
    import dask.config

    if spec.startswith("local:"):
        count = spec.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise CellsdeError(f"scheduler {spec!r}: expected local:N with N >= 1, e.g. local:2")
        with dask.config.set(LOCAL_CLUSTER_CONFIG):  # read when the nannies are made
            cluster = distributed.LocalCluster(
                n_workers=int(count), threads_per_worker=1, processes=True,
                dashboard_address=None, host="127.0.0.1",
            )  # fmt: skip
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(spec, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise CellsdeError(
            f"cannot reach the dask scheduler at {spec!r} ({err}); start one with "
            "`dask scheduler` or use --scheduler local:N"
        ) from None
    with client:
        yield client


def run_tasks(
    client: Any,
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    retries: int = 2,
    label: str = "task",
    unpack: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(task)`` (``fn(**task)`` with ``unpack``) for every task, here or on dask.

    Yields ``(position, result)`` in completion order (input order when local). On dask each
    task is retried ``retries`` times after an exception; a task whose worker dies is
    rescheduled by the scheduler (``distributed.scheduler.allowed-failures``) and, past that
    limit, raises :class:`CellsdeError` naming the task.
    """
    # progress on a terminal only (tqdm's disable=None); closed when the generator is
    bar = tqdm(total=len(tasks), desc=f"{label}s", unit=label, leave=False, disable=None)
    if client is None:
        with bar:
            for i, task in enumerate(tasks):
                result = fn(**task) if unpack else fn(task)
                bar.update(1)
                yield i, result
        return
    distributed = _require_distributed()
    futures = [
        client.submit(fn, **task, pure=False, retries=retries)
        if unpack
        else client.submit(fn, task, pure=False, retries=retries)
        for task in tasks
    ]
    position = {f.key: i for i, f in enumerate(futures)}
    try:
        for future in distributed.as_completed(futures):
            i = position[future.key]
            try:
                result = future.result()
            except distributed.KilledWorker as err:
                raise CellsdeError(
                    f"{label} {i} killed its dask worker repeatedly ({err}); the workers may "
                    "be running out of memory: use smaller chunks or more memory per worker"
                ) from None
            future.release()
            bar.update(1)
            yield i, result
    finally:
        bar.close()
        for future in futures:
            future.cancel()
