"""Correlation training, the train() driver, and bounded hook buffers in an SDE-like loop."""

import copy

import pytest
import torch
from torch import nn

from perforate import (
    CandidateOptimizer,
    DendriteConfig,
    DendriticLinear,
    PhaseSchedule,
    add_dendrites,
    covariance_scores,
    dendritic_layers,
    train,
)


def _residual_task(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, generator=g) * 4 - 2  # (sample, 2)
    t = x[:, :1] - x[:, 1:] + 2 * torch.sigmoid(5 * (x[:, :1] - 0.5))  # (sample, 1)
    return x, t


def _mse_step(x, t, n_steps=1):
    def step(model, opt):
        for _ in range(n_steps):
            opt.zero_grad()
            loss = ((model(x) - t) ** 2).mean()
            loss.backward()
            opt.step()

    return step


def test_correlation_phase_raises_covariance_then_accepting_lowers_loss():
    torch.manual_seed(0)
    x, t = _residual_task()
    layer = DendriticLinear(nn.Linear(2, 1), DendriteConfig(mode="cascade", candidate_lr=0.05))
    with torch.no_grad():  # least-squares fit of the plain neuron: only the residual remains
        xa = torch.cat([x, torch.ones(len(x), 1)], 1)
        sol = torch.linalg.lstsq(xa, t).solution
        layer.base.weight.copy_(sol[:2].T)
        layer.base.bias.copy_(sol[2])
    loss_before = ((layer(x) - t) ** 2).mean().item()
    layer.start_candidate(generator=torch.Generator().manual_seed(1))
    out_before = layer(x).detach()
    base_before = [p.detach().clone() for p in layer.base.parameters()]
    opt = CandidateOptimizer(layer)
    step = _mse_step(x, t)
    for _ in range(150):
        step(layer, opt)
    scores = opt.scores
    assert scores[-1] > 3 * scores[0]
    assert all(b >= a * 0.999 for a, b in zip(scores[::10], scores[10::10]))  # climbs
    assert torch.equal(layer(x).detach(), out_before)  # network output unchanged
    assert all(torch.equal(a, b) for a, b in zip(base_before, layer.base.parameters()))
    layer.accept_candidate()
    assert ((layer(x) - t) ** 2).mean().item() == pytest.approx(loss_before, abs=0)
    adam = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=0.05)
    for _ in range(150):
        _mse_step(x, t)(layer, adam)
    loss_after = ((layer(x) - t) ** 2).mean().item()
    assert loss_after < 0.3 * loss_before


def _sde_model(seed=0, mode="cascade"):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    return add_dendrites(net, DendriteConfig(mode=mode))


def test_hook_buffers_bounded_in_sde_solver_loop():
    model = _sde_model()
    layers = [m for _, m in dendritic_layers(model)]
    x0 = torch.randn(16, 2)
    target = torch.zeros(16, 2)
    seen = []

    def step(model, opt):  # Euler-Maruyama: 100 forward calls per backward, 2 backwards/epoch
        for _ in range(2):
            opt.zero_grad()
            x = x0
            for _ in range(100):
                x = x + 0.01 * model(x) + 0.01 * torch.randn_like(x)
            seen.append(max(m.n_records for m in layers))
            ((x - target) ** 2).mean().backward()
            opt.step()
            seen.append(max(m.n_records for m in layers))

    def evaluate(model):
        with torch.no_grad():
            x = x0
            for _ in range(100):
                x = x + 0.01 * model(x)
            return float(((x - target) ** 2).mean())

    sch = PhaseSchedule(
        mode="cascade",
        patience=1,
        threshold=0.5,
        max_dendrites=3,
        candidate_patience=2,
        candidate_epochs=3,
    )
    res = train(
        model,
        step=step,
        evaluate=evaluate,
        schedule=sch,
        optimizer_factory=lambda p: torch.optim.SGD(p, lr=1e-3),
        max_epochs=12,
    )
    phases = [r.phase for r in res.history]
    assert "dendrite" in phases  # the candidate phase ran, with hooks, for several epochs
    assert max(seen) <= 100  # at most one step's forward calls are ever held
    assert seen[1::2] == [0] * (len(seen) // 2)  # nothing survives an optimizer step
    for m in layers:
        assert m.n_records == 0 and m.candidate is None
        assert not m._forward_hooks and not m._backward_hooks


def test_train_gd_grows_and_restores_best():
    x, t = _residual_task(128)
    torch.manual_seed(0)
    model = add_dendrites(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)))

    def evaluate(m):
        with torch.no_grad():
            return float(((m(x) - t) ** 2).mean())

    sch = PhaseSchedule(mode="gd", patience=2, threshold=0.05, max_dendrites=2)
    res = train(
        model,
        step=_mse_step(x, t, 2),
        evaluate=evaluate,
        schedule=sch,
        optimizer_factory=lambda p: torch.optim.Adam(p, lr=0.02),
        max_epochs=40,
    )
    assert any(r.action == "add_dendrites" for r in res.history)
    assert max(r.n_sets for r in res.history) >= 1
    assert evaluate(model) == res.best_score == min(r.score for r in res.history)
    assert res.n_sets == dendritic_layers(model)[0][1].n_sets


def test_train_restore_and_retry_removes_failed_set():
    model = _sde_model(mode="gd")
    scores = iter([1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    res = train(
        model,
        step=lambda m, o: None,
        evaluate=lambda m: next(scores),
        schedule=PhaseSchedule(mode="gd", patience=1, max_dendrites=3, max_tries=1),
        optimizer_factory=lambda p: torch.optim.SGD(p, lr=0.1),
    )
    assert [r.action for r in res.history] == [
        "continue",
        "add_dendrites",
        "continue",
        "restore_best_and_retry",
        "continue",
        "stop",
    ]
    assert res.stopped_by_schedule and res.best_score == 1.0 and res.n_sets == 0


def test_train_errors():
    opt = lambda p: torch.optim.SGD(p, lr=0.1)  # noqa: E731
    with pytest.raises(ValueError, match="add_dendrites"):
        train(nn.Linear(2, 2), step=None, evaluate=None, schedule=PhaseSchedule(),
              optimizer_factory=opt)  # fmt: skip
    with pytest.raises(ValueError, match="mode"):
        train(_sde_model(mode="gd"), step=None, evaluate=None,
              schedule=PhaseSchedule(mode="cascade"), optimizer_factory=opt)  # fmt: skip
    x = torch.randn(8, 2)
    with pytest.raises(RuntimeError, match="no error signal"):
        model = _sde_model()
        for _, m in dendritic_layers(model):
            m.start_candidate()
        cand = CandidateOptimizer(model)
        with torch.no_grad():
            model(x)
        cand.step()
    with pytest.raises(RuntimeError, match=r"optimizer\.step"):
        train(_sde_model(), step=lambda m, o: None, evaluate=lambda m: 1.0,
              schedule=PhaseSchedule(mode="cascade", patience=1), optimizer_factory=opt)  # fmt: skip


def test_pb_train_drops_the_rate_and_reloads_the_best_checkpoint_at_a_switch():
    model = add_dendrites(nn.Sequential(nn.Linear(2, 3)), DendriteConfig(lr_factor=0.1))
    base = model[0].base
    seen = []  # (base weight at the start of the step, learning rate)

    def step(m, opt):
        seen.append((base.weight.detach().clone(), opt.param_groups[0]["lr"]))
        with torch.no_grad():
            base.weight.add_(1.0)  # every epoch moves the weights: a restore is visible

    scores = iter([1.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    sch = PhaseSchedule(mode="gd", kind="pb", patience=2, threshold=0.0, lr_drops=1,
                        max_dendrites=1)  # fmt: skip
    w0 = base.weight.detach().clone()
    res = train(model, step=step, evaluate=lambda m: next(scores), schedule=sch,
                optimizer_factory=lambda p: torch.optim.SGD(p, lr=0.5), max_epochs=6)  # fmt: skip
    assert [r.action for r in res.history] == ["continue", "continue", "reduce_lr", "continue",
                                                "add_dendrites", "continue"]  # fmt: skip
    assert [lr for _, lr in seen] == pytest.approx([0.5, 0.5, 0.5, 0.05, 0.05, 0.5])
    assert [r.lr for r in res.history] == pytest.approx([lr for _, lr in seen])
    assert torch.equal(seen[5][0], w0 + 1)  # the switch reloaded the best (epoch 1) weights
    assert res.schedule["kind"] == "pb" and res.schedule["lr_drops"] == 1


def test_candidate_steps_reuse_the_cached_inputs_and_errors():
    torch.manual_seed(0)
    x, t = _residual_task(64)
    cfg = DendriteConfig(mode="cascade", candidate_steps=5, candidate_lr=0.05)
    layer = DendriticLinear(nn.Linear(2, 1), cfg)
    layer.start_candidate(generator=torch.Generator().manual_seed(3))
    twin = copy.deepcopy(layer.candidate)
    opt = CandidateOptimizer(layer)
    opt.zero_grad()
    ((layer(x) - t) ** 2).mean().backward()
    e = (2 * (layer(x) - t) / len(x)).detach()  # dL/dy of the recorded call
    opt.step()
    adam = torch.optim.Adam(twin.parameters(), lr=0.05)
    for _ in range(5):  # five ascent steps on the same inputs and errors
        adam.zero_grad()
        (-covariance_scores(layer.branch(twin, x, []), e).sum()).backward()
        adam.step()
    torch.testing.assert_close(layer.candidate.weight, twin.weight)
    torch.testing.assert_close(layer.candidate.bias, twin.bias)
    assert len(opt.scores) == 1 and layer.n_records == 0
