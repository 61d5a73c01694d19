"""benchmarks/nfkb_calibrated_endnsde.py at tiny size: the ground truth and the grouping."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from cellsde.calibration.result import open_population
from cellsde.datasets.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "nfkb_calibrated_endnsde.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("nfkb_calibrated_endnsde", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nfkb_calibrated_endnsde"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def truth(bench):
    pop = open_population(bench.POPULATION, model="guo2024")
    omegas = bench.omega_grid(-4.0, -1.0, 2)
    return bench.simulate_data(pop, omegas=omegas, n_paths=4, seed=0, frames=2), pop


def test_omega_grid_is_row_major_with_omega_ikba_slow(bench):
    g = bench.omega_grid(-4.0, -1.0, 3)
    assert g.shape == (9, 2)
    np.testing.assert_array_equal(g[:3, 0], [-4.0, -4.0, -4.0])
    np.testing.assert_array_equal(g[:3, 1], [-4.0, -2.5, -1.0])


def test_ground_truth_contract_doses_and_observation_model(bench, truth):
    ds, pop = truth
    validate_dataset(ds)
    assert ds.sizes["cell"] == len(bench.DOSES) * 4 * 4 and ds.attrs["time_units"] == "h"
    assert list(ds["param"].values) == list(bench.PARAMS)
    assert set(ds["dose"].values) == set(bench.DOSES)
    for g in np.unique(ds["group"].values):  # one dose and one omega per group
        cells = ds["group"].values == g
        assert len(set(ds["dose"].values[cells])) == 1
        assert len(np.unique(ds["theta"].values[cells], axis=0)) == 1
    # t = 0 is each cell's basal state as measured: offset added, measurement noise on top
    offset = float(pop["observation"].sel(term="offset"))
    noise = float(pop["observation"].sel(term="noise"))
    y0 = ds["x"].values[:, 0, 0]
    assert abs(np.median(y0) - (0.02 + offset)) < 0.02 and 0.3 * noise < y0.std() < 3 * noise
    train, test = bench.split(ds)
    assert (train["path"].values % 2 == 0).all() and (test["path"].values % 2 == 1).all()


def test_ranked_groups_stay_within_one_dose(bench):
    exp = bench.measured(bench.DEFAULT_EXP)
    ref = bench._experiment_module().reference_curve(bench.DEFAULT_REF, exp["time"].values * 60)
    for k in (8, 16):
        ranked = bench.ranked_groups(exp, ref, k)
        labels = ranked["group"].values
        assert np.array_equal(np.unique(labels), np.arange(3 * (60 // k)))
        for g in np.unique(labels):
            assert (labels == g).sum() == k and len(set(ranked["dose"].values[labels == g])) == 1
