"""Configuration of dendrite layers and of the phase schedule (one frozen dataclass)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

MODES = ("gd", "cascade")
ACTIVATIONS = ("sigmoid", "tanh")
SCHEDULES = ("plateau", "pb")

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
        Which modules to wrap: ``nn.Linear``, ``nn.Conv1d`` and ``nn.Conv2d`` are supported.
        ``None``: every module whose type is exactly one of those. A tuple: qualified module
        names as in ``model.named_modules()`` (each must exist and be of a supported type).
        A callable ``(name, module) -> bool`` is asked for every supported module.
    init_scale : float
        Dendrite input weights ``D`` start uniform in ``±init_scale / sqrt(in_features)``;
        cascade weights ``u`` uniform in ``±init_scale / sqrt(k)``. Output weights ``v`` start
        at zero, so adding a set never changes the function.
    schedule : {"plateau", "pb"} or None
        The phase schedule. ``"plateau"``: switch at the first plateau of the validation
        score. ``"pb"`` (Perforated Backpropagation's schedule): at a plateau first drop the
        learning rate (ReduceLROnPlateau style, ``lr_factor``), and switch only at a plateau
        after ``lr_drops`` drops; the best checkpoint is reloaded at every switch.
        ``None``: ``"pb"`` in ``cascade`` mode, ``"plateau"`` in ``gd`` mode
        (:attr:`schedule_name`).
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
        Cap on the epochs of one dendrite (candidate) phase; a phase that reaches it is
        reported (:attr:`perforate.TrainResult.candidate_capped`).
    candidate_steps : int
        Adam steps on the candidates per recorded training step. The network is frozen in a
        dendrite phase, so the dendrites' inputs and the neurons' errors of a step do not
        change; they are cached and reused (as in Cascade-Correlation), which makes a
        candidate phase cheap where one training step is expensive (an SDE rollout).
    lr_factor : float
        ``"pb"`` schedule: the learning rate is multiplied by this at each drop (0 < f < 1).
    lr_drops : int
        ``"pb"`` schedule: learning-rate drops in a neuron phase before a switch.
    detach_input : bool
        ``cascade`` mode: detach the dendrites' input (the "perforation": no error flows
        through a dendrite into earlier layers). Set False where the model is unrolled in
        time (an SDE rollout): detaching there also removes the dendrites' share of the
        state derivative from backpropagation through time and biases every gradient;
        with False autograd gives the exact gradient, and what trains what is unchanged
        (accepted dendrites frozen but ``v``, candidates trained by correlation).
    """

    mode: str = "gd"
    activation: str = "sigmoid"
    layers: LayerSelector = None
    init_scale: float = 1.0
    schedule: str | None = None
    patience: int = 5
    threshold: float = 1e-3
    max_dendrites: int = 2
    max_tries: int = 1
    candidate_lr: float = 1e-2
    candidate_patience: int = 3
    candidate_epochs: int = 100
    candidate_steps: int = 1
    lr_factor: float = 0.1
    lr_drops: int = 1
    detach_input: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"DendriteConfig.mode must be one of {MODES}, got {self.mode!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"DendriteConfig.activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ValueError(
                f"DendriteConfig.schedule must be one of {SCHEDULES} or None, got {self.schedule!r}"
            )
        if not (math.isfinite(self.lr_factor) and 0 < self.lr_factor < 1):
            raise ValueError(f"DendriteConfig.lr_factor must be in (0, 1), got {self.lr_factor}")
        if not isinstance(self.detach_input, bool):
            raise TypeError(
                f"DendriteConfig.detach_input must be a bool, got {self.detach_input!r}"
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
        for name in ("patience", "candidate_patience", "candidate_epochs", "candidate_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"DendriteConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_dendrites", "max_tries", "lr_drops"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"DendriteConfig.{name} must be >= 0, got {getattr(self, name)}")

    @property
    def schedule_name(self) -> str:
        """The schedule in force: ``schedule``, or the mode's default when it is None."""
        if self.schedule is not None:
            return self.schedule
        return "pb" if self.mode == "cascade" else "plateau"
