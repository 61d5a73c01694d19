"""The calibrated (parametric, slope-corrected) bootstrap interval of inferred theta."""

import numpy as np
import pytest
import torch
import xarray as xr

import models_bio as mb
from cellsde.errors import CellsdeError
from cellsde.inference.amortized_train import simulate_training_sets, train_amortizer
from cellsde.inference.infer import infer
from cellsde.inference.parametric import parametric_interval, simulate_like
from cellsde.nn.mechanistic import MechanisticSDE
from cellsde.nn.training_data import GroupedData

T_END, K = 2.0, 20


def drifting_particle() -> MechanisticSDE:
    """dx = theta dt + dW: x(T) - x(0) ~ N(theta T, T), so mean(x(T)) / T estimates theta."""
    return MechanisticSDE(
        mb.SDEModel(
            name="drift",
            species=("x",),
            parameters=(mb.Parameter("theta", 0.0, "", "drift"),),
            drift_fn=lambda t, x, th: th[..., :1].expand_as(x),
            diffusion_fn=lambda t, x, th: torch.ones_like(x),
            initial=(0.0,),
        )
    )


def grouped(obs: torch.Tensor) -> GroupedData:
    g, k, t = obs.shape[:3]
    return GroupedData(obs=obs, mask=torch.ones(g, k, t, dtype=torch.bool),
                       x0=torch.zeros(g, k, 1, dtype=obs.dtype), n0=torch.full((g,), k),
                       theta=torch.zeros(g, 1, dtype=obs.dtype), times=torch.tensor([0.0, T_END], dtype=obs.dtype),
                       labels=tuple(range(g)), readout=torch.eye(1, dtype=obs.dtype), fingerprint="")  # fmt: skip


def shrunk(lam: float, mu: float):
    """A biased estimator: lam * (unbiased mean slope) + (1 - lam) * mu."""

    def estimate(d: GroupedData) -> torch.Tensor:
        slope = d.obs[:, :, -1, 0].mean(1) / T_END  # (group,)
        return (lam * slope + (1 - lam) * mu)[:, None]

    return estimate


def test_shrunk_estimator_interval_matches_the_exact_one():
    # Oracle: estimate = lam * theta + (1 - lam) mu + lam * eps, eps ~ N(0, 1 / (K T)).
    # Exact interval: (estimate - (1 - lam) mu) / lam +- z / sqrt(K T), slope lam.
    torch.manual_seed(0)
    model = drifting_particle()
    data = simulate_like(model, grouped(torch.zeros(3, K, 2, 1)), torch.tensor([[-1.0], [0.3], [2.0]]),
                         n_rep=1, dt=0.05, seed=5)  # fmt: skip
    lam, mu = 0.6, 0.5
    est = shrunk(lam, mu)
    theta_hat = est(data)
    res = parametric_interval(model, data, theta_hat, est, n_boot=2000, dt=0.05, seed=1,
                              step=torch.tensor([0.1]), level=0.95)  # fmt: skip
    np.testing.assert_allclose(res.jacobian.numpy().ravel(), lam, rtol=1e-4)  # CRN: exact slope
    exact = (theta_hat - (1 - lam) * mu) / lam
    sd = 1 / np.sqrt(K * T_END)
    np.testing.assert_allclose(res.centre.numpy(), exact.numpy(), atol=4 * sd / np.sqrt(2000))
    np.testing.assert_allclose(res.std.numpy(), sd, rtol=0.06)
    np.testing.assert_allclose((res.hi - res.lo).numpy(), 2 * 1.959964 * res.std.numpy(), rtol=1e-5)
    # the naive spread of the estimates is lam times too narrow
    assert float(res.std.mean()) > 1.5 * lam * sd


def test_estimator_blind_to_theta_gives_no_interval():
    model = drifting_particle()
    data = simulate_like(model, grouped(torch.zeros(2, K, 2, 1)), torch.tensor([[0.0], [1.0]]),
                         n_rep=1, dt=0.05, seed=5)  # fmt: skip
    res = parametric_interval(model, data, torch.zeros(2, 1), lambda d: torch.zeros(d.obs.shape[0], 1),
                              n_boot=10, dt=0.05, seed=1, step=torch.tensor([0.1]))  # fmt: skip
    assert torch.isnan(res.lo).all() and torch.isnan(res.hi).all()
    with pytest.raises(ValueError, match="n_boot"):
        parametric_interval(model, data, torch.zeros(2, 1), shrunk(1, 0), n_boot=1, dt=0.05, seed=1,
                            step=torch.tensor([0.1]))  # fmt: skip


def test_replicates_copy_the_observation_pattern_and_share_random_numbers():
    model = drifting_particle()
    base = grouped(torch.zeros(2, 4, 2, 1))
    base = GroupedData(**{**base.__dict__, "mask": base.mask.clone()})
    base.mask[1, 3] = False  # group 1 has 3 cells
    a = simulate_like(model, base, torch.tensor([[0.0], [0.0]]), n_rep=3, dt=0.1, seed=2)
    b = simulate_like(model, base, torch.tensor([[1.0], [1.0]]), n_rep=3, dt=0.1, seed=2)
    assert a.obs.shape == (6, 4, 2, 1) and not a.mask[3:, 3].any() and a.mask[:3].all()
    assert (a.obs[3:, 3] == 0).all()
    # same Brownian increments: the paths differ by exactly theta * t
    np.testing.assert_allclose(
        (b.obs - a.obs)[a.mask].numpy().reshape(-1, 2)[:, 1], T_END, rtol=1e-5
    )


def test_infer_parametric_option_and_bad_level():
    model = MechanisticSDE(mb.damped_oscillator(k1=0.3, k2=0.1))
    times = torch.linspace(0, 1, 6)
    with torch.no_grad():
        x = model.sample_paths(torch.tensor([[0.0, 1.0]]).repeat(24, 1),
                               torch.tensor([[0.5, -0.5]]).repeat(24, 1), times, dt=0.05,
                               generator=torch.Generator().manual_seed(0))  # fmt: skip
    ds = xr.Dataset({"x": (("cell", "time", "species"), x.numpy().astype(float))},
                    coords={"time": times.numpy(), "species": ["x1", "x2"]})  # fmt: skip
    opts = dict(method="w2", n_starts=1, iterations=3, n_bootstrap=3, dt=0.1, n_paths=24)
    with pytest.warns(UserWarning, match=">= 100 replicates"):  # 3: too few to cover
        res = infer(model, ds, uncertainty="parametric", level=0.8, **opts)
    for v in ("theta_lo", "theta_hi", "theta_debiased", "theta_std"):
        assert res[v].shape == (1, 2) and np.isfinite(res[v].values).all()
    assert (res["theta_lo"].values < res["theta_debiased"].values).all()
    assert (res["theta_hi"].values > res["theta_debiased"].values).all()
    assert res.attrs["level"] == 0.8 and "parametric" in res.attrs["uncertainty"]
    cells = infer(model, ds, **opts)
    assert set(cells.data_vars) == set(res.data_vars)  # the return type does not change
    with pytest.raises(CellsdeError, match="level must be in"):
        infer(model, ds, level=95, **opts)
    with pytest.raises(CellsdeError, match="unknown uncertainty"):
        infer(model, ds, uncertainty="bayes", **opts)


def test_amortized_estimate_beyond_the_training_range_is_flagged_not_clipped():
    # An amortizer trained on a box wider than the model's range [-1, 1]^2 can report a
    # population outside it; infer flags that estimate and keeps its value.
    truth = MechanisticSDE(mb.damped_oscillator(k1=0.3, k2=0.1))
    times = torch.linspace(0, 1, 11)
    omega = torch.tensor([[1.45, 0.0], [0.0, 0.0]]).repeat_interleave(32, 0)
    with torch.no_grad():
        x = truth.sample_paths(torch.tensor([[0.0, 1.0]]).repeat(64, 1), omega, times, dt=0.01,
                               generator=torch.Generator().manual_seed(4))  # fmt: skip
    ds = xr.Dataset({"x": (("cell", "time", "species"), x.numpy().astype(float))},
                    coords={"time": times.numpy(), "species": ["x1", "x2"],
                            "group": ("cell", np.repeat([0, 1], 32))})  # fmt: skip
    lo, hi, gen = torch.full((2,), -1.6), torch.full((2,), 1.6), torch.Generator().manual_seed(1)
    y, theta = simulate_training_sets(truth, x0=torch.tensor([[0.0, 1.0]]), lo=lo, hi=hi, times=times,
                                      readout=torch.eye(2), n_sets=256, k=32, dt=0.02, generator=gen)  # fmt: skip
    net = train_amortizer(y, theta, observed=("x1", "x2"), params=truth.param_names, times=times,
                          lo=lo, hi=hi, k_max=32, epochs=300, generator=gen, seed=1)  # fmt: skip
    res = infer(truth, ds, method="amortized", amortizer=net, n_bootstrap=0, dt=0.02)
    th, flag = res["theta"].values, res["out_of_range"].values
    assert th[0, 0] > 1.0 and flag[0, 0], th  # reported beyond the range, flagged
    assert not flag[1].any() and np.abs(th[1]).max() < 0.5, th
    np.testing.assert_array_equal(res["train_hi"].values, [1.0, 1.0])
