"""Multi-start gradient search over the population parameters, resumable after a kill.

Plan
----
1. Explore: every start (the nominal medians first, then a Halton design over the bounds;
   :meth:`Population.starts`) runs ``explore_iterations`` Adam steps.
2. Refine: the start with the lowest loss continues, with its Adam state, up to
   ``iterations`` steps in all. The learning rate follows one cosine schedule over
   ``iterations`` (:func:`cellsde.training.config.learning_rate`), and every update goes
   through :func:`cellsde.training.step.optimizer_step`, like :func:`cellsde.fit`.
3. The answer is the lowest-loss point the refined start visited.

After every iteration the whole state (stage, start, iteration, ``phi``, Adam's moments,
history, every start's result, and the solver's warm-start states, which the next
iteration's numbers depend on) is written atomically to ``checkpoint_path``; ``resume``
continues from it and ends exactly where an uninterrupted run ends.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from cellsde._torchio import atomic_save, safe_load
from cellsde.calibration.objective import Objective
from cellsde.calibration.spec import CalibrationConfig
from cellsde.errors import CheckpointError
from cellsde.training.config import learning_rate
from cellsde.training.step import optimizer_step

FORMAT = "cellsde-calibration-state"
HISTORY = ("start", "iteration", "loss", "grad_norm", "lr", "wall_time")


@dataclass
class SearchState:
    """Everything the next iteration depends on (see the module docstring)."""

    stage: str = "explore"
    start: int = 0
    iteration: int = 0
    phi: torch.Tensor | None = None
    adam: dict | None = None
    best_loss: float = math.inf
    best_phi: torch.Tensor | None = None
    starts: list[dict] = field(default_factory=list)  # per explored start: loss, phi, adam
    history: list[list[float]] = field(default_factory=list)
    guess: np.ndarray | None = None
    elapsed: float = 0.0


def _save(path: str, state: SearchState, fingerprint: str) -> None:
    atomic_save(
        {
            "format": FORMAT,
            "version": 1,
            "fingerprint": fingerprint,
            "stage": state.stage,
            "start": state.start,
            "iteration": state.iteration,
            "phi": state.phi,
            "adam": state.adam,
            "best_loss": state.best_loss,
            "best_phi": state.best_phi,
            "starts": state.starts,
            "history": torch.tensor(state.history, dtype=torch.float64),
            "guess": None if state.guess is None else torch.as_tensor(state.guess),
            "elapsed": state.elapsed,
        },
        path,
    )


def _load(path: str, fingerprint: str) -> SearchState | None:
    if not Path(path).exists():
        return None
    obj = safe_load(path, kind=FORMAT)
    if obj["fingerprint"] != fingerprint:
        raise CheckpointError(
            f"cannot resume from {path!r}: it was written for another model, data, free "
            "parameters or options; remove it or pass another checkpoint_path"
        )
    return SearchState(
        stage=obj["stage"], start=int(obj["start"]), iteration=int(obj["iteration"]),
        phi=obj["phi"], adam=obj["adam"], best_loss=float(obj["best_loss"]),
        best_phi=obj["best_phi"], starts=obj["starts"],
        history=[list(r) for r in obj["history"].tolist()],
        guess=None if obj["guess"] is None else obj["guess"].numpy(), elapsed=float(obj["elapsed"]),
    )  # fmt: skip


def search(
    objective: Objective, starts: np.ndarray, config: CalibrationConfig, fingerprint: str
) -> tuple[torch.Tensor, SearchState]:
    """Run the plan of the module docstring; returns the best ``phi`` and the final state.

    Parameters
    ----------
    objective : Objective
    starts : ndarray, shape (start, phi)
        Starting vectors (:meth:`Population.starts`).
    config : CalibrationConfig
    fingerprint : str
        Identifies the problem; a checkpoint of another problem is refused.
    """
    state = SearchState()
    if config.resume:
        state = _load(config.checkpoint_path, fingerprint) or state
    if state.guess is not None:
        objective.engine.warm_start(state.guess)
    total = (
        config.starts * config.explore_iterations + config.iterations - config.explore_iterations
    )
    done = len(state.history)
    bar = tqdm(total=total, initial=done, desc="calibrate", unit="it",
               disable=not config.progress if config.progress is not None else None)  # fmt: skip
    began = time.perf_counter() - state.elapsed
    while state.stage != "done":
        if state.phi is None:  # a new start
            state.phi = torch.as_tensor(starts[state.start], dtype=torch.float64)
            state.adam, state.iteration = None, 0
            state.best_loss, state.best_phi = math.inf, state.phi.clone()
        phi = state.phi.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([phi], lr=config.lr)
        if state.adam is not None:
            optimizer.load_state_dict(state.adam)
        lr = learning_rate(state.iteration, lr=config.lr, lr_min=config.lr_min,
                           epochs=config.iterations, schedule="cosine")  # fmt: skip
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        if config.redraw:  # seeded by the global iteration: a resumed run draws the same
            objective.redraw(config.seed + 1 + len(state.history))
        loss, _ = objective(phi)
        if loss.item() < state.best_loss:
            state.best_loss, state.best_phi = loss.item(), phi.detach().clone()
        step = optimizer_step(
            loss, [phi], optimizer, grad_clip=None, where=f"at iteration {state.iteration}",
            fix="narrow the bounds of the free parameters, or lower rtol",
        )  # fmt: skip
        state.phi, state.adam = phi.detach().clone(), copy.deepcopy(optimizer.state_dict())
        state.iteration += 1
        state.elapsed = time.perf_counter() - began
        state.history.append([state.start, state.iteration - 1, step.loss, step.grad_norm, lr,
                              state.elapsed])  # fmt: skip
        state.guess = objective.engine.guess
        _advance(state, config)
        if config.checkpoint_path:
            _save(config.checkpoint_path, state, fingerprint)
        bar.update(1)
        bar.set_postfix(start=state.start, loss=f"{step.loss:.4g}", best=f"{state.best_loss:.4g}")
    bar.close()
    # with redrawn cells the losses of different iterations are not comparable: the last
    # iterate (the end of the annealed schedule) is the estimate
    return (state.phi if config.redraw else state.best_phi), state


def _advance(state: SearchState, config: CalibrationConfig) -> None:
    """Move to the next start, to the refine stage, or to done."""
    if state.stage == "explore" and state.iteration >= config.explore_iterations:
        state.starts.append({"loss": state.best_loss, "best_phi": state.best_phi,
                             "phi": state.phi, "adam": state.adam})  # fmt: skip
        if len(state.starts) < config.starts:
            state.start += 1
            state.phi = None
            return
        best = int(np.argmin([s["loss"] for s in state.starts]))
        chosen = state.starts[best]
        state.stage, state.start = "refine", best
        state.phi, state.adam = chosen["phi"], chosen["adam"]
        state.best_loss, state.best_phi = chosen["loss"], chosen["best_phi"]
        state.iteration = config.explore_iterations
    if state.stage == "refine" and state.iteration >= config.iterations:
        state.stage = "done"


def history_table(state: SearchState) -> dict[str, np.ndarray]:
    """The per-iteration history as columns (:data:`HISTORY`)."""
    rows = np.asarray(state.history, dtype=float).reshape(-1, len(HISTORY))
    return {name: rows[:, k] for k, name in enumerate(HISTORY)}


def search_cmaes(
    objective: Objective, start: np.ndarray, config: CalibrationConfig, fingerprint: str
) -> tuple[torch.Tensor, SearchState]:
    """CMA-ES from ``start`` for ``config.iterations`` generations (the derivative-free route).

    The history has one row per generation: the generation's best loss, ``grad_norm`` NaN
    and the step size in the ``lr`` column. Checkpointed after every generation.
    """
    from cellsde.calibration import cmaes

    strategy = cmaes.Strategy.default(start.size)
    state = SearchState(stage="cmaes")
    es = cmaes.initial_state(start, 0.5, config.seed)
    if config.resume and Path(config.checkpoint_path).exists():
        obj = safe_load(config.checkpoint_path, kind=FORMAT)
        if obj["fingerprint"] != fingerprint:
            raise CheckpointError(f"cannot resume from {config.checkpoint_path!r}: another problem")
        es = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in obj["cmaes"].items()}
        state.history = [list(r) for r in obj["history"].tolist()]
        state.elapsed = float(obj["elapsed"])
        if obj["guess"] is not None:
            objective.engine.warm_start(obj["guess"].numpy())

    def loss(x: np.ndarray) -> float:
        with torch.no_grad():
            value = float(objective(torch.as_tensor(x))[0])
        return value if math.isfinite(value) else math.inf

    bar = tqdm(total=config.iterations, initial=es["generation"], desc="calibrate (CMA-ES)",
               unit="gen", disable=not config.progress if config.progress is not None else None)  # fmt: skip
    began = time.perf_counter() - state.elapsed
    while es["generation"] < config.iterations:
        es = cmaes.generation(es, loss, strategy)
        state.elapsed = time.perf_counter() - began
        state.history.append([0, es["generation"] - 1, float(np.min(es.pop("losses"))), math.nan,
                              es["sigma"], state.elapsed])  # fmt: skip
        if config.checkpoint_path:
            atomic_save(
                {"format": FORMAT, "version": 1, "fingerprint": fingerprint,
                 "cmaes": {k: (torch.as_tensor(v) if isinstance(v, np.ndarray) else v) for k, v in es.items()},
                 "history": torch.tensor(state.history, dtype=torch.float64),
                 "guess": None if objective.engine.guess is None else torch.as_tensor(objective.engine.guess),
                 "elapsed": state.elapsed},
                config.checkpoint_path,
            )  # fmt: skip
        bar.update(1)
        bar.set_postfix(best=f"{es['best_f']:.4g}", sigma=f"{es['sigma']:.3g}")
    bar.close()
    state.stage, state.best_loss = "done", es["best_f"]
    state.best_phi = torch.as_tensor(es["best_x"])
    return state.best_phi, state
