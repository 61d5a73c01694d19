"""to_tensors / from_tensors: the one xarray <-> torch bridge."""

import numpy as np
import pytest
import torch
import xarray as xr

from cellsde.datasets import from_arrays, from_tensors, to_tensors
from cellsde.errors import SchemaError


def sample(group=("b", "a", "b")):
    x = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2)
    x[1, 2, :] = np.nan
    x[0, 0, 1] = np.nan
    return from_arrays(
        x,
        times=[0, 1, 2, 4],
        species=["A", "B"],
        theta=np.eye(3)[:, :2],
        params=["p", "q"],
        group=list(group),
        time_units="min",
    )


def test_to_tensors_masks_nan_and_codes_groups():
    ds = sample()
    t = to_tensors(ds, dtype=torch.float64)
    assert t.x.shape == (3, 4, 2) and t.x.dtype == torch.float64
    assert t.mask.dtype == torch.bool
    np.testing.assert_array_equal(t.mask.numpy(), ~np.isnan(ds["x"].values))
    assert torch.all(t.x[~t.mask] == 0)
    np.testing.assert_array_equal(t.x[t.mask].numpy(), ds["x"].values[~np.isnan(ds["x"].values)])
    assert t.group_labels == ("a", "b") and t.group.tolist() == [1, 0, 1]
    assert t.theta.shape == (3, 2) and t.params == ("p", "q")
    assert t.species == ("A", "B") and t.time_units == "min"
    assert t.times.tolist() == [0, 1, 2, 4]


def test_round_trip_restores_nan_and_group():
    ds = sample()
    t = to_tensors(ds, dtype=torch.float64)
    back = from_tensors(
        t.x,
        times=t.times,
        species=t.species,
        mask=t.mask,
        theta=t.theta,
        params=t.params,
        group=np.asarray(t.group_labels)[t.group.numpy()],
        time_units=t.time_units,
        attrs=ds.attrs,
    )
    xr.testing.assert_identical(back, ds)


def test_float32_default_and_dataset_without_theta():
    ds = sample().drop_vars(["theta", "param", "group"])
    t = to_tensors(ds)
    assert t.x.dtype == torch.float32 and t.theta is None and t.group is None
    assert t.params == () and t.group_labels == ()


def test_bad_inputs():
    with pytest.raises(TypeError, match="floating"):
        to_tensors(sample(), dtype=torch.int64)
    with pytest.raises(SchemaError, match="no dim 'cell'"):
        to_tensors(sample().rename_dims(cell="c"))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        from_tensors(np.zeros((1, 1, 1)), times=[0.0], species=["A"])
    x = torch.zeros(2, 3, 1)
    with pytest.raises(SchemaError, match="mask has shape"):
        from_tensors(x, times=[0, 1, 2], species=["A"], mask=torch.ones(2, 3, 2, dtype=bool))
    with pytest.raises(SchemaError, match="bool"):
        from_tensors(x, times=[0, 1, 2], species=["A"], mask=torch.ones(2, 3, 1))
    with pytest.raises(SchemaError, match="times has shape"):
        from_tensors(x, times=[0, 1], species=["A"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_device():
    t = to_tensors(sample(), device="cuda")
    assert t.x.is_cuda and t.mask.is_cuda
    back = from_tensors(t.x, times=t.times, species=t.species, mask=t.mask)
    assert np.isnan(back["x"].values).sum() == 3
