"""END-nSDE: an Itô SDE whose drift and diffusion are MLPs conditioned on extrinsic parameters.

``dX = f(X, theta) dt + sigma(X, theta) dW`` with ``f`` and ``sigma`` neural networks that take
the cell's (constant) parameters ``theta`` as extra inputs (Zhang et al. 2025, PLOS Comput
Biol 21:e1013462). The module satisfies :class:`models_bio.sde.SDEProtocol`, so
``cellsde.simulate`` and the Euler–Maruyama solver treat it like a mechanistic SDE.

Diffusion: ``|MLP_g([x, theta])|`` reshaped to (species, brownian) for ``noise="general"``
(the authors' form; the absolute value makes every entry non-negative) or (species,) for
``noise="diagonal"``; rows of species not in ``noisy_species`` are zero.
``positivity="softplus"`` is a smooth alternative; ``"none"`` allows signed entries.

Inputs are standardised with fixed buffers (``x_loc``, ``x_scale``, ``theta_loc``,
``theta_scale``) that :func:`cellsde.fit` sets from the training data; the drift output is
rescaled by ``x_scale`` so the network works in units of the data's spread. With the default
buffers (0 and 1) the model is exactly the paper's.

Known covariates (``covariates``, :mod:`cellsde.nn.covariates`): the networks' conditioning
input is ``theta = (omega, c)``, the unknown parameters ``params`` followed by the encoded
covariate columns (``log10(dose)``, ``ligand=TNF``...). :attr:`ENDnSDE.param_names` lists
all of them (what :meth:`sample_paths` takes), :attr:`ENDnSDE.unknown_params` only
``params`` (what :func:`cellsde.infer` estimates).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from cellsde.nn.covariates import Covariate, as_covariate, covariate_columns
from cellsde.nn.rollout import rollout
from cellsde.nn.standardized import Standardized

ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
}
POSITIVITY = ("abs", "softplus", "none")


@dataclass(frozen=True)
class ENDnSDEConfig:
    """Architecture and the names/units the model is trained on.

    Parameters
    ----------
    species : tuple of str
        State variables, in order.
    params : tuple of str
        Unknown extrinsic parameters ``omega`` fed to both networks (may be empty).
    hidden : tuple of int
        Hidden widths of the drift MLP (paper: (100, 100, 100) circadian, (200, 200) NF-kB).
    diffusion_hidden : tuple of int, optional
        Hidden widths of the diffusion MLP; defaults to ``hidden``.
    activation : {"relu", "elu", "tanh", "silu", "softplus"}
    noise : {"general", "diagonal"}
    n_brownian : int
        Brownian channels for general noise (ignored for diagonal noise).
    noisy_species : tuple of str, optional
        Species whose diffusion rows may be non-zero; default all.
    positivity : {"abs", "softplus", "none"}
        How diffusion entries are made non-negative.
    time_input : bool
        Feed time ``t`` to both networks (non-autonomous model).
    time_units : str
        Units of time the model was trained in.
    species_units, param_units : tuple of str
        Units of each species / parameter ("" if unknown).
    covariates : tuple of Covariate
        Known covariates read from each dataset's per-cell coordinates, fed to both networks
        after ``params`` (:func:`cellsde.nn.covariates.covariates_from_data` makes them from
        spec strings such as ``"log10:dose"``, ``"onehot:ligand"``).
    """

    species: tuple[str, ...]
    params: tuple[str, ...] = ()
    hidden: tuple[int, ...] = (100, 100)
    diffusion_hidden: tuple[int, ...] | None = None
    activation: str = "relu"
    noise: str = "general"
    n_brownian: int = 2
    noisy_species: tuple[str, ...] | None = None
    positivity: str = "abs"
    time_input: bool = False
    time_units: str = "dimensionless"
    species_units: tuple[str, ...] = field(default=())
    param_units: tuple[str, ...] = field(default=())
    covariates: tuple[Covariate, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("species", "params", "hidden", "species_units", "param_units"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "covariates", tuple(as_covariate(c) for c in self.covariates))
        if self.diffusion_hidden is not None:
            object.__setattr__(self, "diffusion_hidden", tuple(self.diffusion_hidden))
        if self.noisy_species is not None:
            object.__setattr__(self, "noisy_species", tuple(self.noisy_species))
        if not self.species:
            raise ValueError("ENDnSDEConfig needs at least one species")
        conditioning = (*self.params, *covariate_columns(self.covariates))
        for label, names in (("species", self.species), ("params and covariates", conditioning)):
            if len(set(names)) != len(names):
                raise ValueError(f"duplicated {label} names in {names}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}"
            )
        if self.noise not in ("general", "diagonal"):
            raise ValueError(f"noise must be 'general' or 'diagonal', got {self.noise!r}")
        if self.positivity not in POSITIVITY:
            raise ValueError(f"positivity must be one of {POSITIVITY}, got {self.positivity!r}")
        if self.noise == "general" and self.n_brownian < 1:
            raise ValueError(f"n_brownian must be >= 1, got {self.n_brownian}")
        if any(int(h) < 1 for h in (*self.hidden, *(self.diffusion_hidden or ()))):
            raise ValueError("hidden widths must be >= 1")
        unknown = sorted(set(self.noisy_species or ()) - set(self.species))
        if unknown:
            raise ValueError(f"noisy_species {unknown} are not among the species {self.species}")
        for label, units, names in (
            ("species_units", self.species_units, self.species),
            ("param_units", self.param_units, self.params),
        ):
            if units and len(units) != len(names):
                raise ValueError(f"{label} has {len(units)} entries for {len(names)} names")

    def to_dict(self) -> dict:
        """JSON-serialisable form (lists instead of tuples).

        ``covariates`` is left out when empty, so models without covariates keep the
        checkpoint config that earlier cellsde versions read.
        """
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        out.pop("covariates")
        if self.covariates:
            out["covariates"] = [c.to_dict() for c in self.covariates]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> ENDnSDEConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(data) - known)
        if extra:
            raise ValueError(f"unknown ENDnSDE config keys {extra}")
        return cls(**data)


def mlp(sizes: list[int], activation: str) -> nn.Sequential:
    """A fully connected network ``sizes[0] -> ... -> sizes[-1]`` with ``activation`` between."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class ENDnSDE(Standardized):
    """Extrinsic-noise-driven neural SDE.

    Parameters
    ----------
    config : ENDnSDEConfig
        Architecture and names.
    seed : int, optional
        Seed of the weight initialisation (the global torch RNG is left untouched); without
        it, torch's global RNG initialises the weights.

    Notes
    -----
    Shapes: ``x`` (cell, species), ``theta`` (cell, param); :meth:`drift` returns
    (cell, species); :meth:`diffusion` returns (cell, species, brownian) for general noise
    and (cell, species) for diagonal noise.
    """

    def __init__(self, config: ENDnSDEConfig, *, seed: int | None = None) -> None:
        super().__init__()
        self.config = config
        if seed is None:
            self._build(config)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self._build(config)

    def _build(self, config: ENDnSDEConfig) -> None:
        d = len(config.species)
        p = len(config.params) + len(covariate_columns(config.covariates))
        n_in = d + p + int(config.time_input)
        self.drift_net = mlp([n_in, *config.hidden, d], config.activation)
        out = d * (config.n_brownian if config.noise == "general" else 1)
        self.diffusion_net = mlp(
            [n_in, *(config.diffusion_hidden or config.hidden), out], config.activation
        )
        noisy = config.noisy_species or config.species
        mask = torch.tensor([s in noisy for s in config.species], dtype=torch.get_default_dtype())
        self.register_buffer("noise_mask", mask)  # (species,)
        self._register_scaling(d, p)
        # Range of theta seen in training (NaN until cellsde.fit sets it): inference flags
        # estimates outside it instead of silently extrapolating.
        self.register_buffer("theta_lo", torch.full((p,), float("nan")))
        self.register_buffer("theta_hi", torch.full((p,), float("nan")))

    @property
    def param_names(self) -> tuple[str, ...]:
        """All conditioning inputs: the unknown ``params``, then the covariate columns."""
        return (*self.config.params, *covariate_columns(self.config.covariates))

    @property
    def unknown_params(self) -> tuple[str, ...]:
        return tuple(self.config.params)

    @property
    def covariates(self) -> tuple[Covariate, ...]:
        return self.config.covariates

    @property
    def noise_type(self) -> str:
        return self.config.noise

    @property
    def n_brownian(self) -> int:
        return (
            self.config.n_brownian if self.config.noise == "general" else len(self.config.species)
        )

    @property
    def time_units(self) -> str:
        return self.config.time_units

    def set_theta_range(self, lo: torch.Tensor, hi: torch.Tensor) -> None:
        """Record the training range of theta (all conditioning inputs), shape (param,) each."""
        with torch.no_grad():
            self.theta_lo.copy_(torch.as_tensor(lo))
            self.theta_hi.copy_(torch.as_tensor(hi))

    def theta_range(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(lo, hi)`` of theta in the training data, or None before fitting."""
        if not self.param_names or bool(torch.isnan(self.theta_lo).any()):
            return None
        return self.theta_lo.clone(), self.theta_hi.clone()

    def _inputs(
        self, t: float | torch.Tensor, x: torch.Tensor, theta: torch.Tensor
    ) -> torch.Tensor:
        z = [(x - self.x_loc) / self.x_scale]
        if self.param_names:
            z.append((theta - self.theta_loc) / self.theta_scale)
        if self.config.time_input:
            z.append(torch.as_tensor(t, dtype=x.dtype, device=x.device).expand(x.shape[0], 1))
        return torch.cat(z, -1)  # (cell, species + param [+ 1])

    def drift(self, t: float | torch.Tensor, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """Drift ``f(x, theta)``, shape (cell, species), in species units per time unit."""
        return self.drift_net(self._inputs(t, x, theta)) * self.x_scale

    def diffusion(
        self, t: float | torch.Tensor, x: torch.Tensor, theta: torch.Tensor
    ) -> torch.Tensor:
        """Diffusion ``sigma(x, theta)``, (cell, species, brownian) or (cell, species)."""
        g = self.diffusion_net(self._inputs(t, x, theta))
        if self.config.positivity == "abs":
            g = g.abs()
        elif self.config.positivity == "softplus":
            g = nn.functional.softplus(g)
        scale = self.x_scale * self.noise_mask  # (species,)
        if self.config.noise == "general":
            return (
                g.view(x.shape[0], len(self.config.species), self.config.n_brownian)
                * scale[:, None]
            )
        return g * scale

    def _paths(self, x0, theta, times, dt, generator, checkpoint) -> torch.Tensor:
        return rollout(self, x0, theta, times, dt=dt, generator=generator, checkpoint=checkpoint)

    def forward(
        self, t: float, x: torch.Tensor, theta: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(drift, diffusion)`` at ``(t, x, theta)``."""
        return self.drift(t, x, theta), self.diffusion(t, x, theta)
