"""Compiled mass-action propensities and the flat network tables the numba kernels read.

A mass-action propensity is ``a_j = K_j * prod_f (n[i_jf] - m_jf)`` (falling factorials;
padding factors point at the extra ones row of the state), exactly as
:class:`cellsde.solvers._stochastic.Propensities` computes it on arrays. :func:`propensity`
multiplies the factors in the same order, so the compiled kernels get the same bits as the
numpy backend.

:class:`Tables` adds what a per-cell event loop needs: the sparse net change of each reaction
and its *dependency graph* (the reactions whose propensity reads a species it changes), so an
event recomputes only the propensities it changes.

Importing this module imports numba (see :func:`cellsde.solvers._backend.numba_installed`).
"""

from __future__ import annotations

from dataclasses import dataclass

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
