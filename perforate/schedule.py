"""``PhaseSchedule``: the neuron-phase / dendrite-phase state machine (pure, no torch).

Feed it one score per epoch with :meth:`PhaseSchedule.observe`; it answers an
:class:`Action`. Lower scores are better: in the neuron phase the validation loss, in the
dendrite phase the candidates' objective (minus the covariance score).

Neuron phase: a plateau is ``patience`` epochs without relative improvement > ``threshold``
over the best score of the phase. At a plateau:

* no dendrite set added yet: ``ADD_DENDRITES`` (``STOP`` if ``max_dendrites == 0``);
* this phase did not beat (strictly) the best score from before the last set was added:
  ``RESTORE_BEST_AND_RETRY`` (restore that best, add fresh dendrites) while fewer than
  ``max_tries`` consecutive retries were made, else ``STOP``;
* otherwise ``STOP`` if ``max_dendrites`` sets exist, else ``ADD_DENDRITES``.

In ``cascade`` mode an add leads into the dendrite phase, which ends with
``START_NEURON_PHASE`` when the candidate score plateaus (``candidate_patience``) or after
``candidate_epochs`` epochs (the cap; :attr:`PhaseSchedule.capped` records which phases hit
it). In ``gd`` mode the neuron phase simply continues.

``kind="pb"`` is Perforated Backpropagation's schedule: a neuron-phase plateau first answers
``REDUCE_LR`` (the driver multiplies the learning rate by ``lr_factor``, as
``ReduceLROnPlateau`` would) and the plateau count restarts; only a plateau after ``lr_drops``
drops leads to the decision above, and every switch (add or retry) starts from the best
checkpoint (:attr:`PhaseSchedule.restore_at_switch`). ``kind="plateau"`` switches at the first
plateau and restores only on a retry.
"""

from __future__ import annotations

import enum
import math

from perforate.config import MODES, SCHEDULES, DendriteConfig


class Action(enum.Enum):
    """What the training driver does after an epoch."""

    CONTINUE = "continue"
    REDUCE_LR = "reduce_lr"
    ADD_DENDRITES = "add_dendrites"
    START_NEURON_PHASE = "start_neuron_phase"
    RESTORE_BEST_AND_RETRY = "restore_best_and_retry"
    STOP = "stop"


class Phase(enum.Enum):
    """Which parameters train: the network (``NEURON``) or cascade candidates (``DENDRITE``)."""

    NEURON = "neuron"
    DENDRITE = "dendrite"


class PhaseSchedule:
    """Pure state machine over per-epoch scores; see the module docstring for the rules.

    Parameters
    ----------
    mode : {"gd", "cascade"}
    kind : {"plateau", "pb"}
        The schedule (``DendriteConfig.schedule``); see the module docstring.
    patience, threshold, max_dendrites, max_tries, candidate_patience, candidate_epochs, lr_drops
        As in :class:`perforate.DendriteConfig`.
    n_sets : int
        Dendrite sets the model already has (counts toward ``max_dendrites``).

    Attributes
    ----------
    phase : Phase
    n_sets : int
        Sets after the last action (a retry first returns to ``best_n_sets``, then adds one).
    best_score : float
        Best neuron-phase score seen (``inf`` before the first).
    best_n_sets : int
        ``n_sets`` when ``best_score`` was seen.
    is_best : bool
        Whether the last observed score is a new ``best_score`` (checkpoint now).
    drops : int
        Learning-rate drops in the current neuron phase (``"pb"``).
    capped : list of bool
        One entry per finished dendrite phase: whether it ended at ``candidate_epochs``.
    """

    def __init__(
        self,
        *,
        mode: str = "gd",
        kind: str = "plateau",
        patience: int = 5,
        threshold: float = 1e-3,
        max_dendrites: int = 2,
        max_tries: int = 1,
        candidate_patience: int = 3,
        candidate_epochs: int = 100,
        lr_drops: int = 1,
        n_sets: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"PhaseSchedule mode must be one of {MODES}, got {mode!r}")
        if kind not in SCHEDULES:
            raise ValueError(f"PhaseSchedule kind must be one of {SCHEDULES}, got {kind!r}")
        if patience < 1 or candidate_patience < 1 or candidate_epochs < 1:
            raise ValueError("patience, candidate_patience and candidate_epochs must be >= 1")
        if min(max_dendrites, max_tries, n_sets, threshold, lr_drops) < 0:
            raise ValueError(
                "max_dendrites, max_tries, n_sets, threshold and lr_drops must be >= 0"
            )
        self.mode = mode
        self.kind = kind
        self.lr_drops = int(lr_drops) if kind == "pb" else 0
        self.patience = int(patience)
        self.threshold = float(threshold)
        self.max_dendrites = int(max_dendrites)
        self.max_tries = int(max_tries)
        self.candidate_patience = int(candidate_patience)
        self.candidate_epochs = int(candidate_epochs)
        self.phase = Phase.NEURON
        self.n_sets = int(n_sets)
        self.best_score = math.inf
        self.best_n_sets = self.n_sets
        self.is_best = False
        self.tries = 0
        self.stopped = False
        self.drops = 0
        self.capped: list[bool] = []
        self._ref: float | None = None  # best score when the last set was added
        self._reset_phase()

    @classmethod
    def from_config(cls, config: DendriteConfig, *, n_sets: int = 0) -> PhaseSchedule:
        """Schedule with the plateau/retry settings of ``config``."""
        return cls(
            mode=config.mode,
            kind=config.schedule_name,
            patience=config.patience,
            threshold=config.threshold,
            max_dendrites=config.max_dendrites,
            max_tries=config.max_tries,
            candidate_patience=config.candidate_patience,
            candidate_epochs=config.candidate_epochs,
            lr_drops=config.lr_drops,
            n_sets=n_sets,
        )

    @property
    def restore_at_switch(self) -> bool:
        """Whether the driver reloads the best checkpoint before adding a set (``"pb"``)."""
        return self.kind == "pb"

    def settings(self) -> dict[str, object]:
        """The schedule's settings, for records (JSON-able)."""
        keys = ("mode", "kind", "patience", "threshold", "max_dendrites", "max_tries",
                "candidate_patience", "candidate_epochs", "lr_drops")  # fmt: skip
        return {k: getattr(self, k) for k in keys}

    def _reset_phase(self) -> None:
        self._phase_best = math.inf
        self._stall = 0
        self._phase_epochs = 0
        self.drops = 0

    def _improves(self, new: float, old: float) -> bool:
        return new < old - self.threshold * abs(old) if math.isfinite(old) else True

    def _add(self, action: Action) -> Action:
        self._ref = self.best_score
        self.n_sets += 1
        self._reset_phase()
        if self.mode == "cascade":
            self.phase = Phase.DENDRITE
        return action

    def _stop(self) -> Action:
        self.stopped = True
        return Action.STOP

    def observe(self, score: float) -> Action:
        """Take the score of the epoch just finished (lower is better); return the action."""
        if self.stopped:
            raise RuntimeError("PhaseSchedule already returned STOP; build a new schedule")
        score = float(score)
        if math.isnan(score):
            raise ValueError("PhaseSchedule.observe got NaN; the training diverged")
        self._phase_epochs += 1
        if self._improves(score, self._phase_best):
            self._phase_best, self._stall = score, 0
        else:
            self._stall += 1
        if self.phase is Phase.DENDRITE:
            self.is_best = False
            capped = self._phase_epochs >= self.candidate_epochs
            if self._stall >= self.candidate_patience or capped:
                self.capped.append(capped and self._stall < self.candidate_patience)
                self.phase = Phase.NEURON
                self._reset_phase()
                return Action.START_NEURON_PHASE
            return Action.CONTINUE
        self.is_best = score < self.best_score
        if self.is_best:
            self.best_score, self.best_n_sets = score, self.n_sets
        if self._stall < self.patience:
            return Action.CONTINUE
        if self.drops < self.lr_drops:
            self.drops += 1
            self._stall = 0
            return Action.REDUCE_LR
        if self._ref is not None and not self.best_score < self._ref:
            if self.tries >= self.max_tries:
                return self._stop()
            self.tries += 1
            self.n_sets = self.best_n_sets
            return self._add(Action.RESTORE_BEST_AND_RETRY)
        if self._ref is not None:
            self.tries = 0
        if self.n_sets >= self.max_dendrites:
            return self._stop()
        return self._add(Action.ADD_DENDRITES)
