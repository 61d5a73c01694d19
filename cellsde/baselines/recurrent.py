"""Recurrent baselines (vanilla RNN, LSTM) that generate paths autoregressively with noise.

The paper's RNN/LSTM baselines (reference/end-nsde.md section 7) are teacher-forced: they
predict ``x(t_i)`` from the *observed* ``x(t_{i-1})``, even at test time, and inject no noise.
Here the same networks are made into fair generative models:

- **Autoregressive.** One recurrent step per observation interval, fed its own previous
  output, starting from ``x(t_0)``. ``dt`` plays no role: the model is tied to the spacing of
  the observation grid it was trained on.
- **Stochastic.** ``noise="gaussian"``: the head predicts a mean and a log-variance per species
  and the next state is ``mean + exp(logvar / 2) * x_scale * eps`` with ``eps ~ N(0, 1)`` drawn
  from the caller's generator (reparameterised, so the W2 loss is differentiable).
  ``noise="input"``: an i.i.d. ``N(0, 1)`` vector of size ``noise_dim`` is appended to the
  input at every step and the head predicts the next state directly.
- **Unidirectional.** A bidirectional LSTM (the authors' choice) reads the future of the very
  sequence it is generating, so it cannot roll out autoregressively; ``bidirectional`` is not
  offered. :meth:`RecurrentConfig.paper` keeps the authors' depths, widths and dropout.
- **Signed outputs.** The authors' head ends in a ReLU (outputs >= 0); ours is linear, since
  states (e.g. the damped oscillator's) take both signs.

The paper's teacher-forced protocol is :func:`cellsde.baselines.teacher_forced_w2`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from cellsde.nn.endnsde import ACTIVATIONS, mlp
from cellsde.nn.standardized import Standardized

CELLS = ("rnn", "lstm")
NOISES = ("gaussian", "input")
LOG_VAR_RANGE = (-16.0, 4.0)  # log-variance bounds, in units of the data's variance


@dataclass(frozen=True)
class RecurrentConfig:
    """Architecture of :class:`RecurrentBaseline`.

    Parameters
    ----------
    species, params : tuple of str
        State variables and extrinsic parameters (both are inputs at every step).
    cell : {"rnn", "lstm"}
        Recurrent cell (``torch.nn.RNN`` with tanh, or ``torch.nn.LSTM``).
    hidden : int
        Width of the recurrent state.
    layers : int
        Stacked recurrent layers.
    dropout : float
        Dropout between recurrent layers (active in training mode only; drawn from torch's
        global RNG, so call ``model.eval()`` for reproducible sampling).
    head : tuple of int
        Hidden widths of the fully connected head after the recurrent layers.
    activation : {"relu", "elu", "tanh", "silu", "softplus"}
        Activation of the head.
    noise : {"gaussian", "input"}
        How intrinsic noise enters (module docstring).
    noise_dim : int
        Size of the noise input for ``noise="input"``.
    residual : bool
        Predict the increment ``x(t_i) - x(t_{i-1})`` (True) or the state itself.
    time_units : str
        Units of time of the training data.
    """

    species: tuple[str, ...]
    params: tuple[str, ...] = ()
    cell: str = "lstm"
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.0
    head: tuple[int, ...] = (64,)
    activation: str = "relu"
    noise: str = "gaussian"
    noise_dim: int = 2
    residual: bool = True
    time_units: str = "dimensionless"

    def __post_init__(self) -> None:
        for name in ("species", "params", "head"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        checks = [
            (bool(self.species), "RecurrentConfig needs at least one species"),
            (self.cell in CELLS, f"cell must be one of {CELLS}, got {self.cell!r}"),
            (self.noise in NOISES, f"noise must be one of {NOISES}, got {self.noise!r}"),
            (self.hidden >= 1 and self.layers >= 1, "hidden and layers must be >= 1"),
            (0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout}"),
            (all(int(h) >= 1 for h in self.head), "head widths must be >= 1"),
            (self.activation in ACTIVATIONS, f"activation must be one of {sorted(ACTIVATIONS)}"),
            (self.noise != "input" or self.noise_dim >= 1, "noise_dim must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def paper(
        cls, cell: str, species: tuple[str, ...], params: tuple[str, ...] = (), **overrides
    ) -> RecurrentConfig:
        """The authors' sizes: LSTM 2 x 128, head (256, 256, 32); RNN 2 x 256, head
        (128, 64, 32); dropout 0.3; ReLU head (made unidirectional, see the module notes)."""
        sizes = {
            "lstm": {"hidden": 128, "head": (256, 256, 32)},
            "rnn": {"hidden": 256, "head": (128, 64, 32)},
        }
        if cell not in sizes:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        base = {"layers": 2, "dropout": 0.3, "activation": "relu", **sizes[cell]}
        return cls(species=species, params=params, cell=cell, **{**base, **overrides})


class RecurrentBaseline(Standardized):
    """Stochastic autoregressive RNN/LSTM population model.

    Parameters
    ----------
    config : RecurrentConfig
    seed : int, optional
        Seed of the weight initialisation (the global torch RNG is left untouched).
    """

    def __init__(self, config: RecurrentConfig, *, seed: int | None = None) -> None:
        super().__init__()
        self.config = config
        d, p = len(config.species), len(config.params)
        n_in = d + p + (config.noise_dim if config.noise == "input" else 0)
        n_out = 2 * d if config.noise == "gaussian" else d
        kind = nn.LSTM if config.cell == "lstm" else nn.RNN
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.rnn = kind(
                n_in,
                config.hidden,
                num_layers=config.layers,
                batch_first=True,
                dropout=config.dropout if config.layers > 1 else 0.0,
            )
            self.head = nn.Sequential(
                ACTIVATIONS[config.activation](),
                mlp([config.hidden, *config.head, n_out], config.activation),
            )
        self._register_scaling(d, p)

    def _noise_size(self) -> int:
        return self.config.noise_dim if self.config.noise == "input" else len(self.config.species)

    def step(
        self,
        x: torch.Tensor,
        theta: torch.Tensor,
        state: object,
        eps: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, object]:
        """One observation interval.

        Parameters
        ----------
        x : torch.Tensor, shape (path, species)
            Previous state.
        theta : torch.Tensor, shape (path, param)
        state : tensor, tuple of tensors or None
            Recurrent state (None: zeros).
        eps : torch.Tensor, shape (path, noise)
            Standard normal draws (zeros give the noise-free prediction).

        Returns
        -------
        mean : torch.Tensor, shape (path, species)
            Prediction without noise (for ``noise="input"``: the output with ``eps`` fed in).
        sample : torch.Tensor, shape (path, species)
            Next state with noise.
        state
            New recurrent state.
        """
        d = len(self.config.species)
        z = self.scaled_inputs(x, theta)  # (path, species + param)
        if self.config.noise == "input":
            z = torch.cat([z, eps], -1)
        out, state = self.rnn(z[:, None, :], state)  # (path, 1, hidden)
        y = self.head(out[:, 0])  # (path, n_out)
        base = x if self.config.residual else self.x_loc
        mean = base + y[:, :d] * self.x_scale
        if self.config.noise == "input":
            return mean, mean, state
        log_var = y[:, d:].clamp(*LOG_VAR_RANGE)
        return mean, mean + torch.exp(0.5 * log_var) * self.x_scale * eps, state

    def _paths(self, x0, theta, times, dt, generator, checkpoint) -> torch.Tensor:
        # One recurrent step per observation interval (``dt`` and ``checkpoint`` play no
        # role); the noise of each step is drawn from ``generator``.
        out, x, state = [x0], x0, None
        for _ in range(times.shape[0] - 1):
            eps = torch.randn(
                (x0.shape[0], self._noise_size()),
                generator=generator,
                device=generator.device,
                dtype=x0.dtype,
            ).to(x0.device)
            _, x, state = self.step(x, theta, state, eps)
            out.append(x)
        return torch.stack(out, 1)  # (path, time, species)

    def teacher_forced(self, x_true: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Noise-free one-step predictions from the observed previous states (paper protocol).

        Parameters
        ----------
        x_true : torch.Tensor, shape (path, time, species)
            Observed trajectories (finite).
        theta : torch.Tensor, shape (path, param)

        Returns
        -------
        torch.Tensor, shape (path, time, species)
            ``out[:, 0] = x_true[:, 0]``; ``out[:, i] = NN(x_true[:, i-1], theta)`` with the
            recurrent state carried along the observed sequence and zero noise.
        """
        out, state = [x_true[:, 0]], None
        eps = torch.zeros(
            (x_true.shape[0], self._noise_size()), dtype=x_true.dtype, device=x_true.device
        )
        for i in range(1, x_true.shape[1]):
            mean, _, state = self.step(x_true[:, i - 1], theta, state, eps)
            out.append(mean)
        return torch.stack(out, 1)
