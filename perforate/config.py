"""Configuration of dendrite layers and of the phase schedule (one frozen dataclass)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

MODES = ("gd", "cascade")
ACTIVATIONS = ("sigmoid", "tanh")

LayerSelector = tuple[str, ...] | Callable[[str, nn.Module], bool] | None


@dataclass(frozen=True)
class DendriteConfig:
    """How dendrites are added to a model and how the phase schedule runs.

    Parameters
    ----------
    mode : {"gd", "cascade"}
        ``"gd"``: dendrite branches are ordinary trainable branches (joint backprop).
        ``"cascade"``: dendrite inputs are detached ("perforated"); candidates are trained
        to maximise the covariance with the neuron's error, then frozen (their ``D``, ``u``).
    activation : {"sigmoid", "tanh"}
        Dendrite nonlinearity ``sigma``.
    layers : tuple of str, callable or None
        Which ``nn.Linear`` modules to wrap. ``None``: every module whose type is exactly
        ``nn.Linear``. A tuple: qualified module names as in ``model.named_modules()``
        (each must exist and be an ``nn.Linear``). A callable ``(name, module) -> bool`` is
        asked for every ``nn.Linear``.
    init_scale : float
        Dendrite input weights ``D`` start uniform in ``±init_scale / sqrt(in_features)``;
        cascade weights ``u`` uniform in ``±init_scale / sqrt(k)``. Output weights ``v`` start
        at zero, so adding a set never changes the function.
    patience : int
        Neuron phase: epochs without relative improvement > ``threshold`` before a plateau.
    threshold : float
        Relative improvement (of the validation score, lower is better) that counts.
    max_dendrites : int
        Largest number of dendrite sets per layer.
    max_tries : int
        Consecutive retries with fresh dendrites after a set that did not help.
    candidate_lr : float
        Adam learning rate of cascade candidates (correlation phase).
    candidate_patience : int
        Dendrite phase: epochs without relative increase of the covariance score > ``threshold``
        before the candidates are accepted.
    candidate_epochs : int
        Largest number of epochs in one dendrite (candidate) phase.
    """

    mode: str = "gd"
    activation: str = "sigmoid"
    layers: LayerSelector = None
    init_scale: float = 1.0
    patience: int = 5
    threshold: float = 1e-3
    max_dendrites: int = 2
    max_tries: int = 1
    candidate_lr: float = 1e-2
    candidate_patience: int = 3
    candidate_epochs: int = 20

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"DendriteConfig.mode must be one of {MODES}, got {self.mode!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"DendriteConfig.activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        if not (self.layers is None or callable(self.layers) or isinstance(self.layers, tuple)):
            raise TypeError(
                "DendriteConfig.layers must be None, a tuple of module names or a callable "
                f"(name, module) -> bool, got {type(self.layers).__name__}"
            )
        if isinstance(self.layers, tuple) and not all(isinstance(n, str) for n in self.layers):
            raise TypeError("DendriteConfig.layers: every entry of the tuple must be a str")
        for name in ("init_scale", "candidate_lr"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"DendriteConfig.{name} must be a positive number, got {value}")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"DendriteConfig.threshold must be >= 0, got {self.threshold}")
        for name in ("patience", "candidate_patience", "candidate_epochs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DendriteConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_dendrites", "max_tries"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"DendriteConfig.{name} must be >= 0, got {getattr(self, name)}")
