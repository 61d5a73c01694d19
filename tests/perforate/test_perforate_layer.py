"""DendriticLinear: the method's equations, function preservation, perforation, state dicts."""

import io

import pytest
import torch
from torch import nn

from perforate import DendriteConfig, DendriticLinear


def _layer(mode="gd", activation="sigmoid", k=0, i=4, o=3, seed=0):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    return DendriticLinear(
        nn.Linear(i, o), DendriteConfig(mode=mode, activation=activation), n_sets=k, generator=g
    )


def _randomise_v(layer, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for s in layer.sets:
            s.v.copy_(torch.randn(s.v.shape, generator=g))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_forward_matches_per_neuron_equations(activation):
    layer = _layer(activation=activation, k=3)
    _randomise_v(layer)
    x = torch.randn(5, 4, dtype=torch.float64)
    layer = layer.double()
    act = torch.sigmoid if activation == "sigmoid" else torch.tanh
    w, b = layer.base.weight, layer.base.bias
    expected = torch.empty(5, 3, dtype=torch.float64)
    for bi in range(5):
        for n in range(3):
            y = w[n] @ x[bi] + b[n]
            h = []
            for k, s in enumerate(layer.sets):
                a = s.weight[n] @ x[bi] + s.bias[n]
                for j in range(k):
                    a = a + s.u[n, j] * h[j]
                h.append(act(a))
                y = y + s.v[n] * h[k]
            expected[bi, n] = y
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["gd", "cascade"])
def test_adding_a_set_is_bit_identical(mode):
    layer = _layer(mode=mode, k=1)
    _randomise_v(layer)
    x = torch.randn(7, 2, 4)  # extra leading dims are fine
    before = layer(x)
    layer.add_set()
    assert torch.equal(layer(x), before)
    layer.start_candidate()
    assert torch.equal(layer(x), before)
    layer.accept_candidate()
    assert torch.equal(layer(x), before)
    assert layer.n_sets == 3


@pytest.mark.parametrize(("mode", "zero"), [("cascade", True), ("gd", False)])
def test_gradient_through_dendrite_path(mode, zero):
    layer = _layer(mode=mode, k=2)
    _randomise_v(layer)
    x = torch.randn(6, 4, requires_grad=True)
    out = layer.dendrite_term(x).sum()
    assert out.requires_grad  # v is trainable in both modes
    (gx,) = torch.autograd.grad(out, x, allow_unused=True)
    if zero:
        assert gx is None or torch.count_nonzero(gx) == 0
    else:
        assert gx is not None and torch.count_nonzero(gx) > 0


def test_cascade_freezes_accepted_sets_gd_does_not():
    casc, gd = _layer(mode="cascade", k=2), _layer(mode="gd", k=2)
    for s in casc.sets:
        assert s.v.requires_grad
        assert not (s.weight.requires_grad or s.bias.requires_grad or s.u.requires_grad)
    assert all(p.requires_grad for p in gd.parameters())


def test_parameter_shapes_and_count_formula():
    i, o = 4, 3
    for k in range(5):
        layer = _layer(k=k, i=i, o=o)
        assert [tuple(s.u.shape) for s in layer.sets] == [(o, j) for j in range(k)]
        n = sum(p.numel() for p in layer.parameters())
        assert n == (k + 1) * (i * o + o) + k * o + o * k * (k - 1) // 2


@pytest.mark.parametrize("mode", ["gd", "cascade"])
def test_state_dict_roundtrip_grows_sets_and_torch_load_weights_only(mode):
    layer = _layer(mode=mode, k=3)
    _randomise_v(layer)
    x = torch.randn(5, 4)
    buf = io.BytesIO()
    torch.save(layer.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    fresh = _layer(mode=mode, k=0, seed=99)
    fresh.load_state_dict(state)  # strict: grows 3 sets
    assert fresh.n_sets == 3
    assert torch.equal(fresh(x), layer(x))
    assert [p.requires_grad for p in fresh.parameters()] == [
        p.requires_grad for p in layer.parameters()
    ]
    bigger = _layer(mode=mode, k=5, seed=7)
    bigger.load_state_dict(state)  # and shrinks
    assert bigger.n_sets == 3 and torch.equal(bigger(x), layer(x))


def test_records_only_with_candidate_and_grad():
    layer = _layer(mode="cascade", k=1)
    x = torch.randn(8, 4)
    layer(x).sum().backward()
    assert layer.n_records == 0
    layer.start_candidate()
    with torch.no_grad():
        layer(x)
    assert layer.n_records == 0
    y = layer(x)
    (y * 2).sum().backward()
    xs, hs, e = layer.pop_records()
    assert torch.equal(xs, x) and not xs.requires_grad
    assert len(hs) == 1 and hs[0].shape == e.shape == (8, 3) and not hs[0].requires_grad
    torch.testing.assert_close(e, torch.full((8, 3), 2.0))
    assert layer.n_records == 0 and layer.pop_records() is None


def test_constructor_errors():
    with pytest.raises(TypeError, match=r"nn\.Linear"):
        DendriticLinear(nn.Conv1d(1, 1, 1))
    with pytest.raises(ValueError, match="bias"):
        DendriticLinear(nn.Linear(2, 2, bias=False))
    with pytest.raises(ValueError, match="mode"):
        DendriteConfig(mode="pai")
    layer = _layer()
    with pytest.raises(RuntimeError, match="start_candidate"):
        layer.accept_candidate()
