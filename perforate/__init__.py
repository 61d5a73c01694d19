"""perforate: dendrite layers for any PyTorch model (never imports cellsde).

Method: R. Brenner & L. Itti, "Perforated Backpropagation", arXiv 2501.18018, with the
candidate training rule of Cascade-Correlation (Fahlman & Lebiere, NIPS 1989). Modes are
named descriptively: ``gd`` (joint backprop) and ``cascade`` (perforated, correlation-trained).

Example
-------
>>> import copy
>>> import torch
>>> from torch import nn
>>> from perforate import DendriteConfig, PhaseSchedule, add_dendrites, remove_dendrites, train
>>> cfg = DendriteConfig(mode="cascade", max_dendrites=2)
>>> model = add_dendrites(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), cfg)
>>> x, t = torch.randn(64, 4), torch.randn(64, 1)
>>> def step(m, opt):
...     opt.zero_grad()
...     ((m(x) - t) ** 2).mean().backward()
...     opt.step()
>>> def evaluate(m):
...     with torch.no_grad():
...         return float(((m(x) - t) ** 2).mean())
>>> result = train(model, step=step, evaluate=evaluate, schedule=PhaseSchedule.from_config(cfg),
...                optimizer_factory=lambda p: torch.optim.Adam(p, lr=1e-2), max_epochs=20)
>>> state = model.state_dict()  # loads into add_dendrites(<same structure>, cfg): sets grow
>>> plain = remove_dendrites(copy.deepcopy(model), fuse=False)  # plain nn.Linear layers again
"""

from perforate.config import DendriteConfig
from perforate.conv import DendriticConv
from perforate.convert import (
    add_dendrite_set,
    add_dendrites,
    count_parameters,
    dendritic_layers,
    remove_dendrites,
)
from perforate.flops import count_macs
from perforate.layer import DendriteSet, DendriticLayer, DendriticLinear
from perforate.objectives import correlation_loss, covariance, covariance_scores
from perforate.schedule import Action, Phase, PhaseSchedule
from perforate.train import CandidateOptimizer, EpochRecord, TrainResult, train

__all__ = [
    "Action",
    "CandidateOptimizer",
    "DendriteConfig",
    "DendriteSet",
    "DendriticConv",
    "DendriticLayer",
    "DendriticLinear",
    "EpochRecord",
    "Phase",
    "PhaseSchedule",
    "TrainResult",
    "add_dendrite_set",
    "add_dendrites",
    "correlation_loss",
    "count_macs",
    "count_parameters",
    "covariance",
    "covariance_scores",
    "dendritic_layers",
    "remove_dendrites",
    "train",
]
