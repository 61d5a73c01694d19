"""tW2 over cellsde Datasets: pairing of groups/times/species, NaN rule, errors."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import xarray as xr

from cellsde.datasets.schema import CELL, GROUP, SPECIES, TIME, X_DIMS, X
from cellsde.errors import ModelMismatchError, SchemaError
from cellsde.losses import tw2, w2_per_time

TIMES = np.array([0.0, 1.0, 2.0, 3.0])


def _ds(values: np.ndarray, groups=None, species=("A", "B", "C"), times=TIMES) -> xr.Dataset:
    coords = {TIME: (TIME, times, {"units": "h"}), SPECIES: list(species)}
    if groups is not None:
        coords[GROUP] = (CELL, np.asarray(groups))
    return xr.Dataset({X: (X_DIMS, values)}, coords=coords)


def _pot(x: np.ndarray, y: np.ndarray) -> float:
    n, m = len(x), len(y)
    return float(ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), ot.dist(x, y)))


@pytest.fixture
def pair() -> tuple[xr.Dataset, xr.Dataset]:
    rng = np.random.default_rng(0)
    sim = _ds(rng.normal(size=(20, 4, 3)), groups=[0] * 12 + [1] * 8)
    obs = _ds(rng.normal(size=(15, 4, 3)) + 0.5, groups=[1] * 6 + [0] * 9)
    return sim, obs


def test_table_matches_pot_per_group_and_time(pair) -> None:
    sim, obs = pair
    table = w2_per_time(sim, obs, species=["A", "C"])
    assert table.dims == (GROUP, TIME) and table.shape == (2, 4)
    assert table[GROUP].values.tolist() == [1, 0]  # order of first appearance in obs
    xs, xo = sim[X].sel({SPECIES: ["A", "C"]}).values, obs[X].sel({SPECIES: ["A", "C"]}).values
    gs, go = sim[GROUP].values, obs[GROUP].values
    for g in (0, 1):
        for t in range(4):
            want = _pot(xs[gs == g, t], xo[go == g, t])
            assert float(table.sel({GROUP: g}).isel({TIME: t})) == pytest.approx(want, abs=1e-9)


def test_tw2_skips_first_time_and_reduces_groups(pair) -> None:
    sim, obs = pair
    table = w2_per_time(sim, obs)
    per_group = table.isel({TIME: slice(1, None)}).sum(TIME)
    assert tw2(sim, obs) == pytest.approx(float(per_group.sum()))
    assert tw2(sim, obs, reduce_groups="mean") == pytest.approx(float(per_group.mean()))
    assert tw2(sim, obs, skip_first=False) == pytest.approx(float(table.sum()))


def test_identical_datasets_give_zero_and_no_group_is_one_group() -> None:
    rng = np.random.default_rng(1)
    ds = _ds(rng.normal(size=(10, 4, 3)))
    assert tw2(ds, ds) == pytest.approx(0.0, abs=1e-12)
    assert w2_per_time(ds, ds)[GROUP].values.tolist() == ["all"]


def test_sim_extra_species_and_times_are_ignored(pair) -> None:
    sim, obs = pair
    obs2 = obs.sel({SPECIES: ["B"]}).isel({TIME: [0, 2, 3]})
    table = w2_per_time(sim, obs2)
    np.testing.assert_array_equal(table[TIME].values, [0.0, 2.0, 3.0])
    want = w2_per_time(sim, obs, species=["B"]).isel({TIME: [0, 2, 3]})
    np.testing.assert_allclose(table.values, want.values, atol=1e-12)


def test_nan_cells_dropped_and_empty_clouds_skipped(pair) -> None:
    sim, obs = pair
    vals = obs[X].values.copy()
    go = obs[GROUP].values
    idx0 = np.flatnonzero(go == 0)
    vals[idx0[:3], 1, 0] = np.nan  # three group-0 cells unobserved at t=1
    vals[np.flatnonzero(go == 1), 2, :] = np.nan  # group 1 unobserved at t=2
    obs_nan = obs.assign({X: (X_DIMS, vals)})
    table = w2_per_time(sim, obs_nan)
    xs, gs = sim[X].values, sim[GROUP].values
    want = _pot(xs[gs == 0, 1], vals[idx0[3:], 1])
    assert float(table.sel({GROUP: 0}).isel({TIME: 1})) == pytest.approx(want, abs=1e-9)
    assert np.isnan(float(table.sel({GROUP: 1}).isel({TIME: 2})))
    assert tw2(sim, obs_nan) == pytest.approx(float(table.isel({TIME: slice(1, None)}).sum()))


def test_all_nan_group_raises_one_line(pair) -> None:
    sim, obs = pair
    vals = obs[X].values.copy()
    vals[obs[GROUP].values == 1] = np.nan
    with pytest.raises(ValueError, match=r"groups \[1\] have no time") as err:
        tw2(sim, obs.assign({X: (X_DIMS, vals)}))
    assert "\n" not in str(err.value)


def test_sliced_method_runs_and_is_seeded(pair) -> None:
    sim, obs = pair
    a = tw2(sim, obs, method="sliced", seed=3)
    assert a == tw2(sim, obs, method="sliced", seed=3)
    assert 0 < a <= tw2(sim, obs)


@pytest.mark.parametrize(
    ("mutate", "err", "match"),
    [
        (
            lambda s, o: (s, o.assign_coords({TIME: [0.0, 1.0, 2.5, 3.0]})),
            ModelMismatchError,
            "2.5",
        ),
        (lambda s, o: (s, o.assign_coords({SPECIES: ["A", "B", "Z"]})), ModelMismatchError, "Z"),
        (lambda s, o: (s, o.assign_coords({GROUP: (CELL, [7] * 15)})), ModelMismatchError, "7"),
        (lambda s, o: (s.drop_vars(GROUP), o), SchemaError, "group"),
        (lambda s, o: (s.rename({X: "y"}), o), SchemaError, "no variable"),
        (lambda s, o: (s, o[X]), TypeError, "xarray.Dataset"),
        (lambda s, o: (s, o.isel({TIME: [0]})), ValueError, "single time"),
    ],
)
def test_mismatches_raise_naming_the_problem(pair, mutate, err, match) -> None:
    sim, obs = mutate(*pair)
    with pytest.raises(err, match=match):
        tw2(sim, obs)


def test_time_units_mismatch_and_bad_reduce(pair) -> None:
    sim, obs = pair
    obs_min = obs.assign_coords({TIME: (TIME, TIMES, {"units": "min"})})
    with pytest.raises(ModelMismatchError, match="units"):
        tw2(sim, obs_min)
    with pytest.raises(ValueError, match="reduce_groups"):
        tw2(sim, obs, reduce_groups="max")
