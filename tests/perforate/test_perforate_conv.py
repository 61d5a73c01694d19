"""DendriticConv: identity at creation, the per-channel equations, parameter and MAC counts."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from perforate import (
    CandidateOptimizer,
    DendriteConfig,
    DendriticConv,
    add_dendrites,
    count_macs,
    count_parameters,
    dendritic_layers,
    remove_dendrites,
)


def conv_count(weights: int, o: int, k: int) -> int:
    """Parameters of a convolution with ``weights`` kernel weights, ``o`` channels, k sets."""
    return (k + 1) * (weights + o) + k * o + o * k * (k - 1) // 2


CASES = [
    (nn.Conv1d(3, 5, 3, stride=2, padding=1), (4, 3, 11)),
    (nn.Conv2d(2, 4, (3, 2), padding=1, dilation=(1, 2)), (3, 2, 7, 6)),
    (nn.Conv2d(4, 6, 3, groups=2), (2, 4, 5, 5)),
]


@pytest.mark.parametrize(("conv", "shape"), CASES)
def test_new_sets_leave_the_output_unchanged_bit_for_bit(conv, shape):
    torch.manual_seed(0)
    x = torch.randn(shape)
    ref = conv(x)
    layer = DendriticConv(
        conv, DendriteConfig(), n_sets=3, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(layer(x), ref)
    assert count_parameters(layer) == conv_count(conv.weight.numel(), conv.out_channels, 3)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_forward_matches_the_per_channel_equations(activation):
    torch.manual_seed(0)
    conv = nn.Conv1d(2, 3, 3, padding=1)
    layer = DendriticConv(conv, DendriteConfig(activation=activation), n_sets=2)
    with torch.no_grad():
        for s in layer.sets:
            s.v.normal_()
    x = torch.randn(4, 2, 9)
    act = torch.sigmoid if activation == "sigmoid" else torch.tanh
    s0, s1 = layer.sets
    h0 = act(F.conv1d(x, s0.weight, s0.bias, padding=1))  # (N, o, L)
    h1 = act(F.conv1d(x, s1.weight, s1.bias, padding=1) + s1.u[:, 0, None] * h0)
    want = conv(x) + s0.v[:, None] * h0 + s1.v[:, None] * h1
    torch.testing.assert_close(layer(x), want)


def test_add_dendrites_wraps_convolutions_and_counts_macs():
    net = nn.Sequential(nn.Conv1d(1, 4, 5, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(80, 10))
    x = torch.randn(1, 1, 40)
    plain_macs = count_macs(net, x)
    assert plain_macs == 20 * 4 * 5 + 80 * 10  # output positions x channels x kernel; Linear
    ref = net(x)
    add_dendrites(net, DendriteConfig(), n_sets=2)
    assert [type(m).__name__ for _, m in dendritic_layers(net)] == [
        "DendriticConv",
        "DendriticLinear",
    ]
    assert torch.equal(net(x), ref)
    # each set applies one more kernel; v and u add K + K(K-1)/2 per output element
    assert count_macs(net, x) == 3 * plain_macs + (80 + 10) * 3
    assert count_parameters(net) == conv_count(20, 4, 2) + conv_count(800, 10, 2)
    remove_dendrites(net)  # fresh sets (v = 0) fuse away exactly
    assert torch.equal(net(x), ref) and count_parameters(net) == 24 + 810


def test_candidate_records_every_position_as_a_sample():
    torch.manual_seed(0)
    layer = DendriticConv(nn.Conv1d(2, 3, 3, padding=1), DendriteConfig(mode="cascade"), n_sets=1)
    layer.start_candidate()
    x = torch.randn(4, 2, 9)
    (layer(x) ** 2).sum().backward()
    xs, hs, e = layer.pop_records()
    assert xs.shape == (4, 2, 9) and hs[0].shape == (4, 3, 9) and e.shape == (4 * 9, 3)
    # e is dL/dy = 2 y, channel by channel, every (sample, position) one row
    with torch.no_grad():
        y = layer(x)
    torch.testing.assert_close(e, (2 * y).movedim(1, -1).reshape(-1, 3))
    (layer(x) ** 2).sum().backward()  # a varying error (a constant one has no covariance)
    opt = CandidateOptimizer(layer)
    before = layer.candidate.weight.detach().clone()
    opt.step()
    assert not torch.equal(before, layer.candidate.weight) and opt.scores[0] > 0


def test_conv_bad_inputs():
    with pytest.raises(ValueError, match="bias"):
        DendriticConv(nn.Conv1d(1, 2, 3, bias=False))
    with pytest.raises(ValueError, match="padding_mode"):
        DendriticConv(nn.Conv1d(1, 2, 3, padding=1, padding_mode="reflect"))
    with pytest.raises(TypeError, match=r"nn\.Conv1d or nn\.Conv2d"):
        DendriticConv(nn.Conv3d(1, 2, 3))
    with pytest.raises(ValueError, match="padding_mode='reflect'"):
        add_dendrites(nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")))
    with pytest.raises(ValueError, match="count_macs"):
        count_macs(nn.ReLU(), torch.zeros(1))
