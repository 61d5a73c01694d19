import math

import numpy as np
import pytest
import torch

import models_bio as mb
from cellsde.nn.rollout import rollout, step_counts


def test_step_counts_hit_observation_times():
    assert step_counts(torch.tensor([0.0, 0.1, 0.35]), 0.1) == [1, 3]
    with pytest.raises(ValueError, match="strictly increasing"):
        step_counts(torch.tensor([0.0, 0.0]), 0.1)
    with pytest.raises(ValueError, match="dt must be > 0"):
        step_counts(torch.tensor([0.0, 1.0]), 0.0)


def test_damped_oscillator_mean_matches_analytic():
    # E[x](t) = e^{-a t} R(b t) x0 for any diffusion (models.md section 2)
    m = mb.damped_oscillator(k1=0.3, k2=0.1)
    n = 4000
    times = torch.tensor([0.0, 0.1, 0.5, 1.0], dtype=torch.float64)
    x0 = torch.tensor([[0.0, 1.0]], dtype=torch.float64).repeat(n, 1)
    theta = torch.ones(n, 2, dtype=torch.float64)
    with torch.no_grad():
        p = rollout(m, x0, theta, times, dt=1e-3, generator=torch.Generator().manual_seed(3))
    exact = {0.1: (-0.02060, 0.98096), 0.5: (-0.09531, 0.90436), 1.0: (-0.17239, 0.80879)}
    for i, t in enumerate((0.1, 0.5, 1.0), start=1):
        mean = p[:, i].mean(0).numpy()
        sd = p[:, i].std(0).numpy()
        assert np.all(np.abs(mean - np.array(exact[t])) <= 4 * sd / math.sqrt(n) + 1e-5)


def test_checkpointed_rollout_has_the_same_gradient():
    m = mb.damped_oscillator()
    from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig

    net = ENDnSDE(ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,)))
    x0 = torch.tensor([[0.0, 1.0]]).repeat(16, 1)
    th = torch.randn(16, 2)
    times = torch.linspace(0, 1, 5)
    grads = []
    for ck in (False, True):
        net.zero_grad()
        out = rollout(
            net, x0, th, times, dt=0.05, generator=torch.Generator().manual_seed(0), checkpoint=ck
        )
        out.pow(2).sum().backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    for a, b in zip(*grads):
        assert torch.allclose(a, b, atol=1e-6)
    assert m.n_brownian == 2
