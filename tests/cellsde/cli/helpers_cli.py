"""Small files the CLI tests share: a population in hours and a model fitted in hours."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from cellsde.datasets import save_dataset
from cellsde.nn.checkpoint import save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset


def hours_dataset(n_per_group: int = 6):
    """The damped-oscillator groups with time in hours and values in a.u."""
    ds = damped_dataset(n_per_group=n_per_group, grid=(-0.5, 0.5), seed=3)
    ds["time"].attrs["units"] = "h"
    ds.attrs["time_units"] = "h"
    ds["x"].attrs["units"] = "a.u."
    return ds


def in_minutes(ds):
    """The same cells with the time axis in minutes."""
    out = ds.assign_coords(time=ds["time"].values * 60.0)
    out["time"].attrs["units"] = "min"
    out.attrs["time_units"] = "min"
    return out


def make_lab(tmp_path):
    """(model.pt in h, data.nc in h, data_min.nc in min, bare.nc without theta in h)."""
    ds = hours_dataset()
    paths = {name: tmp_path / name for name in ("model.pt", "data.nc", "data_min.nc", "bare.nc")}
    save_dataset(ds, paths["data.nc"])
    save_dataset(in_minutes(ds), paths["data_min.nc"])
    save_dataset(ds.drop_vars("theta"), paths["bare.nc"])
    cfg = ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,),
                        time_units="h", noise="diagonal")  # fmt: skip
    model = ENDnSDE(cfg, seed=0)
    model.set_theta_range(torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    save_model(model, paths["model.pt"], metadata={
        "fit_config": '{"dt": 0.05}', "units": {"time": "h", "values": "a.u."},
        "conditions": {"ligand": ["TNF"], "dose": [10.0], "dose_units": ["ng/mL"]},
    })  # fmt: skip
    return paths


def one_line_error(capsys) -> str:
    """The stderr of a failed command, checked to be one ``cellsde: error:`` line."""
    err = capsys.readouterr().err
    assert err.startswith("cellsde: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def tensor_close(a, b) -> bool:
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7))
