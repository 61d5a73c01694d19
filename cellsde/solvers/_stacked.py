"""Stacked right-hand side and block-diagonal Jacobian of many independent cells.

Used by :mod:`cellsde.solvers.ode`. The state of ``n`` cells is one flat vector
``(cell * species,)``; the Jacobian is block diagonal with one (species, species) block per
cell, computed by forward differences with ``species + 1`` vectorised drift evaluations.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from models_bio.network import ReactionNetwork


def _block_jacobian(f, t: float, x: np.ndarray, p: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Forward-difference Jacobian blocks, shape (cell, species, species): ``J[c, i, k] = df_i/dx_k``."""
    n, s = x.shape
    jac = np.empty((n, s, s))
    for k in range(s):
        h = np.sqrt(np.finfo(float).eps) * np.maximum(np.abs(x[:, k]), 1.0)  # (cell,)
        xk = x.copy()
        xk[:, k] += h
        jac[:, :, k] = (f(xk, p, t) - f0) / h[:, None]
    return jac


class MassAction:
    """Fast drift of a pure mass-action network (no rules, constant stoichiometry).

    ``kinetics.drift`` evaluates compiled expressions one reaction at a time; here the rates
    are ``k_j * prod_i x_i ** order_ij`` with index arrays, a few numpy calls per evaluation.
    """

    def __init__(self, network: ReactionNetwork) -> None:
        kin, sp_names, pn = network.kinetics, network.species_names, network.parameter_names
        width = max([len(r.reactants) for r in network.reactions] + [1])
        self.k_idx = np.array([pn.index(r.rate) for r in network.reactions], dtype=int)
        self.r_idx = np.full((len(network.reactions), width), len(sp_names))  # pad -> ones
        self.order = np.zeros((len(network.reactions), width))
        for j, r in enumerate(network.reactions):
            for m, (name, c) in enumerate(r.reactants.items()):
                self.r_idx[j, m], self.order[j, m] = sp_names.index(name), float(c)
        self.unit_order = bool(np.all(np.isin(self.order, (0.0, 1.0))))
        self.s_over_v = (
            kin.stoichiometry(np.zeros((1, len(pn)))) / kin.volumes
        )  # (reaction, species)

    @staticmethod
    def applies(network: ReactionNetwork) -> bool:
        kin = network.kinetics
        return (
            bool(network.reactions)
            and all(r.mass_action for r in network.reactions)
            and kin.stoichiometry_is_constant
            and not network.assignment_rules
            and not network.rate_rules
            and all(
                isinstance(c, int | float) for r in network.reactions for c in r.reactants.values()
            )
        )

    def __call__(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        xp = np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)[:, self.r_idx]
        if not self.unit_order:
            xp = xp**self.order
        v = p[:, self.k_idx] * xp.prod(axis=2)  # (cell, reaction)
        return v @ self.s_over_v


class Stacked:
    """The stacked right-hand side and Jacobian of ``n`` cells for :func:`solve_ivp`."""

    def __init__(self, network: ReactionNetwork, p: np.ndarray, frozen: np.ndarray) -> None:
        self.drift = MassAction(network) if MassAction.applies(network) else network.kinetics.drift
        self.kin = network.kinetics
        self.p = p  # (cell, parameter)
        self.n, self.s = p.shape[0], self.kin.n_species
        self.live = (~frozen).astype(float)  # (species,) 0 where held constant
        blk = np.arange(self.n)[:, None, None] * self.s
        ii, kk = np.meshgrid(np.arange(self.s), np.arange(self.s), indexing="ij")
        self.rows = (blk + ii[None]).ravel()
        self.cols = (blk + kk[None]).ravel()

    def f(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        return self.drift(x, p, t) * self.live

    def fun(self, t: float, y: np.ndarray) -> np.ndarray:
        return self.f(y.reshape(self.n, self.s), self.p, t).ravel()

    def jac(self, t: float, y: np.ndarray, banded: bool):
        """Block-diagonal Jacobian: sparse (BDF/Radau) or LSODA's packed banded form."""
        x = y.reshape(self.n, self.s)
        blocks = _block_jacobian(self.f, t, x, self.p, self.f(x, self.p, t))
        d = self.n * self.s
        if banded:  # packed[uband + i - k, k] = J[i, k] with uband = lband = species - 1
            packed = np.zeros((2 * self.s - 1, d))
            packed[self.s - 1 + self.rows - self.cols, self.cols] = blocks.ravel()
            return packed
        return sp.csc_matrix((blocks.ravel(), (self.rows, self.cols)), shape=(d, d))
