"""``compress``: can a narrow END-nSDE with dendrites match a wide one on held-out groups?

For every hidden width ``w`` in ``widths`` and every ``K`` in ``0..max_dendrites`` a fresh
narrow END-nSDE (same species, parameters, activation, noise form and depth as the wide
model) is trained on ``train`` — ``K = 0``: plain ("narrow"); ``K > 0``: with dendrites on
every ``nn.Linear`` of the drift and diffusion networks ("dendrites") — and for each dendrite
network two plain controls are trained: the width with the closest parameter count
("plain-equal") and the width with the closest multiply-accumulates per drift + diffusion
evaluation ("plain-equal-macs"; often the same width, then the same trained network). Every
candidate is *refit on the data* with the same tW2 loss, optimiser and epoch budget
(``config``); nothing is distilled from the wide model, which is only the reference. ``mode``
picks how dendrites are trained (see :func:`compress`).

Every network is scored by tW2 (:func:`cellsde.evaluation.evaluate`, summed over groups, one
common noise seed) on the training groups (``train_tw2``: does it fit its training data?),
on ``valid`` (``valid_tw2``: early stopping and the dendrite schedule steer on it) and, when
given, on ``test`` (``test_tw2``: groups nothing steers on). The rule, stated in
:attr:`CompressionResult.rule`: ``best`` is the candidate with the fewest parameters whose
tW2 on ``test`` (``valid`` when no test split is given) is at most ``(1 + tolerance)`` times
the wide model's; when no smaller candidate qualifies, ``best`` is ``"wide"`` (the original
model, returned as is) and ``compressed`` is False.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import xarray as xr

from cellsde.compression.candidates import (
    build_candidate,
    equal_macs_width,
    equal_width,
    model_macs,
)
from cellsde.evaluation import evaluate
from cellsde.nn.endnsde import ENDnSDE
from cellsde.nn.grouped_paths import model_groups
from cellsde.training.cascade import fit_cascade
from cellsde.training.config import FitConfig
from cellsde.training.fit import fit
from perforate import DendriteConfig, count_parameters, dendritic_layers

MODES = ("gd", "cascade")
KINDS = ("wide", "narrow", "dendrites", "plain-equal", "plain-equal-macs")
COLUMNS = ("candidate", "kind", "width", "K", "K_max", "params", "macs", "train_tw2",
           "valid_tw2", "test_tw2", "seconds", "capped")  # fmt: skip


@dataclass(frozen=True)
class CompressionResult:
    """What :func:`compress` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per network: ``candidate`` (name), ``kind`` (wide / narrow / dendrites /
        plain-equal / plain-equal-macs), ``width`` (hidden width), ``K`` (dendrite sets in the
        trained network), ``K_max`` (sets allowed), ``params`` (parameters, dendrites
        counted), ``macs`` (multiply-accumulates of one drift + diffusion evaluation),
        ``train_tw2`` / ``valid_tw2`` / ``test_tw2`` (tW2 summed over the groups of each
        split, squared species units; ``test_tw2`` NaN without a test split), ``seconds``
        (wall time of building and training; NaN for the wide model, which is not
        retrained), ``capped`` (cascade dendrite phases that ended at their epoch cap with
        the correlation still rising; 0 otherwise).
    best : str
        ``candidate`` of the chosen network (``"wide"`` when none smaller is within tolerance).
    rule : str
        The rule ``best`` was picked by, with the split and the threshold, in words.
    best_model : ENDnSDE
        The chosen network (simulatable; :func:`cellsde.nn.checkpoint.save_model` stores
        its dendrites).
    compressed : bool
        Whether ``best`` is smaller than the wide model.
    tolerance : float
        Relative tolerance used for the choice.
    mode : str
        Dendrite mode (``"gd"`` or ``"cascade"``).
    """

    table: pd.DataFrame
    best: str
    rule: str
    best_model: ENDnSDE = field(repr=False)
    compressed: bool
    tolerance: float
    mode: str


def _check(model, train, valid, test, widths, max_dendrites, mode, tolerance, config) -> list[int]:
    if not isinstance(model, ENDnSDE):
        raise TypeError(f"compress expects a fitted ENDnSDE, got {type(model).__name__}")
    splits = (("train", train), ("valid", valid)) + ((("test", test),) if test is not None else ())
    for name, ds in splits:
        if not isinstance(ds, xr.Dataset):
            raise TypeError(f"{name} must be an xarray.Dataset, got {type(ds).__name__}")
    if isinstance(widths, int | str) or not isinstance(widths, Sequence) or not widths:
        raise ValueError(f"widths must be a non-empty sequence of hidden widths, got {widths!r}")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(f"widths must be integers >= 1, got {list(widths)}")
    if isinstance(max_dendrites, bool) or not isinstance(max_dendrites, int) or max_dendrites < 0:
        raise ValueError(f"max_dendrites must be an integer >= 0, got {max_dendrites!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    if not isinstance(config, FitConfig):
        raise TypeError(f"config must be a FitConfig, got {type(config).__name__}")
    for _, ds in splits:  # fail on a model/data mismatch before any training
        model_groups(model, ds, observed=config.observed)
    return list(dict.fromkeys(int(w) for w in widths))


def _score(model: ENDnSDE, data: xr.Dataset | None, config: FitConfig, seed: int) -> float:
    if data is None:
        return math.nan
    table = evaluate(
        model, data, n_paths=config.n_paths, dt=config.dt, seed=seed, observed=config.observed
    )
    return float(table["tw2_total"])


def compress(
    model: ENDnSDE,
    train: xr.Dataset,
    *,
    valid: xr.Dataset,
    test: xr.Dataset | None = None,
    widths: Sequence[int],
    max_dendrites: int = 2,
    mode: str = "gd",
    tolerance: float = 0.05,
    config: FitConfig | None = None,
    dendrites: DendriteConfig | None = None,
    seed: int = 0,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> CompressionResult:
    """Train narrow END-nSDEs with and without dendrites; pick the smallest within tolerance.

    Parameters
    ----------
    model : ENDnSDE
        The fitted wide model (left unchanged).
    train : xarray.Dataset
        Training groups (cellsde schema: ``x`` (cell, time, species), ``theta``, ``group``).
    valid : xarray.Dataset
        Held-out groups that steer training: early stopping and the dendrite schedule.
    test : xarray.Dataset, optional
        Held-out groups nothing steers on; the choice of ``best`` uses them when given.
    widths : sequence of int
        Hidden widths of the narrow candidates.
    max_dendrites : int
        Largest number ``K`` of dendrite sets; ``K = 0..max_dendrites`` are tried per width.
    mode : {"gd", "cascade"}
        ``"gd"``: exactly ``K`` sets from the start, trained jointly with the network by
        :func:`cellsde.fit` (simple fixed-K joint training). ``"cascade"``: the perforate
        phase schedule (``dendrites.schedule``; Perforated Backpropagation's by default)
        grows up to ``K`` correlation-trained sets (it may keep fewer; the ``K`` column says
        how many).
    tolerance : float
        Relative tolerance on the wide model's tW2 (test split, else valid) for ``best``.
    config : FitConfig, optional
        Loss, optimiser, ``dt``, ``n_paths`` and the epoch budget of every candidate (the
        wide model's settings give the honest comparison). ``seed`` is replaced by ``seed``;
        ``checkpoint_path``/``resume`` are ignored (no per-candidate state files).
    dendrites : DendriteConfig, optional
        Dendrite activation, init scale and cascade schedule settings (``mode`` and
        ``max_dendrites`` are set from the arguments).
    seed : int
        Seeds weights, dendrites, the training noise and the evaluation noise.
    callback : callable, optional
        Called with each finished table row (a dict) — for progress output.

    Returns
    -------
    CompressionResult

    Raises
    ------
    ValueError, TypeError, cellsde.errors.ModelMismatchError
        Empty or non-positive widths, negative ``max_dendrites``, unknown mode, negative
        tolerance, or data without the model's species/parameters.
    """
    config = FitConfig(progress=False) if config is None else config
    widths = _check(model, train, valid, test, widths, max_dendrites, mode, tolerance, config)
    config = config.replace(seed=int(seed), checkpoint_path=None, resume=False)
    dcfg = replace(dendrites or DendriteConfig(), mode=mode, layers=None)
    eval_seed = int(seed) + 1
    rows: list[dict[str, Any]] = []
    plain: dict[int, dict[str, Any]] = {}  # width -> row of a trained plain network
    models: dict[str, ENDnSDE] = {"wide": model}

    def add(row: dict[str, Any], net: ENDnSDE) -> dict[str, Any]:
        rows.append(row)
        models[row["candidate"]] = net
        if callback is not None:
            callback(dict(row))
        return row

    def scores(net: ENDnSDE) -> dict[str, float]:
        return {f"{name}_tw2": _score(net, ds, config, eval_seed)
                for name, ds in (("train", train), ("valid", valid), ("test", test))}  # fmt: skip

    add(
        {"candidate": "wide", "kind": "wide", "width": max(model.config.hidden), "K": 0,
         "K_max": 0, "params": count_parameters(model), "macs": model_macs(model),
         **scores(model), "seconds": math.nan, "capped": 0},
        model,
    )  # fmt: skip

    def train_plain(width: int, kind: str, name: str) -> dict[str, Any]:
        if width in plain:  # same network already trained: reuse it
            row = {**plain[width], "candidate": name, "kind": kind}
            return add(row, models[plain[width]["candidate"]])
        start = time.perf_counter()
        net = fit(build_candidate(model, width, seed=seed), train, valid=valid, config=config).model
        row = {"candidate": name, "kind": kind, "width": width, "K": 0, "K_max": 0,
               "params": count_parameters(net), "macs": model_macs(net), **scores(net),
               "seconds": time.perf_counter() - start, "capped": 0}  # fmt: skip
        plain[width] = row
        return add(row, net)

    for width in widths:
        train_plain(width, "narrow", f"w{width}")
    for width in widths:
        for k in range(1, max_dendrites + 1):
            start = time.perf_counter()
            capped = 0
            if mode == "gd":
                net = build_candidate(model, width, n_sets=k, dendrites=dcfg, seed=seed)
                net = fit(net, train, valid=valid, config=config).model
            else:
                cfg_k = replace(dcfg, max_dendrites=k)
                net = build_candidate(model, width, dendrites=cfg_k, seed=seed)
                capped = sum(
                    fit_cascade(net, train, valid, config, cfg_k, seed=seed).candidate_capped
                )
            kept = dendritic_layers(net)[0][1].n_sets
            row = add(
                {"candidate": f"w{width}+K{k}", "kind": "dendrites", "width": width, "K": kept,
                 "K_max": k, "params": count_parameters(net), "macs": model_macs(net),
                 **scores(net), "seconds": time.perf_counter() - start, "capped": capped},
                net,
            )  # fmt: skip
            w_eq = equal_width(model.config, row["params"])
            train_plain(w_eq, "plain-equal", f"w{w_eq} (=w{width}+K{k})")
            w_macs = equal_macs_width(model.config, row["macs"])
            train_plain(w_macs, "plain-equal-macs", f"w{w_macs} (=macs w{width}+K{k})")
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    column = "test_tw2" if test is not None else "valid_tw2"
    limit = float(table.loc[0, column]) * (1.0 + tolerance)
    ok = table[(table[column] <= limit) & (table["kind"] != "wide")]
    ok = ok[ok["params"] < table.loc[0, "params"]]
    if len(ok):
        best = str(ok.sort_values(["params", column]).iloc[0]["candidate"])
    else:
        best = "wide"
    split = ("the test groups (nothing steered on them)" if test is not None else
             "the validation groups (they also steered training: pass a test split)")  # fmt: skip
    rule = (f"smallest network (parameters, dendrites counted) whose tW2 on {split} is at most "
            f"(1 + {tolerance:g}) x the wide model's {table.loc[0, column]:.6g} = {limit:.6g}; "
            "the wide model itself when none is")  # fmt: skip
    return CompressionResult(
        table=table,
        best=best,
        rule=rule,
        best_model=models[best],
        compressed=best != "wide",
        tolerance=float(tolerance),
        mode=mode,
    )
