"""A mechanistic SDE (e.g. ``models_bio.damped_oscillator``) as a :class:`PopulationModel`.

Used by :func:`cellsde.infer` on the true model, by the evaluation for floors, and as a baseline.

Wrapping the true model lets :func:`cellsde.evaluation.evaluate` score it like a fitted one
(its coefficient errors are exactly 0) and gives the truth-vs-truth sampling floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cellsde.nn.base import PopulationModel
from cellsde.nn.rollout import rollout
from models_bio.sde import SDEModel, SDEProtocol


@dataclass(frozen=True)
class MechanisticConfig:
    """Names of a wrapped mechanistic SDE.

    Parameters
    ----------
    name : str
        The model's name (e.g. ``"damped_oscillator"``).
    species, params : tuple of str
        State variables and per-cell parameters, in the model's order.
    """

    name: str
    species: tuple[str, ...]
    params: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"name": self.name, "species": list(self.species), "params": list(self.params)}


class MechanisticSDE(PopulationModel):
    """Adapter: any :class:`models_bio.sde.SDEProtocol` as a (parameter-free) population model.

    Parameters
    ----------
    sde : SDEProtocol
        Model with torch ``drift(t, x, theta)`` (path, species) and ``diffusion(t, x, theta)``
        (path, species) [diagonal] or (path, species, brownian) [general].
    """

    def __init__(self, sde: SDEProtocol) -> None:
        super().__init__()
        if not isinstance(sde, SDEProtocol):
            raise TypeError(
                f"MechanisticSDE needs drift/diffusion/species/param_names/noise_type/n_brownian, "
                f"got {type(sde).__name__}"
            )
        self.sde = sde
        self.config = MechanisticConfig(
            name=sde.name if isinstance(sde, SDEModel) else type(sde).__name__,
            species=tuple(sde.species),
            params=tuple(sde.param_names),
        )

    @property
    def noise_type(self) -> str:
        return self.sde.noise_type

    @property
    def n_brownian(self) -> int:
        return self.sde.n_brownian

    def drift(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Drift, (path, species), species units per time unit."""
        return self.sde.drift(t, x, theta)

    def diffusion(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Diffusion, (path, species) [diagonal] or (path, species, brownian) [general]."""
        return self.sde.diffusion(t, x, theta)

    def theta_range(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Bounds of the declared heterogeneity of an :class:`SDEModel` (nominal where none).

        None for other SDEs, which declare no parameter range.
        """
        if not isinstance(self.sde, SDEModel):
            return None
        lo, hi = [], []
        for p in self.sde.parameters:
            dist = self.sde.heterogeneity.get(p.name)
            a, b = dist.bounds(p.value) if dist is not None else (p.value, p.value)
            lo.append(a)
            hi.append(b)
        return torch.tensor(lo), torch.tensor(hi)

    def _paths(self, x0, theta, times, dt, generator, checkpoint) -> torch.Tensor:
        return rollout(self, x0, theta, times, dt=dt, generator=generator, checkpoint=checkpoint)
