"""prepare / train_step: the one place of clipping, the CUDA check and debiasing."""

import sys
from pathlib import Path

import pytest
import torch

from cellsde.errors import CellsdeError
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.training import cascade, step
from cellsde.training.config import FitConfig
from cellsde.training.fit import fit
from cellsde.training.step import prepare, train_step, validation_loss
from perforate import DendriteConfig, add_dendrites

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

CFG = FitConfig(epochs=2, lr=1e-2, dt=0.1, progress=False)


def model() -> ENDnSDE:
    return ENDnSDE(ENDnSDEConfig(("x1", "x2"), ("omega1", "omega2"), hidden=(6,)), seed=0)


def test_train_step_clips_the_gradient_and_reports_the_norm_before():
    ds = damped_dataset(n_per_group=6, grid=(-1.0, 1.0), n_times=3)
    net = model()
    prep = prepare(net, ds, None, CFG.replace(grad_clip=1e-4))
    result = train_step(net, prep.optimizer, prep, epoch=0)
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    after = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
    assert result.grad_norm > 1e-4 and after == pytest.approx(1e-4, rel=1e-3)
    with pytest.raises(ValueError, match="needs held-out groups"):
        validation_loss(net, prep)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without CUDA")
def test_fit_and_cascade_share_the_cuda_check():
    ds = damped_dataset(n_per_group=4, grid=(-1.0, 1.0), n_times=3)
    cfg = CFG.replace(device="cuda")
    dcfg = DendriteConfig(mode="cascade", detach_input=False)
    for run in (
        lambda: fit(model(), ds, config=cfg),
        lambda: cascade.fit_cascade(add_dendrites(model(), dcfg), ds, ds, cfg, dcfg),
    ):
        with pytest.raises(CellsdeError, match="CUDA is not available; use device='cpu'"):
            run()


def test_the_cascade_trains_on_the_debiased_loss_like_fit(monkeypatch):
    seen = []
    real = step.model_w2

    def spy(*args, **kwargs):
        seen.append(kwargs.get("debiased", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(step, "model_w2", spy)
    ds = damped_dataset(n_per_group=4, grid=(-1.0, 1.0), n_times=3)
    dcfg = DendriteConfig(mode="cascade", detach_input=False)
    cascade.fit_cascade(add_dendrites(model(), dcfg), ds, ds, CFG.replace(debiased=True), dcfg)
    assert seen[0] is True  # the training step (validation stays plain: False)
    assert set(seen) == {True, False}
