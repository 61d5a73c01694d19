"""remove_dendrites: the pair of add_dendrites (drop, or fuse what a Linear can hold)."""

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
    remove_dendrites,
)


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 2))


X = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("mode", ["gd", "cascade"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_add_then_remove_fresh_dendrites_gives_back_the_same_model(mode, activation):
    model = net()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    y0, n0 = model(X), count_parameters(model)
    add_dendrites(model, DendriteConfig(mode=mode, activation=activation), n_sets=2)
    add_dendrite_set(model)
    for _, layer in dendritic_layers(model):
        layer.start_candidate()  # a pending cascade candidate is dropped too
    assert count_parameters(model) > n0
    out = remove_dendrites(model)
    assert out is model and not dendritic_layers(model)
    assert [m for m in model if isinstance(m, nn.Linear)] == linears  # the same objects
    assert all(type(m) is nn.Linear for m in linears)
    assert count_parameters(model) == n0
    assert torch.equal(model(X), y0)


def test_input_independent_dendrites_are_fused_into_the_bias():
    model = add_dendrites(net(), DendriteConfig(activation="tanh"), n_sets=2)
    with torch.no_grad():
        for _, layer in dendritic_layers(model):
            for s in layer.sets:  # constant dendrites: no input weights, non-zero output weights
                s.weight.zero_()
                s.bias.normal_()
                s.v.normal_()
                s.u.normal_()
    y = model(X)
    remove_dendrites(model)
    torch.testing.assert_close(model(X), y)
    assert count_parameters(model) == count_parameters(net())


def test_input_dependent_dendrites_are_refused_unless_dropped():
    model = add_dendrites(net(), DendriteConfig(), n_sets=1)
    layer = dendritic_layers(model)[1][1]
    with torch.no_grad():
        layer.sets[0].v.fill_(0.5)  # the second layer's dendrites now matter
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"cannot fuse .* '2' \(sets \[0\]\).*fuse=False"):
        remove_dendrites(model)
    assert len(dendritic_layers(model)) == 3  # refused as a whole: nothing changed
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    base_only = nn.Sequential(*(m.base if isinstance(m, DendriticLinear) else m for m in model))
    expected = base_only(X)
    remove_dendrites(model, fuse=False)
    assert torch.equal(model(X), expected)


def test_root_layer_and_bad_inputs():
    lin = nn.Linear(3, 2)
    wrapped = add_dendrites(lin, n_sets=1)
    assert remove_dendrites(wrapped) is lin
    with pytest.raises(ValueError, match="no dendritic layer"):
        remove_dendrites(net())
    with pytest.raises(TypeError, match="fuse must be True or False"):
        remove_dendrites(add_dendrites(net()), fuse="yes")
