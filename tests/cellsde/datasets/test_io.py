"""save_dataset / open_dataset: exact round trips, atomic writes, clear errors."""

import os

import numpy as np
import pytest
import xarray as xr

from cellsde.datasets import from_arrays, open_dataset, save_dataset
from cellsde.datasets import io as dio
from cellsde.errors import SchemaError

SUFFIXES = [".nc", ".h5", ".zarr"]


def sample(group, dtype=np.float64) -> xr.Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 2)).astype(dtype)
    x[0, 1:3, 0] = np.nan
    x[3, :, 1] = np.nan
    return from_arrays(
        x,
        times=[0.0, 0.25, 0.5, 1.0, 2.0],
        species=["mRNA", "protein"],
        theta=rng.uniform(size=(4, 3)),
        params=["k1", "k2", "k3"],
        group=group,
        time_units="min",
        attrs={"seed": 7, "model": "vilar2002", "method": "ssa", "config": {"a": [1, 2]}},
        cell_coords={"ligand": ["TNF", "LPS", "TNF", "µ-ligand"], "dose": [0.1, 1.0, 10, 1]},
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("group", [[0, 0, 1, 2], ["ctl", "ctl", "tnf", "lps"]])
def test_round_trip_is_identical(tmp_path, suffix, group):
    ds = sample(group)
    path = tmp_path / f"pop{suffix}"
    assert save_dataset(ds, path) == path
    back = open_dataset(path)
    xr.testing.assert_identical(back, ds)
    np.testing.assert_array_equal(np.isnan(back["x"].values), np.isnan(ds["x"].values))
    assert back.attrs["seed"] == 7 and type(back.attrs["seed"]) is int
    assert back["group"].values.tolist() == group


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_float32_kept_and_overwrite_after_open(tmp_path, suffix):
    path = tmp_path / f"pop{suffix}"
    save_dataset(sample([0, 1, 2, 3], np.float32), path)
    first = open_dataset(path)
    assert first["x"].dtype == np.float32
    second = sample([5, 5, 5, 5])
    save_dataset(second, path)  # the file was closed by open_dataset, so this works
    xr.testing.assert_identical(open_dataset(path), second)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"suffix '\.csv'"):
        save_dataset(sample([0, 1, 2, 3]), tmp_path / "pop.csv")
    with pytest.raises(ValueError, match="suffix"):
        open_dataset(tmp_path / "pop")


def test_invalid_dataset_is_not_written(tmp_path):
    ds = sample([0, 1, 2, 3])
    ds.attrs["nested"] = {"a": 1}
    with pytest.raises(SchemaError, match="nested"):
        save_dataset(ds, tmp_path / "pop.nc")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_dataset(sample([0, 1, 2, 3]), tmp_path / "no" / "pop.nc")


def test_crash_during_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "pop.nc"
    old = sample([0, 0, 0, 0])
    save_dataset(old, path)

    def boom(self, target, **kwargs):
        with open(target, "wb") as fh:
            fh.write(b"\x89HDF half")
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(OSError, match="disk full"):
        save_dataset(sample([1, 1, 1, 1]), path)
    monkeypatch.undo()
    xr.testing.assert_identical(open_dataset(path), old)
    assert [p.name for p in tmp_path.iterdir()] == ["pop.nc"]


def test_crash_during_zarr_swap_restores_old_store(tmp_path, monkeypatch):
    path = tmp_path / "pop.zarr"
    old = sample([0, 0, 0, 0])
    save_dataset(old, path)
    real_rename = os.rename
    calls = []

    def flaky(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # moving the new store in fails
            raise OSError("rename failed")
        return real_rename(src, dst)

    monkeypatch.setattr(dio.os, "rename", flaky)
    with pytest.raises(OSError, match="rename failed"):
        save_dataset(sample([1, 1, 1, 1]), path)
    monkeypatch.undo()
    xr.testing.assert_identical(open_dataset(path), old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop.zarr"]


def test_refuses_to_replace_non_zarr_directory(tmp_path):
    target = tmp_path / "pop.zarr"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a zarr store"):
        save_dataset(sample([0, 1, 2, 3]), target)
    assert (target / "precious.txt").read_text() == "keep me"


def test_open_missing_empty_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        open_dataset(tmp_path / "absent.nc")
    empty = tmp_path / "empty.nc"
    empty.write_bytes(b"")
    with pytest.raises(SchemaError, match="empty"):
        open_dataset(empty)
    text = tmp_path / "text.nc"
    text.write_text("cell,time\n1,2\n")
    with pytest.raises(SchemaError, match="not a netCDF file"):
        open_dataset(text)
    truncated = tmp_path / "trunc.nc"
    truncated.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(SchemaError, match="cannot read"):
        open_dataset(truncated)
    (tmp_path / "dir.zarr").mkdir()
    with pytest.raises(SchemaError, match="not a zarr store"):
        open_dataset(tmp_path / "dir.zarr")


def test_reader_validates(tmp_path):
    path = tmp_path / "foreign.nc"
    xr.Dataset({"y": (("sample", "time"), np.zeros((2, 3)))}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(SchemaError, match="no dim 'cell'"):
        open_dataset(path)


def test_netcdf3_file_readable(tmp_path):
    ds = sample([0, 1, 2, 3]).drop_vars(["ligand"])
    path = tmp_path / "classic.nc"
    ds.to_netcdf(path, engine="scipy")
    back = open_dataset(path)
    np.testing.assert_array_equal(back["x"].values, ds["x"].values)
