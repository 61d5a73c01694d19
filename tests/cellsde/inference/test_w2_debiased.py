"""The size-matched debiased tW2 objective of the w2 search (``infer(..., debiased=True)``)."""

import json

import numpy as np
import torch
import xarray as xr

import models_bio as mb
from cellsde.inference.infer import infer
from cellsde.inference.w2_search import debiased_tw2, objective
from cellsde.nn.mechanistic import MechanisticSDE
from cellsde.nn.training_data import GroupedData


def noise_model() -> MechanisticSDE:
    """dx = (0.5 + 0.25 theta) dW from x = 0: x(1) ~ N(0, (0.5 + 0.25 theta)^2)."""
    return MechanisticSDE(
        mb.SDEModel(
            name="noise",
            species=("x",),
            parameters=(mb.Parameter("theta", 0.0, "", "noise factor"),),
            drift_fn=lambda t, x, th: torch.zeros_like(x),
            diffusion_fn=lambda t, x, th: (0.5 + 0.25 * th[..., :1]).expand_as(x),
            initial=(0.0,),
        )
    )


def groups(obs: torch.Tensor) -> GroupedData:
    g, k = obs.shape[:2]
    return GroupedData(obs=obs, mask=torch.ones(g, k, 2, dtype=torch.bool), x0=torch.zeros(g, k, 1),
                       n0=torch.full((g,), k), theta=torch.zeros(g, 1), times=torch.tensor([0.0, 1.0]),
                       labels=tuple(range(g)), readout=torch.eye(1), fingerprint="")  # fmt: skip


def test_debiased_value_matches_sorted_1d_oracle():
    model, k, r = noise_model(), 5, 3
    obs = torch.zeros(2, k, 2, 1)
    obs[:, :, 1, 0] = torch.randn(2, k, generator=torch.Generator().manual_seed(0))
    data = groups(obs)
    data = GroupedData(**{**data.__dict__, "theta": torch.tensor([[0.3], [-0.6]])})
    got = debiased_tw2(
        model, data, n_paths=r * k, dt=0.1, generator=torch.Generator().manual_seed(7)
    )
    with torch.no_grad():
        paths = model.sample_paths(torch.zeros(2 * r * k, 1), data.theta.repeat_interleave(r * k, 0),
                                   data.times, dt=0.1, generator=torch.Generator().manual_seed(7))  # fmt: skip
    sim = np.sort(paths[:, 1, 0].numpy().reshape(2, r, k), -1)  # (group, rep, cell) at t = 1
    o = np.sort(obs[:, :, 1, 0].numpy(), -1)  # (group, cell)
    cross = ((sim - o[:, None]) ** 2).mean(-1).mean(1)
    pairs = [(0, 1), (1, 2), (2, 0)]  # cyclic
    self_ = np.mean([((sim[:, a] - sim[:, b]) ** 2).mean(-1) for a, b in pairs], 0)
    np.testing.assert_allclose(got.detach().numpy(), cross - 0.5 * self_, rtol=1e-5, atol=1e-7)


def test_debiased_objective_is_minimised_at_the_true_noise():
    # 400 groups of K = 6 cells at theta = 0. Averaged over groups, the plain tW2 is smallest
    # for too little noise; the debiased one near the truth.
    model, g, k = noise_model(), 400, 6
    obs = torch.zeros(g, k, 2, 1)
    obs[:, :, 1, 0] = 0.5 * torch.randn(g, k, generator=torch.Generator().manual_seed(1))
    data = groups(obs)
    grid = torch.linspace(-1.0, 1.0, 21)
    plain, deb = [], []
    for th in grid:
        theta = torch.full((g, 1), float(th))
        with torch.no_grad():
            plain.append(float(objective(model, data, theta, n_paths=k, dt=0.5, seed=3).mean()))
            deb.append(float(objective(model, data, theta, n_paths=4 * k, dt=0.5, seed=3,
                                       debiased=True).mean()))  # fmt: skip
    best_plain, best_deb = float(grid[int(np.argmin(plain))]), float(grid[int(np.argmin(deb))])
    assert best_plain <= -0.3, (best_plain, plain)
    assert abs(best_deb) <= 0.2, (best_deb, deb)


def test_infer_w2_debiased_orders_noisy_and_quiet_groups():
    truth = MechanisticSDE(mb.damped_oscillator(k1=0.3, k2=0.1))
    times = torch.linspace(0, 1, 11)
    omega = torch.tensor([[-0.8, -0.8], [0.8, 0.8]]).repeat_interleave(24, 0)
    with torch.no_grad():
        x = truth.sample_paths(torch.tensor([[0.0, 1.0]]).repeat(48, 1), omega, times, dt=0.01,
                               generator=torch.Generator().manual_seed(2))  # fmt: skip
    ds = xr.Dataset({"x": (("cell", "time", "species"), x.numpy().astype(float))},
                    coords={"time": times.numpy(), "species": ["x1", "x2"],
                            "group": ("cell", np.repeat([0, 1], 24))})  # fmt: skip
    res = infer(truth, ds, method="w2", debiased=True, n_paths=96, n_starts=2, iterations=30,
                n_bootstrap=0, dt=0.05, seed=1)  # fmt: skip
    th = res["theta"].values
    assert np.all(th[1] > th[0]), th
    assert json.loads(res.attrs["config"])["debiased"] is True
