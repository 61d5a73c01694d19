"""Every cell's steady state, and its exact sensitivity, for many cells at once.

Method
------
A loose-tolerance integration towards the steady state (the implicit solver of
:mod:`cellsde.solvers.esdirk`), then full Newton on ``F(x) = f(x) + Q^T (Q x - Q x0)`` (see
below), whose root is the steady state *on the cell's own invariant manifold*: the one that
the initial totals (e.g. total NF-kB) define. Newton converges quadratically once the
integration is close, whether the fixed point is stable or not; a cell whose fixed point is
unstable (it would oscillate without stimulus) is flagged in :attr:`Basal.stable`.

Sensitivity
-----------
At the steady state ``f(x, p) = 0`` and ``Q x = Q x0(p)``, where the rows of ``Q`` span the
conservation laws (``Q C = 0`` for the coefficient matrix ``C``; held species are conserved
too). ``F(x) = f(x) + Q^T (Q x - Q x0)`` has the nonsingular Jacobian ``J + Q^T Q`` whenever
the steady state is isolated on its manifold, so by the implicit function theorem a loss
gradient ``lambda = dL/dx`` pulls back to
``dL/dp = -(df/dp)^T mu + (dx0/dp)^T Q^T Q mu`` with ``(J + Q^T Q)^T mu = lambda``
(one dense solve per cell, once per evaluation).

Layout: states (species, cell), parameters (parameter, cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers.esdirk import Options, System, integrate


@dataclass(frozen=True)
class Basal:
    """Steady states of a population.

    Attributes
    ----------
    x : ndarray, shape (species, cell)
        The steady states.
    stable : ndarray of bool, shape (cell,)
        False where the fixed point is unstable (some Jacobian eigenvalue on the invariant
        manifold has a positive real part: the cell would oscillate without stimulus).
    residual : float
        Largest weighted RMS drift ``|f| / (atol + rtol |x|)`` left, per time unit.
    invariants : ndarray, shape (law, species)
        The linear invariants fixed by the initial state (:func:`invariants`).
    """

    x: np.ndarray
    stable: np.ndarray
    residual: float
    invariants: np.ndarray


def conservation(coefficients: np.ndarray, *, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal rows ``Q`` (law, species) with ``Q C = 0``: the network's conserved sums."""
    u, s, _ = np.linalg.svd(coefficients, full_matrices=True)
    rank = int(np.sum(s > tol * max(s.max(initial=0.0), 1.0)))
    return u[:, rank:].T.copy()


def invariants(system: System, x0: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Rows ``Q`` (law, species) of the linear invariants of the flow from ``x0``.

    The conservation laws of the reactions that can ever fire from ``x0``: a species at 0 in
    every cell stays 0 while every reaction producing it has a zero rate (e.g. the receptor
    complexes of a ligand held at 0), so reactions that read such species are switched off,
    to a fixed point. Species that no active reaction touches are then conserved one by one
    (Guo 2024's TTR, whose only consumer needs TNF). Without this, their steady state is not
    isolated and ``J + Q^T Q`` is singular.
    """
    kin = system.kin
    coef = kin.coefficients  # (species, flux)
    rng = np.random.default_rng(0)  # a generic positive state: exact zeros are structural
    probe = rng.uniform(0.5, 2.0, (kin.n_species, 1)) * (
        np.abs(x0).max(axis=1, keepdims=True) + 1.0
    )
    zero = np.all(x0 == 0.0, axis=1)  # (species,)
    while True:
        active = np.any(
            kin.fluxes(np.where(zero[:, None], 0.0, probe), p[:, :1], 0.0) != 0.0, axis=1
        )
        produced = np.any((coef[:, active] > 0.0), axis=1)
        still = zero & ~produced
        if np.array_equal(still, zero):
            return conservation(coef[:, active])
        zero = still


def steady_state(
    system: System,
    x0: np.ndarray,
    p: np.ndarray,
    *,
    guess: np.ndarray | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-12,
    chunk: float = 1000.0,
    max_chunks: int = 20,
    check_stability: bool = True,
) -> Basal:
    """Steady state of every cell from ``x0`` (species, cell), parameters ``p`` (parameter, cell).

    Full Newton on ``f + Q^T (Q x - Q x0)`` is tried from ``guess`` (e.g. the steady states
    of slightly different parameters, during an optimisation); cells where it fails, or all
    cells without a guess, are integrated over ``chunk`` time units at a loose tolerance
    (:func:`cellsde.solvers.esdirk.integrate`, ``rtol=1e-3``) and polished by Newton again,
    chunk after chunk, until every cell's Newton update is below ``rtol``/``atol``.

    Raises
    ------
    CellsdeError
        Some cell has not converged after ``max_chunks`` chunks (it may have no isolated
        steady state, or one far from where the integration goes).
    """
    kin = system.kin
    q = invariants(system, x0, p)
    qq, target = q.T @ q, q.T @ (q @ x0)  # (species, species), (species, cell)
    x = x0.copy()
    todo = np.arange(x0.shape[1])
    if guess is not None:
        polished, done = _newton(system, guess, p, qq, target, rtol=rtol, atol=atol)
        x[:, done] = polished[:, done]
        todo = np.flatnonzero(~done)
    loose = Options(rtol=1e-3, atol=max(atol, 1e-9 * float(np.abs(x0).max(initial=0.0))))
    for _ in range(max_chunks):
        if todo.size == 0:
            break
        pt = p[:, todo]
        xt = integrate(system, x[:, todo], pt, np.array([0.0, chunk]), options=loose)[0][-1]
        polished, done = _newton(system, xt, pt, qq, target[:, todo], rtol=rtol, atol=atol)
        x[:, todo] = np.where(done[None], polished, xt)
        todo = todo[~done]
    if todo.size:
        raise CellsdeError(
            f"{todo.size} cell(s) did not reach a basal steady state after {max_chunks} chunks "
            f"of {chunk} time units (first: cell {todo[0]}); they may oscillate far from their "
            "fixed point; check their parameters"
        )
    f = kin.drift(x, p, 0.0)
    residual = float(np.sqrt(np.mean((f / (atol + rtol * np.abs(x))) ** 2, axis=0)).max())
    stable = _stable(system, x, p, q) if check_stability else np.ones(x.shape[1], dtype=bool)
    return Basal(x=x, stable=stable, residual=residual, invariants=q)


def _newton(system, x, p, qq, target, *, rtol, atol, iters: int = 8):
    """Full Newton on ``f(x) + Q^T Q x - Q^T Q x0``: (states, converged (cell,) mask)."""
    x = x.copy()
    done = np.zeros(x.shape[1], dtype=bool)
    live = np.arange(x.shape[1])
    for _ in range(iters):
        xs, ps = x[:, live], p[:, live]
        a = _dense(system, system.kin.jacobian(xs, ps, 0.0)) + qq[None]  # (cell, sp, sp)
        res = system.kin.drift(xs, ps, 0.0) + qq @ xs - target[:, live]  # (species, cell)
        dx = -_solve(a, res.T[..., None])[..., 0].T
        finite = np.all(np.isfinite(dx), axis=0)
        x[:, live[finite]] = xs[:, finite] + dx[:, finite]
        small = finite & np.all(np.abs(dx) <= atol + rtol * np.abs(xs + dx), axis=0)
        done[live[small]] = True
        live = live[finite & ~small]
        if live.size == 0:
            break
    return x, done


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Batched ``a x = b`` (cell, n, n) x (cell, n, k); a singular cell's solution is NaN."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:  # some cell is singular: solve one by one
            out = np.full(b.shape, np.nan)
            for c in range(a.shape[0]):
                try:
                    out[c] = np.linalg.solve(a[c], b[c])
                except np.linalg.LinAlgError:
                    pass
            return out


def _dense(system: System, jac: np.ndarray) -> np.ndarray:
    n = system.kin.n_species
    out = np.zeros((jac.shape[1], n, n))  # (cell, species, species)
    out[:, system.kin.pattern[0], system.kin.pattern[1]] = jac.T
    return out


def _stable(system: System, x: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether every eigenvalue of J on the invariant manifold has a non-positive real part."""
    jac = _dense(system, system.kin.jacobian(x, p, 0.0))  # (cell, species, species)
    # conserved directions give exact zero eigenvalues; shift them far left to ignore them
    lam = np.linalg.eigvals(jac - 1e6 * (q.T @ q)[None])
    scale = np.abs(lam).max(axis=1, initial=1.0)
    return np.all(lam.real <= 1e-9 * scale[:, None], axis=1)


def steady_state_vjp(
    system: System,
    x: np.ndarray,
    p: np.ndarray,
    grad_x: np.ndarray,
    initial_params: np.ndarray,
    q: np.ndarray,
) -> np.ndarray:
    """Pull ``dL/dx`` at the steady state back to ``dL/dp`` for ``system.kin.params``.

    Parameters
    ----------
    x : ndarray, shape (species, cell)
        The steady states (from :func:`steady_state`).
    p : ndarray, shape (parameter, cell)
        Their parameters.
    grad_x : ndarray, shape (species, cell)
        ``dL/dx`` at the steady state.
    initial_params : ndarray of int, shape (species,)
        For each species, the index in ``system.kin.params`` of the free parameter that is its
        initial total (``x0_i = p_q``), or -1.
    q : ndarray, shape (law, species)
        The invariants (:attr:`Basal.invariants`).

    Returns
    -------
    ndarray, shape (param, cell)
    """
    qq = q.T @ q  # (species, species)
    a = _dense(system, system.kin.jacobian(x, p, 0.0)) + qq[None]  # (cell, species, species)
    mu = _solve(np.swapaxes(a, 1, 2), grad_x.T[..., None])[..., 0].T  # (species, cell)
    _check_isolated(mu)
    out = -system.kin.vjp_params(x, p, 0.0, mu)
    back = qq @ mu  # (species, cell): (dx0/dp)^T picks the rows of initial totals
    for i in np.flatnonzero(initial_params >= 0):
        out[initial_params[i]] += back[i]
    return out


def steady_state_jvp(
    system: System, basal: Basal, p: np.ndarray, initial_params: np.ndarray
) -> np.ndarray:
    """``dx/dp`` at the steady state for every parameter in ``system.kin.params``.

    ``dx/dp = -(J + Q^T Q)^-1 (df/dp - Q^T Q dx0/dp)`` (see the module docstring).

    Returns
    -------
    ndarray, shape (species, cell, param)
    """
    kin, x = system.kin, basal.x
    n_par, n = len(kin.params), x.shape[1]
    qq = basal.invariants.T @ basal.invariants
    a = _dense(system, kin.jacobian(x, p, 0.0)) + qq[None]  # (cell, species, species)
    eye = np.broadcast_to(np.eye(n_par)[:, None, :], (n_par, n, n_par))
    rhs = kin.jvp_params(x, p, 0.0, eye)  # (species, cell, param)
    dx0 = np.zeros((kin.n_species, n_par))
    for i in np.flatnonzero(initial_params >= 0):
        dx0[i, initial_params[i]] = 1.0
    rhs = rhs - (qq @ dx0)[:, None, :]
    out = -np.moveaxis(_solve(a, np.moveaxis(rhs, 0, 1)), 1, 0)
    _check_isolated(out)
    return out


def _check_isolated(values: np.ndarray) -> None:
    if not np.all(np.isfinite(values)):
        raise CellsdeError(
            "the basal steady state is not isolated (J + Q^T Q is singular), so its "
            "sensitivity is undefined; a free parameter may have no effect on a species that "
            "nothing else fixes"
        )
