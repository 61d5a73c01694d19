"""Amortised heterogeneity inference: a network from a group of K trajectories to theta.

Following END-nSDE (Zhang et al. 2025, Fig 9), a supervised network maps a group of
trajectories of the same parameters to theta; it is trained on simulations of a fitted (or
mechanistic) model at parameters drawn across the training range, then reused on any data.

Architecture (attention pooling). Each trajectory (time x observed, flattened) is embedded
by an MLP; a query computed from the reference trajectory ``r`` (the population mean of the
training simulations) scores every member of the group; the softmax-weighted sum of the
members' values goes through ``FC 64 -> 128 -> param``. Unlike the authors' ``Linear(K, K)``
mixing, pooling makes the estimate invariant to the order of the cells and lets one network
serve any group size (it is trained on random K up to ``k_max``).

Option ``spread_features`` (project choice, off by default): the head also gets, per input
feature, the log of the group's standard deviation (standardised) and log K. Parameters that
set the *spread* of a population (noise intensities) are then read directly instead of
through a learned nonlinearity of the attention-weighted mean.

Known covariates (``covariates``: the encoded columns of a model's
:mod:`~cellsde.nn.covariates`, e.g. ``log10(dose)``, ``ligand=TNF``) enter the head,
standardised, beside the pooled embedding: the network estimates only the unknown
parameters, given the group's condition.

Bounded output (``bounded=True``, the default since format version 2): the head's output
goes through ``tanh`` and is mapped onto the training box ``[lo, hi]``, so an estimate can
never leave the range the network has seen; :func:`cellsde.infer` flags estimates at (within
1 % of) the box edge instead (``at_bound``). Version 1 files (unbounded, no covariates) load
as they were trained.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from cellsde._torchio import atomic_save, safe_load
from cellsde.errors import CheckpointError

FORMAT = "cellsde-amortizer"


@dataclass(frozen=True)
class AmortizerConfig:
    """Shape of the inference network and what it was trained on.

    Parameters
    ----------
    observed : tuple of str
        Observed species, in the order of the input's last axis.
    params : tuple of str
        Inferred parameters.
    times : tuple of float
        Observation times the network expects (the data must share them).
    k_max : int
        Largest group size seen in training.
    hidden : int
        Width of the trajectory embedding and attention.
    spread_features : bool
        Feed the head the log standard deviation of each input feature over the group's
        members and log K, besides the attention-pooled embedding.
    covariates : tuple of str
        Names of known covariate columns fed to the head (the group's condition).
    bounded : bool
        Map the output into the training box through ``tanh`` (module docstring).
    """

    observed: tuple[str, ...]
    params: tuple[str, ...]
    times: tuple[float, ...]
    k_max: int = 32
    hidden: int = 64
    spread_features: bool = False
    covariates: tuple[str, ...] = ()
    bounded: bool = True

    def __post_init__(self) -> None:
        for name in ("observed", "params", "times", "covariates"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.observed or not self.params or len(self.times) < 2:
            raise ValueError("AmortizerConfig needs observed species, params and >= 2 times")
        if self.k_max < 1 or self.hidden < 1:
            raise ValueError("k_max and hidden must be >= 1")


class Amortizer(nn.Module):
    """Attention-pooling network: (group, K, time, observed) -> (group, param).

    Inputs are standardised with buffers ``y_loc``/``y_scale`` (covariates with
    ``cov_loc``/``cov_scale``) and outputs mapped from ``theta_loc``/``theta_scale`` (bounded:
    ``theta_loc + theta_scale * tanh(head)``, the training box); :func:`train_amortizer` sets
    them.
    """

    def __init__(self, config: AmortizerConfig) -> None:
        super().__init__()
        self.config = config
        n_in = len(config.times) * len(config.observed)
        h = config.hidden
        self.embed = nn.Sequential(nn.Linear(n_in, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.query = nn.Linear(n_in, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)
        extra = (n_in + 1 if config.spread_features else 0) + len(config.covariates)
        self.head = nn.Sequential(
            nn.Linear(h + extra, 64),
            nn.ReLU(),
            nn.Linear(64, 128),
            nn.ReLU(),
            nn.Linear(128, len(config.params)),
        )
        self.register_buffer("reference", torch.zeros(n_in))
        self.register_buffer("y_loc", torch.zeros(n_in))
        self.register_buffer("y_scale", torch.ones(n_in))
        self.register_buffer("theta_loc", torch.zeros(len(config.params)))
        self.register_buffer("theta_scale", torch.ones(len(config.params)))
        if config.spread_features:
            self.register_buffer("spread_loc", torch.zeros(n_in))
            self.register_buffer("spread_scale", torch.ones(n_in))
        if config.covariates:
            self.register_buffer("cov_loc", torch.zeros(len(config.covariates)))
            self.register_buffer("cov_scale", torch.ones(len(config.covariates)))

    def log_spread(self, z: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Log standard deviation over the members, (group, K, features) -> (group, features)."""
        m = (
            torch.ones(z.shape[:2], dtype=z.dtype, device=z.device)
            if mask is None
            else mask.to(z.dtype)
        )
        n = m.sum(1).clamp(min=1)[:, None]  # (group, 1)
        mu = (m[..., None] * z).sum(1) / n  # (group, features)
        var = (m[..., None] * (z - mu[:, None]) ** 2).sum(1) / n
        return 0.5 * torch.log(var + 1e-8)

    def box(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(lo, hi)`` of the training box, shape (param,) each (the bounded output's range)."""
        return self.theta_loc - self.theta_scale, self.theta_loc + self.theta_scale

    def forward(
        self,
        y: torch.Tensor,
        mask: torch.Tensor | None = None,
        covariates: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Estimate theta.

        Parameters
        ----------
        y : torch.Tensor, shape (group, K, time, observed)
            Trajectories (no NaN; fill unobserved entries with the reference and mask cells).
        mask : torch.Tensor of bool, shape (group, K), optional
            Which members of each group are real cells.
        covariates : torch.Tensor, shape (group, covariate)
            The groups' known covariates (required when the network has any).

        Returns
        -------
        torch.Tensor, shape (group, param)
            In the training box when ``config.bounded``.
        """
        n_cov = len(self.config.covariates)
        if n_cov and (covariates is None or tuple(covariates.shape) != (y.shape[0], n_cov)):
            raise ValueError(
                f"this amortizer reads the covariates {list(self.config.covariates)}: pass "
                f"covariates of shape ({y.shape[0]}, {n_cov})"
            )
        z = (y.flatten(-2) - self.y_loc) / self.y_scale  # (group, K, features)
        e = self.embed(z)  # (group, K, h)
        q = self.query((self.reference - self.y_loc) / self.y_scale)  # (h,)
        scores = (self.key(e) @ q) / math.sqrt(e.shape[-1])  # (group, K)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        a = torch.softmax(scores, -1)  # (group, K)
        pooled = (a[..., None] * self.value(e)).sum(1)  # (group, h)
        if self.config.spread_features:
            spread = (self.log_spread(z, mask) - self.spread_loc) / self.spread_scale
            n = z.new_full((z.shape[0],), z.shape[1]) if mask is None else mask.sum(1).to(z.dtype)
            pooled = torch.cat([pooled, spread, torch.log(n.clamp(min=1))[:, None]], -1)
        if n_cov:
            pooled = torch.cat([pooled, (covariates - self.cov_loc) / self.cov_scale], -1)
        h = self.head(pooled)
        return (torch.tanh(h) if self.config.bounded else h) * self.theta_scale + self.theta_loc


def save_amortizer(net: Amortizer, path: str | os.PathLike[str]) -> Path:
    """Write ``net`` atomically as a safe checkpoint."""
    cfg = json.dumps(
        {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(net.config).items()}
    )
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    return atomic_save({"format": FORMAT, "version": 2, "config": cfg, "state_dict": state}, path)


def load_amortizer(path: str | os.PathLike[str]) -> Amortizer:
    """Read a network written by :func:`save_amortizer` (no code is unpickled)."""
    obj = safe_load(path, kind=FORMAT)
    if int(obj.get("version", -1)) > 2:
        raise CheckpointError(
            f"{str(path)!r} was written by a newer cellsde (amortizer format {obj['version']}); "
            "upgrade cellsde"
        )
    try:
        config = json.loads(obj["config"])
        config.setdefault("bounded", False)  # version 1 networks had an unbounded output
        net = Amortizer(AmortizerConfig(**config))
        net.load_state_dict(obj["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{str(path)!r} is not a valid amortizer checkpoint ({str(err)[:160]})"
        ) from None
    return net
