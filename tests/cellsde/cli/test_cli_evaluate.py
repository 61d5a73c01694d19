import sys
from pathlib import Path

import pytest
import xarray as xr

from cellsde.cli.main import main
from cellsde.datasets import save_dataset
from cellsde.nn.checkpoint import save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset


@pytest.fixture()
def files(tmp_path):
    ds = damped_dataset(n_per_group=8, grid=(-1.0, 1.0))
    data = tmp_path / "test.nc"
    save_dataset(ds, data)
    bare = tmp_path / "bare.nc"
    save_dataset(ds.drop_vars("theta"), bare)
    model = tmp_path / "m.pt"
    cfg = ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,))
    save_model(ENDnSDE(cfg, seed=0), model, metadata={"fit_config": '{"dt": 0.05}'})
    return model, data, bare


def test_evaluate_cli_prints_table_and_writes_file(files, tmp_path, capsys):
    model, data, _ = files
    out = tmp_path / "table.nc"
    assert main(["evaluate", str(model), str(data), "--n-paths", "6", "--seed", "2",
                 "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "total" in text and "dt 0.05" in text and "6 paths per group" in text
    table = xr.open_dataset(out, engine="h5netcdf")
    assert table.sizes["group"] == 4 and table.attrs["seed"] == 2
    assert f"{float(table['tw2_total']):.6g}" in text
    table.close()


def test_evaluate_cli_bad_input_is_one_line(files, tmp_path, capsys):
    model, _, bare = files
    assert main(["evaluate", str(model), str(bare)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cellsde: error:") and err.count("\n") == 1 and "theta" in err
    assert main(["evaluate", str(tmp_path / "missing.pt"), str(bare)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
