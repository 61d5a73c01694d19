"""Issue 5, acceptance 1: an END-nSDE fit on the damped oscillator recovers drift and noise
covariance on held-out ω (benchmarks/recover_coefficients.py, the documented configuration).

The errors come from ``cellsde.evaluate(..., true_model=...)`` over every state of the model's
own paths at all 11 evaluation times, on the 5 interior ω that training never sees. Fully
seeded (data, weights, Brownian increments), so the run is deterministic.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "recover_coefficients.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("recover_coefficients", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_warm_started_debiased_fit_recovers_drift_and_noise_on_held_out_omega(bench):
    r = bench.run_seed(bench.Setting(), 1, loss="plain+debiased")  # ~3 min on one loaded core
    assert len(r["groups"]) == 5 and "(+0.0,+0.0)" in r["groups"]  # held-out interior ω
    assert r["drift"] < 0.10
    assert r["sigma"] < 0.20
    assert max(r["sigma_groups"]) < 0.25  # no held-out ω far off
