"""The compiled (numba) kernels of the stochastic solvers, in one file.

numba caches a compiled function per source file and notices changes to that file only: a
kernel that inlines a helper from another file would keep a stale copy of it after an edit.
So the three pieces that compile together live here, and any edit recompiles all of them.
Importing this module imports numba (see :func:`cellsde.solvers._backend.numba_installed`).

Mass-action propensities and tables
-----------------------------------
A mass-action propensity is ``a_j = K_j * prod_f (n[i_jf] - m_jf)`` (falling factorials;
padding factors point at the extra ones row of the state), exactly as
:class:`cellsde.solvers._stochastic.Propensities` computes it on arrays. :func:`propensity`
multiplies the factors in the same order, so the compiled kernels get the same bits as the
numpy backend.

:class:`Tables` adds what a per-cell event loop needs: the sparse net change of each reaction
and its *dependency graph* (the reactions whose propensity reads a species it changes), so an
event recomputes only the propensities it changes.

Exact SSA block (:func:`run_block`)
-----------------------------------
:func:`run_block` advances every active cell by up to ``n_it`` Gillespie direct-method events,
reading the same random numbers ``e[b, c]``, ``u[b, c]`` the numpy lockstep loop of
:mod:`cellsde.solvers.ssa` reads at iteration ``b`` for cell ``c``, and doing the arithmetic
that decides the next event in the same order (sequential cumulative sums, the waiting time
``e / a0``, the first ``j`` with ``s_j > u a0``). Both backends therefore give the same
output for the same seed, bit for bit.

Per event a cell recomputes only the propensities the fired reaction changes (its dependency
graph, :class:`Tables`), then one pass over the reactions forms ``a0`` and a second, which
usually stops early, forms the partial sums again (same order, same bits) until the
selection: ``O(reactions)`` flops per event with no array temporaries, close to the physical
limit of one propensity update per event. A finished cell stops at once (the numpy loop lets
it idle to the end of the block; its state no longer reaches the output).

Tau-leaping iterations (:func:`run_iterations`)
-----------------------------------------------
:func:`run_iterations` performs the iterations of :mod:`cellsde.solvers.tau_leap`'s numpy
loop, one cell at a time inside each iteration, with the same arithmetic in the same order
(sequential sums over reactions) and the same draws from the same numpy Generator: per
iteration one Exp(1) per active cell, then one U(0, 1) per active cell, then the Poisson
counts reaction by reaction over the cells that leap (a Poisson draw with mean 0 takes no
number from the stream, in numba as in numpy). The two backends therefore give the same
output for the same seed, bit for bit. Cells stay in lockstep because the numpy backend draws
each kind of number for all cells at once; compiled, an iteration costs
``O(cells x (reactions x factors + nonzero stoichiometry))`` flops with no temporaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from cellsde.solvers._stochastic import Propensities

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}  # numpy: x / 0 is inf, no raise


@numba.njit(**JIT)
def propensity(j: int, k: float, x: np.ndarray, index: np.ndarray, offset: np.ndarray) -> float:
    """Propensity of reaction ``j`` with coefficient ``k`` at extended counts ``x`` (species + 1,)."""
    a = k
    for f in range(index.shape[1]):
        a = a * (x[index[j, f]] - offset[j, f])
    return a


@dataclass(frozen=True)
class Tables:
    """A mass-action network as flat arrays (integer indices int64, values float64).

    Attributes
    ----------
    index, offset : ndarray, shape (reaction, factor)
        Propensity factors ``n[index] - offset`` (from :class:`Propensities`).
    change_ptr, change_species, change_value : ndarray
        CSR rows (reaction + 1,), (nonzero,), (nonzero,): the species each reaction changes and
        by how many molecules.
    dep_ptr, dep_reaction : ndarray
        CSR rows (reaction + 1,), (edge,): the reactions to recompute after each reaction.
    """

    index: np.ndarray
    offset: np.ndarray
    change_ptr: np.ndarray
    change_species: np.ndarray
    change_value: np.ndarray
    dep_ptr: np.ndarray
    dep_reaction: np.ndarray

    @classmethod
    def build(cls, prop: Propensities, stoich: np.ndarray) -> Tables:
        """Tables of the network behind ``prop``; ``stoich`` (reaction, species) net changes."""
        n_reac = stoich.shape[0]
        rows = [np.flatnonzero(stoich[j]) for j in range(n_reac)]
        reads = [set(prop.index[j].tolist()) for j in range(n_reac)]
        deps = [
            [r for r in range(n_reac) if reads[r] & set(rows[j].tolist())] for j in range(n_reac)
        ]
        return cls(
            index=np.ascontiguousarray(prop.index, dtype=np.int64),
            offset=np.ascontiguousarray(prop.offset, dtype=np.float64),
            change_ptr=_ptr(rows),
            change_species=_flat(rows, np.int64),
            change_value=np.array(
                [stoich[j, i] for j in range(n_reac) for i in rows[j]], dtype=float
            ),
            dep_ptr=_ptr(deps),
            dep_reaction=_flat(deps, np.int64),
        )


def _ptr(rows: list) -> np.ndarray:
    return np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)


def _flat(rows: list, dtype: type) -> np.ndarray:
    return np.array([v for r in rows for v in r], dtype=dtype)


@numba.njit(**JIT)
def _block(
    xe, t, coef, e, u, index, offset, c_ptr, c_sp, c_val, d_ptr, d_reac, out, ids, g, tnext, grid
):  # pragma: no cover - compiled; tested through ssa(backend="numba") against numpy
    n_ext, m = xe.shape
    n_sp, n_reac, n_it = n_ext - 1, index.shape[0], e.shape[0]
    n_times = grid.shape[0] - 1
    x = np.empty(n_ext)
    a = np.empty(n_reac)
    k = np.empty(n_reac)  # this cell's coefficients, contiguous (coef is cell-minor)
    for c in range(m):
        if g[c] >= n_times:
            continue
        for i in range(n_ext):
            x[i] = xe[i, c]
        for j in range(n_reac):
            k[j] = coef[j, c]
            a[j] = propensity(j, k[j], x, index, offset)
        tc, gc, tn, row = t[c], g[c], tnext[c], ids[c]
        for b in range(n_it):
            s = 0.0
            for j in range(n_reac):
                s += a[j]
            t_new = tc + e[b, c] / s
            while t_new > tn:  # output times the step passes get the state before it
                for i in range(n_sp):
                    out[row, gc, i] = x[i]
                gc += 1
                tn = grid[gc]
            tc = t_new
            if gc >= n_times:
                break
            if s > 0.0:
                # the first j with s_j > u a0; the partial sums s_j are formed again in
                # the same order (cheaper than storing them: the scan usually stops early)
                thr = u[b, c] * s
                j = 0
                sj = a[0]
                while j < n_reac - 1 and sj <= thr:
                    j += 1
                    sj += a[j]
                for q in range(c_ptr[j], c_ptr[j + 1]):
                    x[c_sp[q]] += c_val[q]
                for q in range(d_ptr[j], d_ptr[j + 1]):
                    r = d_reac[q]
                    a[r] = propensity(r, k[r], x, index, offset)
        for i in range(n_ext):
            xe[i, c] = x[i]
        t[c], g[c], tnext[c] = tc, gc, tn


def run_block(
    tables: Tables,
    xe: np.ndarray,
    t: np.ndarray,
    coef: np.ndarray,
    e: np.ndarray,
    u: np.ndarray,
    rec: object,
) -> None:
    """Advance every active cell by up to ``len(e)`` events, in place.

    Parameters
    ----------
    tables : Tables
        The network.
    xe : ndarray, shape (species + 1, active)
        Extended counts (last row ones); updated.
    t : ndarray, shape (active,)
        Current times; updated.
    coef : ndarray, shape (reaction, active)
        Mass-action coefficients ``K``.
    e, u : ndarray, shape (iteration, active)
        Exp(1) waiting-time draws (floored at the smallest double) and U(0, 1) selection draws.
    rec : GridRecorder
        Its ``out``, ``ids``, ``g``, ``tnext`` and ``grid`` are updated as cells pass output times.
    """
    tb = tables
    _block(
        xe, t, coef, e, u, tb.index, tb.offset, tb.change_ptr, tb.change_species,
        tb.change_value, tb.dep_ptr, tb.dep_reaction, rec.out, rec.ids, rec.g, rec.tnext, rec.grid,
    )  # fmt: skip


@numba.njit(**JIT)
def _iterate(
    n_iter, rng, xe, t, cap, coef, index, offset, c_ptr, c_sp, c_val, cons_idx, cons_nu,
    g_base, g_c1, g_c2, reactant, free, eps, n_critical, ssa_factor, out, ids, g, tnext, grid,
):  # fmt: skip  # pragma: no cover - compiled; tested through tau_leap(backend="numba")
    n_ext, m = xe.shape
    n_sp, n_reac, n_times = n_ext - 1, index.shape[0], grid.shape[0] - 1
    a = np.empty((n_reac, m))  # (reaction, active): propensities, then Poisson means
    crit = np.empty((n_reac, m), dtype=np.bool_)
    wsum, tau1, e, jr = np.empty(m), np.empty(m), np.empty(m), np.empty(m, dtype=np.int64)
    exact, fire = np.empty(m, dtype=np.bool_), np.empty(m, dtype=np.bool_)
    tau, t_new = np.empty(m), np.empty(m)
    mu, s2, x, k = np.empty(n_sp), np.empty(n_sp), np.empty(n_ext), np.empty(n_reac)
    for _ in range(n_iter):
        for c in range(m):  # step size of each live cell (finished cells only draw E and U)
            if g[c] >= n_times:
                continue
            for i in range(n_ext):
                x[i] = xe[i, c]
            a0 = 0.0
            for j in range(n_reac):
                aj = propensity(j, coef[j, c], x, index, offset)
                a[j, c] = aj
                a0 = aj if j == 0 else a0 + aj
                room = np.inf
                for f in range(cons_idx.shape[1]):
                    room = min(room, np.floor(x[cons_idx[j, f]] / cons_nu[j, f]))
                crit[j, c] = aj > 0.0 and room < n_critical
            mu[:] = 0.0
            s2[:] = 0.0
            for j in range(n_reac):
                if not crit[j, c]:
                    for q in range(c_ptr[j], c_ptr[j + 1]):
                        v = c_val[q]
                        mu[c_sp[q]] += v * a[j, c]
                        s2[c_sp[q]] += (v * v) * a[j, c]
            t1 = np.inf
            for i in range(n_sp):
                if reactant[i]:
                    gi = g_base[i] + g_c1[i] / max(x[i] - 1.0, 1.0) + g_c2[i] / max(x[i] - 2.0, 1.0)
                    bound = max(eps * x[i] / gi, 1.0)
                    t1 = min(t1, min(bound / abs(mu[i]), bound * bound / s2[i]))
            t1 = min(t1, cap[c])
            tau1[c] = t1
            exact[c] = t1 * a0 < ssa_factor
            w = 0.0
            for j in range(n_reac):
                if exact[c] or crit[j, c]:
                    w = a[j, c] if j == 0 else w + a[j, c]
            wsum[c] = w
        for c in range(m):
            e[c] = max(rng.standard_exponential(), 5e-324)
        for c in range(m):
            u = rng.random()
            if g[c] >= n_times:
                continue
            tau_exp = e[c] / wsum[c]
            leap = np.inf if exact[c] else tau1[c]
            dt_out = tnext[c] - t[c]
            tau[c] = min(min(tau_exp, leap), dt_out)
            fire[c] = tau_exp <= min(leap, dt_out)
            thr, cum, j = u * wsum[c], 0.0, 0
            for r in range(n_reac):
                if exact[c] or crit[r, c]:
                    cum = a[r, c] if r == 0 else cum + a[r, c]
                elif r == 0:
                    cum = 0.0
                j += cum < thr
            jr[c] = j
            leaps = not exact[c] and tau[c] < np.inf
            for r in range(n_reac):
                a[r, c] = a[r, c] * tau[c] if leaps and not crit[r, c] else 0.0
            t_new[c] = tnext[c] if tau[c] >= dt_out else t[c] + tau[c]
        for r in range(n_reac):  # Poisson counts in numpy's (reaction, cell) order
            for c in range(m):
                if g[c] < n_times and a[r, c] > 0.0:
                    a[r, c] = rng.poisson(a[r, c])
        for c in range(m):
            if g[c] >= n_times:
                continue
            for r in range(n_reac):
                k[r] = a[r, c] + (1.0 if fire[c] and r == jr[c] else 0.0)
            ok = True
            for i in range(n_ext):
                x[i] = xe[i, c]
            for r in range(n_reac):
                if k[r] != 0.0:
                    for q in range(c_ptr[r], c_ptr[r + 1]):
                        x[c_sp[q]] += k[r] * c_val[q]
            for i in range(n_sp):
                ok = ok and (x[i] >= 0.0 or free[i])
            if ok:
                for i in range(n_sp):
                    xe[i, c] = x[i]
                t[c] = t_new[c]
                cap[c] = np.inf
            else:
                cap[c] = tau[c] / 2
            while t[c] >= tnext[c]:  # output times reached, inclusive: the state after the step
                for i in range(n_sp):
                    out[ids[c], g[c], i] = xe[i, c]
                g[c] += 1
                tnext[c] = grid[g[c]]


def run_iterations(
    n_iter: int, rng: np.random.Generator, state: Any, coef: np.ndarray, tables: Tables,
    consts: Any, settings: tuple[float, float, float], rec: Any,
) -> None:  # fmt: skip
    """Advance every active cell by ``n_iter`` lockstep iterations, in place.

    Parameters
    ----------
    n_iter : int
        Iterations.
    rng : numpy.random.Generator
        The run's generator (advanced as the numpy backend advances it).
    state : tuple of ndarray
        ``xe`` (species + 1, active) extended counts, ``t`` (active,) times and ``cap``
        (active,) leap caps after rejections; updated.
    coef : ndarray, shape (reaction, active)
        Mass-action coefficients ``K``.
    tables : Tables
        Propensity factors and sparse stoichiometry.
    consts : _tau_rule.Constants
        Critical-reaction and step-size tables (numpy arrays).
    settings : (epsilon, n_critical, ssa_factor)
        The CGP parameters.
    rec : GridRecorder
        Updated as cells reach output times.
    """
    xe, t, cap = state
    tb, cn = tables, consts
    _iterate(
        n_iter, rng, xe, t, cap, coef, tb.index, tb.offset, tb.change_ptr, tb.change_species,
        tb.change_value, cn.cons_idx, cn.cons_nu[..., 0], cn.g_base[:, 0], cn.g_c1[:, 0],
        cn.g_c2[:, 0], cn.reactant_species[:, 0], cn.free[:, 0], *settings,
        rec.out, rec.ids, rec.g, rec.tnext, rec.grid,
    )  # fmt: skip
