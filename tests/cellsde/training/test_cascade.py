"""The compress cascade trains with the shared ``train_step``: schedule, lr, recordings."""

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from cellsde.compression import build_candidate
from cellsde.errors import CellsdeError
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.training import cascade
from cellsde.training.cascade import fit_cascade
from cellsde.training.config import FitConfig
from perforate import CandidateOptimizer, DendriteConfig, dendritic_layers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

CFG = FitConfig(epochs=12, lr=1e-2, dt=0.1, progress=False, standardize=True)
DCFG = DendriteConfig(mode="cascade", patience=1, threshold=0.5, max_dendrites=2,
                      candidate_epochs=2, max_tries=3)  # fmt: skip


@pytest.fixture(scope="module")
def data():
    train = damped_dataset(n_per_group=10, grid=(-1.0, 1.0), n_times=4)
    valid = damped_dataset(n_per_group=10, grid=(0.0,), seed=5, n_times=4)
    return train, valid


def candidate(dcfg: DendriteConfig = DCFG) -> ENDnSDE:
    wide = ENDnSDE(ENDnSDEConfig(("x1", "x2"), ("omega1", "omega2"), hidden=(6, 6)), seed=0)
    return build_candidate(wide, 3, dendrites=dcfg, seed=0)


def test_cascade_recordings_are_released_every_epoch(data):
    net = candidate()
    layers = [m for _, m in dendritic_layers(net)]
    seen = []
    fit_cascade(
        net, data[0], data[1], CFG, DCFG,
        on_epoch=lambda m: seen.append(
            (sum(x.n_records for x in layers), any(x.candidate is not None for x in layers))
        ),
    )  # fmt: skip
    assert 0 < len(seen) <= 12  # the schedule may stop before the budget
    assert any(cand for _, cand in seen), "the schedule never reached a dendrite phase"
    assert all(n == 0 for n, _ in seen)  # recordings popped by every step: nothing accumulates
    assert all(x.candidate is None and x.n_records == 0 for x in layers)
    # the trained cascade model simulates
    paths = net.sample_paths(torch.zeros(4, 2), torch.zeros(4, 2), torch.linspace(0, 1, 3),
                             dt=0.1, generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert paths.shape == (4, 3, 2) and torch.isfinite(paths).all()


def _record_lr(monkeypatch) -> list:
    seen = []  # (epoch, network optimiser?, learning rate used by the step)
    real = cascade.train_step

    def recording(model, optimizer, prepared, *, epoch):
        result = real(model, optimizer, prepared, epoch=epoch)
        network = not isinstance(optimizer, CandidateOptimizer)
        seen.append((epoch, network, optimizer.param_groups[0]["lr"]))
        return result

    monkeypatch.setattr(cascade, "train_step", recording)
    return seen


def test_cascade_plateau_schedule_honours_the_lr_schedule_in_every_epoch(data, monkeypatch):
    seen = _record_lr(monkeypatch)
    cfg = CFG.replace(lr_schedule="cosine", lr_min=1e-4)
    dcfg = replace(DCFG, schedule="plateau")
    result = fit_cascade(candidate(dcfg), data[0], data[1], cfg, dcfg)
    assert result.schedule["kind"] == "plateau"
    assert [e for e, _, _ in seen] == list(range(len(seen)))  # one step per perforate epoch
    assert any(not network for _, network, _ in seen), "no dendrite phase was reached"
    for epoch, network, lr in seen:
        # neuron phases follow the cosine schedule; candidates keep their own learning rate
        assert lr == pytest.approx(cfg.lr_at(epoch) if network else DCFG.candidate_lr)
    later = [lr for e, network, lr in seen if network and e > 0]
    assert later and max(later) < cfg.lr  # the schedule really decayed the network's lr


def test_cascade_pb_schedule_owns_the_learning_rate(data, monkeypatch):
    seen = _record_lr(monkeypatch)
    cfg = CFG.replace(lr_schedule="cosine", lr_min=1e-4, epochs=16)  # cosine is not used
    result = fit_cascade(candidate(), data[0], data[1], cfg, DCFG)
    assert result.schedule["kind"] == "pb" and DCFG.schedule_name == "pb"
    history = result.history
    assert [r.epoch for r in history] == [e for e, _, _ in seen]
    actions = [r.action for r in history]
    assert "reduce_lr" in actions and "start_neuron_phase" in actions
    dropped = False  # a switch (or stop) comes only after a drop in the same neuron phase
    for a in actions:
        if a in ("add_dendrites", "restore_best_and_retry", "stop"):
            assert dropped
        dropped = a == "reduce_lr" or (dropped and a == "continue")
    expected = cfg.lr
    for (_epoch, network, lr), rec, prev in zip(seen, history, [None, *actions]):
        if prev == "reduce_lr":
            expected *= DCFG.lr_factor
        if prev == "start_neuron_phase":
            expected = cfg.lr  # a new neuron phase starts at the configured rate
        if network:
            assert lr == pytest.approx(expected) and rec.lr == pytest.approx(expected)
        else:
            assert lr == DCFG.candidate_lr and rec.phase == "dendrite"
    assert len(result.candidate_epochs) == len(result.candidate_capped) >= 1


def test_cascade_refuses_detached_dendrite_inputs(data):
    net = candidate()
    dcfg = replace(DCFG, detach_input=True)
    for _, layer in dendritic_layers(net):
        layer.config = dcfg
    with pytest.raises(ValueError, match="detach_input=False"):
        fit_cascade(net, data[0], data[1], CFG, dcfg)


def test_cascade_and_fit_share_the_divergence_message(data):
    from cellsde.training.fit import fit

    bad = CFG.replace(lr=1e-3, dt=0.1, epochs=1)
    messages = []
    for run in (
        lambda net: fit(net, data[0], valid=data[1], config=bad),
        lambda net: fit_cascade(net, data[0], data[1], bad, DCFG),
    ):
        net = candidate()
        with torch.no_grad():  # an infinite drift: the simulation diverges at once
            for _, layer in dendritic_layers(net.drift_net):
                layer.base.bias.fill_(float("inf"))
        with pytest.raises(CellsdeError, match="the simulation diverged") as info:
            run(net)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
