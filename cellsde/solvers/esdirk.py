"""A stiff integrator for many cells at once, with an exact discrete adjoint.

Method
------
TR-BDF2 (Bank et al. 1985; the ESDIRK form and error estimate of Hosea & Shampine 1996,
MATLAB's ``ode23tb``): an L-stable, stiffly accurate, second-order singly diagonally
implicit Runge-Kutta method with an explicit first stage and a third-order embedded
estimate. Every cell takes the same steps (the step size is set by the cell with the
largest error, so every cell meets ``rtol``/``atol``) and steps end exactly on the output
times. The two implicit stages share the iteration matrix ``I - h gamma J`` (``J`` at the
step's start): one sparse LU per step (:class:`~cellsde.solvers.sparse_lu.SparseLU`) serves
the simplified Newton iterations and the filtered error estimate ``(I - h gamma J)^-1 err``
(as in RADAU5), which keeps stiff components from shrinking the step.

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
number of parameters. Memory: the stage values of every step (3 x species x cell floats).

Layout: states (species, cell), parameters (parameter, cell), outputs (time, species, cell).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers.sparse_lu import SparseLU
from models_bio.sparse_kinetics import SparseKinetics

_GAMMA = 1.0 - math.sqrt(2.0) / 2.0  # TR-BDF2's diagonal coefficient
_W = math.sqrt(2.0) / 4.0
A = np.array([[0.0, 0.0, 0.0], [_GAMMA, _GAMMA, 0.0], [_W, _W, _GAMMA]])  # (stage, stage)
C = np.array([0.0, 2.0 * _GAMMA, 1.0])
# b (= last row of A, stiffly accurate) minus the third-order embedded weights
B_ERR = A[2] - np.array([(1.0 - _W) / 3.0, (3.0 * _W + 1.0) / 3.0, _GAMMA / 3.0])


@dataclass(frozen=True)
class Options:
    """Options of :func:`integrate`.

    Parameters
    ----------
    rtol, atol : float
        Per-cell tolerances on every species (``atol`` in state units).
    h0 : float or None
        First step (time units); default from the drift at the start.
    max_steps : int
        Give up after this many accepted steps.
    newton_tol : float
        Newton iterations stop when the weighted RMS update is below this fraction of the
        tolerance (smaller: a more exact adjoint).
    max_newton : int
        Newton iterations per stage before the step is retried with ``h / 4``.
    """

    rtol: float = 1e-5
    atol: float = 1e-9
    h0: float | None = None
    max_steps: int = 200_000
    newton_tol: float = 1e-3
    max_newton: int = 8

    def __post_init__(self) -> None:
        if not (self.rtol > 0 and self.atol > 0):
            raise ValueError(f"rtol and atol must be > 0, got {self.rtol}, {self.atol}")
        if self.h0 is not None and not self.h0 > 0:
            raise ValueError(f"h0 must be > 0, got {self.h0}")
        if self.max_steps < 1 or self.max_newton < 1 or not self.newton_tol > 0:
            raise ValueError("max_steps, max_newton must be >= 1 and newton_tol > 0")


@dataclass
class Record:
    """What the forward pass keeps for :func:`adjoint`: every accepted step's stages.

    Each entry is one sweep over the cells that took a step together: their indices, start
    times, step sizes, stage values (stage, species, cell) and the output index each step
    ended on (-1 when it ended between outputs).
    """

    cells: list[np.ndarray] = field(default_factory=list)
    t: list[np.ndarray] = field(default_factory=list)
    h: list[np.ndarray] = field(default_factory=list)
    stages: list[np.ndarray] = field(default_factory=list)
    output: list[np.ndarray] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """Accepted steps summed over cells."""
        return int(sum(c.size for c in self.cells))


class System:
    """A network's sparse kinetics and the LU analysis of its iteration matrix."""

    def __init__(self, kinetics: SparseKinetics) -> None:
        self.kin = kinetics
        rows, cols = kinetics.pattern
        self.lu = SparseLU(kinetics.n_species, rows, cols)
        lr, lc = self.lu.pattern
        self._n_jac = rows.size  # the first entries of the LU pattern are the Jacobian's
        self._diag = np.flatnonzero(lr == lc)  # where the identity adds 1

    def factor(self, jac: np.ndarray, hg: float) -> tuple[np.ndarray, bool]:
        """LU of ``I - hg J`` for Jacobian values ``jac`` (entry, cell)."""
        m = np.zeros((self.lu.pattern[0].size, jac.shape[1]))
        m[: self._n_jac] = -hg * jac
        m[self._diag] += 1.0
        return self.lu.factor(m)


def _weights(x: np.ndarray, opts: Options) -> np.ndarray:
    return 1.0 / (opts.atol + opts.rtol * np.abs(x))  # (species, cell)


def _norms(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted RMS norm of every cell, shape (cell,)."""
    return np.sqrt(np.mean((v * w) ** 2, axis=0))


def _stage(sys_, lu, base, z, hg, p, t, opts) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``z = base + hg f(z)`` by simplified Newton; returns z and per-cell success.

    Cells leave the iteration as they converge, so the few slow ones do not make every
    cell pay for their extra iterations.
    """
    w = _weights(base, opts)
    z = z.copy()
    ok = np.ones(z.shape[1], dtype=bool)
    done = np.zeros(z.shape[1], dtype=bool)
    live = np.arange(z.shape[1])
    prev = np.full(live.size, np.inf)
    for _ in range(opts.max_newton):
        sub = live if live.size < z.shape[1] else slice(None)
        hs = hg[sub] if np.ndim(hg) else hg
        ts = t[sub] if np.ndim(t) else t
        zs = z[:, sub]
        r = zs - base[:, sub] - hs * sys_.kin.drift(zs, p[:, sub], ts)
        dz = sys_.lu.solve(lu[:, sub], -r)
        z[:, live] = zs + dz
        size = _norms(dz, w[:, sub])
        good = np.isfinite(size) & (size <= 2.0 * prev)
        ok[live[~good]] = False
        conv = good & (size <= opts.newton_tol)
        done[live[conv]] = True
        keep = good & ~conv
        live, prev = live[keep], size[keep]
        if live.size == 0:
            break
    return z, done & ok


def _first_step(sys_, x, p, t, span, opts) -> np.ndarray:
    if opts.h0 is not None:
        return np.full(x.shape[1], min(opts.h0, span))
    d = _norms(sys_.kin.drift(x, p, t), _weights(x, opts))
    return np.minimum(span, 0.01 / np.maximum(d, 1e-300))


def integrate(
    system: System,
    x0: np.ndarray,
    p: np.ndarray,
    times: np.ndarray,
    *,
    options: Options | None = None,
    record: bool = False,
) -> tuple[np.ndarray, Record | None]:
    """Integrate every cell from ``times[0]`` and return the states at ``times``.

    Every cell has its own step size (an oscillating cell takes small steps without
    slowing the others); in each sweep all unfinished cells try one step together.

    Parameters
    ----------
    system : System
        The network's compiled kinetics and LU analysis.
    x0 : ndarray, shape (species, cell)
        States at ``times[0]``.
    p : ndarray, shape (parameter, cell)
        Every cell's full parameter vector.
    times : ndarray, shape (time,)
        Strictly increasing output times.
    options : Options, optional
        Tolerances and limits.
    record : bool
        Keep the stages for :func:`adjoint`.

    Returns
    -------
    x : ndarray, shape (time, species, cell)
    record : Record or None

    Raises
    ------
    CellsdeError
        A cell's step size underflows or ``max_steps`` sweeps are reached.
    """
    opts = options or Options()
    rec = Record() if record else None
    n = x0.shape[1]
    out = np.empty((times.size, *x0.shape))  # (time, species, cell)
    out[0] = x0
    x, t = x0.copy(), np.full(n, float(times[0]))
    k = np.ones(n, dtype=int)  # next output of each cell
    if times.size < 2:
        return out, rec
    h = _first_step(system, x, p, t[0], float(times[-1] - times[0]), opts)
    for _ in range(opts.max_steps):
        cells = np.flatnonzero(k < times.size)
        if cells.size == 0:
            return out, rec
        xa, pa, ta, ha = x[:, cells], p[:, cells], t[cells], h[cells]
        target = times[k[cells]]
        last = ta + 1.05 * ha >= target
        step = np.where(last, target - ta, ha)
        hg = _GAMMA * step
        lu, ok = system.factor(system.kin.jacobian(xa, pa, ta), hg)
        if not ok:  # a zero pivot: shrink every step of this sweep
            h[cells] = step / 4.0
            _check_underflow(h[cells], ta)
            continue
        f1 = system.kin.drift(xa, pa, ta)
        base2 = xa + step * A[1, 0] * f1
        z2, ok2 = _stage(system, lu, base2, xa + step * C[1] * f1, hg, pa, ta + C[1] * step, opts)
        f2 = (z2 - base2) / hg
        base3 = xa + step * (A[2, 0] * f1 + A[2, 1] * f2)
        z3, ok3 = _stage(system, lu, base3, xa + (z2 - xa) / C[1], hg, pa, ta + step, opts)
        f3 = (z3 - base3) / hg
        err_raw = step * (B_ERR[0] * f1 + B_ERR[1] * f2 + B_ERR[2] * f3)
        scale = _weights(np.maximum(np.abs(xa), np.abs(z3)), opts)
        err = _norms(system.lu.solve(lu, err_raw), scale)
        good = ok2 & ok3 & np.isfinite(err) & (err <= 1.0)
        factor = np.where(err > 0, 0.9 * np.maximum(err, 1e-12) ** (-1.0 / 3.0), 5.0)
        bad = ~good
        h[cells[bad]] = step[bad] * np.where(
            ok2[bad] & ok3[bad], np.clip(factor[bad], 0.2, 0.9), 0.25
        )
        _check_underflow(h[cells[bad]], ta[bad])
        acc = cells[good]
        if acc.size == 0:
            continue
        landed = last[good]
        if rec is not None:
            rec.cells.append(acc)
            rec.t.append(ta[good])
            rec.h.append(step[good])
            rec.stages.append(np.stack([xa[:, good], z2[:, good], z3[:, good]]))
            rec.output.append(np.where(landed, k[acc], -1))
        x[:, acc] = z3[:, good]
        t[acc] = np.where(landed, target[good], ta[good] + step[good])
        grow = step[good] * np.clip(factor[good], 0.2, 5.0)
        h[acc] = np.where(landed, np.maximum(ha[good], grow), grow)
        out_cells = acc[landed]
        out[k[out_cells], :, out_cells] = x[:, out_cells].T
        k[out_cells] += 1
    raise CellsdeError(f"the implicit solver reached max_steps={opts.max_steps} sweeps")


def _check_underflow(h: np.ndarray, t: np.ndarray) -> None:
    small = h < 1e-14 * np.maximum(1.0, np.abs(t))
    if np.any(small):
        raise CellsdeError(
            f"the implicit solver's step underflowed at t = {float(t[small][0]):.6g}; the model "
            "may be ill-posed for these parameters (a negative or infinite rate?)"
        )


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
    lam = np.zeros(grad_out.shape[1:])  # (species, cell)
    gp = np.zeros((len(kin.params), grad_out.shape[2]))
    for n in range(len(record.cells) - 1, -1, -1):
        cells, t, h, z = record.cells[n], record.t[n], record.h[n], record.stages[n]
        pa, lam_n = p[:, cells], lam[:, cells]
        ends = record.output[n]
        hit = ends >= 0
        lam_n[:, hit] += grad_out[ends[hit], :, cells[hit]].T
        mu = [None, None, None]
        g = np.zeros((len(kin.params), cells.size))
        for i in (2, 1):
            ti = t + C[i] * h
            jac = kin.jacobian(z[i], pa, ti)
            acc = sum(A[k, i] * mu[k] for k in range(i + 1, 3)) if i < 2 else None
            rhs = lam_n if i == 2 else h * kin.rmatvec(jac, acc)
            lu, ok = system.factor(jac, h * A[i, i])
            if not ok:
                raise CellsdeError("singular iteration matrix in the adjoint pass")
            mu[i] = system.lu.solve_transposed(lu, rhs)
            w = A[i, i] * mu[i] if acc is None else acc + A[i, i] * mu[i]
            g += kin.vjp_params(z[i], pa, ti, w)
        w1 = A[1, 0] * mu[1] + A[2, 0] * mu[2]
        mu[0] = h * kin.rmatvec(kin.jacobian(z[0], pa, t), w1)
        g += kin.vjp_params(z[0], pa, t, w1)
        gp[:, cells] += h * g
        lam[:, cells] = mu[0] + mu[1] + mu[2]
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
        for i in (1, 2):
            ti = t + C[i] * h
            jac = kin.jacobian(z[i], pa, ti)
            lu, ok = system.factor(jac, h * A[i, i])
            if not ok:
                raise CellsdeError("singular iteration matrix in the sensitivity pass")
            rhs = (
                sn
                + hk * sum(A[i, j] * ks[j] for j in range(i))
                + hk * A[i, i] * kin.jvp_params(z[i], pa, ti, v)
            )
            si = system.lu.solve(lu, rhs)
            stages.append(si)
            ks.append((si - sn - hk * sum(A[i, j] * ks[j] for j in range(i))) / (hk * A[i, i]))
        s[:, cells] = stages[2]
        hit = ends >= 0
        out[ends[hit], :, cells[hit]] = np.moveaxis(stages[2][:, hit], 1, 0)
    return out
