"""Euler–Maruyama: damped-oscillator oracles (models.md §2), strong order, torchsde, grad."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cellsde.solvers.euler_maruyama import euler_maruyama
from models_bio import Parameter, SDEModel, damped_oscillator

EXACT_MEAN = {0.1: (-0.02060, 0.98096), 0.5: (-0.09531, 0.90436), 1.0: (-0.17239, 0.80879)}


def _oscillator_paths(k1, k2, omega, n, seed=0):
    sde = damped_oscillator(k1=k1, k2=k2)
    x0 = torch.tensor([[0.0, 1.0]], dtype=torch.float64).expand(n, 2)
    theta = torch.tensor([omega], dtype=torch.float64).expand(n, 2)
    times = np.linspace(0, 1, 11)
    x = euler_maruyama(
        sde, x0=x0, theta=theta, times=times, dt=1e-3, seed=seed, dtype=torch.float64
    )
    return times, x.numpy()  # (cell, time, species)


def test_damped_oscillator_mean_within_4_se():
    _, x = _oscillator_paths(0.3, 0.1, (1.0, 1.0), 2000)
    for t, exact in EXACT_MEAN.items():
        k = round(t * 10)
        mean, sd = x[:, k].mean(0), x[:, k].std(0, ddof=1)
        assert np.all(np.abs(mean - exact) <= 4 * sd / math.sqrt(x.shape[0]) + 5e-5), t


def test_damped_oscillator_deterministic_when_noise_vanishes():
    _, x = _oscillator_paths(0.1, 0.1, (-1.0, -1.0), 3)
    np.testing.assert_allclose(x[:, -1], np.broadcast_to(EXACT_MEAN[1.0], (3, 2)), atol=1e-4)
    assert np.ptp(x[:, -1], axis=0).max() == 0.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("k1", "k2", "omega", "sds"),
    [
        (0.1, 0.0, (0.0, 0.0), (0.0284, 0.0285)),
        (0.3, 0.1, (1.0, 1.0), (0.113, 0.114)),
        (0.3, 0.1, (-1.0, 1.0), (0.058, 0.114)),
    ],
)
def test_damped_oscillator_reference_spreads(k1, k2, omega, sds):
    _, x = _oscillator_paths(k1, k2, omega, 20_000, seed=1)
    np.testing.assert_allclose(x[:, -1].std(0, ddof=1), sds, rtol=0.02)


def _gbm(mu=0.5, sigma=0.8):
    return SDEModel(
        name="gbm",
        species=("x",),
        parameters=(Parameter("mu", mu), Parameter("sigma", sigma)),
        drift_fn=lambda t, x, th: th[:, :1] * x,
        diffusion_fn=lambda t, x, th: th[:, 1:2] * x,
        initial=(1.0,),
    )


def test_strong_order_one_half_on_gbm():
    n, T, fine = 4000, 1.0, 2**10
    gen = torch.Generator().manual_seed(0)
    dw = torch.randn((fine, n, 1), generator=gen, dtype=torch.float64) * math.sqrt(T / fine)
    cum = torch.cat([torch.zeros(1, n, 1, dtype=torch.float64), dw.cumsum(0)])  # W on the fine grid

    def increments(a, b):
        return cum[round(b / T * fine)] - cum[round(a / T * fine)]

    mu, sigma = 0.5, 0.8
    exact = torch.exp((mu - sigma**2 / 2) * T + sigma * cum[-1, :, 0])
    theta = torch.tensor([[mu, sigma]], dtype=torch.float64).expand(n, 2)
    dts = [2.0**-k for k in range(3, 9)]
    errs = []
    for dt in dts:
        x = euler_maruyama(
            _gbm(), x0=torch.ones(n, 1, dtype=torch.float64), theta=theta, times=[0.0, T],
            dt=dt, increments=increments, dtype=torch.float64,
        )  # fmt: skip
        errs.append((x[:, -1, 0] - exact).abs().mean().item())
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert 0.35 < slope < 0.7, (slope, errs)


def test_matches_torchsde_euler_on_the_same_brownian_path():
    torchsde = pytest.importorskip("torchsde")
    sde_model = damped_oscillator(k1=0.3, k2=0.1)
    n = 64
    theta = torch.linspace(-1, 1, n, dtype=torch.float64)[:, None].expand(n, 2).contiguous()
    y0 = torch.tensor([[0.0, 1.0]], dtype=torch.float64).expand(n, 2).contiguous()

    class Wrapped(torch.nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, t, y):
            return sde_model.drift(t, y, theta)

        def g(self, t, y):
            return sde_model.diffusion(t, y, theta)

    ts = torch.linspace(0, 1, 11, dtype=torch.float64)
    bm = torchsde.BrownianInterval(t0=0.0, t1=1.0, size=(n, 2), dtype=torch.float64, entropy=3)
    ref = torchsde.sdeint(
        Wrapped(), y0, ts, method="euler", dt=0.01, bm=bm
    )  # (time, cell, species)
    ours = euler_maruyama(
        sde_model, x0=y0, theta=theta, times=ts.numpy(), dt=0.01,
        increments=lambda a, b: bm(a, b), dtype=torch.float64,
    )  # fmt: skip
    # step times differ in the last bits (torchsde accumulates t += dt), which moves the
    # Brownian-bridge query points by ~1e-16: agreement to ~1e-8, not bitwise
    torch.testing.assert_close(ours, ref.permute(1, 0, 2), rtol=1e-6, atol=1e-6)


def test_general_noise_and_no_grad_by_default():
    # two species driven by one shared Brownian motion: x1 - x2 stays deterministic
    sde = SDEModel(
        name="shared",
        species=("a", "b"),
        parameters=(Parameter("s", 0.5),),
        drift_fn=lambda t, x, th: torch.zeros_like(x),
        diffusion_fn=lambda t, x, th: th[:, :, None].expand(x.shape[0], 2, 1),
        noise_type="general",
        n_brownian=1,
        initial=(0.0, 1.0),
    )
    theta = torch.full((50, 1), 0.5, dtype=torch.float64, requires_grad=True)
    x = euler_maruyama(
        sde,
        x0=np.tile([0.0, 1.0], (50, 1)),
        theta=theta,
        times=[0, 1],
        dt=0.1,
        seed=0,
        dtype=torch.float64,
    )
    assert not x.requires_grad
    torch.testing.assert_close(x[:, -1, 1] - x[:, -1, 0], torch.ones(50, dtype=torch.float64))
    assert x[:, -1, 0].std() > 0.2
    y = euler_maruyama(
        sde,
        x0=np.tile([0.0, 1.0], (50, 1)),
        theta=theta,
        times=[0, 1],
        dt=0.1,
        seed=0,
        dtype=torch.float64,
        grad=True,
    )
    y[:, -1, 0].pow(2).sum().backward()
    assert theta.grad is not None and torch.isfinite(theta.grad).all()


def test_seed_reproducible_and_validation():
    sde = damped_oscillator()
    theta, x0 = np.ones((5, 2)), np.tile([0.0, 1.0], (5, 1))
    a = euler_maruyama(sde, x0=x0, theta=theta, times=[0, 0.5], dt=0.01, seed=3)
    b = euler_maruyama(sde, x0=x0, theta=theta, times=[0, 0.5], dt=0.01, seed=3)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert a.dtype == torch.get_default_dtype() and a.shape == (5, 2, 2)
    with pytest.raises(ValueError, match="seed"):
        euler_maruyama(sde, x0=x0, theta=theta, times=[0, 1], dt=0.1)
    with pytest.raises(ValueError, match="strictly increasing"):
        euler_maruyama(sde, x0=x0, theta=theta, times=[0, 1, 1], dt=0.1, seed=0)
    with pytest.raises(ValueError, match="theta has 4 cells"):
        euler_maruyama(sde, x0=x0, theta=theta[:4], times=[0, 1], dt=0.1, seed=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_with_same_statistics():
    times = np.linspace(0, 1, 11)
    sde = damped_oscillator(k1=0.3, k2=0.1)
    y = euler_maruyama(
        sde, x0=np.tile([0.0, 1.0], (2000, 1)), theta=np.ones((2000, 2)), times=times,
        dt=1e-3, seed=0, device="cuda", dtype=torch.float64,
    )  # fmt: skip
    assert y.device.type == "cuda"
    mean = y[:, -1].mean(0).cpu().numpy()
    sd = y[:, -1].std(0).cpu().numpy()
    assert np.all(np.abs(mean - EXACT_MEAN[1.0]) <= 4 * sd / math.sqrt(2000) + 5e-5)
