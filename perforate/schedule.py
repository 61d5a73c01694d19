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
``candidate_epochs`` epochs. In ``gd`` mode the neuron phase simply continues.
"""

from __future__ import annotations

import enum
import math

from perforate.config import MODES, DendriteConfig


class Action(enum.Enum):
    """What the training driver does after an epoch."""

    CONTINUE = "continue"
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
    patience, threshold, max_dendrites, max_tries, candidate_patience, candidate_epochs
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
    """

    def __init__(
        self,
        *,
        mode: str = "gd",
        patience: int = 5,
        threshold: float = 1e-3,
        max_dendrites: int = 2,
        max_tries: int = 1,
        candidate_patience: int = 3,
        candidate_epochs: int = 20,
        n_sets: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"PhaseSchedule mode must be one of {MODES}, got {mode!r}")
        if patience < 1 or candidate_patience < 1 or candidate_epochs < 1:
            raise ValueError("patience, candidate_patience and candidate_epochs must be >= 1")
        if max_dendrites < 0 or max_tries < 0 or n_sets < 0 or threshold < 0:
            raise ValueError("max_dendrites, max_tries, n_sets and threshold must be >= 0")
        self.mode = mode
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
        self._ref: float | None = None  # best score when the last set was added
        self._reset_phase()

    @classmethod
    def from_config(cls, config: DendriteConfig, *, n_sets: int = 0) -> PhaseSchedule:
        """Schedule with the plateau/retry settings of ``config``."""
        return cls(
            mode=config.mode,
            patience=config.patience,
            threshold=config.threshold,
            max_dendrites=config.max_dendrites,
            max_tries=config.max_tries,
            candidate_patience=config.candidate_patience,
            candidate_epochs=config.candidate_epochs,
            n_sets=n_sets,
        )

    def _reset_phase(self) -> None:
        self._phase_best = math.inf
        self._stall = 0
        self._phase_epochs = 0

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
            if (
                self._stall >= self.candidate_patience
                or self._phase_epochs >= self.candidate_epochs
            ):
                self.phase = Phase.NEURON
                self._reset_phase()
                return Action.START_NEURON_PHASE
            return Action.CONTINUE
        self.is_best = score < self.best_score
        if self.is_best:
            self.best_score, self.best_n_sets = score, self.n_sets
        if self._stall < self.patience:
            return Action.CONTINUE
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
