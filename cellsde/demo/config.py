"""What the stages of ``cellsde demo`` share: sizes, the record of finished stages, the split.

The runner (:mod:`cellsde.demo.run`), the stages (:mod:`cellsde.demo.stages`) and the report
(:mod:`cellsde.demo.report`) all import from here and never from each other's callers, so the
dependencies point one way: run -> stages -> report -> config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HELD_OUT = (2, 6, 12, 18, 22)  # omega grid points never seen in training (indices in the 5x5 grid)
K1, K2 = 0.3, 0.1  # damped oscillator noise constants (the paper's k1, k2 sweep)
# cellsde/demo/config.py -> the checkout root holds data/; its parent may hold shared/
_CHECKOUT = Path(__file__).resolve().parents[2]
EXAMPLE_TRACKS = _CHECKOUT / "data" / "example_tracks.csv"


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


def find_guo_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The Guo 2024 ``example_data.mat``: ``explicit``, else ``../shared/data/nfkb-guo2024`` near here."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"--data {str(path)!r} does not exist")
        return path
    rel = Path("shared") / "data" / "nfkb-guo2024" / "example_data.mat"
    for base in (Path.cwd(), Path.cwd().parent, _CHECKOUT.parent):
        if (base / rel).is_file():
            return base / rel
    return None


def held_out_mask(groups: np.ndarray) -> np.ndarray:
    """True for cells of the held-out omega groups."""
    return np.isin(groups, HELD_OUT)
