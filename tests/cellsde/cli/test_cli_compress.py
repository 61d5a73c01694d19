import json
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
    for word in ("wide", "narrow", "dendrites", "plain-equal", "valid_tw2", "best: w2",
                 "rule: smallest network", "validation groups"):  # fmt: skip
        assert word in text
    small = load_model(out)
    assert small.config.hidden == (2, 2) and not dendritic_layers(small)
    assert small.metadata["compression"]["candidate"] == "w2"
    with xr.open_dataset(table, engine="h5netcdf") as t:
        assert t.sizes["candidate"] == 5 and t.attrs["best"] == "w2"


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


def test_compress_cli_nfkb_shaped_model_with_a_test_split(tmp_path, capsys):
    """Like the NF-kB END-nSDE: 3 species, 2 observed, noise on a subset, fit options stored
    under metadata "fit" by the benchmarks; the choice is made on untouched test groups."""
    import numpy as np

    base = damped_dataset(n_per_group=8, grid=(-1.0, 0.0, 1.0), n_times=4)
    x = base["x"].values
    hidden = np.full((*x.shape[:2], 1), np.nan)
    hidden[:, 0, 0] = 0.5  # known initial state, never observed later
    ds = (
        base.drop_vars(["x", "species"])
        .assign(x=(("cell", "time", "species"), np.concatenate([x, hidden], -1)))
        .assign_coords(species=["x1", "x2", "hidden"])
    )
    data = tmp_path / "nfkb_like.nc"
    save_dataset(ds, data)
    cfg = ENDnSDEConfig(species=("x1", "x2", "hidden"), params=("omega1", "omega2"), hidden=(8, 8),
                        noisy_species=("x2",), time_units=ds["time"].attrs["units"])  # fmt: skip
    fit = '{"dt": 0.1, "lr": 0.01, "epochs": 2, "observed": ["x1", "x2"], "standardize": true}'
    model = tmp_path / "wide.pt"
    save_model(ENDnSDE(cfg, seed=0), model, metadata={"fit": fit})
    groups = sorted({str(g) for g in ds["group"].values})
    argv = ["compress", str(model), str(data), "--out", str(tmp_path / "s.pt"), "--widths", "2",
            "--max-dendrites", "1", "--valid-groups", groups[1], "--test-groups", groups[3],
            "--tolerance", "1000"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "test groups (nothing steered on them)" in text and "best: w2" in text
    small = load_model(tmp_path / "s.pt")
    assert small.config.noisy_species == ("x2",)
    used = json.loads(small.metadata["fit_config"])  # the wide model's options, from "fit"
    assert used["observed"] == ["x1", "x2"] and used["epochs"] == 2 and used["dt"] == 0.1
    argv[argv.index("--test-groups") + 1] = groups[1]
    assert main(argv) == 2
    assert "also --valid-groups" in capsys.readouterr().err


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
