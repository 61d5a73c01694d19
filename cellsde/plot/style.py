"""The cellsde figure style: Okabe–Ito colours, greyscale-safe line styles, axis labels with units.

Roles, not series numbers, choose how a curve looks, so every figure of the toolkit agrees:

============  ===================  ==========  ===========================================
role          colour (Okabe–Ito)   line style  used for
============  ===================  ==========  ===========================================
``data``      black + grey bands   solid       observed (or reference simulated) cells
``model``     blue ``#0072B2``     dashed      the fitted END-nSDE
``baselines`` orange, green, ...   dash-dot,   RNN / LSTM / neural ODE, other comparisons
                                   dotted ...
``floor``     grey ``#7F7F7F``     dotted      the sampling floor (data vs data)
============  ===================  ==========  ===========================================

Line styles and markers differ between roles, so a figure printed in greyscale still reads.
:func:`cellsde_style` applies the rcParams inside a ``with`` block only; importing this module
changes nothing and does not import matplotlib.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

# Okabe & Ito (2008) colour-blind safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

PALETTE = {
    "data": OKABE_ITO["black"],
    "data_band": "#7F7F7F",  # grey bands behind the data median
    "model": OKABE_ITO["blue"],
    "baselines": (
        OKABE_ITO["vermillion"],
        OKABE_ITO["bluish_green"],
        OKABE_ITO["orange"],
        OKABE_ITO["reddish_purple"],
        OKABE_ITO["sky_blue"],
    ),
    "floor": "#7F7F7F",
}

LINESTYLES = {
    "data": "-",
    "model": "--",
    "baselines": ("-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2))),
    "floor": ":",
}

MARKERS = {"data": "o", "model": "s", "baselines": ("^", "v", "D", "P", "X"), "floor": ""}

STYLE_RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text in Illustrator / Inkscape
    "ps.fonttype": 42,
    "svg.fonttype": "none",
}

NO_UNITS = "units not recorded"  # never a guess such as "concentration" for counts


@contextlib.contextmanager
def cellsde_style() -> Iterator[None]:
    """Apply the cellsde rcParams (fonts, spines, line widths) inside a ``with`` block.

    The previous rcParams are restored on exit; nothing is changed globally.

    Examples
    --------
    >>> from cellsde.plot import cellsde_style, trajectory_fan
    >>> with cellsde_style():  # doctest: +SKIP
    ...     fig = trajectory_fan(ds, species="A")
    """
    import matplotlib as mpl

    with mpl.rc_context(STYLE_RC):
        yield


def role_style(role: str, index: int = 0) -> dict:
    """Colour, line style and marker of a role (``"data"``, ``"model"``, ``"baselines"``, ``"floor"``).

    Parameters
    ----------
    role : str
        One of the keys of :data:`PALETTE` except ``"data_band"``.
    index : int
        Which baseline (cycles through the baseline colours and styles).

    Returns
    -------
    dict
        Keyword arguments ``color``, ``linestyle``, ``marker`` for :meth:`Axes.plot`.
    """
    if role not in LINESTYLES:
        raise ValueError(f"unknown plot role {role!r}; use one of {sorted(LINESTYLES)}")
    if role == "baselines":
        k = index % len(PALETTE["baselines"])
        return {
            "color": PALETTE["baselines"][k],
            "linestyle": LINESTYLES["baselines"][k],
            "marker": MARKERS["baselines"][k],
        }
    return {"color": PALETTE[role], "linestyle": LINESTYLES[role], "marker": MARKERS[role]}


def figure_axes(ax, *, figsize: tuple[float, float]):
    """``(figure, axes)``: a new constrained-layout figure when ``ax`` is None, else ``ax``'s.

    New figures are :class:`matplotlib.figure.Figure` objects that pyplot does not track, so
    no window opens and nothing leaks when many figures are made in a loop.
    """
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    fig = ax.figure
    while not isinstance(fig, Figure):  # an Axes in a SubFigure: walk up to the root Figure
        fig = fig.figure
    return fig, ax


def with_units(name: str, units: str | None, *, missing: str = NO_UNITS) -> str:
    """Axis label ``"name (units)"``; ``units`` None or blank gives ``"name (missing)"``."""
    text = str(units).strip() if units is not None else ""
    return f"{name} ({text or missing})"


def squared_units(units: str | None) -> str | None:
    """Units of a squared quantity such as W2²: ``"µM"`` -> ``"µM²"``, ``"a.u."`` -> ``"(a.u.)²"``.

    None stays None (nothing recorded); ``"dimensionless"`` stays ``"dimensionless"``.
    """
    if units is None or not str(units).strip() or str(units) == "dimensionless":
        return units
    text = str(units).strip()
    return f"{text}²" if text.isalpha() else f"({text})²"


def time_label(units: str | None) -> str:
    """``"time (h)"``; ``"time (units not recorded)"`` when ``units`` is None."""
    return with_units("time", units)
