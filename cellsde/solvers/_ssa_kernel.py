"""Compiled (numba) block of the exact SSA: each cell runs its own event loop.

:func:`run_block` advances every active cell by up to ``n_it`` Gillespie direct-method events,
reading the same random numbers ``e[b, c]``, ``u[b, c]`` the numpy lockstep loop of
:mod:`cellsde.solvers.ssa` reads at iteration ``b`` for cell ``c``, and doing the arithmetic
that decides the next event in the same order (sequential cumulative sums, the waiting time
``e / a0``, the first ``j`` with ``s_j > u a0``). Both backends therefore give the same
output for the same seed, bit for bit.

Per event a cell recomputes only the propensities the fired reaction changes (its dependency
graph, :class:`~cellsde.solvers._mass_action_kernel.Tables`), then one pass over the
reactions forms ``a0`` and a second, which usually stops early, forms the partial sums again
(same order, same bits) until the selection: ``O(reactions)`` flops per event with no array
temporaries, close to the physical limit of one propensity update per event. A
finished cell stops at once (the numpy loop lets it idle to the end of the block; its state
no longer reaches the output).
"""

from __future__ import annotations

import numba
import numpy as np

from cellsde.solvers._mass_action_kernel import JIT, Tables, propensity


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
