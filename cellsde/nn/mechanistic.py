"""A mechanistic SDE used as a population model (for inference, sampling floors, baselines)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cellsde.nn.base import PopulationModel
from cellsde.nn.rollout import rollout
from models_bio.sde import SDEModel


@dataclass(frozen=True)
class MechanisticConfig:
    """Names of a wrapped :class:`models_bio.sde.SDEModel`."""

    name: str
    species: tuple[str, ...]
    params: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"name": self.name, "species": list(self.species), "params": list(self.params)}


class MechanisticSDE(PopulationModel):
    """Wrap an :class:`~models_bio.sde.SDEModel` so :func:`cellsde.infer` and
    :func:`cellsde.evaluate` can use the true model (no trainable weights).

    Parameters
    ----------
    sde : SDEModel
        The model; its declared heterogeneity bounds give :meth:`theta_range`.
    """

    def __init__(self, sde: SDEModel) -> None:
        super().__init__()
        if not isinstance(sde, SDEModel):
            raise TypeError(f"MechanisticSDE wraps an SDEModel, got {type(sde).__name__}")
        self.sde = sde
        self.config = MechanisticConfig(sde.name, tuple(sde.species), tuple(sde.param_names))

    def theta_range(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Bounds of the declared heterogeneity (nominal value where none is declared)."""
        lo, hi = [], []
        for p in self.sde.parameters:
            dist = self.sde.heterogeneity.get(p.name)
            a, b = dist.bounds(p.value) if dist is not None else (p.value, p.value)
            lo.append(a)
            hi.append(b)
        return torch.tensor(lo), torch.tensor(hi)

    def sample_paths(
        self,
        x0: torch.Tensor,
        theta: torch.Tensor,
        times: torch.Tensor,
        *,
        dt: float,
        generator: torch.Generator,
        checkpoint: bool = False,
    ) -> torch.Tensor:
        """Euler–Maruyama paths of the mechanistic SDE, (path, time, species)."""
        return rollout(
            self.sde, x0, theta, times, dt=dt, generator=generator, checkpoint=checkpoint
        )
