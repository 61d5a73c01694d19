"""A stiff integrator for many cells at once, each cell with its own steps.

Method
------
An ESDIRK of :mod:`cellsde.solvers.tableaux` (``Options.method``): TR-BDF2 (order 2, the
default, MATLAB's ``ode23tb``) or Kennedy & Carpenter's ESDIRK4(3)6L[2]SA (order 4), both
L-stable and stiffly accurate with an explicit first stage and an embedded error estimate.
Every cell has its own step size (set by its own error, so every cell meets
``rtol``/``atol``) and its steps end exactly on the output times. The implicit stages share
the iteration matrix ``I - h gamma J`` (``J`` at the step's start): one sparse LU per step
(:class:`~cellsde.solvers.sparse_lu.SparseLU`) serves the simplified Newton iterations of
every stage and the filtered error estimate ``(I - h gamma J)^-1 err`` (as in RADAU5), which
keeps stiff components from shrinking the step.

The exact derivatives of the steps taken (adjoint, forward sensitivities) are in
:mod:`cellsde.solvers.esdirk_adjoint`.

Layout: states (species, cell), parameters (parameter, cell), outputs (time, species, cell).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers.sparse_lu import SparseLU
from cellsde.solvers.tableaux import TABLEAUX, Tableau
from models_bio.sparse_kinetics import SparseKinetics


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
    method : {"TRBDF2", "ESDIRK4"}
        The tableau (:mod:`cellsde.solvers.tableaux`): order 2 (cheap steps; the
        calibration's default) or order 4 (fewer steps at tight tolerances).
    """

    rtol: float = 1e-5
    atol: float = 1e-9
    h0: float | None = None
    max_steps: int = 200_000
    newton_tol: float = 1e-3
    max_newton: int = 8
    method: str = "TRBDF2"

    def __post_init__(self) -> None:
        if self.method not in TABLEAUX:
            raise ValueError(
                f"unknown ESDIRK method {self.method!r}; use one of {sorted(TABLEAUX)}"
            )
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
    ended on (-1 when it ended between outputs); ``tableau`` is the method that took them.
    """

    tableau: Tableau = field(default_factory=lambda: TABLEAUX["TRBDF2"])

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
    tab = TABLEAUX[opts.method]
    rec = Record(tableau=tab) if record else None
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
        hg = tab.gamma * step
        lu, ok = system.factor(system.kin.jacobian(xa, pa, ta), hg)
        if not ok:  # a zero pivot: shrink every step of this sweep
            h[cells] = step / 4.0
            _check_underflow(h[cells], ta)
            continue
        zs, fs = [xa], [system.kin.drift(xa, pa, ta)]  # stage values and slopes
        converged = np.ones(cells.size, dtype=bool)
        for i in range(1, tab.stages):
            base = xa + step * _combine(tab.a[i, :i], fs)
            guess = xa + step * _combine(tab.predictor[i, :i], fs)
            z, ok_i = _stage(system, lu, base, guess, hg, pa, ta + tab.c[i] * step, opts)
            zs.append(z)
            fs.append((z - base) / hg)  # the stage's slope without another drift call
            converged &= ok_i
        z_end = zs[-1]
        err_raw = step * _combine(tab.b_err, fs)
        scale = _weights(np.maximum(np.abs(xa), np.abs(z_end)), opts)
        err = _norms(system.lu.solve(lu, err_raw), scale)
        good = converged & np.isfinite(err) & (err <= 1.0)
        expo = -1.0 / (tab.error_order + 1)
        factor = np.where(err > 0, 0.9 * np.maximum(err, 1e-12) ** expo, 5.0)
        bad = ~good
        h[cells[bad]] = step[bad] * np.where(converged[bad], np.clip(factor[bad], 0.2, 0.9), 0.25)
        _check_underflow(h[cells[bad]], ta[bad])
        acc = cells[good]
        if acc.size == 0:
            continue
        landed = last[good]
        if rec is not None:
            rec.cells.append(acc)
            rec.t.append(ta[good])
            rec.h.append(step[good])
            rec.stages.append(np.stack([z[:, good] for z in zs]))
            rec.output.append(np.where(landed, k[acc], -1))
        x[:, acc] = z_end[:, good]
        t[acc] = np.where(landed, target[good], ta[good] + step[good])
        grow = step[good] * np.clip(factor[good], 0.2, 5.0)
        h[acc] = np.where(landed, np.maximum(ha[good], grow), grow)
        out_cells = acc[landed]
        out[k[out_cells], :, out_cells] = x[:, out_cells].T
        k[out_cells] += 1
    raise CellsdeError(f"the implicit solver reached max_steps={opts.max_steps} sweeps")


def _combine(weights: np.ndarray, slopes: list[np.ndarray]) -> np.ndarray:
    """``sum_j weights[j] slopes[j]`` over the nonzero weights (slopes: (species, cell) each)."""
    out = np.zeros_like(slopes[0])
    for w, f in zip(weights.tolist(), slopes, strict=True):
        if w != 0.0:
            out += w * f
    return out


def _check_underflow(h: np.ndarray, t: np.ndarray) -> None:
    small = h < 1e-14 * np.maximum(1.0, np.abs(t))
    if np.any(small):
        raise CellsdeError(
            f"the implicit solver's step underflowed at t = {float(t[small][0]):.6g}; the model "
            "may be ill-posed for these parameters (a negative or infinite rate?)"
        )
