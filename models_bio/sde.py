"""SDE models given directly by vectorised drift and diffusion functions.

An :class:`SDEModel` describes the Itô SDE ``dX = f(t, X, theta) dt + g(t, X, theta) dW``
for a batch of cells, each with its own parameter vector ``theta`` that stays constant along
the path (extrinsic noise). A fitted END-nSDE satisfies the same :class:`SDEProtocol`, so
``cellsde.simulate`` treats mechanistic and learned SDEs alike.

Shapes: ``x`` (cell, species), ``theta`` (cell, param); ``drift`` returns (cell, species);
``diffusion`` returns (cell, species) for ``noise_type="diagonal"`` (one Brownian motion per
species) or (cell, species, brownian) for ``noise_type="general"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import torch

from models_bio.heterogeneity import Distribution
from models_bio.network import Parameter

DriftFn = Callable[[float, torch.Tensor, torch.Tensor], torch.Tensor]
NOISE_TYPES = ("diagonal", "general")


@runtime_checkable
class SDEProtocol(Protocol):
    """What a solver needs from an SDE (mechanistic or learned)."""

    species: tuple[str, ...]
    param_names: tuple[str, ...]
    noise_type: str
    n_brownian: int

    def drift(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor: ...

    def diffusion(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class SDEModel:
    """A mechanistic SDE with named species and per-cell parameters.

    Parameters
    ----------
    name : str
        Registry name.
    species : tuple of str
        State variable names, in state order.
    parameters : tuple of Parameter
        Per-cell parameters ``theta`` (in this order), with nominal values and units.
    drift_fn, diffusion_fn : callable
        ``fn(t, x, theta)`` on torch tensors; see the module docstring for shapes.
    noise_type : {"diagonal", "general"}
        Shape convention of ``diffusion_fn``.
    n_brownian : int
        Number of independent Brownian motions (= len(species) for diagonal noise).
    initial : tuple of float
        Initial state shared by all cells.
    time_units : str
        Time unit of the model.
    heterogeneity : mapping of str to Distribution
        Default per-cell distribution of chosen parameters.
    constants : mapping of str to float
        Fixed constants (documentation; the functions close over them).
    description : str
        One paragraph with references.
    """

    name: str
    species: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    drift_fn: DriftFn
    diffusion_fn: DriftFn
    noise_type: str = "diagonal"
    n_brownian: int = 0
    initial: tuple[float, ...] = ()
    time_units: str = "dimensionless"
    heterogeneity: Mapping[str, Distribution] = field(default_factory=dict)
    constants: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "species", tuple(self.species))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "heterogeneity", MappingProxyType(dict(self.heterogeneity)))
        object.__setattr__(self, "constants", MappingProxyType(dict(self.constants)))
        if self.noise_type not in NOISE_TYPES:
            raise ValueError(f"noise_type must be one of {NOISE_TYPES}, got {self.noise_type!r}")
        if self.noise_type == "diagonal":
            object.__setattr__(self, "n_brownian", len(self.species))
        elif self.n_brownian < 1:
            raise ValueError("general noise needs n_brownian >= 1")
        if len(self.initial) != len(self.species):
            raise ValueError(
                f"initial state has {len(self.initial)} values for {len(self.species)} species"
            )
        unknown = sorted(set(self.heterogeneity) - set(self.param_names))
        if unknown:
            raise ValueError(f"heterogeneity declared on unknown parameters {unknown}")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def species_names(self) -> tuple[str, ...]:
        return self.species

    @property
    def nominal(self) -> dict[str, float]:
        return {p.name: p.value for p in self.parameters}

    def drift(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Drift, shape (cell, species)."""
        return self.drift_fn(t, x, theta)

    def diffusion(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Diffusion, shape (cell, species) [diagonal] or (cell, species, brownian) [general]."""
        return self.diffusion_fn(t, x, theta)
