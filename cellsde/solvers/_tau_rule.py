"""The Cao-Gillespie-Petzold step-size rule on arrays, and the array operations it runs on.

:func:`step_bounds` is steps 1 and 2 of :mod:`cellsde.solvers.tau_leap` (the critical
reactions of CGP widened by the Salis-Kaznessis rule for low-copy products, and the leap each
species allows) for every active cell at once; :class:`Constants` holds the
per-network arrays it reads; :class:`NumpyOps` and :class:`TorchOps` give the few array
operations the lockstep loop needs on numpy or torch. The compiled kernel
(:mod:`cellsde.solvers._kernels`) does the same arithmetic cell by cell. Benchmarks read
the rule from here to measure how long a leap can be along exact SSA paths.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cellsde.solvers._stochastic import numpy_generator, torch_generator


def step_bounds(
    xp: Any, c: Any, xe: Any, a: Any, epsilon: float, n_critical: float
) -> tuple[Any, Any, Any]:
    """The CGP rule's pieces at one state of every active cell (steps 1 and 2 of the module).

    Parameters
    ----------
    xp, c
        Array operations (:class:`NumpyOps` or :class:`TorchOps`) and :class:`Constants`.
    xe : array, shape (species + 1, active)
        Extended counts (last row ones).
    a : array, shape (reaction, active)
        Propensities.
    epsilon, n_critical : float
        As in :func:`tau_leap`.

    Returns
    -------
    crit : array of bool, shape (reaction, active)
        Critical reactions (fired exactly).
    a_nc : array, shape (reaction, active)
        Propensities of the non-critical reactions (0 where critical).
    tau_i : array, shape (species, active)
        The leap each species allows (inf where it does not limit); ``tau1`` is its minimum.
    """
    xs = xe[:-1]
    room = xp.amin(xp.floor(xe[c.cons_idx] / c.cons_nu), 1)  # (reaction, active)
    crit = (a > 0) & (room < n_critical)
    a_nc = xp.where(crit, 0.0, a)
    mu = xp.combine(c.nu_t, a_nc)  # (species, active)
    s2 = xp.combine(c.nu2_t, a_nc)
    g = c.g_base + c.g_c1 / xp.clip(xs - 1, 1) + c.g_c2 / xp.clip(xs - 2, 1)
    bound = xp.clip(epsilon * xs / g, 1.0)
    tau_i = xp.minimum(bound / abs(mu), bound**2 / s2)  # inf where mu = s2 = 0
    return crit, a_nc, xp.where(c.reactant_species, tau_i, np.inf)


class NumpyOps:
    """The few array operations of the loop, on numpy."""

    def __init__(self, seed: Any) -> None:
        self.rng = numpy_generator(seed)

    asarray = staticmethod(lambda a: np.asarray(a, dtype=float))
    ones = staticmethod(lambda shape: np.ones(shape))
    full = staticmethod(lambda n, v: np.full(n, v))
    where, minimum, floor = staticmethod(np.where), staticmethod(np.minimum), staticmethod(np.floor)
    amin = staticmethod(lambda a, axis: a.min(axis))
    clip = staticmethod(lambda a, lo: np.maximum(a, lo))
    cumsum = staticmethod(lambda a: np.cumsum(a, 0))
    nonzero = staticmethod(np.flatnonzero)
    numpy = staticmethod(lambda a: a)

    @staticmethod
    def combine(nu_t: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``nu_t @ a`` (species, active) summed over reactions in order (as compiled)."""
        return (nu_t[:, :, None] * a[None]).sum(1)

    def exponential(self, shape: tuple) -> np.ndarray:
        return np.maximum(self.rng.standard_exponential(shape), 5e-324)

    def rand(self, shape: tuple) -> np.ndarray:
        return self.rng.random(shape)

    def poisson(self, lam: np.ndarray) -> np.ndarray:
        return self.rng.poisson(lam).astype(float)


class TorchOps:
    """The same operations on torch tensors on ``device``."""

    def __init__(self, seed: Any, device: Any) -> None:
        import torch

        self.torch, self.dev = torch, torch.device(device)
        self.f64 = {"dtype": torch.float64, "device": self.dev}
        self.gen = torch_generator(seed, self.dev)

    def asarray(self, a: Any) -> Any:
        return self.torch.as_tensor(a, **self.f64)

    def ones(self, shape: tuple) -> Any:
        return self.torch.ones(shape, **self.f64)

    def full(self, n: int, v: float) -> Any:
        return self.torch.full((n,), v, **self.f64)

    def where(self, c: Any, a: Any, b: Any) -> Any:
        return self.torch.where(c, a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.torch.minimum(a, b)

    def floor(self, a: Any) -> Any:
        return self.torch.floor(a)

    def amin(self, a: Any, axis: int) -> Any:
        return a.amin(axis)

    def clip(self, a: Any, lo: float) -> Any:
        return a.clamp(min=lo)

    def cumsum(self, a: Any) -> Any:
        return self.torch.cumsum(a, 0)

    def nonzero(self, m: Any) -> Any:
        return self.torch.nonzero(m).flatten()

    def numpy(self, a: Any) -> np.ndarray:
        return a.cpu().numpy()

    def combine(self, nu_t: Any, a: Any) -> Any:
        return nu_t @ a

    def exponential(self, shape: tuple) -> Any:
        e = self.torch.empty(shape, **self.f64).exponential_(generator=self.gen)
        return e.clamp_(min=5e-324)

    def rand(self, shape: tuple) -> Any:
        return self.torch.rand(shape, generator=self.gen, **self.f64)

    def poisson(self, lam: Any) -> Any:
        return self.torch.poisson(lam, generator=self.gen)


class Constants:
    """Per-network tensors of the step-size rule (shapes in comments)."""

    def __init__(self, network: Any, stoich: np.ndarray, xp: Any) -> None:
        n_reac, n_sp = stoich.shape
        read = np.zeros(n_sp, dtype=bool)  # species some propensity reads (a reactant)
        for r in network.reactions:
            read[[network.species_names.index(s) for s in r.reactants]] = True
        # watched species of each reaction: those it consumes (room: firings until exhausted)
        # and the read species it produces (room: their count; a leap must not move a low-copy
        # species the rates depend on)
        watched = [
            np.flatnonzero((stoich[j] < 0) | ((stoich[j] > 0) & read)) for j in range(n_reac)
        ]
        width = max([1, *(len(ix) for ix in watched)])
        idx = np.full((n_reac, width), n_sp)  # padding points at the ones row
        nu = np.full((n_reac, width), 1e-300)  # ... and never limits
        for j, ix in enumerate(watched):
            idx[j, : len(ix)] = ix
            nu[j, : len(ix)] = np.where(stoich[j, ix] < 0, -stoich[j, ix], 1.0)
        self.cons_idx = (
            idx if isinstance(xp, NumpyOps) else xp.torch.as_tensor(idx, device=xp.dev)
        )  # (reaction, watched)
        self.cons_nu = xp.asarray(nu)[..., None]  # (reaction, watched, 1)
        self.nu_t = xp.asarray(stoich.T.copy())  # (species, reaction)
        self.nu2_t = self.nu_t**2
        self.free = xp.asarray((stoich == 0).all(0))[:, None] > 0  # (species, 1) no reaction moves
        self.arange_r = xp.asarray(np.arange(n_reac))[:, None]  # (reaction, 1)
        # Highest order of reaction (hor) per species and the number of copies it consumes.
        hor = np.zeros(n_sp)
        copies = np.zeros(n_sp)
        for r in network.reactions:
            order = sum(round(float(v)) for v in r.reactants.values())
            for s, v in r.reactants.items():
                i = network.species_names.index(s)
                v = round(float(v))
                if order > hor[i] or (order == hor[i] and v > copies[i]):
                    hor[i], copies[i] = order, v
        base, c1, c2 = hor.copy(), np.zeros(n_sp), np.zeros(n_sp)
        c1[(hor == 2) & (copies == 2)] = 1.0
        c1[(hor == 3) & (copies == 2)] = 1.5
        c1[(hor == 3) & (copies == 3)] = 1.0
        c2[(hor == 3) & (copies == 3)] = 2.0
        self.g_base = xp.asarray(np.maximum(base, 1.0))[:, None]  # (species, 1)
        self.g_c1 = xp.asarray(c1)[:, None]
        self.g_c2 = xp.asarray(c2)[:, None]
        self.reactant_species = xp.asarray(hor > 0)[:, None] > 0
