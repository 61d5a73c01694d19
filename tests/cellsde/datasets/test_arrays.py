"""from_arrays: wraps arrays as a contract dataset and names shapes when they disagree."""

import json

import numpy as np
import pytest

from cellsde._version import __version__
from cellsde.datasets import from_arrays
from cellsde.errors import SchemaError

X = np.zeros((3, 4, 2))


def test_builds_contract_dataset_with_default_attrs():
    ds = from_arrays(
        X, times=[0, 1, 2, 3], species=["A", "B"], time_units="min", attrs={"config": {"k": 2}}
    )
    assert ds["x"].dims == ("cell", "time", "species")
    assert ds["time"].attrs["units"] == "min"
    assert ds.attrs["time_units"] == "min"
    assert ds.attrs["schema_version"] == 1
    assert ds.attrs["cellsde_version"] == __version__
    assert json.loads(ds.attrs["config"]) == {"k": 2}
    assert ds["time"].dtype == np.float64


def test_integer_x_becomes_float_and_float32_kept():
    assert from_arrays(np.zeros((1, 1, 1), int), times=[0], species=["A"])["x"].dtype == float
    ds = from_arrays(np.zeros((1, 1, 1), np.float32), times=[0], species=["A"])
    assert ds["x"].dtype == np.float32


def test_2d_x_gets_hint():
    with pytest.raises(SchemaError, match=r"shape \(3, 4\).*x\[\.\.\., None\]"):
        from_arrays(np.zeros((3, 4)), times=range(4), species=["A"])


def test_times_shape_named():
    with pytest.raises(SchemaError, match=r"times has shape \(3,\); x has shape \(3, 4, 2\)"):
        from_arrays(X, times=[0, 1, 2], species=["A", "B"])


def test_species_count_named():
    with pytest.raises(SchemaError, match="species has 1 names"):
        from_arrays(X, times=range(4), species=["A"])
    with pytest.raises(SchemaError, match="single str"):
        from_arrays(X, times=range(4), species="AB")


def test_theta_shape_and_names():
    with pytest.raises(SchemaError, match=r"theta has shape \(2, 1\); x has 3 cells"):
        from_arrays(X, times=range(4), species=["A", "B"], theta=np.ones((2, 1)), params=["k"])
    with pytest.raises(SchemaError, match="params"):
        from_arrays(X, times=range(4), species=["A", "B"], theta=np.ones((3, 1)))
    with pytest.raises(SchemaError, match="params has 2 names"):
        from_arrays(X, times=range(4), species=["A", "B"], theta=np.ones((3, 1)), params=["a", "b"])
    with pytest.raises(SchemaError, match="theta is not"):
        from_arrays(X, times=range(4), species=["A", "B"], params=["a"])


def test_group_and_cell_coord_lengths():
    with pytest.raises(SchemaError, match=r"group has shape \(2,\); x has 3 cells"):
        from_arrays(X, times=range(4), species=["A", "B"], group=[0, 1])
    with pytest.raises(SchemaError, match="dose has shape"):
        from_arrays(X, times=range(4), species=["A", "B"], cell_coords={"dose": [1.0]})


def test_decreasing_times_rejected():
    with pytest.raises(SchemaError, match="strictly increasing"):
        from_arrays(X, times=[0, 2, 1, 3], species=["A", "B"])


def test_unknown_time_units_rejected():
    with pytest.raises(SchemaError, match="weeks"):
        from_arrays(X, times=range(4), species=["A", "B"], time_units="weeks")
