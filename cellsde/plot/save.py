"""Write a figure as vector and raster files, atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cellsde.datasets.atomic import atomic_path


def save_figure(
    fig, path_stem: str | os.PathLike, *, formats: Sequence[str] = ("png", "pdf"), dpi: int = 300
) -> list[Path]:
    """Save ``fig`` as ``path_stem.<format>`` for each format, each written atomically.

    Each file is written under a temporary name in the target directory, then renamed, so a
    crash never leaves a half-written figure under the real name.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (e.g. returned by :func:`cellsde.plot.trajectory_fan`).
    path_stem : path-like
        Output path without suffix, e.g. ``"figs/fan_A"``; a suffix equal to one of
        ``formats`` is dropped (``"fan.png"`` -> ``"fan"``).
    formats : sequence of str, default ("png", "pdf")
        Any format matplotlib writes (png, pdf, svg, eps, ...).
    dpi : int, default 300
        Resolution of raster formats, in dots per inch (vector formats ignore it except for
        embedded images).

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.

    Raises
    ------
    FileNotFoundError
        The target directory does not exist.
    ValueError
        An unsupported format, no format, or ``dpi`` <= 0.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    formats = [str(f).lower().lstrip(".") for f in formats]
    if not formats:
        raise ValueError("formats is empty; pass e.g. formats=('png', 'pdf')")
    supported = fig.canvas.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad:
        raise ValueError(f"unsupported figure formats {bad}; use some of {sorted(supported)}")
    if not dpi > 0:
        raise ValueError(f"dpi must be > 0, got {dpi}")
    stem = Path(path_stem)
    if stem.suffix.lower().lstrip(".") in formats:
        stem = stem.with_suffix("")
    written = []  # atomic_path raises FileNotFoundError when the directory is missing
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        # reproducible files: no creation date in PDFs (the same figure gives the same bytes)
        meta = {"CreationDate": None} if fmt == "pdf" else None
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=meta)
        written.append(target)
    return written
