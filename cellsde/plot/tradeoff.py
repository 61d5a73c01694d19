"""Compression Pareto plot: parameter count (log x) vs held-out W2, front highlighted."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.plot.style import PALETTE, cellsde_style, figure_axes, role_style, with_units


def pareto_front(parameters, w2) -> np.ndarray:
    """Mask of the non-dominated points (no other point has fewer parameters *and* lower W2).

    Parameters
    ----------
    parameters : array_like, shape (n,)
        Parameter counts.
    w2 : array_like, shape (n,)
        Held-out losses (lower is better); NaN points are never on the front.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
    """
    p = np.asarray(parameters, dtype=np.float64)
    w = np.asarray(w2, dtype=np.float64)
    on = np.zeros(p.shape, dtype=bool)
    best = np.inf
    for i in np.lexsort((w, p)):  # by parameters, ties by W2
        if np.isfinite(w[i]) and np.isfinite(p[i]) and w[i] < best:
            on[i], best = True, w[i]
    return on


_OFFSETS = ((4, 3, "left"), (4, -9, "left"), (-4, 3, "right"), (-4, -9, "right"), (4, 10, "left"),
            (4, -16, "left"))  # fmt: skip
_FONT = 6.5


def _label_points(ax, x, y, texts) -> None:
    """Write ``texts`` beside the points, trying a few offsets so labels do not overlap."""
    ax.autoscale_view()
    px = ax.transData.transform(np.column_stack([x, y]))  # (n, 2) display pixels
    scale = ax.figure.dpi / 72.0  # pixels per point
    boxes: list[tuple[float, float, float, float]] = []
    for (cx, cy), text in sorted(zip(map(tuple, px), texts)):
        w, h = 0.55 * _FONT * len(text) * scale, 1.2 * _FONT * scale
        for dx, dy, ha in _OFFSETS:
            x0 = cx + dx * scale - (w if ha == "right" else 0.0)
            y0 = cy + dy * scale
            box = (x0, y0, x0 + w, y0 + h)
            if not any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]
                       for b in boxes):  # fmt: skip
                break
        boxes.append(box)
        xy = ax.transData.inverted().transform((cx, cy))
        ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha,
                    fontsize=_FONT, color="0.25")  # fmt: skip


def pareto(
    parameters,
    w2,
    *,
    labels: Sequence[str],
    kinds: Sequence[str] | None = None,
    w2_units: str | None = None,
    annotate: bool = True,
    ax=None,
):
    """Parameter count vs held-out W2 of compressed / wide / dendritic networks, front highlighted.

    Parameters
    ----------
    parameters : array_like, shape (n,)
        Trainable parameter count of each network (x axis, logarithmic; must be > 0).
    w2 : array_like, shape (n,)
        Held-out tW2 or squared W2 of each network (y axis), in squared species units.
    labels : sequence of str, length n
        Name of each network (e.g. "wide 200x200", "8 + 2 dendrites"); written next to the
        points when ``annotate``.
    kinds : sequence of str, length n, optional
        Category of each network (e.g. "wide", "narrow", "narrow + dendrites"): one colour and
        marker per category (Okabe–Ito, greyscale-distinct markers).
    w2_units : str, optional
        Units of ``w2``, e.g. "µM²"; "units not recorded" when not given.
    annotate : bool, default True
        Write the labels beside the points.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
        Points on the Pareto front are filled and joined by a step line; dominated points are
        hollow.
    """
    p = np.asarray(parameters, dtype=np.float64).ravel()
    w = np.asarray(w2, dtype=np.float64).ravel()
    labels = [str(v) for v in labels]
    if p.size == 0:
        raise CellsdeError("no networks to plot; parameters is empty")
    if not (p.size == w.size == len(labels)):
        raise CellsdeError(
            f"parameters ({p.size}), w2 ({w.size}) and labels ({len(labels)}) differ in length"
        )
    if np.any(~np.isfinite(p) | (p <= 0)):
        raise CellsdeError("parameter counts must be finite and > 0 (the x axis is logarithmic)")
    kinds = ["networks"] * p.size if kinds is None else [str(k) for k in kinds]
    if len(kinds) != p.size:
        raise CellsdeError(f"kinds has {len(kinds)} entries for {p.size} networks")
    front = pareto_front(p, w)
    with cellsde_style():
        fig, ax = figure_axes(ax, figsize=(5.2, 3.6))
        order = np.argsort(p[front])
        fx, fy = p[front][order], w[front][order]
        ax.step(fx, fy, where="post", color=PALETTE["floor"], ls="--", lw=1.0, zorder=1,
                label="Pareto front")  # fmt: skip
        for k, kind in enumerate(dict.fromkeys(kinds)):
            style = role_style("model") if k == 0 else role_style("baselines", k - 1)
            sel = np.array([c == kind for c in kinds])
            for on, fill in ((True, style["color"]), (False, "white")):
                m = sel & (front == on)
                if m.any():
                    ax.scatter(p[m], w[m], marker=style["marker"], s=36, facecolor=fill,
                               edgecolor=style["color"], lw=1.2, zorder=3,
                               label=kind if on or not (sel & front).any() else None)  # fmt: skip
        ax.set_xscale("log")
        if annotate:
            ok = np.isfinite(w)
            _label_points(ax, p[ok], w[ok], [t for t, o in zip(labels, ok) if o])
        ax.set_xlabel("trainable parameters (count, log scale)")
        ax.set_ylabel(with_units("held-out squared W2", w2_units))
        ax.set_title("accuracy vs size (filled: on the Pareto front)", loc="left")
        ax.legend(loc="best")
    return fig
