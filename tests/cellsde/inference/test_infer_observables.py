"""Derived observables in inference and training the amortizer on given trajectories."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import models_bio as mb
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.inference.amortized_train import train_amortizer
from cellsde.inference.infer import infer
from cellsde.inference.observables import derive_observables
from cellsde.nn.mechanistic import MechanisticSDE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

SUM = {"s": {"x1": 1.0, "x2": 1.0}}


def small() -> xr.Dataset:
    x = np.arange(24.0).reshape(2, 3, 4)
    x[1, 2, 2] = np.nan
    return xr.Dataset(
        {"x": (("cell", "time", "species"), x)},
        coords={"species": list("abcd"), "time": [0.0, 1.0, 2.0], "group": ("cell", [0, 0])},
    )


def test_derive_observables_is_the_weighted_sum_and_propagates_nan():
    ds = small()
    out = derive_observables(ds, {"s": {"a": 1.0, "c": 2.0}}, names=["s", "b"])
    assert list(out["species"].values) == ["a", "b", "c", "d", "s"]
    expect = ds["x"].values[..., 0] + 2 * ds["x"].values[..., 2]  # (cell, time)
    np.testing.assert_array_equal(out["x"].sel(species="s").values, expect)
    assert np.isnan(out["x"].values[1, 2, 4]) and not np.isnan(out["x"].values[1, 1, 4])
    np.testing.assert_array_equal(out["x"].values[..., :4], ds["x"].values)
    assert derive_observables(ds, {}, names=["a"]) is ds  # nothing to add
    with pytest.raises(ModelMismatchError, match="no recipe"):
        derive_observables(ds, {}, names=["s"])
    with pytest.raises(ModelMismatchError, match=r"needs data species \['z'\]"):
        derive_observables(ds, {"s": {"a": 1.0, "z": 1.0}}, names=["s"])


def test_train_amortizer_learns_a_spread_parameter():
    # Oracle: y = sigma * N(0, 1) per time with log10 sigma = theta; the group's sample
    # spread identifies theta, so the trained net must beat the prior mean by far.
    gen = torch.Generator().manual_seed(0)
    n_sets, n, t = 96, 32, 6
    theta = torch.rand(n_sets, 1, generator=gen) * 2 - 2  # in [-2, 0]
    y = 10 ** theta[:, None, None, :] * torch.randn(n_sets, n, t, 1, generator=gen)
    net = train_amortizer(y, theta, observed=("s",), params=("w",), times=torch.arange(t * 1.0),
                        k_max=16, epochs=400, hidden=32, seed=1)  # fmt: skip
    th_test = torch.linspace(-1.8, -0.2, 9)[:, None]
    y_test = 10 ** th_test[:, None, None, :] * torch.randn(9, 16, t, 1, generator=gen)
    with torch.no_grad():
        est = net(y_test)
    err = (est - th_test).abs().mean().item()
    prior = (th_test - theta.mean()).abs().mean().item()
    assert err < 0.3 * prior, (err, prior)
    assert net.config.observed == ("s",) and net.config.k_max == 16
    with pytest.raises(ValueError, match="k_max=40 needs"):
        train_amortizer(y, theta, observed=("s",), params=("w",), times=torch.arange(t * 1.0),
                      k_max=40)  # fmt: skip
    with pytest.raises(ValueError, match="do not match"):
        train_amortizer(y, theta, observed=("s", "u"), params=("w",), times=torch.arange(t * 1.0))


def test_infer_forms_a_derived_observable_for_the_amortizer():
    truth = MechanisticSDE(mb.damped_oscillator(k1=0.3, k2=0.1))
    data = damped_dataset(n_per_group=8, grid=(-0.5, 0.5), seed=3, n_times=6)
    x = torch.tensor(data["x"].values, dtype=torch.float32)  # (cell, time, species)
    y = x.sum(-1, keepdim=True).view(4, 8, 6, 1)  # (set, cell, time, 1): x1 + x2
    theta = torch.tensor(data["theta"].values[::8], dtype=torch.float32)
    times = torch.tensor(data["time"].values, dtype=torch.float32)
    net = train_amortizer(y, theta, observed=("s",), params=truth.param_names, times=times,
                        k_max=8, epochs=20, seed=0)  # fmt: skip
    res = infer(truth, data.drop_vars("theta"), method="amortized", amortizer=net,
                observables=SUM, n_bootstrap=0, dt=0.05, n_paths=16)  # fmt: skip
    with torch.no_grad():
        direct = net(y).numpy()  # the oracle: the network on the summed trajectories
    np.testing.assert_allclose(res["theta"].values, direct, rtol=1e-5, atol=1e-6)
    assert np.isfinite(res["tw2"].values).all()
    # measured data that carry only the sum work the same way, from given initial states
    summed = derive_observables(data, SUM, names=["s"]).sel(species=["s"])
    res2 = infer(truth, summed.drop_vars("theta"), method="amortized", amortizer=net,
                 observables=SUM, initial_state=np.array([0.0, 1.0]), n_bootstrap=0, dt=0.05,
                 n_paths=16)  # fmt: skip
    np.testing.assert_allclose(res2["theta"].values, direct, rtol=1e-5, atol=1e-6)
    with pytest.raises(CellsdeError, match=r"observed \['s'\] must be"):
        infer(truth, data, method="amortized", amortizer=net, n_bootstrap=0)
    with pytest.raises(CellsdeError, match="the amortizer reads"):
        infer(truth, data, method="amortized", amortizer=net, observables=SUM,
              observed=["x1"], n_bootstrap=0)  # fmt: skip
    with pytest.raises(CellsdeError, match="must be model species or declared"):
        infer(truth, data, observed=["q"], n_bootstrap=0)


def test_spread_features_round_trip_and_learn(tmp_path):
    from cellsde.inference.amortized import load_amortizer, save_amortizer

    gen = torch.Generator().manual_seed(3)
    theta = torch.rand(64, 1, generator=gen) * 2 - 2
    y = 10 ** theta[:, None, None, :] * torch.randn(64, 16, 5, 1, generator=gen)
    net = train_amortizer(y, theta, observed=("s",), params=("w",), times=torch.arange(5.0),
                        k_max=16, epochs=300, hidden=16, seed=0, spread_features=True)  # fmt: skip
    # the standardisation of the log spread comes from the training groups
    z = (y.flatten(-2) - net.y_loc) / net.y_scale
    np.testing.assert_allclose(net.spread_loc, net.log_spread(z).mean(0), rtol=1e-5)
    th_test = torch.linspace(-1.8, -0.2, 9)[:, None]
    y_test = 10 ** th_test[:, None, None, :] * torch.randn(9, 16, 5, 1, generator=gen)
    again = load_amortizer(save_amortizer(net, tmp_path / "a.pt"))
    assert again.config.spread_features
    with torch.no_grad():
        est, est2 = net(y_test), again(y_test)
        one = net(y_test[:, :1])  # K = 1 (no spread) still gives finite estimates
    np.testing.assert_allclose(est, est2, rtol=1e-6)
    assert torch.isfinite(one).all()
    assert (est - th_test).abs().mean() < 0.25 * (th_test - theta.mean()).abs().mean()


def test_a_feature_constant_in_training_gets_a_scale_floor():
    # All training paths share x(t0); measured cells do not. Without a floor the t0 input
    # would be divided by ~0 and the estimate would explode.
    gen = torch.Generator().manual_seed(5)
    theta = torch.rand(48, 1, generator=gen) * 2 - 2
    y = 10 ** theta[:, None, None, :] * torch.randn(48, 8, 6, 1, generator=gen).cumsum(2)
    y[:, :, 0] = 0.5  # shared initial state
    net = train_amortizer(y, theta, observed=("s",), params=("w",), times=torch.arange(6.0),
                        k_max=8, epochs=100, hidden=16, seed=0)  # fmt: skip
    sd = y.flatten(-2).reshape(-1, 6).std(0)
    assert float(net.y_scale[0]) == pytest.approx(0.1 * float(sd.mean()), rel=1e-5)
    np.testing.assert_allclose(net.y_scale[1:], sd[1:], rtol=1e-5)  # informative ones unchanged
    shifted = y[:4].clone()
    shifted[:, :, 0] += float(sd[1:].mean())  # measured cells off the shared start
    with torch.no_grad():
        a, b = net(y[:4]), net(shifted)
    assert (a - b).abs().max() < 1.0  # the estimate moves by a bounded amount, not by 1e6


def test_default_step_is_the_recorded_fit_step():
    import json

    truth = MechanisticSDE(mb.damped_oscillator(k1=0.3, k2=0.1))
    data = damped_dataset(n_per_group=4, grid=(0.0,), seed=1, n_times=4).drop_vars("theta")
    kw = dict(method="w2", n_bootstrap=0, n_starts=1, iterations=1, n_paths=8)
    truth.metadata = {"dt": 0.07}
    assert json.loads(infer(truth, data, **kw).attrs["config"])["dt"] == 0.07
    truth.metadata = {"fit_config": '{"dt": 0.05}', "dt": 0.07}  # the fit config wins
    assert json.loads(infer(truth, data, **kw).attrs["config"])["dt"] == 0.05
    truth.metadata = {}
    gap = float(data["time"].values[1] - data["time"].values[0])
    assert json.loads(infer(truth, data, **kw).attrs["config"])["dt"] == pytest.approx(gap / 20)
