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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cellsde._version import __version__
from cellsde.datasets.atomic import atomic_write_text

HELD_OUT = (2, 6, 12, 18, 22)  # omega grid points never seen in training (indices in the 5x5 grid)


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo (``small`` is what the test suite runs)."""

    cells_per_group: int = 50
    epochs: int = 150
    hidden: tuple[int, ...] = (64, 64)
    dt: float = 0.01
    infer_iterations: int = 60
    n_bootstrap: int = 10
    compress_epochs: int = 100
    compress_width: int = 8
    seed: int = 0

    @classmethod
    def small(cls) -> DemoConfig:
        return cls(
            cells_per_group=16,
            epochs=8,
            hidden=(16, 16),
            dt=0.05,
            infer_iterations=8,
            n_bootstrap=3,
            compress_epochs=3,
            compress_width=4,
        )


@dataclass
class DemoRecord:
    """Finished stages and their numbers (written to ``demo.json``)."""

    stages: dict[str, str] = field(default_factory=dict)  # stage -> settings hash
    numbers: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def find_guo_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The Guo 2024 ``example_data.mat``: ``explicit``, else ``../shared/data/nfkb-guo2024`` near here."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"--data {str(path)!r} does not exist")
        return path
    rel = Path("shared") / "data" / "nfkb-guo2024" / "example_data.mat"
    for base in (Path.cwd(), Path.cwd().parent, Path(__file__).resolve().parents[2]):
        if (base / rel).is_file():
            return base / rel
    return None


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

    from cellsde.demo_stages import STAGES

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


def held_out_mask(groups: np.ndarray) -> np.ndarray:
    """True for cells of the held-out omega groups."""
    return np.isin(groups, HELD_OUT)
