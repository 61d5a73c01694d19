"""benchmarks/nfkb_sde_data.py at tiny size: grid ordering, contract, seeds, cache, split."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from cellsde.datasets.validate import validate_dataset

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "nfkb_sde_data.py"
SMALL = {"n_paths": 4, "t_end": 0.5, "dt_obs": 0.5, "groups": (0, 120)}


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("nfkb_sde_data", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nfkb_sde_data"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small(gen, tmp_path_factory):
    cache = tmp_path_factory.mktemp("nfkb_sde")
    return gen.load_or_make(seed=3, cache_dir=cache, **SMALL), cache


def test_grid_order_is_row_major_over_ikba_then_nfkb(gen):
    table = gen.omega_table()
    assert table.shape == (121, 2)
    grid = np.linspace(-3.5, -1.5, 11)
    for k in (0, 2, 16, 120):
        i, j = divmod(k, 11)
        np.testing.assert_allclose(table[k], [grid[i], grid[j]])
    assert len(gen.HELD_OUT) == 25 and len(set(gen.HELD_OUT)) == 25


def test_small_dataset_shape_contract_and_start(gen, small):
    ds, _ = small
    validate_dataset(ds)
    assert dict(ds.sizes) == {"cell": 8, "time": 2, "species": 52, "param": 2}
    np.testing.assert_allclose(ds["time"].values, [0.0, 0.5])
    assert ds.attrs["time_units"] == "min" and ds.attrs["seed"] == 3
    assert ds["group"].values.tolist() == [0] * 4 + [120] * 4
    np.testing.assert_allclose(ds["theta"].values[:4], -3.5)
    np.testing.assert_allclose(ds["theta"].values[4:], -1.5)
    x0 = np.asarray(gen.guo2024_sde().initial)  # basal steady state + TNF
    np.testing.assert_allclose(ds["x"].values[:, 0, :], np.tile(x0, (8, 1)))
    assert np.isfinite(ds["x"].values).all()


def test_noise_enters_where_and_as_strongly_as_the_model_says(small):
    ds, _ = small
    x = ds["x"].sel(time=0.5)  # (cell, species)
    sd_lo = x.isel(cell=slice(0, 4)).std("cell")
    sd_hi = x.isel(cell=slice(4, 8)).std("cell")
    # noise intensity 10**-1.5 vs 10**-3.5: the spread of the directly noisy IkBa transcript
    # grows about 100-fold (Euler-Maruyama over 0.5 min: drift nearly linear here)
    ratio = float(sd_hi.sel(species="IkBat") / sd_lo.sel(species="IkBat"))
    assert 30 < ratio < 300
    # a species with no noise term that no noisy species feeds: no spread at all
    assert float(sd_hi.sel(species="TNFR")) == pytest.approx(0.0, abs=1e-12)


def test_seed_reproducible_and_cache_reused(gen, small):
    ds, cache = small
    path = gen.cache_path(gen.Settings(seed=3, **SMALL), cache)
    assert path.exists()
    again = gen.load_or_make(seed=3, cache_dir=cache, **SMALL)  # from the cache
    np.testing.assert_array_equal(again["x"].values, ds["x"].values)
    fresh = gen.make(gen.Settings(seed=3, **SMALL))  # re-simulated: same paths
    np.testing.assert_array_equal(fresh["x"].values, ds["x"].values)
    other = gen.make(gen.Settings(seed=4, **SMALL))
    assert not np.allclose(other["x"].values[:, 1], ds["x"].values[:, 1])


def test_split_even_train_odd_held_out(gen, small):
    ds, _ = small
    train, test = gen.split(ds, held_out=(120,))
    assert train["group"].values.tolist() == [0, 0] and train["path"].values.tolist() == [0, 2]
    assert test["group"].values.tolist() == [120, 120]
    assert test["path"].values.tolist() == [1, 3]


def test_truth_twin_is_the_other_half_of_the_held_out_groups(gen, small):
    ds, _ = small
    twin = gen.truth_twin(ds, held_out=(120,))
    assert twin["group"].values.tolist() == [120, 120]
    assert twin["path"].values.tolist() == [0, 2]
