"""The calibration intervals cover the true population at their nominal rate (slow)."""

from __future__ import annotations

import numpy as np
import pytest
from _receptor import CONDITIONS, TRUTH, receptor, synthetic

from cellsde.calibration import CalibrationConfig, ObservationModel, calibrate

REPEATS = 12


@pytest.mark.slow
def test_intervals_cover_the_truth_over_repeated_data_sets() -> None:
    truth_median = np.array([TRUTH["kact"][0], TRUTH["kb"][0]])
    truth_spread = np.array([TRUTH["kact"][1], TRUTH["kb"][1]])
    hits, estimates, widths = [], [], []
    for seed in range(REPEATS):
        data = synthetic(40, seed=100 + seed)
        config = CalibrationConfig(starts=1, explore_iterations=40, iterations=40, lr=0.1,
                                   bootstrap=200, level=0.9, seed=seed, progress=False)  # fmt: skip
        pop = calibrate(receptor(), data, free=["kact", "kb"], conditions=CONDITIONS,
                        observation=ObservationModel("response"), config=config).population  # fmt: skip
        lo, hi = pop["median_interval"].values.T
        hits += list((lo <= truth_median) & (truth_median <= hi))
        widths.append(np.log(hi / lo))
        lo, hi = pop["spread_interval"].values.T
        hits += list((lo <= truth_spread) & (truth_spread <= hi))
        widths.append(hi - lo)
        estimates.append(pop["median"].values)
    coverage = float(np.mean(hits))
    # 48 intervals at 90 %: a calibrated method lands in [0.75, 1.0] with probability > 0.99
    # (observed while building: 21 of 24 intervals over 6 data sets)
    assert 0.75 <= coverage, coverage
    # covering by being uninformative does not count: 40 cells per condition pin the log
    # median to about +-0.1 and the spread to about +-0.07 at 90 % (built: 0.15-0.3 wide)
    assert np.max(widths) < 0.5, np.round(widths, 3)
    # and the medians are recovered: the mean estimate within 15 % of the truth (the
    # time-decoupled W2 estimate runs 2-11 % high at 40 cells per condition: kact 2.04, kb 0.111
    # over 12 data sets)
    est = np.array(estimates)
    np.testing.assert_allclose(est.mean(0), truth_median, rtol=0.15)
