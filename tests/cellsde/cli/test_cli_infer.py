import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from cellsde.cli._observables import parse_observable
from cellsde.cli.main import main
from cellsde.datasets import save_dataset
from cellsde.errors import CellsdeError
from cellsde.inference.amortized import save_amortizer
from cellsde.inference.amortized_train import train_amortizer
from cellsde.inference.observables import derive_observables
from cellsde.nn.checkpoint import save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset


def test_parse_observable():
    assert parse_observable("n=NFkBn+IkBaNFkBn") == ("n", {"NFkBn": 1.0, "IkBaNFkBn": 1.0})
    assert parse_observable(" s = 2*a + b ") == ("s", {"a": 2.0, "b": 1.0})
    for bad in ("n", "n=", "=a+b", "n=a+", "n=x*a"):
        with pytest.raises(CellsdeError, match="--observable"):
            parse_observable(bad)


def test_infer_cli_amortized_on_a_measured_sum_with_given_initial_states(tmp_path, capsys):
    # Simulated training data carry x1, x2; the "measured" file carries only s = x1 + x2.
    ds = damped_dataset(n_per_group=8, grid=(-0.5, 0.5), seed=2)
    train = tmp_path / "train.nc"
    save_dataset(ds, train)
    measured = derive_observables(ds, {"s": {"x1": 1, "x2": 1}}, names=["s"]).sel(species=["s"])
    meas = tmp_path / "measured.nc"
    save_dataset(measured.drop_vars("theta").drop_vars("group"), meas)
    cfg = ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,))
    model = ENDnSDE(cfg, seed=0)
    model.set_theta_range(torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    mpath = tmp_path / "m.pt"
    save_model(model, mpath, metadata={"fit_config": '{"dt": 0.05}'})
    y = torch.tensor(measured["x"].values, dtype=torch.float32).view(4, 8, -1, 1)
    theta = torch.tensor(ds["theta"].values[::8], dtype=torch.float32)
    times = torch.tensor(ds["time"].values, dtype=torch.float32)
    net = train_amortizer(y, theta, observed=("s",), params=cfg.params, times=times, k_max=8,
                        epochs=10, seed=0)  # fmt: skip
    apath = save_amortizer(net, tmp_path / "a.pt")
    out = tmp_path / "theta.nc"
    argv = ["infer", str(mpath), str(meas), "--out", str(out), "--method", "amortized",
            "--group-size", "8", "--amortizer", str(apath), "--bootstrap", "3",
            "--observable", "s=x1+x2", "--initial-state", str(train)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    res = xr.open_dataset(out, engine="h5netcdf")
    assert res.sizes["group"] == 4 and "group 3:" in text
    with torch.no_grad():
        direct = net(y).numpy()  # consecutive groups of 8 = the 4 omega sets
    np.testing.assert_allclose(res["theta"].values, direct, rtol=1e-5, atol=1e-6)
    assert res["theta_std"].values.shape == (4, 2) and np.isfinite(res["tw2"].values).all()
    flagged = (direct < -1) | (direct > 1)
    np.testing.assert_array_equal(res["out_of_range"].values, flagged)
    res.close()
    # without the recipe, or without initial states, one line on stderr and exit 2
    assert main([*argv[:-4], "--initial-state", str(train)]) == 2
    assert "must be model species or declared observables" in capsys.readouterr().err
    assert main(argv[:-2]) == 2
    assert "lack species" in capsys.readouterr().err


def test_infer_cli_saves_the_amortizer_it_trains(tmp_path, monkeypatch, capsys):
    from cellsde.inference import estimators as est
    from cellsde.inference.amortized import load_amortizer

    sets, train = est.simulate_training_sets, est.train_amortizer
    # a small training run keeps the test fast
    monkeypatch.setattr(
        est, "simulate_training_sets", lambda *a, **k: sets(*a, **{**k, "n_sets": 16})
    )
    monkeypatch.setattr(est, "train_amortizer", lambda *a, **k: train(*a, **{**k, "epochs": 3}))
    ds = damped_dataset(n_per_group=8, grid=(-0.5, 0.5), seed=2)
    data = tmp_path / "d.nc"
    save_dataset(ds.drop_vars("theta"), data)
    cfg = ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,))
    model = ENDnSDE(cfg, seed=0)
    model.set_theta_range(torch.tensor([-1.0, -1.0]), torch.tensor([1.0, 1.0]))
    mpath = tmp_path / "m.pt"
    save_model(model, mpath, metadata={"fit_config": '{"dt": 0.05}'})
    out, net_path = tmp_path / "t.nc", tmp_path / "net.pt"
    base = ["infer", str(mpath), str(data), "--method", "amortized", "--bootstrap", "0"]
    assert main([*base, "--out", str(out), "--save-amortizer", str(net_path)]) == 0
    first = xr.open_dataset(out, engine="h5netcdf")["theta"].values
    net = load_amortizer(net_path)
    assert net.config.observed == ("x1", "x2")
    out2 = tmp_path / "t2.nc"
    assert main([*base, "--out", str(out2), "--amortizer", str(net_path)]) == 0
    again = xr.open_dataset(out2, engine="h5netcdf")["theta"].values
    np.testing.assert_allclose(first, again, rtol=1e-6)  # the saved network is the one used
    capsys.readouterr()
    both = [*base, "--out", str(out2), "--amortizer", str(net_path), "--save-amortizer", "x.pt"]
    assert main(both) == 2
    assert "amortizer_out saves a newly trained amortizer" in capsys.readouterr().err
