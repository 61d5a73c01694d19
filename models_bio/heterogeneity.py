"""Declared extrinsic heterogeneity: per-cell distributions of model parameters.

A model declares, for chosen parameters, how they vary from cell to cell. The classes here
are small frozen descriptions with an exact sampler; ``cellsde.simulation.theta`` combines
them into a per-cell parameter table with an explicit seed.

``LogNormal`` is *relative* to the parameter's nominal value (median = nominal); the other
distributions take absolute values in the parameter's own units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class Distribution:
    """Base class: ``sample(rng, n, nominal) -> (n,)`` float array."""

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        raise NotImplementedError

    def bounds(self, nominal: float) -> tuple[float, float]:
        """Support of the distribution, ``(lo, hi)`` (may be infinite)."""
        raise NotImplementedError


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Multiplicative log-normal factor with median 1: ``nominal * exp(sigma * z)``.

    Parameters
    ----------
    cv : float, optional
        Coefficient of variation of the factor; ``sigma = sqrt(log(1 + cv**2))``.
    sigma : float, optional
        Standard deviation of ``log(factor)``. Give exactly one of ``cv`` and ``sigma``.
    clip : (float, float), optional
        Factors outside ``[clip[0], clip[1]]`` are clipped (e.g. ``(0.1, 10)``).
    """

    cv: float | None = None
    sigma: float | None = None
    clip: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if (self.cv is None) == (self.sigma is None):
            raise ValueError("LogNormal needs exactly one of cv= or sigma=")
        _check_positive("LogNormal cv" if self.cv is not None else "LogNormal sigma", self.s)
        if self.clip is not None and not (0 < self.clip[0] < self.clip[1]):
            raise ValueError(f"LogNormal clip must satisfy 0 < lo < hi, got {self.clip}")

    @property
    def s(self) -> float:
        """Standard deviation of the log factor."""
        return float(self.sigma) if self.sigma is not None else math.sqrt(math.log1p(self.cv**2))

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        f = np.exp(self.s * rng.standard_normal(n))
        if self.clip is not None:
            f = np.clip(f, *self.clip)
        return nominal * f

    def bounds(self, nominal: float) -> tuple[float, float]:
        if self.clip is None:
            return (0.0, math.inf) if nominal >= 0 else (-math.inf, 0.0)
        lo, hi = nominal * self.clip[0], nominal * self.clip[1]
        return (min(lo, hi), max(lo, hi))


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[lo, hi]`` (absolute values)."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"Uniform needs finite lo < hi, got ({self.lo}, {self.hi})")

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        return rng.uniform(self.lo, self.hi, n)

    def bounds(self, nominal: float) -> tuple[float, float]:
        return (self.lo, self.hi)


@dataclass(frozen=True)
class LogUniform(Distribution):
    """Log-uniform on ``[lo, hi]`` with ``0 < lo < hi`` (absolute values)."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not (0 < self.lo < self.hi < math.inf):
            raise ValueError(f"LogUniform needs 0 < lo < hi < inf, got ({self.lo}, {self.hi})")

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        return np.exp(rng.uniform(math.log(self.lo), math.log(self.hi), n))

    def bounds(self, nominal: float) -> tuple[float, float]:
        return (self.lo, self.hi)


@dataclass(frozen=True)
class LogitNormal(Distribution):
    """Logit-normal between ``lo`` and ``hi``: ``(hi e^u + lo) / (1 + e^u)``, ``u ~ N(mu, sigma)``.

    This is the scheme of Guo et al. 2024 (``sample_est_parameters_2024.m``). Use
    :meth:`around` to centre it (median) on a value.
    """

    lo: float
    hi: float
    mu: float = 0.0
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"LogitNormal needs finite lo < hi, got ({self.lo}, {self.hi})")
        _check_positive("LogitNormal sigma", self.sigma)

    @classmethod
    def around(cls, median: float, *, lo: float, hi: float, sigma: float = 0.5) -> LogitNormal:
        """The logit-normal on ``[lo, hi]`` whose median is ``median``."""
        if not lo < median < hi:
            raise ValueError(f"median {median} must lie strictly inside ({lo}, {hi})")
        return cls(lo, hi, math.log((median - lo) / (hi - median)), sigma)

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        u = self.mu + self.sigma * rng.standard_normal(n)
        # (hi e^u + lo)/(1 + e^u) written with expit to stay finite for large |u|
        w = 1.0 / (1.0 + np.exp(-u))
        return self.lo + (self.hi - self.lo) * w

    def bounds(self, nominal: float) -> tuple[float, float]:
        return (self.lo, self.hi)


@dataclass(frozen=True)
class Grid(Distribution):
    """An explicit set of values; cells are split evenly between them (one group per value).

    When several parameters carry a ``Grid``, the groups are their Cartesian product.
    """

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        vals = tuple(float(v) for v in self.values)
        if not vals or not all(math.isfinite(v) for v in vals):
            raise ValueError(f"Grid needs at least one finite value, got {self.values!r}")
        object.__setattr__(self, "values", vals)

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        raise TypeError(
            "Grid values are assigned per group, not sampled; see cellsde.simulation.theta"
        )

    def bounds(self, nominal: float) -> tuple[float, float]:
        return (min(self.values), max(self.values))
