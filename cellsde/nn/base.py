"""The base class of every trainable population model (END-nSDE and the baselines).

``cellsde.fit`` and ``cellsde.evaluate`` only need a model to draw paths from initial states
and parameters; each model family says how in :meth:`PopulationModel.sample_paths`.
"""

from __future__ import annotations

import torch
from torch import nn

from cellsde.nn.covariates import Covariate


class PopulationModel(nn.Module):
    """A trainable generator of single-cell paths conditioned on parameters.

    Subclasses set ``self.config`` to a frozen dataclass with ``species``, ``params`` and a
    ``to_dict()`` method (stored in checkpoints), and implement ``_paths``, called by
    :meth:`sample_paths` with checked arguments.
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
        """Every conditioning input of ``theta``, in column order."""
        return tuple(self.config.params)  # type: ignore[attr-defined]

    @property
    def unknown_params(self) -> tuple[str, ...]:
        """The leading columns of ``theta`` that inference estimates (all of them by default)."""
        return self.param_names

    @property
    def covariates(self) -> tuple[Covariate, ...]:
        """Known covariates read from the data's coordinates: the trailing columns of ``theta``.

        None by default; an END-nSDE declares them in its config (:mod:`cellsde.nn.covariates`).
        """
        return ()

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
        """Draw one path per row of ``x0``: the contract every population model keeps.

        The arguments are checked here; each model family says in ``_paths`` how it moves
        (END-nSDE and mechanistic SDEs: Euler–Maruyama, :func:`cellsde.nn.rollout.rollout`;
        neural ODE: Euler without noise; recurrent baselines: one step per observation
        interval, ignoring ``dt`` and ``checkpoint``).

        Parameters
        ----------
        x0 : torch.Tensor, shape (path, species)
            Initial states, in the model's species units.
        theta : torch.Tensor, shape (path, param)
            Parameters of each path (constant along it); ``param`` may be 0.
        times : torch.Tensor, shape (time,)
            Observation times, strictly increasing; ``times[0]`` is the start.
        dt : float
            Largest internal step, in the model's time units (> 0).
        generator : torch.Generator
            Source of randomness (advanced in place; deterministic models leave it alone).
        checkpoint : bool
            Trade compute for memory in the backward pass (models without segments ignore it).

        Returns
        -------
        torch.Tensor, shape (path, time, species)
            States at ``times``; ``out[:, 0] = x0``. Differentiable unless grad is disabled.

        Raises
        ------
        ValueError
            Shapes that do not match the model's species and parameters, or ``dt <= 0``.
        """
        n = x0.shape[0] if x0.ndim == 2 else -1
        for name, x, names in (("x0", x0, self.species), ("theta", theta, self.param_names)):
            if tuple(x.shape) != (n, len(names)):
                raise ValueError(
                    f"{name} must have shape (path, {len(names)}), one row of {list(names)} per "
                    f"path (x0 and theta with the same paths); got {tuple(x.shape)}"
                )
        if times.ndim != 1 or times.shape[0] < 1:
            raise ValueError(
                f"times must be a 1-D tensor with >= 1 entry, got shape {tuple(times.shape)}"
            )
        if not dt > 0:
            raise ValueError(f"dt must be > 0, got {dt}")
        return self._paths(x0, theta, times, dt, generator, checkpoint)

    def _paths(self, x0, theta, times, dt, generator, checkpoint) -> torch.Tensor:
        """The model family's rule for :meth:`sample_paths` (arguments already checked)."""
        raise NotImplementedError
