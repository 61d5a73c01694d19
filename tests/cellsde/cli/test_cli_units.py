"""Units are checked, never assumed: conversions against hand-made oracles, one-line refusals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from helpers_cli import one_line_error

from cellsde.cli.main import main
from cellsde.datasets import open_dataset

CSV = "id,t,A\nc1,0,1\nc1,5,2\nc2,0,3\nc2,5,4\n"


def test_evaluate_converts_minutes_to_the_models_hours(lab, tmp_path, capsys):
    """Data in minutes score exactly as the same cells in hours (the conversion is the oracle)."""
    outs = []
    for name in ("data.nc", "data_min.nc"):
        out = tmp_path / f"score_{name}"
        assert main(["evaluate", str(lab["model.pt"]), str(lab[name]), "--n-paths", "6",
                     "--out", str(out), "-v"]) == 0  # fmt: skip
        outs.append(xr.load_dataset(out)["tw2"].values)
    err = capsys.readouterr().err
    assert "converted the data's times from min to h" in err
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)


def test_infer_converts_and_gives_the_same_estimates(lab, tmp_path):
    res = []
    for name in ("data.nc", "data_min.nc"):
        out = tmp_path / f"theta_{name}"
        assert main(["infer", str(lab["model.pt"]), str(lab[name]), "--out", str(out),
                     "--iterations", "3", "--starts", "1", "--bootstrap", "0"]) == 0  # fmt: skip
        res.append(xr.load_dataset(out)["theta"].values)
    np.testing.assert_allclose(res[0], res[1], rtol=1e-5, atol=1e-6)


def test_dimensionless_data_against_a_model_in_hours_is_refused(lab, tmp_path, capsys):
    ds = open_dataset(lab["data.nc"])
    ds["time"].attrs["units"] = "dimensionless"
    ds.attrs["time_units"] = "dimensionless"
    ds.to_netcdf(tmp_path / "free.nc", engine="h5netcdf")
    for argv in (["evaluate", str(lab["model.pt"]), str(tmp_path / "free.nc")],
                 ["infer", str(lab["model.pt"]), str(tmp_path / "free.nc"), "--out",
                  str(tmp_path / "t.nc")],
                 ["figures", str(tmp_path / "free.nc"), "--model", str(lab["model.pt"]),
                  "--out", str(tmp_path / "figs")]):  # fmt: skip
        assert main(argv) == 2
        assert "time units differ" in one_line_error(capsys)
    assert not (tmp_path / "t.nc").exists() and not (tmp_path / "figs").exists()


def test_value_units_that_do_not_convert_are_refused(lab, tmp_path, capsys):
    ds = open_dataset(lab["data.nc"])
    ds["x"].attrs["units"] = "µM"
    ds.to_netcdf(tmp_path / "um.nc", engine="h5netcdf")
    assert main(["evaluate", str(lab["model.pt"]), str(tmp_path / "um.nc")]) == 2
    assert "value units differ" in one_line_error(capsys)


def test_fit_records_units_and_a_fit_in_hours_takes_minutes_data(tmp_path):
    """The library fit converts data in minutes to the model's hours (same loss as in hours)."""
    import torch
    from helpers_cli import hours_dataset, in_minutes

    from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
    from cellsde.training import FitConfig, fit

    losses = []
    for ds in (hours_dataset(), in_minutes(hours_dataset())):
        torch.manual_seed(0)
        cfg = ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,),
                            time_units="h", noise="diagonal")  # fmt: skip
        res = fit(ENDnSDE(cfg, seed=0), ds, config=FitConfig(epochs=2, dt=0.05, progress=False))
        losses.append(res.history["train_loss"].values)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    free = ENDnSDE(ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2")))
    with pytest.raises(ValueError, match="time units differ"):
        fit(free, hours_dataset(), config=FitConfig(epochs=1, dt=0.05, progress=False))


def test_import_csv_needs_time_units_and_records_value_units(tmp_path, capsys):
    src = tmp_path / "t.csv"
    src.write_text(CSV)
    base = ["import-csv", str(src), "--cell-col", "id", "--time-col", "t", "--out"]
    assert main([*base, str(tmp_path / "a.nc")]) == 2
    err = capsys.readouterr().err
    assert "--time-units" in err and err.count("\n") == 1  # argparse, one line
    assert not (tmp_path / "a.nc").exists()
    assert main([*base, str(tmp_path / "a.nc"), "--time-units", "min", "--value-units", "uM"]) == 0
    ds = open_dataset(tmp_path / "a.nc")
    assert ds["x"].attrs["units"] == "µM" and ds["time"].attrs["units"] == "min"
    assert main([*base, str(tmp_path / "b.nc"), "--time-units", "min", "--value-units",
                 "concentration"]) == 2  # fmt: skip
    assert "not a unit" in one_line_error(capsys)


def test_dose_needs_dose_units(tmp_path, capsys):
    out = tmp_path / "x.nc"
    assert main(["simulate", "guo2024", "--ligand", "TNF", "--dose", "10", "--cells", "2",
                 "--t-end", "5", "--out", str(out)]) == 2  # fmt: skip
    assert "--dose-units" in one_line_error(capsys)
    assert not out.exists()


def test_ssa_on_concentrations_refused_then_converted(tmp_path, capsys, shared_dir):
    pytest.importorskip("libsbml")
    xml = shared_dir / "data" / "goldbeter1995" / "BIOMD0000000016.xml"
    out = tmp_path / "g.nc"
    base = ["simulate", str(xml), "--method", "ssa", "--cells", "5", "--t-end", "2", "--out",
            str(out)]  # fmt: skip
    assert main(base) == 2
    assert "--molecules-per-unit" in one_line_error(capsys)
    assert not out.exists()
    assert main([*base, "--molecules-per-unit", "6.02214076e17"]) == 0  # µM (µmol) and litres
    x = open_dataset(out)["x"].values
    assert np.all(x[:, -1].mean(0) > 0)  # not the silent zeros


def test_help_examples_are_valid_commands(capsys):
    """Every `cellsde ...` example quoted in a verb's help parses."""
    import re

    from cellsde.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "verb")
    examples = []
    for verb in sub.choices.values():
        text = (verb.description or "") + (verb.epilog or "")
        # full commands only; `cellsde fit` alone names a verb
        examples += [e for e in re.findall(r"`(cellsde [^`]+)`", text) if len(e.split()) > 2]
    assert examples
    for example in examples:
        parser.parse_args(example.split()[1:])  # raises SystemExit when invalid


def test_evaluate_converts_nanomolar_to_the_models_micromolar(lab, tmp_path):
    """Values in nM score exactly as the same cells in µM against a model in µM."""
    from cellsde.nn.checkpoint import load_model, save_model

    model = load_model(lab["model.pt"])
    save_model(model, tmp_path / "um.pt", metadata={**model.metadata,
                                                    "units": {"time": "h", "values": "µM"}})  # fmt: skip
    ds = open_dataset(lab["data.nc"])
    um = ds.assign(x=ds["x"].assign_attrs(units="uM"))
    nm = ds.assign(x=(ds["x"] * 1000.0).assign_attrs(units="nM"))
    scores = []
    for name, d in (("um.nc", um), ("nm.nc", nm)):
        d.to_netcdf(tmp_path / name, engine="h5netcdf")
        out = tmp_path / f"score_{name}"
        assert main(["evaluate", str(tmp_path / "um.pt"), str(tmp_path / name), "--n-paths",
                     "6", "--out", str(out)]) == 0  # fmt: skip
        scores.append(xr.load_dataset(out)["tw2"].values)
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-6)


def test_figures_convert_minutes_to_the_models_or_the_datas_hours(lab, tmp_path, capsys):
    """figures --model converts the data to the model's hours; --model-data converts the
    simulated cells to the data's hours, landing on the data's grid (W2 of a copy is 0)."""
    from helpers_cli import hours_dataset, in_minutes

    from cellsde.datasets import save_dataset
    from cellsde.datasets.units import match_units
    from cellsde.losses import w2_per_time

    assert main(["figures", str(lab["data_min.nc"]), "--model", str(lab["model.pt"]),
                 "--species", "x1", "--dpi", "30", "--dt", "0.05", "--out",
                 str(tmp_path / "a"), "-v"]) == 0  # fmt: skip
    assert "converted the data's times from min to h" in capsys.readouterr().err
    save_dataset(in_minutes(hours_dataset()), tmp_path / "sim_min.nc")
    assert main(["figures", str(lab["data.nc"]), "--model-data", str(tmp_path / "sim_min.nc"),
                 "--species", "x1", "--dpi", "30", "--out", str(tmp_path / "b"), "-v"]) == 0  # fmt: skip
    assert "from min to h" in capsys.readouterr().err
    assert (tmp_path / "b" / "w2_over_time.png").is_file()
    sim = match_units(in_minutes(hours_dataset()), {"time": "h"}, what="simulated cells")
    table = w2_per_time(sim, hours_dataset(), species=["x1", "x2"])
    assert table.sizes["time"] == 6 and np.all(table.values == 0.0)


@pytest.mark.parametrize(("units", "label"), [("molecules", "molecules"),
                                              ("dimensionless", "dimensionless")])  # fmt: skip
def test_units_from_import_reach_every_figure_label(tmp_path, units, label):
    from cellsde.plot import marginals, trajectory_fan, w2_over_time

    src = tmp_path / "t.csv"
    src.write_text(CSV)
    out = tmp_path / "a.nc"
    assert main(["import-csv", str(src), "--cell-col", "id", "--time-col", "t", "--out",
                 str(out), "--time-units", "min", "--value-units", units]) == 0  # fmt: skip
    ds = open_dataset(out)
    ax = trajectory_fan(ds, species="A").axes[0]
    assert ax.get_ylabel() == f"A ({label})" and ax.get_xlabel() == "time (min)"
    assert marginals(ds, species="A", times=[0, 5]).axes[0].get_xlabel() == f"A ({label})"
    table = xr.DataArray([0.1, 0.2], dims="time", coords={"time": [0.0, 5.0]})
    ax = w2_over_time(table, data=ds, species=["A"], floor=None).axes[0]
    assert label in ax.get_ylabel() and "concentration" not in ax.get_ylabel()
