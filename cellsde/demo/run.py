"""``cellsde demo``: the whole pipeline on an embedded example, in a few minutes on 2 cores.

Stages (each writes its files into the output folder and is skipped on a rerun when its
outputs exist and its settings are unchanged, unless ``fresh=True``):

1. ``tracks``     import the untidy example lab tracks shipped in ``data/`` (when present);
2. ``nfkb``       the experimental NF-kB population at TNF 10 ng/mL (when the Guo 2024 file
                  is found);
3. ``population`` simulate a heterogeneous damped-oscillator population (the END-nSDE
                  circadian benchmark) on a 5 x 5 grid of noise parameters omega;
4. ``fit``        fit an END-nSDE on 20 of the 25 omega groups;
5. ``evaluate``   held-out tW2, the sampling floor and drift / diffusion errors vs the truth;
6. ``infer``      infer omega of the 5 held-out groups (tW2 minimisation + bootstrap);
7. ``compress``   a narrow END-nSDE with and without a dendrite set, and an equal-parameter
                  plain network, against the fitted one (held-out tW2 vs parameters);
8. ``report``     ``report.md`` with the numbers and the figures inline.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cellsde._version import __version__
from cellsde.datasets.atomic import atomic_write_text
from cellsde.demo.config import DemoConfig, DemoRecord, find_guo_file
from cellsde.demo.stages import STAGES


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_demo(
    out: str | os.PathLike[str],
    *,
    config: DemoConfig | None = None,
    fresh: bool = False,
    data: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> DemoRecord:
    """Run the demo pipeline into ``out`` and return what it computed.

    Parameters
    ----------
    out : path-like
        Output folder (created).
    config : DemoConfig, optional
        Sizes; default the full demo.
    fresh : bool
        Recompute every stage even when its outputs exist.
    data : path-like, optional
        The Guo 2024 ``example_data.mat`` (default: looked for in ``../shared/data``).
    progress : bool, optional
        Progress bars (None: only on a terminal).
    log : callable, optional
        Receives one line per finished stage (the CLI prints them).
    """
    from tqdm.auto import tqdm

    cfg = config or DemoConfig()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    record_path = root / "demo.json"
    record = DemoRecord()
    if record_path.is_file() and not fresh:
        record = DemoRecord(**json.loads(record_path.read_text()))
    guo = find_guo_file(data)
    say = log or (lambda _line: None)
    bar = tqdm(
        STAGES, desc="demo", unit="stage", disable=not progress if progress is not None else None
    )
    for name, stage in bar:
        bar.set_postfix_str(name)
        key = _hash({"cfg": asdict(cfg), "guo": str(guo), "version": __version__, "stage": name})
        outputs = [root / f for f in record.files.get(name, [])]
        if record.stages.get(name) == key and all(p.exists() for p in outputs):
            say(f"{name}: up to date (reused)")
            continue
        files, numbers = stage(root, cfg, record.numbers, guo=guo, progress=progress)
        record.numbers.update(numbers)
        record.files[name] = files
        record.stages[name] = key
        # written after every stage, so a finished stage survives a later crash
        atomic_write_text(record_path, json.dumps(asdict(record), indent=2, default=str))
        say(f"{name}: wrote {', '.join(files) if files else 'nothing (input not found)'}")
    return record
