"""The population model: log-normal cells, and its unconstrained parameter vector.

Each free parameter ``j`` of each cell ``c`` is

    theta_cj = clip(exp(log m_j + s_j (L z_c)_j), lower_j, upper_j)

with population median ``m_j`` inside the bounds, spread ``s_j`` (sd of the log value, at
most ``spread_max``), ``L`` the Cholesky factor of the correlation matrix of the log values
(the identity unless correlated) and ``z_c`` standard normal draws fixed per cell (common
random numbers: the same ``z`` at every iteration, so the loss is a deterministic, smooth
function of the population parameters and the reparameterised gradient is exact).

Optimisation runs on an unconstrained vector ``phi``: ``m_j`` through a logistic map of the
log bounds, ``s_j = spread_max * sigmoid``, correlations through canonical partial
correlations ``tanh(u)`` (every ``phi`` gives a valid correlation matrix), the observation
scale through ``exp`` and the noise sd through ``exp``; the offset is unconstrained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import qmc

OBSERVATION = ("scale", "offset", "noise")


@dataclass(frozen=True)
class Population:
    """Layout of ``phi`` and the map from ``phi`` to cells.

    Attributes
    ----------
    names : tuple of str
        Free parameters (columns of theta).
    lower, upper : ndarray, shape (param,)
        Bounds (model units).
    spread_max : float
    correlated : bool
    observed : tuple of str
        Fitted observation parameters (subset of scale, offset, noise, in that order).
    noise_scale : float
        Typical size of the measured values; the noise sd starts at 10 % of it.
    """

    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    spread_max: float
    correlated: bool
    observed: tuple[str, ...]
    noise_scale: float = 1.0

    @property
    def n_params(self) -> int:
        return len(self.names)

    @property
    def n_corr(self) -> int:
        q = self.n_params
        return q * (q - 1) // 2 if self.correlated else 0

    @property
    def size(self) -> int:
        """Length of ``phi``."""
        return 2 * self.n_params + self.n_corr + len(self.observed)

    # -- phi -> natural parameters -----------------------------------------------------------
    def split(self, phi: torch.Tensor) -> dict[str, torch.Tensor]:
        """Natural parameters of ``phi``: ``log_median`` (param,), ``spread`` (param,),
        ``chol`` (param, param) and one scalar per fitted observation parameter."""
        q = self.n_params
        lo = torch.as_tensor(np.log(self.lower), dtype=phi.dtype)
        hi = torch.as_tensor(np.log(self.upper), dtype=phi.dtype)
        out = {
            "log_median": lo + (hi - lo) * torch.sigmoid(phi[:q]),
            "spread": self.spread_max * torch.sigmoid(phi[q : 2 * q]),
            "chol": _cholesky_from_cpc(torch.tanh(phi[2 * q : 2 * q + self.n_corr]), q),
        }
        rest = phi[2 * q + self.n_corr :]
        for k, name in enumerate(self.observed):
            out[name] = torch.exp(rest[k]) if name in ("scale", "noise") else rest[k]
        return out

    def cells(self, phi: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Every cell's free parameters, shape (cell, param), from standard normals ``z`` (cell, param)."""
        nat = self.split(phi)
        log_theta = nat["log_median"] + (z @ nat["chol"].T) * nat["spread"]
        lo = torch.as_tensor(self.lower, dtype=phi.dtype)
        hi = torch.as_tensor(self.upper, dtype=phi.dtype)
        return torch.minimum(torch.maximum(torch.exp(log_theta), lo), hi)

    # -- starts ------------------------------------------------------------------------------
    def starts(self, n: int, *, nominal: np.ndarray, seed: int) -> np.ndarray:
        """``n`` starting vectors (start, phi): the nominal medians first, then a scrambled
        Halton design over the log bounds; spreads 0.3, no correlation, scale 1, offset 0,
        noise 10 % of the data's scale."""
        q = self.n_params
        frac = np.clip(
            (np.log(nominal) - np.log(self.lower)) / (np.log(self.upper) - np.log(self.lower)),
            0.02,
            0.98,
        )
        design = [frac]
        if n > 1:
            design += list(qmc.Halton(d=q, scramble=True, seed=seed).random(n - 1) * 0.9 + 0.05)
        out = np.zeros((n, self.size))
        out[:, :q] = _logit(np.asarray(design))
        out[:, q : 2 * q] = _logit(min(0.3 / self.spread_max, 0.9))
        rest = 2 * q + self.n_corr
        for k, name in enumerate(self.observed):
            out[:, rest + k] = math.log(0.1 * self.noise_scale) if name == "noise" else 0.0
        return out


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _cholesky_from_cpc(cpc: torch.Tensor, q: int) -> torch.Tensor:
    """Lower Cholesky factor of a correlation matrix from canonical partial correlations.

    Row ``i``: ``L[i, j] = cpc_ij * sqrt(1 - sum_{k<j} L[i, k]^2)`` for ``j < i`` and the
    diagonal takes the rest of the unit norm (the LKJ construction), so any ``cpc`` in
    (-1, 1) gives a valid factor; no ``cpc`` (independent parameters) gives the identity.
    """
    if cpc.numel() == 0:
        return torch.eye(q, dtype=cpc.dtype)
    rows, k = [], 0
    for i in range(q):
        row, left = [], torch.ones((), dtype=cpc.dtype)
        for _ in range(i):
            value = cpc[k] * torch.sqrt(left)
            row.append(value)
            left = left - value**2
            k += 1
        row.append(torch.sqrt(left))
        row += [torch.zeros((), dtype=cpc.dtype)] * (q - i - 1)
        rows.append(torch.stack(row))
    return torch.stack(rows)
