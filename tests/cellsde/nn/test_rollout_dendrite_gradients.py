"""Exact gradients through an END-nSDE rollout with dendrites: autograd = finite differences."""

import pytest
import torch

from cellsde.compression import build_candidate
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.nn.rollout import rollout
from perforate import DendriteConfig, dendritic_layers

TIMES = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)  # 20 Euler steps of 0.05


def network(mode: str, *, detach_input: bool = False) -> ENDnSDE:
    cfg = ENDnSDEConfig(("x1", "x2"), ("w",), hidden=(5, 5), activation="tanh",
                        positivity="softplus")  # fmt: skip
    torch.set_default_dtype(torch.float64)
    try:
        wide = ENDnSDE(cfg, seed=0)
        net = build_candidate(wide, 4, n_sets=2, dendrites=DendriteConfig(mode=mode), seed=1)
    finally:
        torch.set_default_dtype(torch.float32)
    gen = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for _, layer in dendritic_layers(net):
            layer.config = DendriteConfig(mode=mode, detach_input=detach_input)
            for s in layer.sets:  # trained-looking output weights: the dendrites matter
                s.v.copy_(torch.randn(s.v.shape, generator=gen, dtype=torch.float64))
    return net


def loss(net: ENDnSDE) -> torch.Tensor:
    x0 = torch.tensor([[0.0, 1.0], [0.5, -0.5], [1.0, 0.2]], dtype=torch.float64)
    theta = torch.tensor([[-0.5], [0.0], [0.7]], dtype=torch.float64)
    paths = rollout(net, x0, theta, TIMES, dt=0.05, generator=torch.Generator().manual_seed(3))
    return (paths[:, 1:] ** 2).sum()


def checked(net: ENDnSDE) -> dict[str, torch.nn.Parameter]:
    """The output bias of the drift, a first-layer weight, and a dendrite of a hidden layer."""
    named = dict(net.named_parameters())
    names = ["drift_net.4.base.bias", "drift_net.0.base.weight", "drift_net.2.sets.1.v",
             "diffusion_net.2.sets.0.weight", "diffusion_net.4.sets.1.u"]  # fmt: skip
    return {n: named[n] for n in names if named[n].requires_grad}


def finite_difference(net: ENDnSDE, p: torch.nn.Parameter, eps: float = 1e-6) -> float:
    with torch.no_grad():
        p.view(-1)[0] += eps
        up = float(loss(net))
        p.view(-1)[0] -= 2 * eps
        down = float(loss(net))
        p.view(-1)[0] += eps
    return (up - down) / (2 * eps)


@pytest.mark.parametrize("mode", ["gd", "cascade"])
def test_rollout_gradient_equals_finite_difference(mode):
    net = network(mode)
    params = checked(net)
    assert "drift_net.4.base.bias" in params and "drift_net.2.sets.1.v" in params
    assert ("diffusion_net.2.sets.0.weight" in params) == (mode == "gd")  # cascade: D frozen
    net.zero_grad()
    loss(net).backward()
    for name, p in params.items():
        fd = finite_difference(net, p)
        assert float(p.grad.view(-1)[0]) == pytest.approx(fd, rel=1e-5, abs=1e-8), name


def test_detached_dendrite_inputs_bias_the_rollout_gradient():
    """The old cascade behaviour: even the drift's output bias gets a wrong gradient."""
    net = network("cascade", detach_input=True)
    p = checked(net)["drift_net.4.base.bias"]
    net.zero_grad()
    loss(net).backward()
    fd = finite_difference(net, p)
    assert abs(float(p.grad[0]) - fd) > 1e-3 * abs(fd)
