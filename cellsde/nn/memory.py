"""Peak-memory estimates of long work, checked before it starts.

A differentiable Euler–Maruyama rollout keeps, for every step and path, what the backward
pass needs: the input and output of every linear layer of the drift and diffusion networks
(an activation's output is the next layer's input), and a few state-sized tensors of the
Euler update. So training and
the W2 search of ``infer`` need about::

    bytes ~ steps x paths x (sum over linear layers of (in + out) + species x (6 + brownian))
            x bytes per number

where ``steps = sum_i ceil((t_{i+1} - t_i) / dt)`` over the observation grid. With the
segments recomputed in the backward pass (``checkpoint_segments``) only the states at the
observation times and one segment's activations are kept. A simulation keeps its output,
``cells x times x species`` float64 numbers, about three times (solver array, dataset, file
buffer).

:func:`check_memory` compares an estimate with the memory the machine (or GPU) has free
and refuses, naming the options that shrink the work, instead of filling the machine. The
numbers were checked against the measured peak resident memory of ``cellsde fit`` (see
``tests/cellsde/nn/test_memory.py``); they are estimates within a factor of about two,
meant to catch the 100x mistakes (a step of 1e-3 over 480 minutes).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cellsde.errors import CellsdeError

__all__ = [
    "MemoryEstimate",
    "available_bytes",
    "calibration_estimate",
    "check_memory",
    "fit_estimate",
    "format_bytes",
    "infer_estimate",
    "population_estimate",
    "rollout_estimate",
    "simulation_estimate",
]

log = logging.getLogger("cellsde")

# Share of the free memory an estimate may take: the rest is the interpreter, the data,
# and the error of the estimate.
HEADROOM = 0.8


@dataclass(frozen=True)
class MemoryEstimate:
    """An estimate of the peak memory of one piece of work.

    Attributes
    ----------
    bytes : float
        Estimated peak bytes.
    what : str
        The work (``"fit"``, ``"infer"``...), for messages.
    detail : str
        How the number was made (``"96,000 steps x 1,200 paths x 412 numbers x 4 B"``).
    fix : str
        The options that reduce it, named as the user types them.
    """

    bytes: float
    what: str
    detail: str
    fix: str

    def line(self) -> str:
        """One line for ``--verbose``: the estimate and how it was made."""
        return f"{self.what}: estimated peak memory {format_bytes(self.bytes)} ({self.detail})"


def format_bytes(n: float) -> str:
    """``1.5e9`` -> ``"1.4 GiB"``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def euler_steps(times: Sequence[float] | np.ndarray, dt: float) -> int:
    """Euler steps per path over the observation grid ``times`` (as the rollout takes them)."""
    t = np.asarray(times, dtype=np.float64)
    if t.size < 2 or not dt > 0:
        return 0
    return int(np.maximum(1, np.ceil(np.diff(t) / dt - 1e-5)).sum())


def _layer_numbers(model: object) -> int:
    """Numbers kept per path and step by the linear layers of ``model`` (input + output)."""
    from torch import nn

    if not isinstance(model, nn.Module):
        return 0
    return sum(m.in_features + m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def rollout_estimate(
    model: object,
    *,
    times: Sequence[float] | np.ndarray,
    dt: float,
    paths: int,
    what: str,
    fix: str,
    n_brownian: int = 1,
    itemsize: int = 4,
    checkpoint_segments: bool = False,
    grad: bool = True,
    extra_bytes: float = 0.0,
) -> MemoryEstimate:
    """Peak memory of rolling ``paths`` paths of ``model`` over ``times`` with step ``dt``.

    Parameters
    ----------
    model : torch.nn.Module
        The population model (its linear layers size the stored activations).
    times : array_like, shape (time,)
        Observation times, in the units of ``dt``.
    dt : float
        Largest Euler step.
    paths : int
        Paths rolled out together (groups x paths per group x starts x copies).
    what, fix : str
        See :class:`MemoryEstimate`.
    n_brownian : int
        Brownian channels (general noise).
    itemsize : int
        Bytes per number (4 for float32).
    checkpoint_segments : bool
        Segments recomputed in the backward pass (only one segment's activations kept).
    grad : bool
        False for a rollout without gradient (one step's activations only).
    extra_bytes : float
        Memory outside the rollout (W2 cost matrices, data tensors).

    Returns
    -------
    MemoryEstimate
    """
    t = np.asarray(times, dtype=np.float64)
    steps = euler_steps(t, dt)
    n_species = len(model.species)  # type: ignore[attr-defined]  # PopulationModel contract
    per_step = _layer_numbers(model) + n_species * (6 + n_brownian)
    kept = steps
    if not grad:
        kept = 1
    elif checkpoint_segments and t.size > 1:
        kept = int(np.maximum(1, np.ceil(np.diff(t) / dt)).max())
    states = paths * t.size * n_species * itemsize  # the stored path at the observation times
    total = kept * paths * per_step * itemsize + states + extra_bytes
    detail = (
        f"{steps:,} Euler steps (dt {dt:g}) x {paths:,} paths x {per_step} numbers x "
        f"{itemsize} B{' kept for the backward pass' if grad and kept == steps else ''}"
    )
    return MemoryEstimate(bytes=float(total), what=what, detail=detail, fix=fix)


def population_estimate(
    model: object,
    data: object,
    *,
    dt: float,
    n_paths: int | None,
    what: str,
    fix: str,
    copies: int = 1,
    grad: bool = True,
    checkpoint_segments: bool = False,
) -> MemoryEstimate:
    """:func:`rollout_estimate` of ``model`` on every group of the dataset ``data`` at once.

    ``n_paths`` paths per group (None: the largest group's cell count), ``copies`` clouds
    per group (2 for the debiased loss, the number of starts of a W2 search); the W2 cost
    matrices of every (group, time) are added (float64).
    """
    from cellsde.datasets import schema as S

    labels = (
        np.asarray(data[S.GROUP].values) if S.GROUP in data.coords else np.zeros(data.sizes[S.CELL])
    )
    _, counts = np.unique(labels, return_counts=True)
    groups, largest = int(counts.size), int(counts.max()) if counts.size else 0
    per_group = int(n_paths or largest)
    times = np.asarray(data[S.TIME].values, dtype=np.float64)
    w2 = 8.0 * groups * copies * times.size * per_group * largest
    return rollout_estimate(model, times=times, dt=dt, paths=groups * per_group * copies,
                            what=what, fix=fix, n_brownian=_brownian(model), grad=grad,
                            itemsize=_itemsize(model),
                            checkpoint_segments=checkpoint_segments, extra_bytes=w2)  # fmt: skip


def _itemsize(model: object) -> int:
    """Bytes per number of the model's first parameter (4 for float32, 4 without parameters)."""
    for tensor in model.parameters():  # type: ignore[attr-defined]  # a torch module
        return int(tensor.element_size())
    return 4


def _brownian(model: object) -> int:
    """Brownian channels of a population model's config (1 when it records none)."""
    config = model.config.to_dict()  # type: ignore[attr-defined]  # PopulationModel contract
    return int(config.get("n_brownian") or 1) if config.get("noise") == "general" else 1


def fit_estimate(model: object, train: object, config: object) -> MemoryEstimate:
    """Peak memory of one epoch of :func:`cellsde.fit` of ``model`` on ``train`` with ``config``."""
    dt = float(config.dt)  # type: ignore[attr-defined]  # a FitConfig
    return population_estimate(
        model, train, dt=dt, n_paths=config.n_paths, what="fit",  # type: ignore[attr-defined]
        copies=2 if config.debiased else 1,  # type: ignore[attr-defined]
        checkpoint_segments=bool(config.checkpoint_segments),  # type: ignore[attr-defined]
        fix=f"raise dt (now {dt:g}; [fit] dt in --config), lower n_paths, or set "
        "checkpoint_segments = true",
    )  # fmt: skip


def infer_estimate(
    model: object, data: object, *, dt: float, n_paths: int, n_starts: int, method: str
) -> MemoryEstimate:
    """Peak memory of :func:`cellsde.infer` on the grouped ``data``: the W2 search rolls out
    ``n_starts`` x ``n_paths`` paths per group with gradients; the amortized method simulates
    without them."""
    search = method == "w2"
    return population_estimate(
        model, data, dt=dt, n_paths=n_paths, what="infer", copies=n_starts if search else 1,
        grad=search,
        fix=f"pass a larger --dt (now {dt:g}), fewer paths (--n-paths {n_paths}), or fewer "
        "cells per group (--group-size)",
    )  # fmt: skip


def simulation_estimate(
    *, cells: int, times: int, species: int, what: str = "simulate", fix: str
) -> MemoryEstimate:
    """Peak memory of a simulation's output (``cells x times x species`` float64, about 3 copies)."""
    total = 3.0 * cells * times * species * 8
    detail = f"{cells:,} cells x {times:,} times x {species} species x 8 B x 3 copies"
    return MemoryEstimate(bytes=total, what=what, detail=detail, fix=fix)


def calibration_estimate(
    *,
    cells: Sequence[int],
    measured: Sequence[int],
    frames: int,
    species: int,
    free: int,
    stages: int = 3,
    steps_per_frame: int = 8,
) -> MemoryEstimate:
    """Peak memory of one loss evaluation of :func:`cellsde.calibrate` (ODE method).

    The discrete adjoint keeps every accepted step's stages, ``stages x species`` numbers per
    cell and step; a stiff solver at the default tolerances takes a few steps per frame after
    the stimulus, so ``steps_per_frame`` (8) bounds the usual case. The uncertainty adds each
    simulated cell's sensitivities (``frames x free``), and the W2 cost matrices are
    ``simulated x measured`` per condition and frame. All float64.

    Parameters
    ----------
    cells, measured : sequence of int
        Simulated (both clouds of the debiased loss) and measured cells of each condition.
    frames, species, free : int
        Output times, model species, free parameters.
    """
    sim = int(np.sum(cells))
    record = sim * species * (stages + 1) * steps_per_frame * frames
    jac = sim * frames * max(free, 1) * 2  # value and sensitivities
    costs = frames * int(np.dot(np.asarray(cells), np.asarray(measured)))
    total = 8.0 * (record + jac + costs)
    detail = (
        f"{sim:,} simulated cells x {frames} frames x {species} species x "
        f"{(stages + 1) * steps_per_frame} stage values per frame x 8 B, and the W2 costs"
    )
    fix = "simulate fewer cells per condition (cells= / --cells) or fit fewer frames or conditions"
    return MemoryEstimate(bytes=total, what="calibrate", detail=detail, fix=fix)


def available_bytes(device: object = "cpu") -> float:
    """Memory free for new work: the GPU's free memory on CUDA, else the machine's available
    memory (``MemAvailable``, within a cgroup limit when one is set); ``inf`` when unknown."""
    text = str(device)
    if text.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            return float(torch.cuda.mem_get_info(torch.device(text))[0])
        return math.inf
    free = _meminfo_available()
    limit = _cgroup_free()
    return min(free, limit)


def _meminfo_available() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _cgroup_free() -> float:
    """Limit minus usage of the cgroup (v2), ``inf`` without a limit."""
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current") as fh:
            used = float(fh.read().strip())
    except (OSError, ValueError):
        return math.inf
    return math.inf if limit == "max" else float(limit) - used


def check_memory(
    estimate: MemoryEstimate, *, available: float | None = None, device: object = "cpu"
) -> MemoryEstimate:
    """Return ``estimate`` when it fits in the free memory, else raise one line naming the fix.

    Parameters
    ----------
    estimate : MemoryEstimate
    available : float, optional
        Free bytes (default :func:`available_bytes` of ``device``).
    device : str
        Where the work runs.

    Raises
    ------
    CellsdeError
        The estimate exceeds :data:`HEADROOM` of the free memory.
    """
    free = available_bytes(device) if available is None else float(available)
    log.info("%s; %s free", estimate.line(), format_bytes(free))  # `cellsde ... --verbose`
    if estimate.bytes > HEADROOM * free:
        where = "GPU" if str(device).startswith("cuda") else "this machine"
        raise CellsdeError(
            f"{estimate.what} would need about {format_bytes(estimate.bytes)} of memory "
            f"({estimate.detail}) but {where} has {format_bytes(free)} free; {estimate.fix}"
        )
    return estimate
