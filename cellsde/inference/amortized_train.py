"""Training the amortised inference network on simulations of a population model."""

from __future__ import annotations

import torch

from cellsde.inference.amortized import Amortizer, AmortizerConfig
from cellsde.nn.base import PopulationModel


def simulate_sets(
    model: PopulationModel,
    *,
    x0: torch.Tensor,
    theta: torch.Tensor,
    times: torch.Tensor,
    readout: torch.Tensor,
    k: int,
    dt: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """``k`` paths per parameter set, observed coordinates only.

    Parameters
    ----------
    x0 : torch.Tensor, shape (n0, species)
        Pool of initial states, cycled through.
    theta : torch.Tensor, shape (set, param)
    readout : torch.Tensor, shape (species, observed)
        Linear map from model species to observed coordinates.

    Returns
    -------
    torch.Tensor, shape (set, k, time, observed)
    """
    n = theta.shape[0]
    idx = torch.arange(n * k, device=x0.device) % x0.shape[0]
    with torch.no_grad():
        paths = model.sample_paths(
            x0[idx], theta.repeat_interleave(k, 0), times, dt=dt, generator=generator
        )
    return (paths @ readout).reshape(n, k, len(times), -1)


def train_amortizer(
    model: PopulationModel,
    *,
    x0: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    times: torch.Tensor,
    observed: tuple[str, ...],
    readout: torch.Tensor,
    k_max: int = 32,
    n_sets: int = 512,
    epochs: int = 1500,
    dt: float = 1e-2,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    hidden: int = 64,
    seed: int = 0,
) -> Amortizer:
    """Train an :class:`Amortizer` on ``n_sets`` parameter sets drawn uniformly in [lo, hi].

    Each epoch shows every set with a random group size K in 1..k_max (a random subset of its
    ``k_max`` simulated cells), so the network serves any K up to ``k_max``.

    Returns
    -------
    Amortizer
        The trained network (in eval mode).
    """
    gen = torch.Generator(device=x0.device).manual_seed(seed)
    u = torch.rand((n_sets, lo.shape[0]), generator=gen, device=gen.device).to(x0.device)
    theta = lo + (hi - lo) * u  # (set, param)
    y = simulate_sets(model, x0=x0, theta=theta, times=times, readout=readout,
                      k=k_max, dt=dt, generator=gen)  # fmt: skip
    cfg = AmortizerConfig(observed=observed, params=model.param_names, times=tuple(times.tolist()),
                          k_max=k_max, hidden=hidden)  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Amortizer(cfg).to(x0.device)
    flat = y.flatten(-2).reshape(-1, y.shape[-2] * y.shape[-1])  # (set*k, features)
    with torch.no_grad():
        net.reference.copy_(flat.mean(0))
        net.y_loc.copy_(flat.mean(0))
        net.y_scale.copy_(flat.std(0).clamp(min=1e-8))
        net.theta_loc.copy_((lo + hi) / 2)
        net.theta_scale.copy_(torch.where(hi > lo, (hi - lo) / 2, torch.ones_like(hi)))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    target = (theta - net.theta_loc) / net.theta_scale
    for _ in range(epochs):
        ks = torch.randint(1, k_max + 1, (n_sets, 1), generator=gen, device=gen.device).to(
            x0.device
        )
        order = (
            torch.rand((n_sets, k_max), generator=gen, device=gen.device).to(x0.device).argsort(1)
        )
        mask = order < ks  # a random subset of size K per set
        pred = (net(y, mask) - net.theta_loc) / net.theta_scale
        loss = (pred - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()
