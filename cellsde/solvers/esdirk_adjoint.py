"""Exact derivatives of the ESDIRK population integrator's outputs.

Adjoint
-------
:func:`adjoint` differentiates the *discrete* map from the initial state and parameters to
the outputs (the steps taken are constants; the stage equations are solved exactly): for a
stiffly accurate ESDIRK with stages ``Z_i = x_n + h sum_j a_ij f(Z_j)`` and
``x_{n+1} = Z_s``, the stage multipliers solve, for ``i = s, ..., 1``,
``(I - h a_ii J(Z_i))^T mu_i = [i = s] lambda + h J(Z_i)^T sum_{k > i} a_ki mu_k``, then
``dL/dx_n = sum_i mu_i`` and ``dL/dp += h sum_i (df/dp)(Z_i)^T sum_{k >= i} a_ki mu_k``.
The gradient is therefore that of the numbers the forward pass returned, to the accuracy of
the Newton iterations (``newton_tol``), and costs about one forward pass, whatever the
number of parameters. Memory: the stage values of every step (stages x species x cell floats).

Forward sensitivities (:func:`sensitivities`) differentiate the same steps in the other
direction, for every parameter at once.

Layout: states (species, cell), parameters (parameter, cell), outputs (time, species, cell).
"""

from __future__ import annotations

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers.esdirk import Record, System


def adjoint(
    system: System, record: Record, p: np.ndarray, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of a loss with respect to the initial state and ``system.kin.params``.

    Parameters
    ----------
    system : System
        As passed to :func:`integrate`.
    record : Record
        From :func:`integrate` with ``record=True``.
    p : ndarray, shape (parameter, cell)
        The parameters of the forward pass.
    grad_out : ndarray, shape (time, species, cell)
        dL/dx at every output time (the first time included).

    Returns
    -------
    grad_x0 : ndarray, shape (species, cell)
    grad_params : ndarray, shape (len(system.kin.params), cell)
    """
    kin = system.kin
    a, a_c, n_st = record.tableau.a, record.tableau.c, record.tableau.stages
    lam = np.zeros(grad_out.shape[1:])  # (species, cell)
    gp = np.zeros((len(kin.params), grad_out.shape[2]))
    for n in range(len(record.cells) - 1, -1, -1):
        cells, t, h, z = record.cells[n], record.t[n], record.h[n], record.stages[n]
        pa, lam_n = p[:, cells], lam[:, cells]
        ends = record.output[n]
        hit = ends >= 0
        lam_n[:, hit] += grad_out[ends[hit], :, cells[hit]].T
        mu: list = [None] * n_st
        g = np.zeros((len(kin.params), cells.size))
        for i in range(n_st - 1, 0, -1):
            ti = t + a_c[i] * h
            jac = kin.jacobian(z[i], pa, ti)
            acc = sum(a[k, i] * mu[k] for k in range(i + 1, n_st)) if i < n_st - 1 else None
            rhs = lam_n if acc is None else h * kin.rmatvec(jac, acc)
            lu, ok = system.factor(jac, h * a[i, i])
            if not ok:
                raise CellsdeError("singular iteration matrix in the adjoint pass")
            mu[i] = system.lu.solve_transposed(lu, rhs)
            w = a[i, i] * mu[i] if acc is None else acc + a[i, i] * mu[i]
            g += kin.vjp_params(z[i], pa, ti, w)
        w1 = sum(a[k, 0] * mu[k] for k in range(1, n_st))
        mu[0] = h * kin.rmatvec(kin.jacobian(z[0], pa, t), w1)
        g += kin.vjp_params(z[0], pa, t, w1)
        gp[:, cells] += h * g
        lam[:, cells] = sum(mu)
    return lam + grad_out[0], gp


def sensitivities(system: System, record: Record, p: np.ndarray, s0: np.ndarray) -> np.ndarray:
    """Forward sensitivities ``dx(t)/dp`` at the output times, by differentiating the steps taken.

    For each stage, ``(I - h a_ii J(Z_i)) S_i = S_n + h sum_{j<i} a_ij K_j + h a_ii f_p(Z_i)``
    with ``K_j = J(Z_j) S_j + f_p(Z_j)``: the exact derivative of the forward pass's numbers
    (like :func:`adjoint`, whose transpose it is), for every parameter in
    ``system.kin.params`` at once.

    Parameters
    ----------
    record : Record
        From :func:`integrate` with ``record=True``.
    p : ndarray, shape (parameter, cell)
    s0 : ndarray, shape (species, cell, param)
        ``dx/dp`` at ``times[0]`` (e.g. from the basal steady state).

    Returns
    -------
    ndarray, shape (time, species, cell, param)
        ``dx/dp`` at every output time (the first is ``s0``).
    """
    kin = system.kin
    a, a_c, n_st = record.tableau.a, record.tableau.c, record.tableau.stages
    n_out = 1 + max((int(o.max(initial=-1)) for o in record.output), default=0)
    out = np.zeros((n_out, *s0.shape))
    out[0] = s0
    s = s0.copy()
    eye = np.broadcast_to(
        np.eye(len(kin.params))[:, None, :], (len(kin.params), s0.shape[1], len(kin.params))
    )
    for cells, t, h, z, ends in zip(
        record.cells, record.t, record.h, record.stages, record.output, strict=True
    ):
        pa, sn = p[:, cells], s[:, cells]
        v = eye[:, : cells.size]
        hk = h[:, None]
        k1 = kin.matvec(kin.jacobian(z[0], pa, t), sn) + kin.jvp_params(z[0], pa, t, v)
        stages = [sn]
        ks = [k1]
        for i in range(1, n_st):
            ti = t + a_c[i] * h
            jac = kin.jacobian(z[i], pa, ti)
            lu, ok = system.factor(jac, h * a[i, i])
            if not ok:
                raise CellsdeError("singular iteration matrix in the sensitivity pass")
            rhs = (
                sn
                + hk * sum(a[i, j] * ks[j] for j in range(i))
                + hk * a[i, i] * kin.jvp_params(z[i], pa, ti, v)
            )
            si = system.lu.solve(lu, rhs)
            stages.append(si)
            ks.append((si - sn - hk * sum(a[i, j] * ks[j] for j in range(i))) / (hk * a[i, i]))
        s[:, cells] = stages[-1]
        hit = ends >= 0
        out[ends[hit], :, cells[hit]] = np.moveaxis(stages[-1][:, hit], 1, 0)
    return out
