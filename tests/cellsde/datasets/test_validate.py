"""validate_dataset: accepts the contract, names exactly what is wrong otherwise."""

import numpy as np
import pytest
import xarray as xr

from cellsde.datasets import from_arrays, validate_dataset
from cellsde.errors import SchemaError


def good() -> xr.Dataset:
    x = np.arange(24, dtype=float).reshape(4, 3, 2)
    x[0, 1, 0] = np.nan
    return from_arrays(
        x,
        times=[0.0, 0.5, 1.0],
        species=["A", "B"],
        theta=np.ones((4, 2)),
        params=["k1", "k2"],
        group=[0, 0, 1, 1],
        attrs={"seed": 1, "method": "ssa", "config": {"n": 1}},
        cell_coords={"ligand": ["TNF", "TNF", "LPS", "LPS"], "dose": [1.0, 2.0, 1.0, 2.0]},
    )


def test_good_dataset_passes_and_is_returned():
    ds = good()
    assert validate_dataset(ds) is ds


def test_not_a_dataset_is_type_error():
    with pytest.raises(TypeError, match=r"xarray\.Dataset"):
        validate_dataset(np.zeros((2, 2, 2)))


def test_missing_cell_dim_names_the_dims_present():
    ds = good().rename_dims(cell="sample")
    with pytest.raises(SchemaError, match=r"dataset has no dim 'cell'; it has \("):
        validate_dataset(ds)
    with pytest.raises(SchemaError, match="'sample'"):
        validate_dataset(ds)


def test_missing_x():
    ds = good().rename_vars(x="y")
    with pytest.raises(SchemaError, match="no variable 'x'"):
        validate_dataset(ds)


def test_wrong_dim_order_suggests_transpose():
    ds = good()
    ds["x"] = ds["x"].transpose("time", "cell", "species")
    with pytest.raises(SchemaError, match="transpose"):
        validate_dataset(ds)


def test_integer_x_rejected():
    ds = good()
    ds["x"] = ds["x"].fillna(0).astype(int)
    with pytest.raises(SchemaError, match="must be float"):
        validate_dataset(ds)


@pytest.mark.parametrize(
    ("times", "match"),
    [([0.0, 1.0, 1.0], "not strictly increasing"), ([0.0, np.nan, 1.0], "non-finite")],
)
def test_bad_time(times, match):
    ds = good().assign_coords(time=("time", times, {"units": "h"}))
    with pytest.raises(SchemaError, match=match):
        validate_dataset(ds)


def test_integer_time_rejected():
    ds = good().assign_coords(time=("time", [0, 1, 2], {"units": "h"}))
    with pytest.raises(SchemaError, match="must be float"):
        validate_dataset(ds)


def test_time_units_missing_or_unknown_or_disagreeing():
    ds = good()
    ds["time"].attrs = {}
    with pytest.raises(SchemaError, match="no attrs\\['units'\\]"):
        validate_dataset(ds)
    ds["time"].attrs = {"units": "fortnight"}
    with pytest.raises(SchemaError, match="fortnight"):
        validate_dataset(ds)
    ds["time"].attrs = {"units": "min"}
    with pytest.raises(SchemaError, match="make them agree"):
        validate_dataset(ds)


def test_duplicate_species_names():
    ds = good().assign_coords(species=["A", "A"])
    with pytest.raises(SchemaError, match="duplicate name 'A'"):
        validate_dataset(ds)


def test_species_must_be_str():
    ds = good().assign_coords(species=[1, 2])
    with pytest.raises(SchemaError, match="str names"):
        validate_dataset(ds)


def test_missing_species_coord():
    ds = good().drop_vars("species")
    with pytest.raises(SchemaError, match="no coord 'species'"):
        validate_dataset(ds)


def test_theta_dims_wrong():
    ds = good()
    ds["theta"] = ds["theta"].transpose("param", "cell")
    with pytest.raises(SchemaError, match="'theta' has dims"):
        validate_dataset(ds)


def test_theta_without_param_names():
    ds = good().drop_vars("param")
    with pytest.raises(SchemaError, match="no coord 'param'"):
        validate_dataset(ds)


def test_group_on_wrong_dim_and_float_group():
    ds = good().drop_vars("group").assign_coords(group=("time", [0, 1, 2]))
    with pytest.raises(SchemaError, match="'group' has dims"):
        validate_dataset(ds)
    ds = good().assign_coords(group=("cell", [0.5, 0.5, 1.0, 1.0]))
    with pytest.raises(SchemaError, match="int or str"):
        validate_dataset(ds)


def test_str_group_accepted():
    ds = good().assign_coords(group=("cell", np.array(["a", "a", "b", "b"], dtype=object)))
    validate_dataset(ds)


def test_duplicate_cell_labels():
    ds = good().assign_coords(cell=["a", "a", "b", "c"])
    with pytest.raises(SchemaError, match="duplicate labels"):
        validate_dataset(ds)


@pytest.mark.parametrize(
    ("value", "match"),
    [({"a": 1}, "JSON string"), (None, "None"), (True, "bool"), (np.zeros((2, 2)), "1-D")],
)
def test_unstorable_attrs_named(value, match):
    ds = good()
    ds.attrs["extra"] = value
    with pytest.raises(SchemaError, match=rf"attrs\['extra'\].*{match}"):
        validate_dataset(ds)


def test_config_must_be_json_and_method_known():
    ds = good()
    ds.attrs["config"] = "{not json"
    with pytest.raises(SchemaError, match="not valid JSON"):
        validate_dataset(ds)
    ds = good()
    ds.attrs["method"] = "magic"
    with pytest.raises(SchemaError, match="magic"):
        validate_dataset(ds)


def test_future_schema_version_rejected():
    ds = good()
    ds.attrs["schema_version"] = 99
    with pytest.raises(SchemaError, match="upgrade cellsde"):
        validate_dataset(ds)


def test_variable_attrs_checked_too():
    ds = good()
    ds["x"].attrs["units"] = {"a": 1}
    with pytest.raises(SchemaError, match=r"x\.attrs"):
        validate_dataset(ds)


def test_check_attrs_storable_directly():
    from cellsde.datasets.validate import check_attrs_storable

    check_attrs_storable({"a": 1, "b": 2.5, "c": "x", "d": [1, 2], "e": np.array(["u", "v"])})
    with pytest.raises(SchemaError, match=r"attrs\[1\]|key 1"):
        check_attrs_storable({1: "x"})
    with pytest.raises(SchemaError, match="of type object"):
        check_attrs_storable({"o": object()})
    with pytest.raises(SchemaError, match="dtype"):
        check_attrs_storable({"mixed": [1, "a", None]})
