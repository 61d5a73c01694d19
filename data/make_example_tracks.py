"""Make ``data/example_tracks.csv``: a small, realistic long-format table of lab tracks.

It imitates what a live-cell imaging pipeline exports for a nuclear-translocation reporter
(e.g. mVenus-RelA): one row per cell and frame, with the nuclear and cytoplasmic mean
intensities (arbitrary units). Everything is synthetic and made here, with a fixed seed.

The file exercises what ``cellsde import-csv`` must cope with:

- 40 cells in two conditions (``control``, ``TNF``), imaged every 5 min for 3 h;
- ragged tracks: cells enter late (segmentation starts at frame 0-5) and leave early
  (tracking lost at frame 28-36);
- gaps: about 5% of frames missing inside tracks, and some missing ``nfkb_cyt`` values;
- jitter: each frame is taken 0-0.6 min after its nominal time (a multi-well plate is
  scanned position by position);
- rows of a few cells in reverse time order, and one exactly duplicated row.

Dynamics: TNF cells show the damped NF-κB pulse, x(t) = b + a (t/τ) exp(1 - t/τ) plus a
smaller second pulse, with per-cell a, τ, b (log-normal, i.e. extrinsic noise) and
measurement noise; control cells stay at baseline.

Run ``python data/make_example_tracks.py`` (writes next to this file). The output is
byte-identical on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240601
N_CELLS = 40
FRAME_MIN = 5.0
N_FRAMES = 37  # 0..180 min


def make_tracks(seed: int = SEED) -> pd.DataFrame:
    """Return the example tracks as a long table (columns in export order)."""
    rng = np.random.default_rng(seed)
    rows = []
    for cell in range(N_CELLS):
        condition = "TNF" if cell % 2 else "control"
        first = int(rng.integers(0, 6))
        last = int(rng.integers(28, N_FRAMES))
        frames = np.arange(first, last + 1)
        frames = frames[rng.uniform(size=frames.size) > 0.05]  # gaps
        t = frames * FRAME_MIN + rng.uniform(0.0, 0.6, size=frames.size)  # (frame,) min
        base = rng.lognormal(np.log(0.2), 0.15)
        if condition == "TNF":
            amp, tau = rng.lognormal(np.log(0.8), 0.3), rng.lognormal(np.log(25.0), 0.2)
            pulse = (t / tau) * np.exp(1 - t / tau)
            second = 0.3 * np.exp(-(((t - 110.0) / 20.0) ** 2))
            nuc = base + amp * (pulse + second)
        else:
            nuc = base + np.zeros_like(t)
        nuc = nuc * rng.lognormal(0.0, 0.05, size=t.size)  # measurement noise
        cyt = np.clip(1.2 - 0.8 * (nuc - base), 0.05, None) * rng.lognormal(0, 0.05, t.size)
        cyt[rng.uniform(size=t.size) < 0.03] = np.nan  # failed cytoplasm segmentation
        order = slice(None, None, -1) if cell % 13 == 5 else slice(None)  # a few reversed
        for ti, n, c in zip(t[order], nuc[order], cyt[order]):
            rows.append((f"cell{cell:03d}", condition, round(ti, 2), round(n, 4), round(c, 4)))
    table = pd.DataFrame(
        rows, columns=["track_id", "condition", "time_min", "nfkb_nuc", "nfkb_cyt"]
    )
    dup = table.iloc[[len(table) // 3]]
    return pd.concat([table, dup], ignore_index=True)  # one exact duplicate row


def main(out: Path) -> None:
    make_tracks().to_csv(out, index=False, lineterminator="\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("example_tracks.csv"))
