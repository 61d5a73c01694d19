"""Parameter recovery: estimated vs true θ (scatter + identity), and heatmaps over a θ grid."""

from __future__ import annotations

import numpy as np
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError
from cellsde.plot.style import PALETTE, cellsde_style, figure_axes, role_style, with_units

_ANNOTATE_MAX = 12  # write the value in each cell of grids up to this size per side


def _param_units(arr, param: str) -> str | None:
    if not isinstance(arr, xr.DataArray):
        return None
    units = arr.attrs.get(S.ATTR_UNITS)
    if units is None and param in arr.coords:
        units = arr[param].attrs.get(S.ATTR_UNITS)
    if units is None or isinstance(units, str):
        return units or None
    seq = [str(u) for u in np.atleast_1d(units)]
    if S.PARAM in arr.coords and len(seq) == arr.sizes[S.PARAM]:
        names = [str(p) for p in arr[S.PARAM].values]
        return seq[names.index(param)] if param in names else None
    return None


def _one_param(arr, param: str | None, name: str) -> tuple[np.ndarray, str | None]:
    """(values (n,), param name) from an array (n,) / (n, param) or a DataArray with ``param``."""
    if isinstance(arr, xr.DataArray) and S.PARAM in arr.dims:
        names = [str(p) for p in arr[S.PARAM].values] if S.PARAM in arr.coords else []
        if param is None:
            if arr.sizes[S.PARAM] != 1:
                raise CellsdeError(f"{name} has several params {names}; choose one with param=...")
            param = names[0] if names else None
            arr = arr.isel({S.PARAM: 0})
        else:
            if str(param) not in names:
                raise CellsdeError(f"param {param!r} is not in {name}; it has {names}")
            arr = arr.sel({S.PARAM: str(param)})
    values = np.asarray(arr, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise CellsdeError(
            f"{name} has shape {values.shape}; give one value per cell/group, shape (n,), or a "
            f"DataArray with a {S.PARAM!r} dim and param=..."
        )
    return values, param


def theta_recovery(
    true,
    estimated,
    *,
    std=None,
    param: str | None = None,
    units: str | None = None,
    ax=None,
):
    """Estimated vs true parameter values with error bars and the identity line.

    Parameters
    ----------
    true, estimated : array_like (n,) or xarray.DataArray (n, param)
        True and estimated values of one parameter per cell / group. DataArrays with a
        ``param`` dim are reduced to ``param``.
    std : array_like (n,) or DataArray, optional
        Standard deviation of each estimate (drawn as ±1 std bars), same layout as
        ``estimated``.
    param : str, optional
        Parameter name (selects it in DataArrays; labels the axes). Required when a DataArray
        holds several parameters.
    units : str, optional
        Units of the parameter; default ``attrs["units"]`` of ``true`` / ``estimated``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        x: true value, y: estimated value, both in the parameter's units; the text box gives
        the RMSE (same units) and Pearson r over the pairs without NaN.

    Raises
    ------
    cellsde.errors.CellsdeError
        Unknown or ambiguous ``param``, mismatched lengths, no finite pair.
    """
    t, p1 = _one_param(true, param, "true")
    e, p2 = _one_param(estimated, param, "estimated")
    name = str(param or p1 or p2 or "θ")
    if t.shape != e.shape:
        raise CellsdeError(f"true has {t.size} values and estimated {e.size}; they must match")
    s = None if std is None else _one_param(std, param, "std")[0]
    if s is not None and s.shape != e.shape:
        raise CellsdeError(f"std has {s.size} values for {e.size} estimates")
    ok = np.isfinite(t) & np.isfinite(e)
    if not ok.any():
        raise CellsdeError("true and estimated have no finite pair to plot")
    if units is None:
        units = _param_units(true, name) or _param_units(estimated, name)
    label_units = units or "units not recorded"
    t, e, s = t[ok], e[ok], (None if s is None else s[ok])
    style = role_style("model")
    with cellsde_style():
        fig, ax = figure_axes(ax, figsize=(3.6, 3.4))
        lo = float(min(t.min(), (e - (0 if s is None else s)).min()))
        hi = float(max(t.max(), (e + (0 if s is None else s)).max()))
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color=PALETTE["floor"], ls="--",
                lw=1.0, label="identity")  # fmt: skip
        ax.errorbar(t, e, yerr=s, fmt=style["marker"], color=style["color"], ms=4.5, lw=0.9,
                    capsize=2, label="estimate ± 1 std" if s is not None else "estimate")  # fmt: skip
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(with_units(f"true {name}", label_units))
        ax.set_ylabel(with_units(f"estimated {name}", label_units))
        rmse = float(np.sqrt(np.mean((e - t) ** 2)))
        r = float(np.corrcoef(t, e)[0, 1]) if t.size > 1 and t.std() > 0 and e.std() > 0 else np.nan
        text = f"RMSE = {rmse:.3g}" + (f"\nr = {r:.3f}" if np.isfinite(r) else "")
        ax.text(0.04, 0.96, text, transform=ax.transAxes, va="top", ha="left", fontsize=8)
        ax.legend(loc="lower right")
    return fig


def theta_recovery_panels(
    true: xr.DataArray,
    estimated: xr.DataArray,
    *,
    std: xr.DataArray | None = None,
    params: list[str] | None = None,
    units: dict[str, str] | None = None,
):
    """:func:`theta_recovery` for every component of θ, one panel each (side by side).

    Parameters
    ----------
    true, estimated : xarray.DataArray, dims (n, param)
        True and estimated θ per group, with a ``param`` coordinate.
    std : xarray.DataArray, optional
        Standard deviations, same layout as ``estimated``.
    params : list of str, optional
        Components to draw (default all of ``estimated``).
    units : dict of str to str, optional
        Units per parameter (default from ``attrs``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if not isinstance(estimated, xr.DataArray) or S.PARAM not in estimated.dims:
        raise CellsdeError(f"estimated must be a DataArray with a {S.PARAM!r} dim")
    names = params or [str(p) for p in estimated[S.PARAM].values]
    with cellsde_style():
        fig = Figure(figsize=(3.4 * len(names), 3.4), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(names), squeeze=False)).ravel()
        for ax, name in zip(axes, names):
            theta_recovery(true, estimated, std=std, param=name, ax=ax,
                           units=(units or {}).get(name))  # fmt: skip
    return fig


def _grid(values: xr.DataArray, x_param: str, y_param: str, theta) -> xr.DataArray:
    """A 2-D (y_param, x_param) DataArray from a 2-D array or from 1-D values + θ coordinates."""
    if x_param in values.dims and y_param in values.dims:
        if values.ndim != 2:
            raise CellsdeError(
                f"values has dims {values.dims}; reduce it to ({y_param}, {x_param})"
            )
        return values.transpose(y_param, x_param)
    if values.ndim != 1:
        raise CellsdeError(
            f"values has dims {values.dims}; give a 2-D ({y_param}, {x_param}) array or one value "
            "per grid point with the parameters as coordinates"
        )
    dim = values.dims[0]
    cols = {}
    for p in (x_param, y_param):
        if theta is not None:
            names = [str(v) for v in theta[S.PARAM].values]
            if p not in names:
                raise CellsdeError(f"param {p!r} is not in theta; it has {names}")
            cols[p] = np.asarray(theta.sel({S.PARAM: p}).values, dtype=np.float64)
        elif p in values.coords and values[p].dims == (dim,):
            cols[p] = np.asarray(values[p].values, dtype=np.float64)
        else:
            have = [c for c in values.coords if values[c].dims == (dim,) and c != dim]
            raise CellsdeError(
                f"values has no coordinate {p!r} along {dim!r} (it has {have}); pass theta=..."
            )
        if cols[p].shape != values.shape:
            raise CellsdeError(f"{p!r} has {cols[p].size} entries for {values.size} values")
    xs, ys = np.unique(cols[x_param]), np.unique(cols[y_param])
    out = np.full((ys.size, xs.size), np.nan)
    seen = np.zeros(out.shape, dtype=bool)
    for v, xv, yv in zip(np.asarray(values, dtype=np.float64), cols[x_param], cols[y_param]):
        i, j = np.searchsorted(ys, yv), np.searchsorted(xs, xv)
        if seen[i, j]:
            raise CellsdeError(
                f"two values at {x_param}={xv:g}, {y_param}={yv:g}; average them first"
            )
        out[i, j], seen[i, j] = v, True
    return xr.DataArray(out, dims=(y_param, x_param), coords={y_param: ys, x_param: xs})


def theta_heatmap(
    values: xr.DataArray,
    *,
    x_param: str,
    y_param: str,
    theta: xr.DataArray | None = None,
    label: str | None = None,
    log: bool = False,
    mark: str | None = None,
    cmap: str = "viridis",
    ax=None,
):
    """Heatmap of a quantity (e.g. W2 to the data) over a grid of two parameters.

    Grid points are drawn as equal cells in the order of their values (log- or unevenly
    spaced grids stay readable); tick labels give the values. Grids up to 12 x 12 print the
    value in each cell. NaN cells (grid points without a value) are left blank.

    Parameters
    ----------
    values : xarray.DataArray
        Either 2-D with dims ``(y_param, x_param)`` (any order), or 1-D (one value per grid
        point, e.g. dim ``group``) with coordinates ``x_param`` and ``y_param`` along it, or
        1-D together with ``theta``.
    x_param, y_param : str
        Parameters on the x and y axes.
    theta : xarray.DataArray (point, param), optional
        The parameter values of each entry of a 1-D ``values``.
    label : str, optional
        Colour-bar label; default ``values.attrs["long_name"]`` or ``values.name``, with
        ``attrs["units"]``.
    log : bool, default False
        Logarithmic colour scale (values must be > 0).
    mark : {"min", "max"}, optional
        Outline the cell with the smallest / largest value.
    cmap : str, default "viridis"
        A perceptually uniform, colour-blind safe colormap.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Axes labelled with the parameters and their units (``attrs["units"]`` of the coordinates
        or of ``theta``), and a colour bar.
    """
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    if not isinstance(values, xr.DataArray):
        raise TypeError(f"values must be an xarray.DataArray, got {type(values).__name__}")
    if mark not in (None, "min", "max"):
        raise ValueError(f"mark must be None, 'min' or 'max', got {mark!r}")
    grid = _grid(values, x_param, y_param, theta)  # (y, x)
    z = np.asarray(grid.values, dtype=np.float64)
    if not np.isfinite(z).any():
        raise CellsdeError("values has no finite entry to plot")
    if log and np.nanmin(z) <= 0:
        raise CellsdeError("log=True needs positive values; some are <= 0")
    if label is None:
        base = str(values.attrs.get("long_name") or values.name or "value")
        label = base + (f" ({values.attrs[S.ATTR_UNITS]})" if S.ATTR_UNITS in values.attrs else "")
    units = {}
    for p in (x_param, y_param):
        u = values[p].attrs.get(S.ATTR_UNITS) if p in values.coords else None
        units[p] = u or (_param_units(theta, p) if theta is not None else None)
    with cellsde_style():
        fig, ax = figure_axes(ax, figsize=(4.6, 3.8))
        norm = LogNorm() if log else None
        mesh = ax.imshow(np.ma.masked_invalid(z), origin="lower", aspect="auto", cmap=cmap,
                         norm=norm, interpolation="nearest")  # fmt: skip
        cbar = fig.colorbar(mesh, ax=ax)
        cbar.set_label(label)
        xs, ys = grid[x_param].values, grid[y_param].values
        ax.set_xticks(np.arange(xs.size), [f"{v:.3g}" for v in xs])
        ax.set_yticks(np.arange(ys.size), [f"{v:.3g}" for v in ys])
        if xs.size > 8:
            ax.tick_params(axis="x", labelrotation=45)
        ax.set_xlabel(with_units(x_param, units[x_param], missing="units not recorded"))
        ax.set_ylabel(with_units(y_param, units[y_param], missing="units not recorded"))
        for side in ("top", "right"):
            ax.spines[side].set_visible(True)
        if max(z.shape) <= _ANNOTATE_MAX:
            normed = mesh.norm(np.ma.masked_invalid(z))
            for (i, j), v in np.ndenumerate(z):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6.5,
                            color="black" if normed[i, j] > 0.55 else "white")  # fmt: skip
        if mark is not None:
            flat = np.nanargmin(z) if mark == "min" else np.nanargmax(z)
            i, j = np.unravel_index(flat, z.shape)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=PALETTE["baselines"][0],
                                   lw=2.0))  # fmt: skip
            best = f"{x_param} = {xs[j]:.3g}, {y_param} = {ys[i]:.3g}"
            ax.set_title(f"outlined: {mark}imum at {best}", loc="left")
    return fig
