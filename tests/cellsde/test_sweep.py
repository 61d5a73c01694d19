"""cellsde.sweep: a function over a grid, locally and on a dask LocalCluster."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import xarray as xr

import cellsde
from cellsde.distributed import sweep

try:  # the swept functions travel by value: workers need not import this module (nor torch)
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
except ImportError:
    pass


def _scalars(a, b):
    return {"sum": a + b, "prod": a * b}


def _noisy(a, seed):
    return {"draw": a + np.random.default_rng(seed).normal(), "seed": seed}


def _profile(k, label):
    t = np.arange(3.0)
    return xr.Dataset({"y": ("t", k * t), "tag": ((), len(label))}, coords={"t": t})


def _boom(a):
    raise ZeroDivisionError(f"a={a}")


GRID = {"a": [3, 1, 2], "b": [10.0, 20.0]}


def test_product_grid_keeps_the_given_order():
    ds = cellsde.sweep(_scalars, GRID)
    assert ds["sum"].dims == ("a", "b")
    assert ds.a.values.tolist() == [3, 1, 2] and ds.b.values.tolist() == [10.0, 20.0]
    a, b = np.meshgrid([3, 1, 2], [10.0, 20.0], indexing="ij")
    np.testing.assert_array_equal(ds["sum"].values, a + b)
    np.testing.assert_array_equal(ds["prod"].values, a * b)
    assert ds.attrs["seed"] == 0


def test_list_of_settings_gives_a_point_dim():
    ds = sweep(_scalars, [{"a": 1, "b": 2}, {"a": 5, "b": -1}])
    assert ds["sum"].dims == ("point",)
    assert ds["sum"].values.tolist() == [3, 4] and ds.a.values.tolist() == [1, 5]


def test_dataset_results_keep_their_dims():
    ds = sweep(_profile, {"k": [1.0, 2.0], "label": ["x", "yyy"]})
    assert ds["y"].dims == ("k", "label", "t")
    np.testing.assert_array_equal(ds["y"].sel(k=2.0, label="x").values, [0.0, 2.0, 4.0])
    assert ds["tag"].sel(label="yyy").values.tolist() == [3, 3]


def test_seeds_are_spawned_per_point():
    a = sweep(_noisy, {"a": [0.0, 1.0, 2.0]}, seed=11)
    b = sweep(_noisy, {"a": [0.0, 1.0, 2.0]}, seed=11)
    xr.testing.assert_identical(a, b)
    assert len(set(a["seed"].values.tolist())) == 3
    assert not a.equals(sweep(_noisy, {"a": [0.0, 1.0, 2.0]}, seed=12))


def test_bad_grids_and_results():
    with pytest.raises(TypeError, match="list of values"):
        sweep(_scalars, {"a": 1, "b": [1]})
    with pytest.raises(ValueError, match="duplicate"):
        sweep(_scalars, {"a": [1, 1], "b": [1]})
    with pytest.raises(TypeError, match=r"dict of scalars or an xarray\.Dataset"):
        sweep(lambda a: [a], {"a": [1]})
    with pytest.raises(ZeroDivisionError, match="a=1"):
        sweep(_boom, {"a": [1]})


def test_on_a_local_cluster_matches_local_run():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        for fn, grid in ((_scalars, GRID), (_noisy, {"a": [0.0, 1.0, 2.0, 3.0]})):
            xr.testing.assert_identical(sweep(fn, grid, client=client, seed=5),
                                        sweep(fn, grid, seed=5))  # fmt: skip
        with pytest.raises(ZeroDivisionError, match="a=2"):
            sweep(_boom, {"a": [2]}, client=client)
