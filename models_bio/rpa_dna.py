"""RPA–ssDNA multi-protein lattice CTMC (20-nt and 30-nt binding modes): the definition.

Replication protein A (RPA) binds single-stranded DNA (ssDNA) in a 20-nt mode and can grab 10
more nucleotides on its 3′ side to sit in a 30-nt mode. The lattice holds L nucleotides, sites
``0 … L-1`` (5′→3′); a protein ``(s, m)`` covers sites ``s … s+m-1`` and footprints never overlap.

=========  ===========================================================  ===========
event      condition                                                     rate
=========  ===========================================================  ===========
bind       sites ``s … s+19`` empty (and inside)                        k1 per start
unbind     protein ``(s, 20)``                                          k_minus1
extend     ``(s, 20)`` and sites ``s+20 … s+29`` empty (and inside)     k2
shrink     protein ``(s, 30)`` → ``(s, 20)``                            k_minus2
=========  ===========================================================  ===========

A 30-mer cannot unbind directly. Boundaries: ``"free"`` (finite lattice, starts
``0 … L-20``) or ``"periodic"`` (indices mod L). The initial state is empty ssDNA. With the
one-sided extension rule the chain satisfies detailed balance and its stationary law on any
finite lattice is ``π ∝ a**n20 * b**n30`` with ``a = k1/k_minus1`` and ``b = a*k2/k_minus2``;
:func:`equilibrium_coverage`, :func:`finite_lattice_equilibrium` and :func:`rsa_coverage` give
exact values used as oracles.

This module holds definitions only (numpy and models_bio, no cellsde); the simulator is
``cellsde.solvers.lattice_ssa``.

References
----------
.. [1] Zhang, Li, Guo, …, Hoffmann, Chou, Xia, END-nSDE (extrinsic-noise-driven neural SDEs),
   arXiv 2503.09007; PLOS Comput Biol (2025). Fig 2 caption defines this lattice model.
.. [2] Ding, J. et al., Nat Commun 14, 3864 (2023): the RPA 20-nt/30-nt binding-mode biology.
.. [3] Evans, J. W., "Random and cooperative sequential adsorption", Rev Mod Phys 65, 1281
   (1993) (the RSA integral used by :func:`rsa_coverage`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from models_bio.heterogeneity import Distribution

FOOTPRINT_20 = 20
FOOTPRINT_30 = 30
PARAMETER_NAMES = ("k1", "k_minus1", "k2", "k_minus2")
OBSERVABLES = ("n20", "n30", "c20", "c30", "c_empty")
BOUNDARIES = ("free", "periodic")
_NOMINAL = {"k1": 1.0, "k_minus1": 0.1, "k2": 1.0, "k_minus2": 1.0}
_UNITS = {
    "k1": "1/time per allowed start (time unit 1/k1: dimensionless)",
    "k_minus1": "1/time",
    "k2": "1/time",
    "k_minus2": "1/time",
}


@dataclass(frozen=True)
class LogUniformFactor(Distribution):
    """Per-cell multiplicative factor ``exp(U(log lo, log hi))`` applied to the nominal value.

    Relative counterpart of :class:`models_bio.heterogeneity.LogUniform` (which takes absolute
    bounds); it follows the same :class:`~models_bio.heterogeneity.Distribution` protocol.

    Parameters
    ----------
    lo, hi : float
        Bounds of the factor, ``0 < lo <= hi``.
    """

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not (0.0 < self.lo <= self.hi < math.inf):
            raise ValueError(
                f"LogUniformFactor needs 0 < lo <= hi < inf; got ({self.lo}, {self.hi})"
            )

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        """Draw ``n`` per-cell values ``nominal * factor``; shape (n,)."""
        return nominal * np.exp(rng.uniform(math.log(self.lo), math.log(self.hi), size=n))

    def bounds(self, nominal: float) -> tuple[float, float]:
        """Support ``(nominal * lo, nominal * hi)`` for nominal >= 0."""
        return (nominal * self.lo, nominal * self.hi)


@dataclass(frozen=True)
class LatticeModel:
    """RPA–ssDNA lattice model (see the module docstring for events and references).

    Parameters
    ----------
    length : int
        Lattice length L in nucleotides; at least one 20-nt footprint (L >= 20).
    nominal : Mapping[str, float]
        Rates ``k1, k_minus1, k2, k_minus2`` in the dimensionless time unit 1/k1 (all >= 0).
    boundary : {"free", "periodic"}
        Free ends (default) or a ring.
    observed : tuple of str
        The observables a dataset reports by default; a subset of :attr:`observables`.
    heterogeneity : Mapping[str, Distribution]
        Declared per-cell extrinsic variation, parameter name -> distribution (any
        ``models_bio.heterogeneity`` class; default a relative :class:`LogUniformFactor`).
    """

    length: int = 1000
    nominal: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(dict(_NOMINAL)))
    boundary: str = "free"
    observed: tuple[str, ...] = ("c20", "c30")
    heterogeneity: Mapping[str, Distribution] = field(
        default_factory=lambda: MappingProxyType({"k_minus2": LogUniformFactor(0.3, 3.0)})
    )
    name: str = "rpa_dna"
    kind: str = "lattice"
    footprints: tuple[int, int] = (FOOTPRINT_20, FOOTPRINT_30)
    observables: tuple[str, ...] = OBSERVABLES
    time_units: str = "dimensionless"
    initial_state: str = "empty"

    def __post_init__(self) -> None:
        if isinstance(self.length, bool) or not isinstance(self.length, (int, np.integer)):
            raise TypeError(f"length must be an int number of nucleotides; got {self.length!r}")
        if self.length < FOOTPRINT_20:
            raise ValueError(
                f"lattice length {self.length} nt is shorter than one 20-nt RPA footprint; use length >= 20"
            )
        if self.boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}; got {self.boundary!r}")
        if set(self.nominal) != set(PARAMETER_NAMES):
            raise ValueError(
                f"rates must be exactly {PARAMETER_NAMES}; got {tuple(sorted(self.nominal))}"
            )
        for k, v in self.nominal.items():
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"rate {k} must be finite and >= 0; got {v}")
        unknown = set(self.heterogeneity) - set(PARAMETER_NAMES)
        if unknown:
            raise ValueError(f"heterogeneity names unknown parameters {sorted(unknown)}")
        for k, d in self.heterogeneity.items():
            if not isinstance(d, Distribution):
                raise TypeError(
                    f"heterogeneity[{k!r}] must be a models_bio Distribution; got {d!r}"
                )
        bad = [o for o in self.observed if o not in OBSERVABLES]
        if bad or not self.observed:
            raise ValueError(
                f"observed must be a non-empty subset of {OBSERVABLES}; got {self.observed}"
            )
        object.__setattr__(
            self, "nominal", MappingProxyType({k: float(self.nominal[k]) for k in PARAMETER_NAMES})
        )
        object.__setattr__(self, "heterogeneity", MappingProxyType(dict(self.heterogeneity)))
        object.__setattr__(self, "length", int(self.length))
        object.__setattr__(self, "observed", tuple(self.observed))

    def __hash__(self) -> int:
        items = (tuple(self.nominal.items()), tuple(self.heterogeneity.items()))
        return hash((self.name, self.length, self.boundary, self.observed, *items))

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the rate parameters, in a fixed order."""
        return PARAMETER_NAMES

    @property
    def nominal_values(self) -> np.ndarray:
        """Nominal rates in :attr:`parameter_names` order; shape (4,), units 1/time."""
        return np.array([self.nominal[k] for k in PARAMETER_NAMES])

    @property
    def parameter_units(self) -> Mapping[str, str]:
        """Units of each rate parameter."""
        return MappingProxyType(dict(_UNITS))

    @property
    def binding_constants(self) -> tuple[float, float]:
        """Equilibrium constants ``(a, b) = (k1/k_minus1, a*k2/k_minus2)`` (inf when divided by 0)."""
        p = self.nominal
        with np.errstate(divide="ignore", invalid="ignore"):
            a = float(np.divide(p["k1"], p["k_minus1"]))
            b = float(np.divide(a * p["k2"], p["k_minus2"])) if p["k2"] > 0 else 0.0
        return a, b


def rpa_dna(
    length: int = 1000,
    boundary: str = "free",
    *,
    observed: tuple[str, ...] = ("c20", "c30"),
    heterogeneity: Mapping[str, Distribution] | None = None,
    **rates: float,
) -> LatticeModel:
    """Build the RPA–ssDNA :class:`LatticeModel`; unnamed rates take the nominal defaults.

    Parameters
    ----------
    length : int
        Lattice length L (nt), >= 20.
    boundary : {"free", "periodic"}
    observed : tuple of str
        Default observables, from ``("n20", "n30", "c20", "c30", "c_empty")``.
    heterogeneity : Mapping[str, Distribution], optional
        Defaults to ``{"k_minus2": LogUniformFactor(0.3, 3.0)}`` (the authors' one-dimensional ω).
    **rates : float
        Any of ``k1=1, k_minus1=0.1, k2=1, k_minus2=1`` (units 1/time, time unit 1/k1).
    """
    unknown = set(rates) - set(PARAMETER_NAMES)
    if unknown:
        raise ValueError(f"unknown rate(s) {sorted(unknown)}; expected some of {PARAMETER_NAMES}")
    nominal = {**_NOMINAL, **{k: float(v) for k, v in rates.items()}}
    kwargs = {} if heterogeneity is None else {"heterogeneity": heterogeneity}
    return LatticeModel(
        length=length, nominal=nominal, boundary=boundary, observed=observed, **kwargs
    )


class InfiniteEquilibrium(NamedTuple):
    """Infinite-lattice equilibrium: root ``s`` and coverage fractions (sum to 1)."""

    s: float
    c20: float
    c30: float
    c_empty: float


class FiniteEquilibrium(NamedTuple):
    """Exact stationary means on a finite free-ends lattice of L nt."""

    n20: float
    n30: float
    c20: float
    c30: float
    c_empty: float


def _root(a: float, b: float) -> float:
    """Root s in (0, 1] of ``s + a s^20 + b s^30 = 1`` (bisection, then Newton polish)."""
    if a < 0 or b < 0 or not (np.isfinite(a) and np.isfinite(b)):
        raise ValueError(f"a and b must be finite and >= 0; got a={a}, b={b}")
    f = lambda s: s + a * s**20 + b * s**30 - 1.0  # noqa: E731 (increasing on [0, 1])
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        if hi - lo < 1e-15:
            break
    s = 0.5 * (lo + hi)
    for _ in range(3):
        d = 1.0 + 20 * a * s**19 + 30 * b * s**29
        s -= f(s) / d
    return float(s)


def equilibrium_coverage(a: float, b: float) -> InfiniteEquilibrium:
    """Coverage fractions on an infinite lattice at equilibrium.

    ``s`` solves ``s + a s^20 + b s^30 = 1``; with ``D = s + 20 a s^20 + 30 b s^30``,
    ``c20 = 20 a s^20 / D``, ``c30 = 30 b s^30 / D``, ``c_empty = s / D``.

    Parameters
    ----------
    a, b : float
        ``a = k1/k_minus1`` and ``b = a k2/k_minus2`` (dimensionless, >= 0).
    """
    s = _root(a, b)
    t20, t30 = a * s**20, b * s**30
    d = s + 20 * t20 + 30 * t30
    return InfiniteEquilibrium(s, 20 * t20 / d, 30 * t30 / d, s / d)


def finite_lattice_equilibrium(length: int, a: float, b: float) -> FiniteEquilibrium:
    """Exact stationary means for free ends from ``Z_m = Z_{m-1} + a Z_{m-20} + b Z_{m-30}``.

    ``E[n20] = a dlnZ_L/da`` and ``E[n30] = b dlnZ_L/db``; every ``Z_m`` and derivative is
    scaled by ``s**m`` (``s`` the infinite-lattice root) so the recursion cannot overflow.

    Parameters
    ----------
    length : int
        Lattice length L (nt), >= 0.
    a, b : float
        Equilibrium constants (>= 0).
    """
    if length < 0:
        raise ValueError(f"length must be >= 0; got {length}")
    s = _root(a, b)
    p20, p30 = a * s**20, b * s**30
    z = np.zeros(length + 1)  # scaled Z_m s^m
    da = np.zeros(length + 1)  # scaled dZ_m/da s^m
    db = np.zeros(length + 1)  # scaled dZ_m/db s^m
    z[0] = 1.0
    for m in range(1, length + 1):
        z[m] = s * z[m - 1]
        da[m] = s * da[m - 1]
        db[m] = s * db[m - 1]
        if m >= 20:
            z[m] += p20 * z[m - 20]
            da[m] += s**20 * z[m - 20] + p20 * da[m - 20]
            db[m] += p20 * db[m - 20]
        if m >= 30:
            z[m] += p30 * z[m - 30]
            da[m] += p30 * da[m - 30]
            db[m] += s**30 * z[m - 30] + p30 * db[m - 30]
    n20 = a * da[length] / z[length]
    n30 = b * db[length] / z[length]
    c20, c30 = (20 * n20 / length, 30 * n30 / length) if length else (0.0, 0.0)
    return FiniteEquilibrium(float(n20), float(n30), float(c20), float(c30), float(1 - c20 - c30))


def rsa_coverage(tau: float | np.ndarray, footprint: int = 20) -> np.ndarray:
    """Covered fraction of irreversible random sequential adsorption of k-mers (infinite lattice).

    ``θ(τ) = k ∫_0^τ exp[-u - 2 Σ_{j=1}^{k-1} (1 - e^{-j u})/j] du`` with ``τ = k1 t``
    (``tau = inf`` gives the jamming coverage, 0.75850 for k = 20 and 1 - e^-2 for k = 2).

    Parameters
    ----------
    tau : float or array
        Dimensionless time(s) ``k1 t`` >= 0; any shape.
    footprint : int
        k, the number of sites per adsorbed particle (>= 1).

    Returns
    -------
    ndarray
        θ with the shape of ``tau``.
    """
    tau = np.asarray(tau, dtype=float)
    if np.any(np.isnan(tau)) or np.any(tau < 0):
        raise ValueError("tau must be >= 0 (inf allowed for the jamming limit)")
    if footprint < 1:
        raise ValueError(f"footprint must be >= 1; got {footprint}")
    upper = np.minimum(tau, 60.0).reshape(-1)  # integrand < e^-60 beyond
    xg, wg = np.polynomial.legendre.leggauss(20)
    panels = 60
    j = np.arange(1, footprint)
    edges = np.linspace(0.0, 1.0, panels + 1)
    # nodes on [0, 1] in `panels` panels, then scaled to [0, upper]: (panels*20,)
    nodes = (edges[:-1, None] + (xg[None, :] + 1) / 2 / panels).reshape(-1)
    weights = np.tile(wg / 2 / panels, panels)
    u = upper[:, None] * nodes[None, :]  # (n_tau, nodes)
    expo = -u - 2 * ((1 - np.exp(-u[..., None] * j)) / j).sum(axis=-1)
    theta = footprint * upper * (np.exp(expo) * weights).sum(axis=1)
    return theta.reshape(tau.shape)
