"""The Euler step grid of the training rollout: whole steps per observation interval."""

import math

import pytest
import torch

from cellsde.nn.rollout import rollout, step_counts


class _Constant:
    """dx = 1 dt + 0 dW: after the rollout, x(t) = t exactly up to rounding."""

    noise_type = "diagonal"
    n_brownian = 1

    def drift(self, t, x, theta):
        return torch.ones_like(x)

    def diffusion(self, t, x, theta):
        return torch.zeros_like(x)


@pytest.mark.parametrize("n_steps", [1, 9, 84, 100])
def test_float32_times_whole_steps_get_no_extra_step(n_steps):
    # 31 times on [0, 2.5] h stored in float32 are off by up to an ulp of t (2.4e-7 near
    # 2.5); dt = gap / n must give n steps in every interval, as for the float64 times.
    t64 = torch.linspace(0.0, 2.5, 31, dtype=torch.float64)
    t32 = t64.float()
    dt = (t64[1] - t64[0]).item() / n_steps
    assert step_counts(t64, dt) == [n_steps] * 30
    assert step_counts(t32, dt) == [n_steps] * 30
    assert step_counts(torch.linspace(0.0, 1.0, 11), 1e-3) == [100] * 10


def test_partial_steps_still_round_up():
    assert step_counts(torch.tensor([0.0, 0.1, 0.35]), 0.1) == [1, 3]
    assert step_counts(torch.tensor([0.0, 1.0]), 0.3) == [4]
    # a gap longer than n steps by more than the times' rounding gets step n + 1
    t = torch.tensor([0.0, 1.0 + 1e-4], dtype=torch.float32)
    assert step_counts(t, 0.01) == [101]
    assert step_counts(torch.tensor([0, 3]), 1.0) == [3]  # integer times


def test_rollout_lands_on_float32_observation_times():
    # with x' = 1 the state is the time reached: every observation time is hit
    times = torch.linspace(0.0, 2.5, 31)
    x0 = torch.zeros(3, 1)
    dt = (2.5 / 30) / 84
    with torch.no_grad():
        out = rollout(_Constant(), x0, torch.zeros(3, 0), times, dt=dt,
                      generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert out.shape == (3, 31, 1)
    err = (out[0, :, 0].double() - times.double()).abs().max().item()
    assert err < 84 * 30 * 4 * math.ulp(2.5 / 30 / 84) + 1e-5
