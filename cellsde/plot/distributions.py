"""Marginal densities of one species at chosen times, data vs model (a ridgeline plot)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.plot import _data as D
from cellsde.plot.style import (
    PALETTE,
    cellsde_style,
    figure_axes,
    role_style,
    time_label,
    with_units,
)

_ROW = 0.85  # height of the tallest density in a row (rows are 1 apart)


def gaussian_kde(
    samples: np.ndarray, grid: np.ndarray, *, lower: float | None = None
) -> np.ndarray:
    """Gaussian kernel density of 1-D ``samples`` on ``grid`` (Scott's bandwidth).

    Parameters
    ----------
    samples : numpy.ndarray, shape (n,)
        Finite values.
    grid : numpy.ndarray, shape (m,)
        Evaluation points, same units as ``samples``.
    lower : float, optional
        A bound the quantity cannot cross (0 for counts and concentrations): the kernels are
        reflected at it (Schuster 1985), so no mass leaks below it and the density there is
        not halved; the density is 0 below ``lower``.

    Returns
    -------
    numpy.ndarray, shape (m,)
        Density in 1 / (units of ``samples``); integrates to 1 over ``[lower, inf)`` with a
        bound. A constant sample gets a narrow bump whose width is 1e-3 of the grid's span.
    """
    n = samples.size
    sd = float(np.std(samples, ddof=1)) if n > 1 else 0.0
    span = float(grid[-1] - grid[0]) if grid.size > 1 else 1.0
    h = max(sd * n ** (-1 / 5), 1e-3 * span, np.finfo(float).tiny)

    def kernel_sum(centres: np.ndarray) -> np.ndarray:
        z = (grid[:, None] - centres[None, :]) / h  # (m, n)
        return np.exp(-0.5 * z**2).sum(1) / (n * h * np.sqrt(2 * np.pi))

    if lower is None:
        return kernel_sum(samples)
    density = kernel_sum(samples) + kernel_sum(2.0 * lower - samples)
    return np.where(grid >= lower, density, 0.0)


def bounded_below(values: np.ndarray, units: str | None) -> bool:
    """True when the values are counts or concentrations (never negative): every value >= 0
    and the units say so (molecules, a molar unit, a.u.) or every value is an integer."""
    from cellsde.datasets.units import MOLAR, canonical_units

    v = values[np.isfinite(values)]
    if v.size == 0 or v.min() < 0:
        return False
    canon = canonical_units(units)
    return canon in ("molecules", "a.u.") or canon in MOLAR or bool(np.all(v == np.round(v)))


def marginal_times(
    data: xr.Dataset, *, species: str | None = None, n: int = 4, group=None
) -> list[float]:
    """Informative times for :func:`marginals`: the start, the first peak of the median
    trajectory, the first trough after it, and the end (evenly spaced times fill up to ``n``).

    A peak is a local maximum of the median over cells that rises above the start by at
    least a tenth of the median's range; without one, the time of the largest departure
    from the start is used, and when that lies below the start (a median that first falls)
    the first peak after it takes the trough's place.

    Parameters
    ----------
    data : xarray.Dataset
        ``x`` (cell, time, species).
    species : str, optional
        May be omitted for single-species data.
    n : int
        Number of times (at least 2).
    group : optional
        Use only the cells of this group.

    Returns
    -------
    list of float
        ``n`` (or fewer, for short grids) increasing data times.
    """
    if int(n) < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    x = D.select_group(D.check_dataset(data, "data"), group, "data")
    name = D.pick_species(x, species, "data")
    values = D.observed(x.sel({S.SPECIES: name}).values, name, "data")  # (cell, time)
    t = np.asarray(x[S.TIME].values, dtype=np.float64)
    seen = np.isfinite(values).any(0)
    med = np.full(t.size, np.nan)
    med[seen] = np.nanmedian(values[:, seen], axis=0)
    idx = np.flatnonzero(np.isfinite(med))
    m = med[idx]
    priority = [idx[0], idx[-1]]  # start and end, then the peak and the trough after it
    if m.size >= 3:
        rise = 0.1 * (np.nanmax(m) - np.nanmin(m))
        peaks = [k for k in range(1, m.size - 1)
                 if m[k] >= m[k - 1] and m[k] > m[k + 1] and m[k] - m[0] > rise]  # fmt: skip
        peak = peaks[0] if peaks else int(np.argmax(np.abs(m - m[0])))
        priority.append(idx[peak])
        # then the first turn the other way: the trough after a peak, or, for a median that
        # starts at its top and first falls, the peak after its deepest trough
        s = 1.0 if m[peak] >= m[0] else -1.0
        turns = [k for k in range(peak + 1, m.size - 1)
                 if s * m[k] <= s * m[k - 1] and s * m[k] < s * m[k + 1]]  # fmt: skip
        priority += [idx[turns[0]]] if turns else []
    priority += [idx[k] for k in np.linspace(0, idx.size - 1, int(n)).round().astype(int)]
    chosen = list(dict.fromkeys(int(i) for i in priority))[: int(n)]
    return [float(t[i]) for i in sorted(chosen)]


def _nearest(t: np.ndarray, want: float, name: str, units: str | None) -> int:
    """Index of the time of ``t`` nearest ``want``; raise when none is within half a step."""
    i = int(np.argmin(np.abs(t - want)))
    gaps = np.diff(t)
    tol = 0.5 * float(gaps.min()) if gaps.size else 0.0
    if abs(t[i] - want) > tol + 1e-9 * max(1.0, abs(want)):
        span = f"{t[0]:g} to {t[-1]:g}" + (f" {units}" if units else "")
        raise CellsdeError(
            f"time {want:g} is not near any time of {name} (it spans {span}); "
            "pick times inside that range"
        )
    return i


def marginals(
    data: xr.Dataset,
    *,
    species: str | None = None,
    times: Sequence[float],
    model: xr.Dataset | None = None,
    group=None,
    bins: int | None = None,
    ax=None,
    labels: tuple[str, str] = ("data", "model"),
):
    """Densities of one species at a few times: one row per time, data filled, model dashed.

    Each row shows the kernel density estimate (or a histogram, with ``bins``) of the cells
    observed at that time; NaN values are left out. Densities are scaled per row so the
    taller of data and model reaches the same height; the rows' shapes and positions are
    comparable, their heights across rows are not.

    Parameters
    ----------
    data : xarray.Dataset
        ``x`` (cell, time, species).
    species : str, optional
        Species; may be omitted when the data have a single species.
    times : sequence of float
        Times in the data's time units; each is matched to the nearest data (and model) time
        within half a time step.
    model : xarray.Dataset, optional
        Simulated cells with the same species and time units.
    group : int or str, optional
        Use only the cells of this ``group``.
    bins : int, optional
        Histogram with this many bins (shared by data and model) instead of a KDE.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in; a new figure otherwise (height grows with the number of times).
    labels : (str, str)
        Legend names of data and model.

    Returns
    -------
    matplotlib.figure.Figure
        x: the species in its units; y: one row per time (tick labels in time units).

    Raises
    ------
    cellsde.errors.CellsdeError
        Unknown species or group, empty data, no times, a time outside the data.
    cellsde.errors.ModelMismatchError
        The model lacks the species, uses other units or lacks a requested time.
    """
    x = D.check_dataset(data, "data")
    name = D.pick_species(x, species, "data")
    times = [float(t) for t in np.atleast_1d(np.asarray(times, dtype=np.float64))]
    if not times:
        raise CellsdeError("times is empty; pass the times to show, e.g. times=[0, 10, 20]")
    if bins is not None and int(bins) < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    tu = D.time_units(data)
    xd = D.select_group(x, group, "data")
    vd = D.observed(xd.sel({S.SPECIES: name}).values, name, "data")  # (cell, time)
    td = np.asarray(xd[S.TIME].values, dtype=np.float64)
    rows = [(want, vd[:, _nearest(td, want, "data", tu)]) for want in times]
    model_rows: list[np.ndarray | None] = [None] * len(rows)
    if model is not None:
        xm = D.select_group(D.check_model(model, data, [name]), group, "model")
        vm = np.asarray(xm.sel({S.SPECIES: name}).values, dtype=np.float64)
        tm = np.asarray(xm[S.TIME].values, dtype=np.float64)
        try:
            model_rows = [vm[:, _nearest(tm, want, "model", tu)] for want in times]
        except CellsdeError as err:
            raise ModelMismatchError(str(err)) from None
    finite = [v[np.isfinite(v)] for _, v in rows] + [
        v[np.isfinite(v)] for v in model_rows if v is not None
    ]
    pooled = np.concatenate(finite)
    if pooled.size == 0:
        raise CellsdeError(f"no observed value of {name!r} at times {times}")
    lo, hi = float(pooled.min()), float(pooled.max())
    pad = 0.08 * (hi - lo) if hi > lo else max(abs(lo), 1.0) * 0.1
    # counts and concentrations: the density stops at 0 instead of leaking below it
    lower = 0.0 if bounded_below(pooled, D.species_units(data, name)) else None
    grid = np.linspace(lo - pad if lower is None else 0.0, hi + pad, 256)
    edges = None if bins is None else np.linspace(lo, hi if hi > lo else lo + 1.0, int(bins) + 1)

    def density(v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        v = v[np.isfinite(v)]
        if v.size == 0:
            return None
        if edges is None:
            return grid, gaussian_kde(v, grid, lower=lower)
        h, _ = np.histogram(v, bins=edges, density=True)
        return np.repeat(edges, 2)[1:-1], np.repeat(h, 2)

    dstyle, mstyle = role_style("data"), role_style("model")
    with cellsde_style():
        fig, ax = figure_axes(ax, figsize=(5.0, 1.0 + 0.75 * len(rows)))
        ticks = []
        for k, ((want, v), vm_k) in enumerate(zip(rows, model_rows)):
            curves = [density(v), None if vm_k is None else density(vm_k)]
            top = max((float(c[1].max()) for c in curves if c is not None), default=0.0)
            scale = _ROW / top if top > 0 else 1.0
            base = float(k)
            cd, cm = curves
            if cd is not None:
                ax.fill_between(cd[0], base, base + scale * cd[1], color=PALETTE["data_band"],
                                alpha=0.45, lw=0, label=labels[0] if k == 0 else None)  # fmt: skip
                ax.plot(cd[0], base + scale * cd[1], color=dstyle["color"], ls="-", lw=1.0)
            if cm is not None:
                ax.plot(cm[0], base + scale * cm[1], color=mstyle["color"], ls=mstyle["linestyle"],
                        lw=1.6, label=labels[1] if k == 0 else None)  # fmt: skip
            ax.axhline(base, color="0.6", lw=0.5)
            ticks.append(f"{td[_nearest(td, want, 'data', tu)]:g}")
        ax.set_yticks(np.arange(len(rows)), ticks)
        ax.set_ylim(-0.1, len(rows) - 1 + _ROW + 0.25)
        ax.set_xlabel(with_units(name, D.species_units(data, name)))
        ax.set_ylabel(time_label(tu) + "; density scaled per row")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        kind = "KDE" if edges is None else "histogram"
        where = D.group_title(data, group)
        title = f"{name}: marginal density ({kind})"
        ax.set_title(title if where is None else f"{title}, {where}", loc="left")
        ax.legend(loc="upper right")
    return fig
