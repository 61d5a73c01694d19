"""Drift, sparse Jacobian and parameter derivatives of a reaction network, species-major.

Implicit solvers and their adjoints need, at every step, the drift ``f(x, p, t)``, the
Jacobian ``df/dx`` and products with ``df/dp``. :class:`SparseKinetics` compiles all three
from the network once: the rate laws and their exact symbolic derivatives
(:mod:`models_bio.derivatives`) become straight-line vectorised programs, and the
stoichiometry becomes sparse matrices that map reaction rates (and their derivatives) to
species.

Layout is *species-major*: states are (species, cell) and parameters (parameter, cell), so
that every symbol a program reads is one contiguous row and a population of cells costs one
numpy call per term. Jacobian values are (entry, cell) in the order of :attr:`pattern`.

The drift is ``f_i = sum_r C[i, r] v_r``: reaction ``r`` contributes its net stoichiometric
coefficient divided by the species' compartment volume, and each rate rule contributes its
expression to its target with coefficient 1. Coefficients that are parameters (volume-scale
factors such as Guo 2024's ``p9n2``) are read per cell. Species in ``hold`` have zero drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from models_bio.derivatives import derivative
from models_bio.expressions import compile_program, namespace, symbols

if TYPE_CHECKING:
    from models_bio.network import ReactionNetwork


class _Program:
    """Many expressions compiled into one straight-line function returning (expression, cell).

    (A gather-and-multiply fast path for products of names was measured slower than this
    for populations of 1000 cells, so every expression goes through the compiled program.)
    """

    def __init__(self, exprs, *, species, params, rules, fixed) -> None:
        inputs = {q: f"_x_[{i}]" for i, q in enumerate(species)}
        inputs.update({q: f"_p_[{i}]" for i, q in enumerate(params)})
        inputs.update({q: repr(float(v)) for q, v in fixed.items()})  # literals, not rows
        inputs["time"] = "_t_"
        self._n = len(exprs)
        self._program = compile_program(exprs, inputs=inputs, assignments=rules, stack=False)
        self._ns = namespace("numpy")

    def __call__(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        out = np.empty((self._n, x.shape[1]))
        for m, v in enumerate(self._program(x, p, t, self._ns)):
            out[m] = v
        return out


class SparseKinetics:
    """Species-major drift, sparse Jacobian and parameter derivatives of a network.

    Parameters
    ----------
    network : ReactionNetwork
        The model.
    params : sequence of str
        Parameters whose derivatives :meth:`vjp_params` returns (the free parameters of a
        calibration); may be empty.
    hold : sequence of str
        Species held constant (zero drift), e.g. the stimulus during a basal steady state.
    fixed : mapping of str to float, optional
        Parameters that have this value in every cell: compiled as literals (scalar
        arithmetic, and numpy's fast paths for powers such as ``x**2``), so their rows of
        ``p`` are never read. Free parameters cannot be fixed.

    Attributes
    ----------
    pattern : tuple of (ndarray, ndarray)
        Rows and columns of the structurally nonzero entries of ``df/dx`` (live species only).
    coefficients : ndarray, shape (species, flux)
        ``C`` at the nominal values of coefficient parameters (rows of held species are 0).
    """

    def __init__(
        self,
        network: ReactionNetwork,
        *,
        params: Sequence[str] = (),
        hold: Sequence[str] = (),
        fixed: Mapping[str, float] | None = None,
    ) -> None:
        sp_names, pn = network.species_names, network.parameter_names
        unknown = sorted(set(params) - set(pn))
        if unknown:
            raise KeyError(f"unknown parameter(s) {unknown} of model {network.name!r}")
        unknown = sorted(set(hold) - set(sp_names))
        if unknown:
            raise KeyError(f"hold names unknown species {unknown}")
        fixed = dict(fixed or {})
        unknown = sorted(set(fixed) - set(pn))
        if unknown:
            raise KeyError(f"fixed names unknown parameter(s) {unknown} of model {network.name!r}")
        both = sorted(set(fixed) & set(params))
        if both:
            raise ValueError(f"parameter(s) {both} cannot be both free and fixed")
        kin = network.kinetics
        self.n_species, self.n_params = len(sp_names), len(pn)
        self.params = tuple(params)
        rules = network.assignment_rules
        # fluxes: the reactions, then one per rate rule
        targets = list(network.rate_rules)
        laws = [r.law for r in network.reactions] + [network.rate_rules[s] for s in targets]
        n_r = len(network.reactions)
        live = np.array([s not in set(hold) for s in sp_names], dtype=float)
        coef = np.zeros((self.n_species, len(laws)))  # C (species, flux), constant part
        coef[:, :n_r] = (kin._stoich_const / kin.volumes).T
        for m, s in enumerate(targets):
            coef[sp_names.index(s), n_r + m] = 1.0
        coef *= live[:, None]
        # coefficients that are parameters: (flux, species, parameter, sign / volume)
        self._param_coef = [
            (j, i, k, sign / kin.volumes[i]) for j, i, k, sign in kin._stoich_param if live[i]
        ]
        nominal = coef.copy()
        for j, i, k, w in self._param_coef:
            nominal[i, j] += w * network.parameters[k].value
        self.coefficients = nominal
        self._coef = sp.csr_matrix(coef)
        self._coef_t = self._coef.T.tocsr()
        names = dict(species=sp_names, params=pn, rules=rules, fixed=fixed)
        self._fluxes = _Program(laws, **names)
        # d flux / d species and d flux / d parameter: the nonzero terms
        dx_terms, dp_terms = [], []
        for j, law in enumerate(laws):
            reads = _reads(law, rules)
            for i, q in enumerate(sp_names):
                if q in reads and (d := derivative(law, q, assignments=rules)) is not None:
                    dx_terms.append((j, i, d))
            for i, q in enumerate(self.params):
                if q in reads and (d := derivative(law, q, assignments=rules)) is not None:
                    dp_terms.append((j, i, d))
        self._dx = _Program([d for *_, d in dx_terms], **names)
        self._dp = _Program([d for *_, d in dp_terms], **names)
        # Jacobian entry (i, k) = sum_j C[i, j] dv_j/dx_k: a sparse map from the terms
        per_flux = {j: [] for j in range(len(laws))}
        for j, i, k, w in self._param_coef:
            per_flux[j].append((i, k, w))
        entries: dict[tuple[int, int], int] = {}
        rows, cols, vals, self._dx_param = [], [], [], []
        for t, (j, k, _) in enumerate(dx_terms):
            for i in np.flatnonzero(coef[:, j]).tolist():
                rows.append(entries.setdefault((i, k), len(entries)))
                cols.append(t)
                vals.append(coef[i, j])
            for i, q, w in per_flux[j]:  # per-cell coefficient: added in jacobian()
                self._dx_param.append((entries.setdefault((i, k), len(entries)), q, w, t))
        self.pattern = (
            np.array([i for i, _ in entries], dtype=int),
            np.array([k for _, k in entries], dtype=int),
        )
        self._assemble = sp.csr_matrix((vals, (rows, cols)), shape=(len(entries), len(dx_terms)))
        self._dp_flux = np.array([j for j, _, _ in dp_terms], dtype=int)
        self._dp_param = np.array([q for _, q, _ in dp_terms], dtype=int)
        self._dp_scatter = sp.csr_matrix(
            (np.ones(len(dp_terms)), (self._dp_flux, np.arange(len(dp_terms)))),
            shape=(len(laws), len(dp_terms)),
        )
        self._dp_sum = sp.csr_matrix(
            (np.ones(len(dp_terms)), ([q for _, q, _ in dp_terms], np.arange(len(dp_terms)))),
            shape=(len(self.params), len(dp_terms)),
        )
        free = {name: q for q, name in enumerate(self.params)}
        self._coef_params = [  # coefficient parameters that are free: d f_i / d p = w v_j
            (j, i, free[pn[k]], w) for j, i, k, w in self._param_coef if pn[k] in free
        ]
        # transposed Jacobian products: gather-multiply, then sum by row or by column
        r_, c_ = self.pattern
        self._sum_rows = sp.csr_matrix((np.ones(r_.size), (r_, np.arange(r_.size))),
                                       shape=(self.n_species, r_.size))  # fmt: skip
        self._sum_cols = sp.csr_matrix((np.ones(c_.size), (c_, np.arange(c_.size))),
                                       shape=(self.n_species, c_.size))  # fmt: skip

    # -- evaluation ---------------------------------------------------------------------
    def fluxes(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        """Reaction rates then rate-rule values, shape (flux, cell)."""
        return self._fluxes(x, p, t)

    def drift(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        """``dx/dt``, shape (species, cell), for ``x`` (species, cell) and ``p`` (parameter, cell)."""
        v = self._fluxes(x, p, t)
        f = self._coef @ v
        for j, i, k, w in self._param_coef:
            f[i] += w * p[k] * v[j]
        return f

    def jacobian(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        """Values of ``df/dx`` at the entries of :attr:`pattern`, shape (entry, cell)."""
        d = self._dx(x, p, t)  # (term, cell)
        out = self._assemble @ d
        for e, q, w, term in self._dx_param:
            out[e] += w * p[q] * d[term]
        return out

    def matvec(self, jac: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``J v`` per cell for Jacobian values ``jac`` (entry, cell) and ``v`` (species, cell[, k])."""
        return _product(self._sum_rows, jac, v[self.pattern[1]])

    def rmatvec(self, jac: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``J^T w`` per cell (the adjoint's product), shape (species, cell[, k])."""
        return _product(self._sum_cols, jac, w[self.pattern[0]])

    def vjp_params(self, x: np.ndarray, p: np.ndarray, t: float, w: np.ndarray) -> np.ndarray:
        """``(df/dp)^T w`` for the parameters in ``params``, shape (param, cell)."""
        if not self.params:
            return np.zeros((0, x.shape[1]))
        u = self._coef_t @ w  # (flux, cell): sum_i C[i, j] w_i
        for j, i, k, c in self._param_coef:
            u[j] += c * p[k] * w[i]
        out = self._dp_sum @ (u[self._dp_flux] * self._dp(x, p, t))
        if self._coef_params:
            v = self._fluxes(x, p, t)
            for j, i, q, c in self._coef_params:
                out[q] += c * v[j] * w[i]
        return out

    def jvp_params(self, x: np.ndarray, p: np.ndarray, t: float, v: np.ndarray) -> np.ndarray:
        """``(df/dp) v`` for directions ``v`` (param, cell, direction), shape (species, cell, direction)."""
        dp = self._dp(x, p, t)  # (term, cell)
        n_flux = self._coef.shape[1]
        terms = (dp[..., None] * v[self._dp_param]).reshape(dp.shape[0], -1)
        u = (self._dp_scatter @ terms).reshape(n_flux, *v.shape[1:])  # d flux per direction
        out = self._coef @ u.reshape(n_flux, -1)
        out = out.reshape(self.n_species, *v.shape[1:])
        for j, i, k, w in self._param_coef:
            out[i] += w * p[k][:, None] * u[j]
        if self._coef_params:
            flux = self._fluxes(x, p, t)
            for j, i, q, c in self._coef_params:
                out[i] += c * flux[j][:, None] * v[q]
        return out


def _product(summation: sp.csr_matrix, jac: np.ndarray, gathered: np.ndarray) -> np.ndarray:
    """Sum ``jac * gathered`` over entries into species (trailing dims kept)."""
    terms = jac.reshape(jac.shape + (1,) * (gathered.ndim - 2)) * gathered
    out = summation @ terms.reshape(terms.shape[0], -1)
    return out.reshape(summation.shape[0], *gathered.shape[1:])


def _reads(law: str, rules: Sequence[tuple[str, str]]) -> frozenset[str]:
    """Every symbol ``law`` depends on, through the assignment rules."""
    names, rule_map = set(symbols(law)), dict(rules)
    todo = [n for n in names if n in rule_map]
    while todo:
        extra = symbols(rule_map[todo.pop()]) - names
        names |= extra
        todo += [n for n in extra if n in rule_map]
    return frozenset(names)
