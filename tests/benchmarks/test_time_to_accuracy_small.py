"""benchmarks/time_to_accuracy.py: evaluation schedule, first/sustained crossing, report."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "time_to_accuracy.py"


@pytest.fixture(scope="module")
def tta():
    sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("time_to_accuracy", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cps(values, dt_s=10.0):
    return [
        {
            "epoch": 10 * (i + 1),
            "train_time_s": dt_s * (i + 1),
            "tw2": v,
            "train_cpu_s": dt_s * i + 1,
        }
        for i, v in enumerate(values)
    ]


def test_schedule(tta):
    assert tta.schedule(10, 35) == [10, 20, 30]
    assert tta.schedule(0, 130) == [5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 125]


def test_first_and_sustained_crossing(tta):
    cps = _cps([0.3, 0.1, 0.25, 0.09, 0.08])
    assert tta.first_reach(cps, 0.1)["epoch"] == 20
    assert tta.stays_below(cps, 0.1)["epoch"] == 40
    assert tta.first_reach(cps, 0.05) is None
    assert tta.stays_below(cps, 0.05) is None
    assert tta.stays_below(_cps([0.3, 0.05, 0.2]), 0.1) is None  # last one above


def test_report_ratio_against_paper_run(tta, tmp_path, monkeypatch):
    monkeypatch.setattr(tta, "OUT", tmp_path)
    fit = {"dt": 1e-3, "lr": 2e-3, "standardize": False}
    paper = {"fit": fit, "checkpoints": _cps([0.2, 0.1], dt_s=100.0)}  # target 0.1 at 200 s
    fast = {"fit": {**fit, "dt": 0.02}, "checkpoints": _cps([0.3, 0.12, 0.09], dt_s=5.0)}
    (tmp_path / "tta-paper.json").write_text(json.dumps(paper))
    name = next(n for n in tta.SETTINGS if n != tta.PAPER)
    (tmp_path / f"tta-{name}.json").write_text(json.dumps(fast))
    text = tta.report(eval_dt=1e-3, paper_epochs=20)
    row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
    # reached at the third checkpoint (epoch 30, 15 s): 200 / 15 = 13.3x
    assert "| 30 | 30 | 15 |" in row and "13.3x" in row
    assert "did not finish" not in text
    assert "did not finish" in tta.report(eval_dt=1e-3, paper_epochs=500)
