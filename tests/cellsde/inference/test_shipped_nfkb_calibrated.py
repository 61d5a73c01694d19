"""The shipped END-nSDE of the calibrated NF-kB population and its amortizer, on measured cells.

``data/nfkb_calibrated_endnsde.pt`` / ``_amortizer.pt`` (benchmarks/nfkb_calibrated_endnsde.py
--ship): conditioned on the unknown noise intensities and the known log10 TNF dose. Both the
library and the command line infer measured TNF cells with them, the dose read from the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cellsde import infer, load_model
from cellsde.cli.main import main as cli
from cellsde.datasets import from_arrays, read_guo2024, save_dataset
from cellsde.inference.amortized import load_amortizer

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "data" / "nfkb_calibrated_endnsde.pt"
AMORTIZER = ROOT / "data" / "nfkb_calibrated_amortizer.pt"
MAT = ROOT.parent / "shared" / "data" / "nfkb-guo2024" / "example_data.mat"


@pytest.fixture(scope="module")
def tnf_cells() -> xr.Dataset:
    """The first 16 measured cells of each TNF dose, 0-150 min in hours, grouped by dose."""
    if not MAT.exists():
        pytest.skip(f"{MAT} is not here")
    ds = read_guo2024(MAT, source="exp")
    keep = np.concatenate([np.flatnonzero((ds["ligand"].values == "TNF") & (ds["dose"].values == d))[:16]
                           for d in (0.1, 1.0, 10.0)])  # fmt: skip
    ds = ds.isel(cell=keep, time=slice(0, 31))
    out = from_arrays(ds["x"].values, times=ds["time"].values / 60.0, time_units="h",
                      species=["nfkb_nuclear"], group=np.repeat([0, 1, 2], 16),
                      cell_coords={k: ds[k].values for k in ("ligand", "dose", "dose_units")},
                      attrs={"model": "guo2024", "method": "measured"})  # fmt: skip
    out["x"].attrs["units"] = "µM"
    return out


def test_shipped_model_and_amortizer_agree_on_what_they_condition_on() -> None:
    model, net = load_model(MODEL), load_amortizer(AMORTIZER)
    assert model.param_names == ("omega_ikba", "omega_nfkb", "log10(dose)")
    assert net.config.params == ("omega_ikba", "omega_nfkb")
    assert net.config.covariates == ("log10(dose)",) and net.config.bounded
    lo, hi = net.box()
    assert lo.tolist() == [-4.0, -4.0] and hi.tolist() == [-1.0, -1.0]


def test_measured_groups_are_inferred_inside_the_box(tnf_cells) -> None:
    res = infer(load_model(MODEL), tnf_cells, method="amortized",
                amortizer=load_amortizer(AMORTIZER), n_bootstrap=4, n_paths=16, seed=0)  # fmt: skip
    theta = res["theta"].values  # (group, param)
    assert theta.shape == (3, 2) and np.isfinite(theta).all()
    assert ((theta > -4.0) & (theta < -1.0)).all() and not res["at_bound"].values.any()


def test_cli_infers_measured_cells_with_the_shipped_files(tnf_cells, tmp_path) -> None:
    data = tmp_path / "tnf.nc"
    save_dataset(tnf_cells, data)
    out = tmp_path / "theta.nc"
    rc = cli(["infer", str(MODEL), str(data), "--out", str(out), "--method", "amortized",
              "--amortizer", str(AMORTIZER), "--bootstrap", "0"])  # fmt: skip
    assert rc == 0
    with xr.open_dataset(out) as res:
        assert res["theta"].shape == (3, 2) and not res["at_bound"].values.any()
