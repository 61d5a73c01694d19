"""Phase 1 of the Guo 2024 two-phase protocol: each cell's basal steady state, with scipy.

The rule of the source (``nfkbSimulate.m``): integrate a chunk of ``chunk`` time units from
the initial totals with a stiff solver, then repeat chunks from the last state until every
species at or above ``floor`` changes by less than ``rel_change`` (relative) over one chunk;
stop after ``max_chunks`` chunks. The stimulus species are held at 0 during phase 1.

All cells are integrated together as one block-diagonal stiff system (scipy's BDF with a
block-diagonal Jacobian sparsity pattern, so one Jacobian costs ``n_species`` vectorised drift
evaluations whatever the number of cells). ``cellsde.solvers.ode`` has the general solver;
this helper keeps ``models_bio`` self-contained (it never imports ``cellsde``) for model
constructors and oracles that need a basal state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models_bio.network import ReactionNetwork


def phase1_steady_state(
    network: ReactionNetwork,
    p: np.ndarray | None = None,
    *,
    x0: np.ndarray | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-12,
    chunk: float = 4000.0,
    max_chunks: int = 100,
    rel_change: float = 5e-4,
    floor: float = 8e-7,
    method: str = "BDF",
) -> np.ndarray:
    """Basal steady state of each cell, shape (cell, species).

    Parameters
    ----------
    network : ReactionNetwork
        The model; its ``stimulus`` species are set to 0 before and during phase 1.
    p : ndarray, optional
        Per-cell parameters, shape (cell, parameter) in ``network.parameter_names`` order;
        default: one cell at the nominal values.
    x0 : ndarray, optional
        Starting states (cell, species); default ``network.kinetics.initial_state(p)``.
    rtol, atol : float
        Solver tolerances (atol in state units, uM for Guo 2024). The source uses 1e-6 / 1e-8;
        the defaults here are the oracle settings.
    chunk : float
        Length of one integration chunk (model time units; 4000 min in the source).
    max_chunks : int
        Give up after this many chunks and return the last state.
    rel_change : float
        Convergence: every species ``>= floor`` changed by less than this fraction over a chunk.
    floor : float
        Species below this value are ignored by the convergence test (state units).
    method : {"BDF", "Radau", "LSODA"}
        scipy ``solve_ivp`` stiff method.

    Returns
    -------
    ndarray
        (cell, species) states at the end of phase 1 (stimulus species still 0).
    """
    from scipy.integrate import solve_ivp
    from scipy.sparse import block_diag, csr_matrix

    kin = network.kinetics
    p = kin.parameter_vector() if p is None else np.atleast_2d(np.asarray(p, dtype=float))
    n_cells, n_sp = p.shape[0], kin.n_species
    x = kin.initial_state(p) if x0 is None else np.array(x0, dtype=float, copy=True)
    if x.shape != (n_cells, n_sp):
        raise ValueError(f"x0 must have shape {(n_cells, n_sp)}, got {x.shape}")
    held = [network.species_names.index(s) for s in network.stimulus]
    x[:, held] = 0.0
    keep = np.ones(n_sp)
    keep[held] = 0.0  # stimulus species have zero derivative in phase 1

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        return (kin.drift(y.reshape(n_cells, n_sp), p) * keep).ravel()  # (cell*species,)

    sparsity = block_diag([csr_matrix(np.ones((n_sp, n_sp)))] * n_cells, format="csr")
    for _ in range(max_chunks):
        sol = solve_ivp(
            rhs,
            (0.0, chunk),
            x.ravel(),
            method=method,
            rtol=rtol,
            atol=atol,
            jac_sparsity=sparsity if method != "LSODA" else None,
        )
        if not sol.success:
            raise RuntimeError(f"phase-1 integration failed: {sol.message}")
        new = sol.y[:, -1].reshape(n_cells, n_sp)  # (cell, species)
        big = np.abs(new) >= floor
        change = np.abs(new - x) / np.where(big, np.abs(new), 1.0)
        x = new
        if not np.any(change[big] >= rel_change):
            break
    return x


def apply_stimulus(network: ReactionNetwork, x: np.ndarray) -> np.ndarray:
    """Phase-2 start: a copy of ``x`` (cell, species) with the stimulus species set."""
    out = np.array(x, dtype=float, copy=True)
    for name, value in network.stimulus.items():
        out[..., network.species_names.index(name)] = value
    return out
