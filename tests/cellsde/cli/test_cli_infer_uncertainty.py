import sys
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from cellsde.cli.main import main
from cellsde.datasets import save_dataset
from cellsde.inference.amortized import save_amortizer
from cellsde.inference.amortized_train import train_amortizer
from cellsde.nn.checkpoint import save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset


def test_infer_cli_parametric_uncertainty_at_a_level(tmp_path, capsys):
    ds = damped_dataset(n_per_group=6, grid=(-0.5, 0.5), seed=2)
    data = tmp_path / "data.nc"
    save_dataset(ds.drop_vars("theta"), data)
    model = ENDnSDE(
        ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,)), seed=0
    )
    model.set_theta_range(torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    mpath = tmp_path / "m.pt"
    save_model(model, mpath, metadata={"fit_config": '{"dt": 0.1}'})
    y = torch.tensor(ds["x"].values, dtype=torch.float32).view(4, 6, -1, 2)
    net = train_amortizer(y, torch.tensor(ds["theta"].values[::6], dtype=torch.float32),
                        observed=("x1", "x2"), params=("omega1", "omega2"),
                        times=torch.tensor(ds["time"].values, dtype=torch.float32), k_max=6, epochs=10)  # fmt: skip
    apath = save_amortizer(net, tmp_path / "a.pt")
    out = tmp_path / "theta.nc"
    argv = ["infer", str(mpath), str(data), "--out", str(out), "--method", "amortized",
            "--amortizer", str(apath), "--bootstrap", "100",
            "--uncertainty", "parametric", "--level", "0.8"]  # fmt: skip
    assert main(argv) == 0
    res = xr.open_dataset(out, engine="h5netcdf")
    assert res.attrs["level"] == 0.8 and "parametric" in res.attrs["uncertainty"]
    lo, hi, mid = (res[v].values for v in ("theta_lo", "theta_hi", "theta_debiased"))
    assert lo.shape == (4, 2) and np.all((lo <= mid) & (mid <= hi) | np.isnan(mid))
    res.close()
    assert main([*argv[:-2], "--level", "1.5"]) == 2
    assert "level must be in (0, 1)" in capsys.readouterr().err
    few = [*argv[:-6], "--bootstrap", "20", "--uncertainty", "parametric"]
    assert main(few) == 2  # too few replicates to cover: refused before any work
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--bootstrap 100" in err
