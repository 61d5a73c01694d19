"""Every tutorial script of docs/tutorials runs end to end at reduced size."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
EXPECT = {
    "circadian.py": ("SSA:", "held-out tW2"),
    "rpa.py": ("RSA of 20-mers", "per-cell correlation"),
    "nfkb.py": (),  # prints a comparison, or "skipped:" when the data file is absent
}


def run(script: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CELLSDE_TUTORIAL_SMALL": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_every_tutorial_is_tested():
    assert sorted(p.name for p in TUTORIALS.glob("*.py")) == sorted(EXPECT)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_tutorial_runs_small(name, tmp_path):
    proc = run(TUTORIALS / name, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in EXPECT[name]:
        assert text in proc.stdout, proc.stdout
    if "skipped:" not in proc.stdout:
        assert any(tmp_path.iterdir()), "the tutorial wrote no files"


def test_nfkb_tutorial_skips_without_data(tmp_path):
    env = {**os.environ, "CELLSDE_TUTORIAL_SMALL": "1"}
    proc = subprocess.run(
        [sys.executable, str(TUTORIALS / "nfkb.py"), "--data", str(tmp_path / "absent.mat")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("skipped:")
