"""The calibration loss: time-decoupled W2 between simulated and measured cells per condition.

The simulated cells of condition ``c`` are ``scale * y + offset + noise * eps`` (observation
model) with ``y`` the model's observable; they are compared with the measured cells of ``c``
at every frame through :func:`cellsde.losses.w2_table` and summed over frames by
:func:`cellsde.training.objective.tw2_loss`, exactly as :func:`cellsde.fit` scores an
END-nSDE. The standard normals ``z`` (population draws) and ``eps`` (measurement noise) are
drawn once from the seed: common random numbers, so the loss is a deterministic function of
the population parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtri

from cellsde.calibration.conditions import Measured
from cellsde.calibration.population import Population
from cellsde.calibration.simulator import TwoPhaseODE, observe
from cellsde.calibration.spec import FIT, ObservationModel
from cellsde.losses import w2_table
from cellsde.training.objective import tw2_loss


@dataclass(frozen=True)
class Draws:
    """The fixed random numbers of one calibration.

    Attributes
    ----------
    condition : ndarray of int, shape (cell,)
        The condition of each simulated cell (cells are grouped by condition).
    slot : ndarray of int, shape (cell,)
        Its position within the condition.
    z : torch.Tensor, shape (cell, param)
        Population draws.
    eps : torch.Tensor, shape (time, cell)
        Measurement-noise draws.
    """

    condition: np.ndarray
    slot: np.ndarray
    z: torch.Tensor
    eps: torch.Tensor

    @staticmethod
    def make(
        cells: np.ndarray,
        n_params: int,
        n_times: int,
        seed: int,
        *,
        clouds: int = 1,
        lhs: bool = True,
    ) -> Draws:
        """``cells[c]`` simulated cells for condition ``c`` (``clouds`` independent clouds back
        to back), drawn from ``seed`` by Latin hypercube sampling (:func:`lhs_normal`; the
        calibration's choice) or independently (``lhs=False``: cells as a lab would sample them)."""
        condition = np.repeat(np.arange(cells.size), cells)
        slot = np.concatenate([np.arange(n) for n in cells])
        rng = np.random.default_rng(seed)
        z = np.empty((condition.size, n_params))
        eps = np.empty((n_times, condition.size))
        start = 0
        for n in cells:
            for part in np.array_split(np.arange(start, start + n), clouds):
                draw = lhs_normal if lhs else _iid_normal
                z[part] = draw(rng, part.size, n_params)
                eps[:, part] = draw(rng, part.size, n_times).T
            start += n
        return Draws(condition=condition, slot=slot, z=torch.as_tensor(z), eps=torch.as_tensor(eps))


def _iid_normal(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return rng.standard_normal((n, d))


def lhs_normal(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` standard normal draws in ``d`` columns by randomised Latin hypercube sampling.

    Each column holds one draw from each of the ``n`` equal-probability strata of N(0, 1), in
    random order: the simulated cloud follows the population's marginal distributions with
    far less sampling noise than independent draws (whose sample mean alone is off by
    ``1/sqrt(n)`` sd, which the fitted median would absorb), while every cell is still a
    random, independent-looking draw.

    Returns
    -------
    ndarray, shape (n, d)
    """
    u = (np.argsort(rng.random((n, d)), axis=0) + rng.random((n, d))) / n
    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def observation(population: Population, spec: ObservationModel, phi: torch.Tensor) -> dict:
    """Scale, offset and noise sd (tensors) of ``phi``, fixed or fitted."""
    nat = population.split(phi) if spec.fitted else {}
    return {
        name: nat[name] if getattr(spec, name) == FIT else torch.tensor(float(getattr(spec, name)))
        for name in ("scale", "offset", "noise")
    }


def clouds(y: torch.Tensor, draws: Draws, n_conditions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad observed cells (time, cell) into (condition, time, slot, 1) clouds and their mask."""
    n_slot = int(draws.slot.max()) + 1
    sim = y.new_zeros((n_conditions, n_slot, y.shape[0]))
    sim = sim.index_put((torch.as_tensor(draws.condition), torch.as_tensor(draws.slot)), y.T)
    mask = torch.zeros((n_conditions, y.shape[0], n_slot), dtype=torch.bool)
    mask[draws.condition, :, draws.slot] = True
    return sim.transpose(1, 2)[..., None], mask


class Objective:
    """``phi -> (loss, tW2 per condition)`` for one calibration problem."""

    def __init__(
        self,
        population: Population,
        spec: ObservationModel,
        engine: TwoPhaseODE,
        measured: Measured,
        draws: Draws,
        *,
        reduce: str,
        skip_first: bool,
        debiased: bool,
        resample: Callable[[int], Draws] | None = None,
    ) -> None:
        self.population, self.spec, self.engine = population, spec, engine
        self.measured, self.draws = measured, draws
        self.reduce, self.skip_first, self.debiased = reduce, skip_first, debiased
        self._resample = resample

    def redraw(self, seed: int) -> None:
        """Replace the draws by new ones of the same layout, from ``seed``."""
        if self._resample is None:
            raise RuntimeError("this objective was built without a resampler")
        self.draws = self._resample(seed)

    def simulate(self, phi: torch.Tensor) -> torch.Tensor:
        """Observed simulated cells, shape (time, cell), differentiable in ``phi``."""
        theta = self.population.cells(phi, self.draws.z)
        obs = observation(self.population, self.spec, phi)
        y = observe(self.engine, theta)
        return obs["scale"] * y + obs["offset"] + obs["noise"] * self.draws.eps

    def table(
        self, y: torch.Tensor, *, data: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """W2² per (condition, time) of simulated cells ``y`` (time, cell), and the loss.

        ``data`` replaces the measured clouds and their mask (a bootstrap replicate).
        """
        x, obs_mask = data if data is not None else (self.measured.x, self.measured.mask)
        sim, mask = clouds(y, self.draws, len(self.measured.conditions))
        w2, ok = w2_table(sim, x, sim_mask=mask, obs_mask=obs_mask, debiased=self.debiased)
        loss = tw2_loss(w2, ok, reduce_groups=self.reduce, skip_first=self.skip_first)
        return w2, loss

    def __call__(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss and the tW2 of every condition (frames after the first, by default)."""
        w2, loss = self.table(self.simulate(phi))
        return loss, per_condition(w2, skip_first=self.skip_first)


def per_condition(w2: torch.Tensor, *, skip_first: bool) -> torch.Tensor:
    """tW2 of every condition from the (condition, time) table: the sum over frames."""
    return (w2[:, 1:] if skip_first else w2).sum(-1)
