"""The base class of every trainable population model (END-nSDE and the baselines).

``cellsde.fit`` and ``cellsde.evaluate`` only need a model to draw paths from initial states
and parameters; each model family says how in :meth:`PopulationModel.sample_paths`.
"""

from __future__ import annotations

import torch
from torch import nn


class PopulationModel(nn.Module):
    """A trainable generator of single-cell paths conditioned on parameters.

    Subclasses set ``self.config`` to a frozen dataclass with ``species``, ``params`` and a
    ``to_dict()`` method (stored in checkpoints), and implement :meth:`sample_paths`.
    """

    config: object

    def __init__(self) -> None:
        super().__init__()
        # Free-form JSON-able facts about how the model was made (fit options, data file...).
        self.metadata: dict = {}

    @property
    def species(self) -> tuple[str, ...]:
        return tuple(self.config.species)  # type: ignore[attr-defined]

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.config.params)  # type: ignore[attr-defined]

    def theta_range(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Lowest and highest training value of each parameter, or None when unknown."""
        return None

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
        """Draw one path per row of ``x0``.

        Parameters
        ----------
        x0 : torch.Tensor, shape (path, species)
            Initial states.
        theta : torch.Tensor, shape (path, param)
            Parameters of each path.
        times : torch.Tensor, shape (time,)
            Observation times; ``times[0]`` is the start.
        dt : float
            Largest internal step, in the model's time units.
        generator : torch.Generator
            Source of randomness (advanced in place).
        checkpoint : bool
            Trade compute for memory in the backward pass.

        Returns
        -------
        torch.Tensor, shape (path, time, species)
        """
        raise NotImplementedError
