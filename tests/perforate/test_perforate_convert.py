"""add_dendrites / add_dendrite_set / count_parameters on whole models."""

import io

import pytest
import torch
from torch import nn

from perforate import (
    DendriteConfig,
    DendriticLinear,
    add_dendrite_set,
    add_dendrites,
    count_parameters,
    dendritic_layers,
)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh())
        self.head = nn.Linear(8, 2)
        self.norm = nn.LayerNorm(8)
        self.nobias = nn.Linear(2, 2, bias=False)

    def forward(self, x):
        return self.head(self.norm(self.enc(x)))


def _formula(i, o, k):
    return (k + 1) * (i * o + o) + k * o + o * k * (k - 1) // 2


def test_wraps_named_layers_and_keeps_function():
    torch.manual_seed(0)
    net = Net()
    x = torch.randn(5, 4)
    y0 = net(x)
    out = add_dendrites(net, DendriteConfig(layers=("enc.0", "head")))
    assert out is net
    assert [n for n, _ in dendritic_layers(net)] == ["enc.0", "head"]
    assert isinstance(net.enc[2], nn.Linear) and not isinstance(net.enc[2], DendriticLinear)
    assert torch.equal(net(x), y0)
    add_dendrite_set(net)
    add_dendrite_set(net)
    assert torch.equal(net(x), y0)


def test_all_linear_with_bias_by_predicate_and_no_double_wrap():
    net = Net()
    cfg = DendriteConfig(layers=lambda name, m: m.bias is not None)
    add_dendrites(net, cfg)
    assert [n for n, _ in dendritic_layers(net)] == ["enc.0", "enc.2", "head"]
    with pytest.raises(ValueError, match=r"no nn\.Linear, nn\.Conv1d or nn\.Conv2d"):
        add_dendrites(net, cfg)  # the wrapped bases are not wrapped again


def test_precise_errors_name_each_bad_module():
    net = Net()
    with pytest.raises(ValueError) as info:
        add_dendrites(net, DendriteConfig(layers=("enc.1", "missing", "nobias", "head")))
    msg = str(info.value)
    assert "'enc.1' (is Tanh, not nn.Linear, nn.Conv1d or nn.Conv2d)" in msg
    assert "'missing' (no such module)" in msg
    assert "'nobias' (Linear without bias)" in msg
    assert "'head'" not in msg
    with pytest.raises(ValueError, match="'nobias'"):
        add_dendrites(Net(), DendriteConfig())  # all Linear includes the bias-free one
    add_dendrites(net, DendriteConfig(layers=("head",)))
    with pytest.raises(ValueError, match="already part of a dendritic layer"):
        add_dendrites(net, DendriteConfig(layers=("head", "head.base")))
    with pytest.raises(ValueError, match="add_dendrites"):
        add_dendrite_set(nn.Sequential(nn.Linear(2, 2)))


def test_root_linear_returns_wrapper():
    lin = nn.Linear(3, 2)
    out = add_dendrites(lin, n_sets=1)
    assert isinstance(out, DendriticLinear) and out.base is lin and out.n_sets == 1


def test_count_parameters_formula_and_candidates_not_counted():
    net = Net()
    add_dendrites(net, DendriteConfig(mode="cascade", layers=("enc.0", "enc.2", "head")))
    other = sum(p.numel() for p in net.norm.parameters()) + 4  # nobias
    for k in range(4):
        expected = other + _formula(4, 8, k) + _formula(8, 8, k) + _formula(8, 2, k)
        assert count_parameters(net) == expected
        for _, m in dendritic_layers(net):
            m.start_candidate()
        assert count_parameters(net) == expected
        for _, m in dendritic_layers(net):
            m.accept_candidate()
    trainable = count_parameters(net, trainable_only=True)
    assert trainable < count_parameters(net)  # cascade: accepted D, bias, u are frozen


def test_whole_model_state_dict_round_trip_with_k_sets():
    torch.manual_seed(0)
    cfg = DendriteConfig(layers=("enc.0", "enc.2", "head"))
    net = add_dendrites(Net(), cfg, n_sets=2)
    for p in net.parameters():
        p.data.normal_()
    buf = io.BytesIO()
    torch.save(net.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    x = torch.randn(3, 4)
    fresh_a = add_dendrites(Net(), cfg, n_sets=2)  # explicit structure
    fresh_b = add_dendrites(Net(), cfg)  # sets grown from the state dict
    for fresh in (fresh_a, fresh_b):
        fresh.load_state_dict(state)
        assert torch.equal(fresh(x), net(x))
        assert count_parameters(fresh) == count_parameters(net)
