"""The calibration intervals cover the true population at their nominal rate (slow)."""

from __future__ import annotations

import numpy as np
import pytest
from _receptor import CONDITIONS, TRUTH, receptor, synthetic

from cellsde.calibration import CalibrationConfig, ObservationModel, calibrate

REPEATS = 16


@pytest.mark.slow
def test_intervals_cover_the_truth_over_repeated_data_sets() -> None:
    truth_median = np.array([TRUTH["kact"][0], TRUTH["kdec"][0]])
    truth_spread = np.array([TRUTH["kact"][1], TRUTH["kdec"][1]])
    hits, estimates = [], []
    for seed in range(REPEATS):
        data = synthetic(40, seed=100 + seed)
        config = CalibrationConfig(starts=1, explore_iterations=50, iterations=50, lr=0.1,
                                   bootstrap=200, level=0.9, seed=seed, progress=False)  # fmt: skip
        pop = calibrate(receptor(), data, free=["kact", "kdec"], conditions=CONDITIONS,
                        observation=ObservationModel("response"), config=config).population  # fmt: skip
        lo, hi = pop["median_interval"].values.T
        hits += list((lo <= truth_median) & (truth_median <= hi))
        lo, hi = pop["spread_interval"].values.T
        hits += list((lo <= truth_spread) & (truth_spread <= hi))
        estimates.append(pop["median"].values)
    coverage = float(np.mean(hits))
    # 64 intervals at 90 %: a calibrated method lands in [0.78, 0.98] with probability > 0.99
    assert 0.78 <= coverage <= 0.99, coverage
    # and the estimates scatter around the truth (no bias beyond their own spread)
    est = np.array(estimates)
    bias = np.abs(est.mean(0) - truth_median) / (est.std(0) / np.sqrt(REPEATS))
    assert np.all(bias < 4), (est.mean(0), est.std(0))
