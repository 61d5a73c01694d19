"""Cells simulated with a stochastic method (CLE, SSA, tau-leaping) for calibration.

The same interface as :class:`cellsde.calibration.simulator.TwoPhaseODE` (``forward``,
``jacobian``, warm-start hooks), through :func:`cellsde.simulate` one condition at a time
(each cell's basal steady state, then its condition's stimulus). Every forward pass uses the
same seeds (common random numbers), so the loss is a deterministic function of the population
parameters and derivative-free search (CMA-ES) converges; there is no pathwise gradient, so
``vjp`` refuses, and ``jacobian`` (for the intervals) is a central difference in each free
parameter with the same noise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from cellsde.calibration.spec import Condition
from cellsde.errors import CellsdeError
from cellsde.simulation import simulate
from models_bio.network import ReactionNetwork


class StochasticCells:
    """Simulate cells of ``network`` with a stochastic ``method``, condition by condition.

    Parameters
    ----------
    network : ReactionNetwork
    free : sequence of str
        Free parameters (columns of theta).
    conditions : tuple of Condition
    condition : ndarray of int, shape (cell,)
        The condition of each simulated cell.
    times : ndarray, shape (time,)
        Output times, starting at the stimulus (t = 0).
    readout : ndarray, shape (species,)
        Weights of the observable.
    method : {"cle", "ssa", "tau"}
    seed : int
        Seeds every forward pass the same way (condition ``c`` uses ``[seed, c]``).
    """

    def __init__(
        self,
        network: ReactionNetwork,
        *,
        free: Sequence[str],
        conditions: tuple[Condition, ...],
        condition: np.ndarray,
        times: np.ndarray,
        readout: np.ndarray,
        method: str,
        seed: int,
    ) -> None:
        self.networks = [
            dataclasses.replace(network, stimulus=dict(c.stimulus)) for c in conditions
        ]
        self.free, self.condition = tuple(free), np.asarray(condition)
        self.times, self.readout = np.asarray(times, dtype=float), np.asarray(readout, dtype=float)
        self.method, self.seed = method, int(seed)
        self._theta: np.ndarray | None = None

    guess = None  # no basal warm start to carry between passes

    def warm_start(self, guess: np.ndarray) -> None:  # the interface of TwoPhaseODE
        """Nothing to warm-start: each pass recomputes the basal states."""

    def forward(self, theta: np.ndarray, *, record: bool = True) -> np.ndarray:
        """The observable of every cell, shape (time, cell), for theta (cell, free param)."""
        theta = np.asarray(theta, dtype=float)
        self._theta = theta if record else None
        out = np.empty((self.times.size, theta.shape[0]))
        for c, net in enumerate(self.networks):
            cells = np.flatnonzero(self.condition == c)
            ds = simulate(net, times=self.times, method=self.method, seed=(self.seed * 1_000_003 + c) % 2**32,
                          theta={q: theta[cells, j] for j, q in enumerate(self.free)})  # fmt: skip
            out[:, cells] = (ds["x"].values @ self.readout).T
        return out

    def vjp(self, grad_y: np.ndarray) -> np.ndarray:
        raise CellsdeError(
            f"method {self.method!r} has no pathwise gradient; calibrate it with optimizer='cmaes'"
        )

    def jacobian(self) -> np.ndarray:
        """dy/dtheta of the last recorded pass, shape (time, cell, param), by central differences."""
        if self._theta is None:
            raise RuntimeError("jacobian needs a recorded forward pass first")
        theta = self._theta
        out = np.empty((self.times.size, theta.shape[0], theta.shape[1]))
        for j in range(theta.shape[1]):
            h = 1e-3 * theta[:, j]
            up, down = theta.copy(), theta.copy()
            up[:, j] += h
            down[:, j] -= h
            out[:, :, j] = (self.forward(up, record=False) - self.forward(down, record=False)) / (
                2 * h
            )
        self._theta = theta
        return out
