import json
import sys
from pathlib import Path

import pytest
import torch

import models_bio as mb
from cellsde.baselines import (
    MechanisticSDE,
    NeuralODE,
    NeuralODEConfig,
    RecurrentBaseline,
    RecurrentConfig,
    standardize,
)
from cellsde.evaluation import evaluate
from cellsde.nn.training_data import group_tensors
from cellsde.training.config import FitConfig
from cellsde.training.fit import fit
from cellsde.training.objective import model_w2, tw2_loss

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

SP, PA = ("x1", "x2"), ("omega1", "omega2")
TIMES = torch.linspace(0, 1, 6)


def _models():
    return [
        RecurrentBaseline(RecurrentConfig(SP, PA, cell="lstm", hidden=16, head=(16,)), seed=0),
        RecurrentBaseline(
            RecurrentConfig(SP, PA, cell="rnn", hidden=16, head=(16,), noise="input"), seed=0
        ),
        NeuralODE(NeuralODEConfig(SP, PA, hidden=(16, 16)), seed=0),
    ]


def _inputs(n=7):
    x0 = torch.tensor([[0.0, 1.0]]).repeat(n, 1)
    theta = torch.linspace(-1, 1, 2 * n).reshape(n, 2)
    return x0, theta


@pytest.mark.parametrize("index", [0, 1, 2])
def test_shapes_start_and_determinism(index):
    model = _models()[index]
    x0, theta = _inputs()
    draw = lambda s: model.sample_paths(  # noqa: E731
        x0, theta, TIMES, dt=0.05, generator=torch.Generator().manual_seed(s)
    )
    a, b, c = draw(3), draw(3), draw(4)
    assert a.shape == (7, 6, 2) and torch.isfinite(a).all()
    assert torch.equal(a[:, 0], x0)
    assert torch.equal(a, b)
    if isinstance(model, NeuralODE):  # deterministic: no spread from a common start
        assert torch.equal(a, c)
        same = model.sample_paths(x0[:1].repeat(5, 1), theta[:1].repeat(5, 1), TIMES, dt=0.05,
                                  generator=torch.Generator())  # fmt: skip
        assert torch.allclose(same, same[:1].expand_as(same))
    else:
        assert not torch.allclose(a[:, 1:], c[:, 1:])


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    m1 = RecurrentBaseline(RecurrentConfig(SP, PA, hidden=8), seed=2)
    m2 = RecurrentBaseline(RecurrentConfig(SP, PA, hidden=8), seed=2)
    assert torch.equal(torch.random.get_rng_state(), before)
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_w2_gradients_reach_every_parameter(index):
    model = _models()[index]
    ds = damped_dataset(n_per_group=8, grid=(-1.0, 1.0))
    data = group_tensors(ds, species=SP, params=PA, observed=SP)
    w2, observed = model_w2(model, data, n_paths=8, dt=0.05,
                               generator=torch.Generator().manual_seed(0))  # fmt: skip
    tw2_loss(w2, observed).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert sum(float(p.grad.abs().sum()) for p in model.parameters()) > 0


@pytest.mark.parametrize("index", [0, 2])
def test_short_fit_reduces_held_in_tw2(index):
    model = _models()[index]
    ds = damped_dataset(n_per_group=12, grid=(-1.0, 1.0))
    standardize(model, ds)
    before = float(evaluate(model, ds, dt=0.05, seed=9).tw2_total)
    cfg = FitConfig(epochs=25, lr=1e-2, dt=0.05, n_paths=12, progress=False)
    result = fit(model, ds, config=cfg)
    after = float(evaluate(result.model, ds, dt=0.05, seed=9).tw2_total)
    assert after < 0.7 * before


def test_teacher_forced_uses_observed_inputs_and_no_noise():
    model = _models()[0].eval()
    x_true = torch.randn(5, 6, 2)
    theta = torch.zeros(5, 2)
    pred = model.teacher_forced(x_true, theta)
    assert pred.shape == (5, 6, 2) and torch.equal(pred[:, 0], x_true[:, 0])
    state, eps = None, torch.zeros(5, 2)
    for i in range(1, 6):
        mean, _, state = model.step(x_true[:, i - 1], theta, state, eps)
        assert torch.allclose(pred[:, i], mean)


def test_configs_validate_and_serialise():
    lstm = RecurrentConfig.paper("lstm", SP, PA)
    rnn = RecurrentConfig.paper("rnn", SP, PA)
    assert (lstm.hidden, lstm.layers, lstm.dropout, lstm.head) == (128, 2, 0.3, (256, 256, 32))
    assert (rnn.hidden, rnn.head) == (256, (128, 64, 32))
    for cfg in (lstm, NeuralODEConfig(SP, PA)):
        assert json.loads(json.dumps(cfg.to_dict()))["species"] == list(SP)
    with pytest.raises(ValueError, match="cell must be one of"):
        RecurrentConfig(SP, PA, cell="gru")
    with pytest.raises(ValueError, match="noise must be one of"):
        RecurrentConfig(SP, PA, noise="none")
    with pytest.raises(ValueError, match="dropout"):
        RecurrentConfig(SP, PA, dropout=1.0)
    with pytest.raises(ValueError, match="activation"):
        NeuralODEConfig(SP, PA, activation="gelu2")


def test_standardize_and_adapter_checks():
    ds = damped_dataset(n_per_group=8, grid=(0.0,))
    model = NeuralODE(NeuralODEConfig(SP, PA, hidden=(4,)))
    standardize(model, ds)
    x = ds["x"].values.reshape(-1, 2)
    assert torch.allclose(model.x_loc, torch.tensor(x.mean(0), dtype=torch.float32))
    assert torch.all(model.theta_scale == 1)  # constant theta: scale falls back to 1
    with pytest.raises(TypeError, match="standardize expects"):
        standardize(torch.nn.Linear(2, 2), ds)
    with pytest.raises(TypeError, match="MechanisticSDE needs"):
        MechanisticSDE(object())
    wrapped = MechanisticSDE(mb.damped_oscillator())
    assert wrapped.species == SP and wrapped.param_names == PA
    assert wrapped.config.to_dict()["name"] == "damped_oscillator"
