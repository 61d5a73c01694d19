"""Training driver: runs a :class:`PhaseSchedule` over user-supplied step/evaluate functions."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from perforate.convert import add_dendrite_set, count_parameters, dendritic_layers
from perforate.layer import DendriticLayer
from perforate.objectives import covariance_scores
from perforate.schedule import Action, Phase, PhaseSchedule

OptimizerFactory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]


class CandidateOptimizer:
    """Stands in for the optimizer during a cascade dendrite phase.

    The user's ``step`` runs unchanged (``zero_grad``, forward, ``loss.backward()``,
    ``step``): the forward passes record the candidates' outputs, the backward pass records
    ``E = dL/dy`` of every dendritic layer, and :meth:`step` then takes ``candidate_steps``
    Adam steps on the candidates to *increase* ``sum_n S_n`` (see
    :mod:`perforate.objectives`), reusing the recorded inputs and errors (the network is
    frozen, so they stay valid: Cascade-Correlation's cache). The network's own parameters
    receive no update (their gradients are dropped), so its output is unchanged.

    Parameters
    ----------
    model : nn.Module
        Model whose dendritic layers all hold a candidate set.

    Attributes
    ----------
    scores : list of float
        Total covariance score ``sum_layers sum_n S_n`` before each call of :meth:`step`.
    """

    def __init__(self, model: nn.Module) -> None:
        self._model = model
        self._layers: list[DendriticLayer] = [m for _, m in dendritic_layers(model)]
        missing = [n for n, m in dendritic_layers(model) if m.candidate is None]
        if not self._layers or missing:
            raise ValueError(f"CandidateOptimizer: layers without a candidate set: {missing}")
        groups = [
            {"params": list(m.candidate.parameters()), "lr": m.config.candidate_lr}
            for m in self._layers
        ]
        self._inner = torch.optim.Adam(groups)
        self.scores: list[float] = []

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Parameter groups of the inner Adam (one per dendritic layer)."""
        return self._inner.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear all gradients of the model and forget stale recorded signals."""
        self._model.zero_grad(set_to_none=set_to_none)
        for m in self._layers:
            m.clear_records()

    def step(self, closure: Callable[[], Tensor] | None = None) -> None:
        """One ascent step of the covariance score on the candidates (closures unsupported)."""
        if closure is not None:
            raise TypeError("CandidateOptimizer.step does not take a closure")
        cache = [(m, rec) for m in self._layers if (rec := m.pop_records()) is not None]
        cache = [(m, rec) for m, rec in cache if rec[2].shape[0] >= 2]
        if not cache:
            raise RuntimeError(
                "dendrite phase: no error signal was captured. The step function must run the "
                "model with grad enabled and call loss.backward() on a loss depending on its "
                "output before optimizer.step()"
            )
        self._model.zero_grad(set_to_none=True)
        for i in range(max(m.config.candidate_steps for m in self._layers)):
            total: Tensor | float = 0.0
            for m, (x, hs, e) in cache:
                with torch.enable_grad():
                    o = m.to_units(m.branch(m.candidate, x, hs))  # (samples, units)
                    total = total + covariance_scores(o, e).sum()
            if i == 0:
                self.scores.append(float(total.detach()))
            (-total).backward()
            self._inner.step()
            self._inner.zero_grad(set_to_none=True)
        self._model.zero_grad(set_to_none=True)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: ``score`` is the validation score (neuron phase) or minus the candidate
    covariance score (dendrite phase); ``n_parameters`` counts dendrites, not candidates;
    ``lr`` is the network optimiser's learning rate of the epoch (NaN in a dendrite phase)."""

    epoch: int
    phase: str
    score: float
    action: str
    n_sets: int
    n_parameters: int
    lr: float = math.nan


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train`; the model holds the best checkpoint on return.

    Attributes
    ----------
    history : tuple of EpochRecord
    best_score : float
    n_sets, n_parameters : int
        Of the returned (best) model.
    stopped_by_schedule : bool
        False when the epoch budget ended the training.
    schedule : dict
        The schedule's settings (:meth:`PhaseSchedule.settings`): which schedule ran.
    candidate_epochs : tuple of int
        Epochs of each finished dendrite phase.
    candidate_capped : tuple of bool
        Whether each finished dendrite phase ended at the cap ``candidate_epochs`` with the
        score still rising (not converged).
    """

    history: tuple[EpochRecord, ...]
    best_score: float
    n_sets: int
    n_parameters: int
    stopped_by_schedule: bool
    schedule: dict[str, Any] = field(default_factory=dict)
    candidate_epochs: tuple[int, ...] = ()
    candidate_capped: tuple[bool, ...] = ()


def _trainable(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def _snapshot(items: Iterable[tuple[str, Tensor]]) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in items}


def train(
    model: nn.Module,
    *,
    step: Callable[[nn.Module, Any], None],
    evaluate: Callable[[nn.Module], float],
    schedule: PhaseSchedule,
    optimizer_factory: OptimizerFactory,
    max_epochs: int = 100,
    generator: torch.Generator | None = None,
) -> TrainResult:
    """Train ``model`` epoch by epoch, growing dendrites as ``schedule`` decides.

    Parameters
    ----------
    model : nn.Module
        A model passed through :func:`perforate.add_dendrites`.
    step : callable ``(model, optimizer) -> None``
        One epoch of training (``model.train()`` is set before). In a cascade dendrite
        phase ``optimizer`` is a :class:`CandidateOptimizer`; the same code works. With the
        ``"pb"`` schedule the driver lowers ``optimizer.param_groups[*]["lr"]`` at each
        ``REDUCE_LR``; a step that sets its own learning rate must read it from there.
    evaluate : callable ``(model) -> float``
        Validation score, lower is better (``model.eval()`` is set before): a validation
        loss, or minus a validation accuracy.
    schedule : PhaseSchedule
        A fresh schedule whose ``mode`` and ``n_sets`` match the model.
    optimizer_factory : callable ``(list of parameters) -> torch.optim.Optimizer``
        Called at the start and at every switch (a new neuron phase starts at the factory's
        learning rate).
    max_epochs : int
        Epoch budget (neuron and dendrite epochs together).
    generator : torch.Generator, optional
        Randomness of new dendrite sets.

    Returns
    -------
    TrainResult
        The model is left at the best neuron-phase checkpoint (``state_dict`` copies).
    """
    layers = [m for _, m in dendritic_layers(model)]
    if not layers:
        raise ValueError("train: model has no dendritic layer; call add_dendrites first")
    modes = {m.config.mode for m in layers}
    if modes != {schedule.mode}:
        raise ValueError(f"train: schedule mode {schedule.mode!r} but model layers use {modes}")
    sets = {m.n_sets for m in layers}
    if sets != {schedule.n_sets}:
        raise ValueError(
            f"train: layers hold {sets} dendrite sets but schedule.n_sets={schedule.n_sets}; "
            "build the schedule with n_sets equal to the model's"
        )
    if schedule.phase is not Phase.NEURON or schedule.best_score != float("inf"):
        raise ValueError("train: the schedule was already used; pass a fresh PhaseSchedule")
    if int(max_epochs) < 1:
        raise ValueError(f"train: max_epochs must be >= 1, got {max_epochs}")
    for m in layers:
        m.discard_candidate()
    optimizer: Any = optimizer_factory(_trainable(model))
    best_state = _snapshot(model.state_dict().items())
    buffers: dict[str, Tensor] = {}
    history: list[EpochRecord] = []
    stopped = False
    for epoch in range(int(max_epochs)):
        phase = schedule.phase
        lr = math.nan if phase is Phase.DENDRITE else float(optimizer.param_groups[0]["lr"])
        model.train()
        step(model, optimizer)
        if phase is Phase.NEURON:
            model.eval()
            score = float(evaluate(model))
        else:
            if not optimizer.scores:
                raise RuntimeError("dendrite phase: step never called optimizer.step()")
            score = -sum(optimizer.scores) / len(optimizer.scores)
            optimizer.scores.clear()
        action = schedule.observe(score)
        if phase is Phase.NEURON and schedule.is_best:
            best_state = _snapshot(model.state_dict().items())
        history.append(EpochRecord(epoch, phase.value, score, action.value, layers[0].n_sets,
                                   count_parameters(model), lr))  # fmt: skip
        if action is Action.STOP:
            stopped = True
            break
        if action is Action.REDUCE_LR:
            for group in optimizer.param_groups:
                group["lr"] *= layers[0].config.lr_factor
        restore = action is Action.RESTORE_BEST_AND_RETRY or (
            action is Action.ADD_DENDRITES and schedule.restore_at_switch
        )
        if restore:
            model.load_state_dict(best_state)
        if action in (Action.ADD_DENDRITES, Action.RESTORE_BEST_AND_RETRY):
            if schedule.mode == "gd":
                add_dendrite_set(model, generator=generator)
                optimizer = optimizer_factory(_trainable(model))
            else:
                buffers = _snapshot(model.named_buffers())
                for m in layers:
                    m.start_candidate(generator=generator)
                optimizer = CandidateOptimizer(model)
        elif action is Action.START_NEURON_PHASE:
            with torch.no_grad():
                for name, b in model.named_buffers():
                    b.copy_(buffers[name])
            for m in layers:
                m.accept_candidate()
            optimizer = optimizer_factory(_trainable(model))
    for m in layers:
        m.discard_candidate()
    model.load_state_dict(best_state)
    lengths, run = [], 0  # epochs of each finished dendrite phase
    for r in history:
        run += r.phase == Phase.DENDRITE.value
        if r.action == Action.START_NEURON_PHASE.value:
            lengths.append(run)
            run = 0
    return TrainResult(
        history=tuple(history),
        best_score=schedule.best_score,
        n_sets=layers[0].n_sets,
        n_parameters=count_parameters(model),
        stopped_by_schedule=stopped,
        schedule=schedule.settings(),
        candidate_epochs=tuple(lengths),
        candidate_capped=tuple(schedule.capped),
    )
