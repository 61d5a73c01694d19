"""``cellsde info``: summarise any file the toolkit writes.

Populations (simulated or imported trajectories), inference results (theta per group),
evaluation scores (tW2 per group), fit histories, compression tables, fitted models (``.pt``)
and training states (``fit --checkpoint``): each gets the lines a user needs, then its attrs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from cellsde.datasets import schema as S

_MAX_LABELS = 10
_MAX_ATTR = 120
CHECKPOINT_SUFFIXES = (".pt", ".state")  # models; training states (fit: OUT.pt.state)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "info",
        help="summarise a file written by cellsde (dataset, result, model)",
        description="Print what a file holds: a population's dims, species, groups, conditions, "
        "units, time span and NaN fraction; an inference result's theta per group; scores per "
        "group; a fit history; a model's species, parameters, units and training data.",
    )
    p.add_argument("path", help="a .nc/.h5/.zarr dataset or table, a .pt model, a training state")
    p.set_defaults(func=run)


def summary_lines(ds, path: str) -> list[str]:
    """Lines describing a population dataset ``ds`` (``x`` (cell, time, species))."""
    from cellsde.datasets.conditions import condition_text

    x = ds[S.X].values  # (cell, time, species)
    t = ds[S.TIME].values
    units = ds[S.TIME].attrs[S.ATTR_UNITS]
    lines = [
        f"file: {path} (population)",
        "dims: " + ", ".join(f"{k}={v}" for k, v in ds.sizes.items()),
        "species: " + _labels(ds[S.SPECIES].values),
        f"values in: {ds[S.X].attrs.get(S.ATTR_UNITS) or 'units not recorded'}",
    ]
    if S.PARAM in ds.coords:
        lines.append("params: " + _labels(ds[S.PARAM].values))
    if S.GROUP in ds.coords:
        groups, counts = np.unique(ds[S.GROUP].values, return_counts=True)
        shown = ", ".join(
            f"{g} ({c} cells{_condition(condition_text(ds, g))})"
            for g, c in zip(groups[:_MAX_LABELS], counts)
        )
        more = f", ... ({len(groups)} in all)" if len(groups) > _MAX_LABELS else ""
        lines.append(f"groups: {len(groups)}: {shown}{more}")
    extra = [c for c in ds.coords if ds[c].dims == (S.CELL,) and c not in (S.GROUP, S.CELL)]
    if extra:
        lines.append("per-cell coords: " + ", ".join(extra))
    span = f"{t[0]:g} to {t[-1]:g} {units}" if t.size else "empty"
    lines.append(f"time: {span} ({t.size} points)")
    nan = float(np.mean(np.isnan(x))) if x.size else 0.0
    lines.append(f"NaN fraction of x: {nan:.3f}")
    return lines + _attrs(ds)


def _condition(text: str | None) -> str:
    return f", {text}" if text else ""


def _attrs(ds) -> list[str]:
    from cellsde.datasets import import_report

    lines = ["attrs:"]
    for key, value in ds.attrs.items():
        if key == S.ATTR_IMPORT_REPORT:
            lines += ["  import report:"] + ["    " + ln for ln in import_report(ds).lines()]
            continue
        text = str(value)
        if len(text) > _MAX_ATTR:
            text = text[: _MAX_ATTR - 3] + "..."
        lines.append(f"  {key}: {text}")
    return lines


def _labels(values) -> str:
    names = [str(v) for v in values.tolist()]
    more = f", ... ({len(names)} in all)" if len(names) > _MAX_LABELS else ""
    return ", ".join(names[:_MAX_LABELS]) + more


def table_lines(ds, path: str) -> list[str]:
    """Lines describing a result table: theta per group, scores, a fit history, or any table."""
    head = "dims: " + ", ".join(f"{k}={v}" for k, v in ds.sizes.items())
    if "theta" in ds and "group" in ds["theta"].dims:
        return [f"file: {path} (inference result: theta per group)", head,
                *_theta_rows(ds), *_attrs(ds)]  # fmt: skip
    if "tw2" in ds and "w2" in ds:
        rows = [f"  {g}: tW2 {v:.6g}" for g, v in zip(ds["group"].values, ds["tw2"].values)]
        total = f"total tW2 {float(ds['tw2_total']):.6g}" if "tw2_total" in ds else ""
        return [f"file: {path} (scores: W2 per group and time)", head, "tW2 per group:",
                *rows[:20], *(["  ..."] if len(rows) > 20 else []), total, *_attrs(ds)]  # fmt: skip
    if "median" in ds and "spread" in ds and "param" in ds["median"].dims:
        return [f"file: {path} (calibrated population of {ds.attrs.get('model', '?')})", head,
                *_population_rows(ds), *_attrs(ds)]  # fmt: skip
    if "train_loss" in ds:
        loss, valid = ds["train_loss"].values, ds["valid_loss"].values
        best = int(np.nanargmin(valid)) if np.isfinite(valid).any() else None
        lines = [f"file: {path} (fit history)", head,
                 f"epochs: {loss.size}; train tW2 first {loss[0]:.6g}, last {loss[-1]:.6g}"]  # fmt: skip
        if best is not None:
            lines.append(f"best held-out tW2 {valid[best]:.6g} at epoch {best}")
        return lines + _attrs(ds)
    variables = [f"  {k} {tuple(v.dims)}" for k, v in ds.data_vars.items()]
    return [f"file: {path} (table)", head, "variables:", *variables, *_attrs(ds)]


def _population_rows(ds) -> list[str]:
    """One line per free parameter: median [interval], spread [interval] (``cellsde calibrate``)."""

    def interval(name: str, j: int) -> str:
        if name not in ds:
            return ""
        lo, hi = ds[name].values[j]
        return f" [{lo:.4g}, {hi:.4g}]"

    rows = []
    for j, p in enumerate(ds[S.PARAM].values):
        rows.append(f"  {p}: median {ds['median'].values[j]:.4g}{interval('median_interval', j)}, "
                    f"spread {ds['spread'].values[j]:.3g}{interval('spread_interval', j)}")  # fmt: skip
    return rows


def _theta_rows(ds) -> list[str]:
    labels = ds["source_group"].values if "source_group" in ds.coords else ds["group"].values
    params = [str(p) for p in ds[S.PARAM].values]
    rows = []
    for k, label in enumerate(labels[:20]):
        est = ds["theta"].values[k]
        std = ds["theta_std"].values[k] if "theta_std" in ds else np.full_like(est, np.nan)
        text = ", ".join(
            f"{p}={v:.4g}" + (f" ± {s:.2g}" if np.isfinite(s) else "")
            for p, v, s in zip(params, est, std)
        )
        rows.append(f"  group {label}: {text}")
    return rows + (["  ..."] if len(labels) > 20 else [])


def _calibration_state_lines(path: str) -> list[str]:
    """Lines describing the resumable state written by ``cellsde calibrate --checkpoint``."""
    from cellsde._torchio import safe_load
    from cellsde.calibration.optimize import FORMAT

    state = safe_load(path, kind=FORMAT)
    if "cmaes" in state:
        es = state["cmaes"]
        where = f"CMA-ES generation {int(es['generation'])}, best loss {float(es['best_f']):.6g}"
    else:
        where = (f"stage {state['stage']}, start {state['start']}, iteration {state['iteration']}, "
                 f"best loss {float(state['best_loss']):.6g}")  # fmt: skip
    return [f"file: {path} (state of `cellsde calibrate`; continue with --resume)", where,
            f"wall time so far: {float(state['elapsed']) / 60:.1f} min"]  # fmt: skip


def checkpoint_lines(path: str) -> list[str]:
    """Lines describing a fitted model (.pt) or a training state written by ``fit``."""
    from cellsde._torchio import safe_load
    from cellsde.errors import CheckpointError
    from cellsde.nn.checkpoint import load_model
    from cellsde.training.state import FORMAT as STATE_FORMAT

    try:
        model = load_model(path)
    except CheckpointError:  # not a model: a training state, or the state's own clear error
        try:
            state = safe_load(path, kind=STATE_FORMAT)
        except CheckpointError as err:
            try:
                return _calibration_state_lines(path)
            except CheckpointError:
                raise err from None
        config = json.loads(state["model_config"])
        history = state["history"].numpy().reshape(-1, 4) if state["history"].numel() else None
        last = f"; last train tW2 {history[-1, 0]:.6g}" if history is not None else ""
        return [f"file: {path} (training state of `cellsde fit`; continue with --resume)",
                f"epochs done: {state['epoch']}{last}",
                f"species: {', '.join(config['species'])}",
                f"best epoch: {state['best_epoch']}"]  # fmt: skip
    cfg = model.config.to_dict()
    meta = dict(model.metadata)
    units = meta.pop("units", {}) or {}
    lines = [
        f"file: {path} (fitted {type(model).__name__})",
        f"species: {', '.join(model.species)}",
        f"params: {', '.join(model.param_names) or 'none'}",
        f"hidden: {cfg.get('hidden')}, noise {cfg.get('noise')}, activation {cfg.get('activation')}",
        f"time in: {units.get('time') or cfg.get('time_units')}; values in: "
        f"{units.get('values') or 'units not recorded'}",
    ]
    rng = model.theta_range()
    if rng is not None and model.param_names:
        lo, hi = (t.tolist() for t in rng)
        lines.append("training range: " + ", ".join(
            f"{p} {a:.4g}..{b:.4g}" for p, a, b in zip(model.param_names, lo, hi)))  # fmt: skip
    lines.append("metadata:")
    for key, value in meta.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        lines.append(f"  {key}: {text[: _MAX_ATTR - 3] + '...' if len(text) > _MAX_ATTR else text}")
    return lines


def run(args: argparse.Namespace) -> int:
    from cellsde.datasets.io import read_table
    from cellsde.datasets.validate import validate_dataset

    path = Path(args.path)
    if path.suffix.lower() in CHECKPOINT_SUFFIXES:
        if not path.exists():
            raise FileNotFoundError(f"no such file: {args.path!r}")
        lines = checkpoint_lines(args.path)
    else:
        ds = read_table(path)
        if S.X in ds:
            lines = summary_lines(validate_dataset(ds), args.path)
        else:
            lines = table_lines(ds, args.path)
    for line in lines:
        print(line)
    return 0
