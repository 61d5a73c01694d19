"""benchmarks/nfkb_vs_experiment.py: measured features against the reference's sanity values,
and the whole script at tiny size."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "nfkb_vs_experiment.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("nfkb_vs_experiment", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def data_path(shared_dir):
    path = shared_dir / "data" / "nfkb-guo2024" / "example_data.mat"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


def test_experiment_features_match_reference_sanity_values(bench, data_path):
    # reference/end-nsde.md §6: TNF 10 ng/mL measured mean peaks at 0.106 at 20 min, baseline
    # at t0 0.011 (population mean), per-cell median peak time 20 min.
    exp, pred, doses = bench.experiment(data_path)
    assert doses == {0: 0.1, 1: 1.0, 2: 10.0}
    assert exp.sizes["cell"] == pred.sizes["cell"] == 180
    t = exp["time"].values
    x = bench.traces(exp, 2)  # (cell, time)
    f = bench.features(x, t, 120.0)
    assert f["mean_peak"] == pytest.approx(0.106, abs=5e-4)
    assert f["mean_peak_t"] == 20.0
    assert f["tp_med"] == 20.0
    assert x[:, 0].mean() == pytest.approx(0.011, abs=5e-4)


def test_first_peak_rule_on_known_traces(bench):
    t = np.arange(0.0, 481.0, 5.0)
    x = np.stack([np.exp(-(((t - 30.0) / 10) ** 2)), 0.5 * np.exp(-(((t - 200.0) / 10) ** 2))])
    tp, hp = bench.first_peaks(x, t, 120.0)
    np.testing.assert_allclose(tp, [30.0, 120.0])  # second cell: no peak inside the window
    assert hp[0] == pytest.approx(1.0)


@pytest.mark.slow
def test_script_runs_at_tiny_size(data_path, tmp_path):
    cmd = [sys.executable, str(SCRIPT), str(data_path), "--cells", "2", "--schemes", "default",
           "--images", str(tmp_path)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO).stdout
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 3 * 3  # header + (experiment, fits, model) x 3 doses
    assert (tmp_path / "nfkb_fans.png").exists() and (tmp_path / "nfkb_peaks.png").exists()
