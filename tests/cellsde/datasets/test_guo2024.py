"""read_guo2024 on the Guo et al. example_data.mat (skipped when shared data are absent)."""

from pathlib import Path

import numpy as np
import pytest

from cellsde.datasets import read_guo2024, validate_dataset
from cellsde.errors import ImportFormatError

# CI clones the repository with shared/ beside it: <repo>/../shared
SHARED = Path(__file__).resolve().parents[3] / ".." / "shared"
MAT = SHARED / "data" / "nfkb-guo2024" / "example_data.mat"
needs_mat = pytest.mark.skipif(not MAT.exists(), reason=f"shared data not found at {MAT}")


@pytest.fixture(scope="module")
def exp():
    return read_guo2024(MAT)


@needs_mat
def test_shape_coords_and_units(exp):
    validate_dataset(exp)
    assert dict(exp.sizes) == {"cell": 19 * 60, "time": 97, "species": 1}
    assert exp["species"].values.tolist() == ["nfkb_nuclear"]
    assert exp["x"].attrs["units"] == "µM"
    assert exp["time"].attrs["units"] == "min"
    np.testing.assert_array_equal(exp["time"].values, np.arange(97) * 5.0)
    assert sorted(set(exp["group"].values.tolist())) == list(range(19))
    assert np.all(np.bincount(exp["group"].values) == 60)
    assert set(exp["source"].values.tolist()) == {"exp"}
    assert exp.attrs["method"] == "measured"
    tnf = exp.where(exp["ligand"] == "TNF", drop=True)
    assert sorted(set(tnf["dose"].values.tolist())) == [0.1, 1.0, 10.0]
    assert set(tnf["dose_units"].values.tolist()) == {"ng/mL"}
    cpg = exp["dose"].values[exp["ligand"].values == "CpG"]
    assert cpg.max() == 1000.0  # "1uM" in nM


@needs_mat
def test_tnf_10ng_mean_peaks_near_0106_at_20_min(exp):
    cells = (exp["ligand"] == "TNF") & (exp["dose"] == 10.0)
    mean = exp["x"].sel(species="nfkb_nuclear").isel(cell=cells.values).mean("cell")
    assert float(mean.max()) == pytest.approx(0.106, abs=0.001)
    assert float(mean["time"][int(mean.argmax("time"))]) == 20.0


@needs_mat
def test_sources():
    pred = read_guo2024(MAT, source="pred")
    assert pred.attrs["method"] == "ode" and pred.sizes["cell"] == 1140
    both = read_guo2024(MAT, source="both")
    assert both.sizes["cell"] == 2280
    assert both["source"].values[:1140].tolist() == ["exp"] * 1140
    np.testing.assert_array_equal(both["x"].values[1140:], pred["x"].values)


def test_bad_inputs(tmp_path):
    with pytest.raises(ImportFormatError, match="source"):
        read_guo2024(MAT, source="model")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_guo2024(tmp_path / "absent.mat")
    junk = tmp_path / "junk.mat"
    junk.write_text("not a mat file at all, just text" * 10)
    with pytest.raises(ImportFormatError, match="not a MATLAB"):
        read_guo2024(junk)


def test_wrong_struct(tmp_path):
    import scipy.io

    path = tmp_path / "other.mat"
    scipy.io.savemat(path, {"something": np.zeros(3)})
    with pytest.raises(ImportFormatError, match=r"no struct 'data_example'.*something"):
        read_guo2024(path)
    scipy.io.savemat(path, {"data_example": {"exp": np.zeros((2, 2))}})
    with pytest.raises(ImportFormatError, match="lacks fields"):
        read_guo2024(path)


def test_dose_strings():
    from cellsde.datasets.guo2024 import _parse_dose

    assert _parse_dose("TNF", "100pg") == (pytest.approx(0.1), "ng/mL")
    assert _parse_dose("CpG", "1uM") == (1000.0, "nM")
    assert _parse_dose("PolyIC", "33ug") == (33.0, "µg/mL")
    with pytest.raises(ImportFormatError, match="cannot read dose"):
        _parse_dose("IFN", "1ng")
    with pytest.raises(ImportFormatError, match="cannot read dose"):
        _parse_dose("TNF", "lots")


@needs_mat
@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_keeps_unicode_units_and_coords(tmp_path, suffix):
    import xarray as xr

    from cellsde.datasets import open_dataset, save_dataset

    ds = read_guo2024(MAT, source="both")
    save_dataset(ds, tmp_path / f"guo{suffix}")
    xr.testing.assert_identical(open_dataset(tmp_path / f"guo{suffix}"), ds)
