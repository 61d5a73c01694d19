"""`cellsde figures`: PNG/PDF files per species, W2 over time with a model, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from cellsde.cli.main import main
from cellsde.datasets import from_arrays
from cellsde.nn.checkpoint import save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

TIMES = np.array([0.0, 0.5, 1.0, 2.0])


def population(seed: int, *, shift: float = 0.0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    x = 1.0 + shift + np.cumsum(rng.normal(size=(10, TIMES.size, 2)), axis=1)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 0] = 1.0 + 0.1 * rng.normal(size=(10, 2))  # first state fully observed
    ds = from_arrays(
        x, times=TIMES, species=["A", "B/nuc"], group=np.arange(10) % 2, time_units="h",
        theta=rng.random((10, 1)), params=["k"], attrs={"model": "demo", "method": "ssa"},
    )  # fmt: skip
    ds["x"].attrs["units"] = "µM"
    return ds


@pytest.fixture
def files(tmp_path):
    population(0).to_netcdf(tmp_path / "data.nc", engine="h5netcdf")
    population(1, shift=0.3).to_netcdf(tmp_path / "sim.nc", engine="h5netcdf")
    population(0).rename({"x": "counts"}).to_netcdf(tmp_path / "nox.nc", engine="h5netcdf")
    return tmp_path


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    return rc, capsys.readouterr()


def test_figures_with_model_data(files, capsys):
    out = files / "figs"
    rc, cap = run(capsys, "figures", files / "data.nc", "--model-data", files / "sim.nc",
                  "--out", out, "--format", "png", "pdf", "--dpi", "40")  # fmt: skip
    assert rc == 0, cap.err
    names = sorted(p.name for p in out.iterdir())
    expected = [f"{kind}_{s}.{ext}" for kind in ("fan", "marginals") for s in ("A", "B_nuc")
                for ext in ("pdf", "png")] + ["w2_over_time.pdf", "w2_over_time.png"]  # fmt: skip
    assert names == sorted(expected)
    assert cap.out.count("wrote ") == len(expected)
    assert f"wrote {out / 'w2_over_time.png'}" in cap.out


def test_figures_data_only_one_species_and_group(files, capsys):
    out = files / "figs"
    rc, cap = run(capsys, "figures", files / "data.nc", "--out", out, "--species", "A",
                  "--group", "1", "--times", "0", "2", "--dpi", "40")  # fmt: skip
    assert rc == 0, cap.err
    assert sorted(p.name for p in out.iterdir()) == ["fan_A.png", "marginals_A.png"]


def test_figures_simulates_a_checkpoint(files, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cfg = ENDnSDEConfig(species=("A", "B/nuc"), params=("k",), hidden=(8,), time_units="h")
    save_model(ENDnSDE(cfg), files / "model.pt")
    out = files / "figs"
    rc, cap = run(capsys, "figures", files / "data.nc", "--model", files / "model.pt", "--out",
                  out, "--species", "A", "--dt", "0.25", "--dpi", "40")  # fmt: skip
    assert rc == 0, cap.err
    assert (out / "w2_over_time.png").is_file() and (out / "fan_A.png").is_file()


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--species", "C"], r"species ['C'] are not in"),
        (["--group", "9"], "group '9' is not in the data"),
        (["--model-data", "{tmp}/nox.nc"], "nox.nc"),
        (["--model", "{tmp}/wrong.pt"], "not in the data"),
        (["--model", "{tmp}/free.pt"], "time units differ"),
        (["--model", "{tmp}/sim.nc"], "{tmp}/sim.nc"),
    ],
)
def test_bad_input_is_one_line(files, capsys, extra, match):
    save_model(ENDnSDE(ENDnSDEConfig(species=("A", "C"), time_units="h")), files / "wrong.pt")
    save_model(ENDnSDE(ENDnSDEConfig(species=("A",), time_units="dimensionless")),
               files / "free.pt")  # fmt: skip
    extra = [e.format(tmp=files) for e in extra]
    rc, cap = run(capsys, "figures", files / "data.nc", "--out", files / "figs", *extra)
    assert rc == 2
    assert cap.err.startswith("cellsde: error: ") and cap.err.count("\n") == 1
    assert match.format(tmp=files) in cap.err
    assert "Traceback" not in cap.err
    assert not (files / "figs").exists() or not any((files / "figs").iterdir())


def test_data_file_without_x_is_one_line(files, capsys):
    rc, cap = run(capsys, "figures", files / "nox.nc", "--out", files / "figs")
    assert rc == 2 and cap.err.count("\n") == 1 and "'x'" in cap.err
