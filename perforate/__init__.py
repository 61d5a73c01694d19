"""perforate: dendrite layers for any PyTorch model (never imports cellsde).

Method: R. Brenner & L. Itti, "Perforated Backpropagation", arXiv 2501.18018, with the
candidate training rule of Cascade-Correlation (Fahlman & Lebiere, NIPS 1989). Modes are
named descriptively: ``gd`` (joint backprop) and ``cascade`` (perforated, correlation-trained).
"""

from perforate.config import DendriteConfig
from perforate.convert import add_dendrite_set, add_dendrites, count_parameters, dendritic_layers
from perforate.layer import DendriteSet, DendriticLinear
from perforate.objectives import correlation_loss, covariance, covariance_scores
from perforate.schedule import Action, Phase, PhaseSchedule
from perforate.train import CandidateOptimizer, EpochRecord, TrainResult, train

__all__ = [
    "Action",
    "CandidateOptimizer",
    "DendriteConfig",
    "DendriteSet",
    "DendriticLinear",
    "EpochRecord",
    "Phase",
    "PhaseSchedule",
    "TrainResult",
    "add_dendrite_set",
    "add_dendrites",
    "correlation_loss",
    "count_parameters",
    "covariance",
    "covariance_scores",
    "dendritic_layers",
    "train",
]
