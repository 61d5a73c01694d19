"""Neural-ODE baseline: the END-nSDE drift network alone, integrated with explicit Euler.

``dx/dt = f(x, theta)``. The model is deterministic: every path started from the same
``x0`` with the same ``theta`` follows the same trajectory, so its simulated clouds have no
spread beyond that of the initial states and its W2 to a noisy population cannot fall
below the population's variance (reference/end-nsde.md section 7).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from cellsde.nn.endnsde import ACTIVATIONS, mlp
from cellsde.nn.rollout import step_counts
from cellsde.nn.standardized import Standardized


@dataclass(frozen=True)
class NeuralODEConfig:
    """Architecture of :class:`NeuralODE`.

    Parameters
    ----------
    species, params : tuple of str
        State variables and extrinsic parameters fed to the network.
    hidden : tuple of int
        Hidden widths of the drift MLP (paper circadian END-nSDE: (100, 100, 100)).
    activation : {"relu", "elu", "tanh", "silu", "softplus"}
    time_units : str
        Units of time the model is trained in.
    """

    species: tuple[str, ...]
    params: tuple[str, ...] = ()
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "relu"
    time_units: str = "dimensionless"

    def __post_init__(self) -> None:
        for name in ("species", "params", "hidden"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.species:
            raise ValueError("NeuralODEConfig needs at least one species")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}"
            )
        if any(int(h) < 1 for h in self.hidden):
            raise ValueError("hidden widths must be >= 1")

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


class NeuralODE(Standardized):
    """Deterministic neural ODE ``dx/dt = MLP([x, theta]) * x_scale``.

    Parameters
    ----------
    config : NeuralODEConfig
        Species, parameters and the drift network's widths and activation.
    seed : int, optional
        Seeds the weight initialisation; torch's global RNG is not touched.

    Notes
    -----
    It satisfies :class:`models_bio.sde.SDEProtocol` with a zero diagonal diffusion, so
    :func:`cellsde.evaluation.evaluate` can report its coefficient errors (its σσᵀ error is 1
    against any noisy truth).
    """

    noise_type = "diagonal"

    def __init__(self, config: NeuralODEConfig, *, seed: int | None = None) -> None:
        super().__init__()
        self.config = config
        d, p = len(config.species), len(config.params)
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.drift_net = mlp([d + p, *config.hidden, d], config.activation)
        self._register_scaling(d, p)

    @property
    def n_brownian(self) -> int:
        return len(self.config.species)

    def drift(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """``f(x, theta)``, (path, species), species units per time unit."""
        return self.drift_net(self.scaled_inputs(x, theta)) * self.x_scale

    def diffusion(self, t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Zero, (path, species)."""
        return torch.zeros_like(x)

    def _paths(self, x0, theta, times, dt, generator, checkpoint) -> torch.Tensor:
        # Euler without noise: ``generator`` and ``checkpoint`` are not used. Each interval
        # takes ceil(gap / dt) equal steps, as in cellsde.nn.rollout.rollout.
        out = [x0]
        x = x0
        tt = times.tolist()
        for i, n in enumerate(step_counts(times, dt)):
            h = (tt[i + 1] - tt[i]) / n
            for _ in range(n):
                x = x + self.drift(0.0, x, theta) * h
            out.append(x)
        return torch.stack(out, 1)  # (path, time, species)
