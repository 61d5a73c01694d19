"""Random draws of the SBML ``distrib`` package: one sampler per distribution, vectorised.

The SBML Level 3 ``distrib`` package (Version 1) lets a formula draw a random number, e.g.
``normal(mu, sigma)``. In cellsde such a draw means one of two things:

* in an **initial assignment** with constant arguments it is extrinsic heterogeneity: the value
  differs from cell to cell but is fixed in time. The SBML reader turns it into a parameter whose
  declared heterogeneity is a :class:`Draw`, so ``simulate`` draws it per cell from its seed;
* in an **event assignment** it is drawn anew each time the event fires, in each cell. The
  expression language calls :func:`draw` through the array namespace (``namespace("numpy",
  rng=...)``), with the solver's generator.

Distributions and arguments (as in the distrib specification; the optional last two arguments
of all but ``uniform`` and ``bernoulli`` truncate the distribution to ``[lower, upper]``):

=============  ======================  ==========================================
name           arguments               meaning
=============  ======================  ==========================================
normal         mean, stdev             Gaussian
uniform        lower, upper            uniform on [lower, upper)
lognormal      mu, sigma               ``exp(normal(mu, sigma))``
exponential    rate                    mean ``1 / rate``
gamma          shape, scale            mean ``shape * scale``
chisquare      dof                     chi-squared
cauchy         location, scale         Cauchy (no mean)
laplace        location, scale         double exponential
rayleigh       scale                   Rayleigh
poisson        rate                    Poisson counts
binomial       trials, probability     binomial counts
bernoulli      probability             1 with this probability, else 0
=============  ======================  ==========================================

Truncation is by rejection (redrawing the values outside the bounds), which is exact; a bound
pair that holds almost no probability raises :class:`ValueError` instead of looping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from models_bio.heterogeneity import Distribution

_Sampler = Callable[..., np.ndarray]  # (rng, *args, size) -> draws


# name -> (number of parameters, sampler, mean as a function of the parameters or None)
_TABLE: dict[str, tuple[int, _Sampler, Callable[..., float] | None]] = {
    "normal": (2, lambda r, m, s, n: r.normal(m, s, n), lambda m, s: m),
    "uniform": (2, lambda r, lo, hi, n: r.uniform(lo, hi, n), lambda lo, hi: (lo + hi) / 2),
    "lognormal": (
        2,
        lambda r, m, s, n: r.lognormal(m, s, n),
        lambda m, s: math.exp(m + s * s / 2),
    ),
    "exponential": (1, lambda r, k, n: r.exponential(1.0 / np.asarray(k), n), lambda k: 1 / k),
    "gamma": (2, lambda r, a, b, n: r.gamma(a, b, n), lambda a, b: a * b),
    "chisquare": (1, lambda r, k, n: r.chisquare(k, n), lambda k: k),
    "cauchy": (2, lambda r, m, s, n: m + s * r.standard_cauchy(n), None),
    "laplace": (2, lambda r, m, s, n: r.laplace(m, s, n), lambda m, s: m),
    "rayleigh": (1, lambda r, s, n: r.rayleigh(s, n), lambda s: s * math.sqrt(math.pi / 2)),
    "poisson": (1, lambda r, k, n: r.poisson(k, n).astype(float), lambda k: k),
    "binomial": (
        2,
        lambda r, m, q, n: r.binomial(np.asarray(m).astype(np.int64), q, n).astype(float),
        lambda m, q: m * q,
    ),
    "bernoulli": (1, lambda r, q, n: (r.random(n) < q).astype(float), lambda q: q),
}
DRAWS: MappingProxyType[str, int] = MappingProxyType({k: v[0] for k, v in _TABLE.items()})
"""Distribution name -> number of parameters (truncation bounds excluded)."""
_NO_TRUNCATION = {"uniform", "bernoulli"}
_MAX_ROUNDS = 1000  # rejection rounds before a truncation is declared hopeless


def check_arity(name: str, n_args: int) -> None:
    """Raise ``ValueError`` unless ``name`` is a distribution that takes ``n_args`` arguments."""
    if name not in DRAWS:
        raise ValueError(f"unknown distribution {name!r}; known: {', '.join(DRAWS)}")
    allowed = {DRAWS[name]} | (set() if name in _NO_TRUNCATION else {DRAWS[name] + 2})
    if n_args not in allowed:
        raise ValueError(
            f"{name}() takes {' or '.join(map(str, sorted(allowed)))} arguments, got {n_args}"
        )


def draw(rng: np.random.Generator, name: str, args: tuple[Any, ...], shape: tuple[int, ...]):
    """Draws of distribution ``name`` with parameters ``args`` (scalars or arrays), shape ``shape``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    name : str
        A key of :data:`DRAWS`.
    args : tuple
        The distribution's parameters, then optionally ``lower, upper`` truncation bounds;
        each a scalar or an array broadcastable to ``shape``.
    shape : tuple of int
        Shape of the result (e.g. ``(cell,)``).

    Returns
    -------
    ndarray of float, shape ``shape``
    """
    check_arity(name, len(args))
    k, sampler, _ = _TABLE[name]
    params = [np.broadcast_to(np.asarray(a, dtype=float), shape) for a in args]
    out = np.asarray(sampler(rng, *params[:k], shape), dtype=float)
    if len(args) == k:
        return out
    lo, hi = params[k], params[k + 1]
    bad = ~((out >= lo) & (out <= hi))
    for _ in range(_MAX_ROUNDS):
        if not bad.any():
            return out
        idx = np.nonzero(bad)
        redo = sampler(rng, *(p[idx] for p in params[:k]), (len(idx[0]),))
        out[idx] = redo
        bad[idx] = ~((redo >= lo[idx]) & (redo <= hi[idx]))
    raise ValueError(
        f"{name}() truncated to [{float(lo[bad].ravel()[0])}, {float(hi[bad].ravel()[0])}]: "
        f"no draw inside the bounds after {_MAX_ROUNDS} rounds; check the bounds"
    )


@dataclass(frozen=True)
class Draw(Distribution):
    """A ``distrib`` draw as declared heterogeneity: absolute values, ``nominal`` is ignored.

    Parameters
    ----------
    name : str
        A key of :data:`DRAWS` (``"normal"``, ``"uniform"``...).
    args : tuple of float
        The distribution's parameters, optionally followed by truncation bounds.
    """

    name: str
    args: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(float(a) for a in self.args))
        check_arity(self.name, len(self.args))

    @property
    def mean(self) -> float:
        """The mean of the untruncated distribution (the location for ``cauchy``)."""
        k, _, mean = _TABLE[self.name]
        return float(mean(*self.args[:k])) if mean is not None else self.args[0]

    def sample(self, rng: np.random.Generator, n: int, nominal: float) -> np.ndarray:
        return draw(rng, self.name, self.args, (n,))

    def bounds(self, nominal: float) -> tuple[float, float]:
        k = DRAWS[self.name]
        if len(self.args) > k:
            return (self.args[k], self.args[k + 1])
        if self.name in ("uniform",):
            return (self.args[0], self.args[1])
        positive = {"lognormal", "exponential", "gamma", "chisquare", "rayleigh", "poisson"}
        if self.name in positive | {"binomial", "bernoulli"}:
            top = {"binomial": self.args[0], "bernoulli": 1.0}.get(self.name, math.inf)
            return (0.0, top)
        return (-math.inf, math.inf)


def bind_draws(
    ns: Any, rng: Any, shape_of: Callable[[Any], tuple[int, ...]], *, error: type[Exception]
) -> None:
    """Give the array namespace ``ns`` one function per distribution, drawing from ``rng``.

    The expression language calls ``name(*parameters, state)`` (it appends the state, whose
    leading axes are the batch shape given by ``shape_of``). Without ``rng`` a draw raises
    ``error`` (the caller's error class: this module knows no expression language).
    """

    def bind(name: str) -> Callable[..., Any]:
        def sample(*args: Any) -> Any:
            if rng is None:
                raise error(
                    f"{name}() draws random numbers; evaluate it in a namespace made with a "
                    "generator: namespace('numpy', rng=numpy.random.default_rng(seed))"
                )
            *params, like = args
            shape = shape_of(like)
            for a in params:
                shape = tuple(int(v) for v in np.broadcast_shapes(shape, np.shape(a)))
            return draw(rng, name, tuple(params), shape)

        return sample

    for name in DRAWS:
        setattr(ns, name, bind(name))
