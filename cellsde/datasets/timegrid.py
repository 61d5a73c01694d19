"""Time grids: the one check of a grid of output times, and a common grid for jittered tracks.

:func:`check_times` is what every simulation path and solver asks of ``times``: a non-empty
1-D array of finite, strictly increasing floats.

:func:`cluster_times` puts tracks whose frame times differ slightly between cells on one grid.
Rule (recorded in every imported dataset's ``attrs["import_report"]``):

1. The frame interval is the 10th percentile of the positive intervals between consecutive
   observations of the same cell (a low quantile, so gaps in tracks do not inflate it and
   a few repeated frames do not shrink it). The tolerance defaults to 1/4 of it; with one
   observation per cell it is 0 (exact times only).
2. The distinct observed times are sorted; consecutive ones closer than the tolerance fall
   into the same cluster (single linkage).
3. Each cluster's grid time is the median of the observation times in it; each observation
   goes to its cluster's grid time.
4. A cluster wider than half the frame interval means that jitter chained frames together;
   that is an error (pass a smaller tolerance) rather than a silent merge of frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cellsde.errors import CellsdeError, ImportFormatError

__all__ = ["TimeGrid", "check_times", "cluster_times"]


def check_times(
    times: Any,
    *,
    name: str = "times",
    error: type[CellsdeError] = CellsdeError,
    fix: str = "sort the times and drop repeats",
) -> np.ndarray:
    """Check a grid of times and return it as floats: the one check every caller uses.

    Parameters
    ----------
    times : array_like, shape (time,)
        The grid, in the model's or the dataset's time units.
    name : str
        What the caller calls it, for the message (e.g. ``"coord 'time'"``).
    error : type of CellsdeError
        The exception to raise (e.g. :class:`~cellsde.errors.SchemaError` for a dataset).
    fix : str
        How to repair times that do not increase, for the message.

    Returns
    -------
    numpy.ndarray of float64, shape (time,)

    Raises
    ------
    CellsdeError
        ``error`` (a ``ValueError``) if ``times`` is not a non-empty 1-D array of finite
        values, or if it does not strictly increase; the message names the first bad index.
    """
    try:
        t = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise error(f"{name} must be a 1-D array of numbers: {err}") from None
    if t.ndim != 1 or t.size < 1:
        raise error(f"{name} must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        k = int(np.flatnonzero(~np.isfinite(t))[0])
        raise error(f"{name} has a non-finite value {t[k]} at index {k}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.flatnonzero(steps <= 0)[0])
        raise error(
            f"{name} is not strictly increasing at index {k}: {t[k]} then {t[k + 1]}; {fix}"
        )
    return t


@dataclass(frozen=True)
class TimeGrid:
    """Result of :func:`cluster_times`.

    Attributes
    ----------
    times : numpy.ndarray, shape (time,)
        Strictly increasing grid times.
    index : numpy.ndarray of int, shape (row,)
        Grid index of each observation.
    tolerance : float
        Merge tolerance used (same units as the times).
    frame_interval : float
        10th percentile of within-cell intervals (NaN when no cell has two distinct times).
    max_shift : float
        Largest distance between an observation time and its grid time.
    rule : str
        One-sentence description of the rule, for reports.
    """

    times: np.ndarray
    index: np.ndarray
    tolerance: float
    frame_interval: float
    max_shift: float
    rule: str


def cluster_times(
    times: np.ndarray, cells: np.ndarray, *, tolerance: float | None = None
) -> TimeGrid:
    """Cluster observation times into a common grid (rule in the module docstring).

    Parameters
    ----------
    times : numpy.ndarray of float, shape (row,)
        Finite observation times.
    cells : numpy.ndarray of int, shape (row,)
        Cell code of each observation (used for the frame interval).
    tolerance : float, optional
        Merge distance; default 1/4 of the frame interval. 0 keeps exact times.

    Returns
    -------
    TimeGrid

    Raises
    ------
    ImportFormatError
        If the tolerance is negative or not finite, or if clusters chain across frames.
    """
    times = np.asarray(times, dtype=np.float64)  # (row,)
    cells = np.asarray(cells)  # (row,)
    if times.shape != cells.shape or times.ndim != 1:
        raise ValueError(f"times {times.shape} and cells {cells.shape} must be equal 1-D shapes")
    if not np.all(np.isfinite(times)):
        raise ValueError("times must be finite; drop rows without a time first")
    order = np.lexsort((times, cells))
    t_sorted, c_sorted = times[order], cells[order]
    steps = np.diff(t_sorted)
    within = steps[(c_sorted[1:] == c_sorted[:-1]) & (steps > 0)]
    frame = float(np.quantile(within, 0.1)) if within.size else float("nan")
    if tolerance is None:
        tol = frame / 4 if within.size else 0.0
    else:
        tol = float(tolerance)
        if not np.isfinite(tol) or tol < 0:
            raise ImportFormatError(f"time_tolerance must be a finite number >= 0, got {tolerance}")
    distinct = np.unique(times)  # sorted
    starts = np.concatenate([[True], np.diff(distinct) >= tol])
    cluster_of_distinct = np.cumsum(starts) - 1
    index = cluster_of_distinct[np.searchsorted(distinct, times)]  # (row,)
    n = int(cluster_of_distinct[-1]) + 1 if distinct.size else 0
    by_cluster = np.argsort(index, kind="stable")
    chunks = np.split(times[by_cluster], np.cumsum(np.bincount(index, minlength=n))[:-1])
    grid = np.array([np.median(c) for c in chunks], dtype=np.float64)  # (time,)
    if tol > 0 and np.isfinite(frame) and n:
        lo = np.full(n, np.inf)
        hi = np.full(n, -np.inf)
        np.minimum.at(lo, index, times)
        np.maximum.at(hi, index, times)
        wide = np.flatnonzero(hi - lo > frame / 2)
        if wide.size:
            k = int(wide[0])
            raise ImportFormatError(
                f"observation times from {lo[k]:g} to {hi[k]:g} chain into one grid time with "
                f"time_tolerance {tol:g} (frame interval {frame:g}); pass a smaller "
                "time_tolerance"
            )
    shift = float(np.max(np.abs(times - grid[index]))) if times.size else 0.0
    if tol == 0:
        why = "as given" if tolerance is not None else "no cell has two distinct times"
        rule = f"exact observed times, none merged ({why})"
    else:
        source = "given" if tolerance is not None else "1/4 of the frame interval"
        rule = (
            f"distinct observed times sorted; neighbours closer than {tol:g} ({source}; frame "
            f"interval = 10th percentile of within-cell intervals = {frame:g}) merged; grid "
            "time = median of the merged observation times"
        )
    return TimeGrid(grid, index, tol, frame, shift, rule)
