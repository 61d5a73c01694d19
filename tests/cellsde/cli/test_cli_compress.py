import sys
from pathlib import Path

import pytest
import xarray as xr

from cellsde.cli.main import main
from cellsde.datasets import save_dataset
from cellsde.nn.checkpoint import load_model, save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from perforate import dendritic_layers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

FIT = '{"dt": 0.1, "lr": 0.01, "epochs": 3, "standardize": true, "checkpoint_path": "x.state"}'


@pytest.fixture()
def files(tmp_path):
    ds = damped_dataset(n_per_group=8, grid=(-1.0, 0.0, 1.0), n_times=4)
    data = tmp_path / "pop.nc"
    save_dataset(ds, data)
    model = tmp_path / "wide.pt"
    cfg = ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8, 8))
    save_model(ENDnSDE(cfg, seed=0), model, metadata={"fit_config": FIT})
    return model, data


def test_compress_cli_prints_table_and_writes_a_loadable_model(files, tmp_path, capsys):
    model, data = files
    out, table = tmp_path / "small.pt", tmp_path / "table.nc"
    argv = ["compress", str(model), str(data), "--out", str(out), "--widths", "2", "--max-dendrites",
            "1", "--valid-groups", "4", "--epochs", "2", "--tolerance", "1000", "--table", str(table)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    for word in ("wide", "narrow", "dendrites", "plain-equal", "valid_tw2", "best: w2"):
        assert word in text
    small = load_model(out)
    assert small.config.hidden == (2, 2) and not dendritic_layers(small)
    assert small.metadata["compression"]["candidate"] == "w2"
    with xr.open_dataset(table, engine="h5netcdf") as t:
        assert t.sizes["candidate"] == 4 and t.attrs["best"] == "w2"


def test_compress_cli_writes_the_dendrite_model_it_picks(files, tmp_path, capsys):
    model, data = files
    out = tmp_path / "small.pt"
    argv = ["compress", str(model), str(data), "--out", str(out), "--widths", "2", "--max-dendrites",
            "1", "--valid-groups", "4", "--epochs", "1", "--tolerance", "0"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    small = load_model(out)
    assert ("best:" in text) != ("wrote the wide model unchanged" in text)
    if "unchanged" in text:
        assert small.config.hidden == (8, 8)


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--valid-groups", "99"], "are not groups"),
        (["--valid-groups", "4", "--max-dendrites", "-1"], "max_dendrites must be"),
        (["--valid-groups", "4", "--widths", "0"], "widths must be integers"),
    ],
)
def test_compress_cli_bad_input_is_one_line(files, tmp_path, capsys, extra, match):
    model, data = files
    argv = ["compress", str(model), str(data), "--out", str(tmp_path / "s.pt"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cellsde: error:") and match in err and "\n" not in err
