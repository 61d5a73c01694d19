"""FitConfig(debiased=True): the debiased time-decoupled W2 loss.

Oracles: the value against scipy's exact assignment on the same simulated clouds, and the
property that motivates it: for clouds of 50 points in 2-D, the plain W2² is minimised by a
noise scale below the truth while the debiased value is minimised at the truth.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.nn.mechanistic import MechanisticSDE
from cellsde.nn.rollout import rollout
from cellsde.nn.training_data import group_tensors
from cellsde.training.config import FitConfig
from cellsde.training.fit import fit
from cellsde.training.objective import model_w2
from models_bio.network import Parameter
from models_bio.sde import SDEModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset


def _w2(a: np.ndarray, b: np.ndarray) -> float:
    cost = cdist(a, b, "sqeuclidean")
    r, c = linear_sum_assignment(cost)
    return float(cost[r, c].mean())


def _tiny():
    ds = damped_dataset(n_per_group=8, grid=(-1.0, 1.0), n_times=3)
    model = ENDnSDE(ENDnSDEConfig(("x1", "x2"), ("omega1", "omega2"), hidden=(8,)), seed=0)
    data = group_tensors(ds, species=model.species, params=model.param_names,
                         observed=model.species)  # fmt: skip
    return model, data


@pytest.mark.parametrize("debiased", [False, True])
def test_value_matches_scipy_assignment(debiased):
    model, data = _tiny()
    n, copies = 8, 2 if debiased else 1
    with torch.no_grad():
        w2, observed = model_w2(model, data, n_paths=n, dt=0.1, debiased=debiased,
                                   generator=torch.Generator().manual_seed(5))  # fmt: skip
    assert observed.all()
    g, t = data.obs.shape[0], data.times.shape[0]
    x0 = data.x0[:, :n].repeat(1, copies, 1).reshape(-1, 2)  # (group*copy*path, species)
    theta = data.theta.repeat_interleave(copies * n, 0)
    with torch.no_grad():
        paths = rollout(model, x0, theta, data.times, dt=0.1,
                        generator=torch.Generator().manual_seed(5))  # fmt: skip
    sims = paths.reshape(g, copies, n, t, 2).numpy()
    obs = data.obs.numpy()  # (group, cell, time, obs)
    for gi in range(g):
        for ti in range(t):
            y = obs[gi, :, ti]
            if debiased:
                a, b = sims[gi, 0, :, ti], sims[gi, 1, :, ti]
                expected = 0.5 * (_w2(a, y) + _w2(b, y)) - 0.5 * _w2(a, b)
            else:
                expected = _w2(sims[gi, 0, :, ti], y)
            assert float(w2[gi, ti]) == pytest.approx(expected, rel=1e-5, abs=1e-7)


def _noise_only(scale: float) -> MechanisticSDE:
    """dX = scale dW in 2-D (no drift), one dummy parameter."""
    return MechanisticSDE(SDEModel(
        name="noise", species=("x1", "x2"), parameters=(Parameter("p", 0.0, "", "unused"),),
        drift_fn=lambda t, x, th: torch.zeros_like(x),
        diffusion_fn=lambda t, x, th: torch.full_like(x, scale),
        noise_type="diagonal", initial=(0.0, 0.0),
    ))  # fmt: skip


def _best_scale(data, *, debiased: bool) -> float:
    scales = np.linspace(0.75, 1.15, 9)
    losses = []
    for s in scales:
        w2, _ = model_w2(_noise_only(float(s)), data, n_paths=50, dt=1.0, debiased=debiased,
                            generator=torch.Generator().manual_seed(11))  # fmt: skip
        losses.append(float(w2[:, 1].mean()))
    p = np.polyfit(scales, losses, 2)
    return float(-p[1] / (2 * p[0]))


def test_debiased_loss_is_minimised_at_the_true_noise_scale():
    # 400 groups of 50 standard-normal 2-D cells at t = 1 (zero at t = 0): the data of dX = dW.
    rng = np.random.default_rng(3)
    g, n = 400, 50
    x = np.zeros((g * n, 2, 2))
    x[:, 1] = rng.standard_normal((g * n, 2))
    ds = xr.Dataset(
        {"x": (("cell", "time", "species"), x), "theta": (("cell", "param"), np.zeros((g * n, 1)))},
        coords={"time": [0.0, 1.0], "species": ["x1", "x2"], "param": ["p"],
                "group": ("cell", np.repeat(np.arange(g), n))},
        attrs={"time_units": "dimensionless"},
    )  # fmt: skip
    data = group_tensors(ds, species=("x1", "x2"), params=("p",), observed=("x1", "x2"))
    plain, debiased = _best_scale(data, debiased=False), _best_scale(data, debiased=True)
    # Plain: s* ~ 0.90 (variance ~0.82 of the truth); debiased: s* = 1 up to sampling noise.
    assert plain < 0.94
    assert debiased == pytest.approx(1.0, abs=0.03)


def test_fit_with_the_debiased_loss_trains_and_records_it():
    ds = damped_dataset(n_per_group=8, grid=(-1.0, 1.0), n_times=3)
    model = ENDnSDE(ENDnSDEConfig(("x1", "x2"), ("omega1", "omega2"), hidden=(8,)), seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    cfg = FitConfig(epochs=3, dt=0.1, lr=1e-2, debiased=True, seed=0, progress=False)
    res = fit(model, ds, config=cfg)
    assert np.isfinite(res.history["train_loss"].values).all()
    assert any(not torch.equal(a, b) for a, b in zip(before, res.model.parameters()))
    assert '"debiased": true' in cfg.to_json()
    assert FitConfig().debiased is False


def test_cosine_lr_schedule_values():
    cfg = FitConfig(epochs=10, lr=1e-2, lr_schedule="cosine", lr_min=1e-3)
    expected = [1e-3 + 9e-3 * 0.5 * (1 + np.cos(np.pi * e / 10)) for e in range(10)]
    assert [cfg.lr_at(e) for e in range(10)] == pytest.approx(expected, rel=1e-12)
    assert cfg.lr_at(0) == pytest.approx(1e-2) and cfg.lr_at(5) == pytest.approx(5.5e-3)
    assert FitConfig(lr=3e-3).lr_at(7) == 3e-3  # constant (default)
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        FitConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="lr_min must be in"):
        FitConfig(lr=1e-3, lr_min=2e-3)


def test_fit_steps_with_the_scheduled_learning_rate(monkeypatch):
    seen: list[float] = []
    step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    ds = damped_dataset(n_per_group=8, grid=(-1.0, 1.0), n_times=3)
    model = ENDnSDE(ENDnSDEConfig(("x1", "x2"), ("omega1", "omega2"), hidden=(8,)), seed=0)
    cfg = FitConfig(epochs=5, dt=0.1, lr=1e-2, lr_schedule="cosine", seed=0, progress=False)
    fit(model, ds, config=cfg)
    assert seen == pytest.approx([1e-2 * 0.5 * (1 + np.cos(np.pi * e / 5)) for e in range(5)])
