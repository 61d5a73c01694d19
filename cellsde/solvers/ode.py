"""Deterministic integration of a reaction network for many cells at once (scipy ``solve_ivp``).

Algorithm
---------
All cells of a batch are integrated as **one stacked system**: the state is the flattened
``(cell * species,)`` vector and the right-hand side is one vectorised call of
``network.kinetics.drift`` on the (cell, species) view, so Python overhead does not grow
with the number of cells. Cells never interact, so the Jacobian is block diagonal; it is
computed by forward differences with ``species + 1`` vectorised drift calls (every cell's
block at once) and handed to the solver:

* ``BDF`` / ``Radau``: as a sparse block-diagonal matrix (its pattern is ``jac_sparsity``),
  so stiff integration of 1000 cells costs a sparse LU of 1000 small blocks;
* ``LSODA``: in its packed banded form (bandwidth ``species - 1`` on each side), so the
  banded LU costs O(cells * species^3). LSODA controls the error in a weighted max norm, so
  every cell meets ``rtol``/``atol``;
* explicit methods (``RK45``, ``DOP853``...) need no Jacobian and take all cells at once.

``BDF`` and ``Radau`` control the error in an RMS norm over the whole stacked vector; to keep
each cell as accurate as if it were solved alone, the tolerances are divided by
``sqrt(cells in the batch)``.

Events (``network.events``)
---------------------------
Each segment is integrated with dense output. The trigger of every event is evaluated for
every cell at the solver's step boundaries; a false -> true change inside a step is refined
per cell by bisection on the dense output to machine precision. The earliest crossing over all
cells ends the segment: output times before it come from the dense output, the assignments
(evaluated with the pre-event state) are applied to every cell whose trigger crossed at that
instant, and integration restarts from there for all cells. A time-only trigger
(``"time >= 10"``) is therefore split exactly at its time; a state trigger is located to
round-off on the interpolant. A trigger that becomes true and false again within one solver
step is missed: lower ``max_step`` if that matters. Output at the event time is the
post-event state (right-continuous). Events with ``initial_value=False`` whose trigger holds at
the start fire at the start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.integrate import solve_ivp

from cellsde.datasets.timegrid import check_times
from cellsde.errors import CellsdeError
from cellsde.solvers._stacked import Stacked
from models_bio.expressions import compile_program, namespace
from models_bio.network import ReactionNetwork

METHODS = ("LSODA", "BDF", "Radau", "RK45", "RK23", "DOP853", "TRBDF2")
_MAX_EVENTS = 100_000


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown ODE method {method!r}; choose one of {', '.join(METHODS)}")


class _Events:
    """Compiled triggers and assignments of ``network.events`` (numpy, vectorised over cells)."""

    def __init__(self, network: ReactionNetwork) -> None:
        sp_names, pn = network.species_names, network.parameter_names
        inputs = {s: f"_x_[..., {i}]" for i, s in enumerate(sp_names)}
        inputs.update({q: f"_p_[..., {i}]" for i, q in enumerate(pn)})
        inputs["time"] = "_t_"
        rules = network.assignment_rules
        ev = network.events
        self.initial = np.array([e.initial_value for e in ev], dtype=bool)  # (event,)
        self._trig = compile_program([e.trigger for e in ev], inputs=inputs, assignments=rules)
        self._assign = []
        for e in ev:
            targets = []
            for var in e.assignments:
                if var in sp_names:
                    targets.append(("x", sp_names.index(var)))
                elif var in pn:
                    targets.append(("p", pn.index(var)))
                else:
                    raise CellsdeError(
                        f"event {e.name!r} assigns {var!r}, which is neither a species nor a "
                        "parameter; the ODE solver can only assign those"
                    )
            prog = compile_program(list(e.assignments.values()), inputs=inputs, assignments=rules)
            self._assign.append((targets, prog))
        self._ns = namespace("numpy")

    def trigger(self, x: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        """Trigger values, shape (cell, event), bool."""
        return self._trig(x, p, t, self._ns) > 0.5

    def apply(self, x: np.ndarray, p: np.ndarray, t: float, fire: np.ndarray) -> None:
        """Apply the assignments of ``fire`` (cell, event) in place, all read before any write."""
        values = [prog(x, p, t, self._ns) for _, prog in self._assign]  # pre-event values
        for j, (targets, _) in enumerate(self._assign):
            cells = fire[:, j]
            for col, (kind, idx) in enumerate(targets):
                (x if kind == "x" else p)[cells, idx] = values[j][cells, col]


def _first_crossing(sol, stk: Stacked, events: _Events, prev: np.ndarray):
    """Earliest false -> true trigger change on a dense segment: (time, fire (cell, event)) or None."""
    n, s = stk.n, stk.s
    ys = sol.y.reshape(n, s, -1)  # (cell, species, step)
    before = prev
    for j in range(1, sol.t.size):
        now = events.trigger(ys[:, :, j], stk.p, sol.t[j])  # (cell, event)
        rising = now & ~before
        if rising.any():
            lo = np.full(rising.shape, sol.t[j - 1])
            hi = np.full(rising.shape, sol.t[j])
            cells, evs = np.nonzero(rising)
            for _ in range(200):  # bisection on the interpolant, per (cell, event)
                mid = 0.5 * (lo[cells, evs] + hi[cells, evs])
                if np.all((mid <= lo[cells, evs]) | (mid >= hi[cells, evs])):
                    break
                y_mid = sol.sol(mid).reshape(n, s, -1)  # (cell, species, crossing)
                x_mid = y_mid[cells, :, np.arange(cells.size)]  # (crossing, species)
                t_col = mid if mid.size > 1 else float(mid[0])
                on = events._trig(x_mid, stk.p[cells], t_col, events._ns)
                on = on[np.arange(cells.size), evs] > 0.5
                hi[cells[on], evs[on]] = mid[on]
                lo[cells[~on], evs[~on]] = mid[~on]
            t_hit = hi[cells, evs].min()
            tol = 4 * np.finfo(float).eps * max(1.0, abs(t_hit))
            fire = np.zeros_like(rising)
            close = hi[cells, evs] <= t_hit + tol
            fire[cells[close], evs[close]] = True
            return float(t_hit), fire
        before = now
    return None


def _integrate_batch(network, x0, p, times, *, method, rtol, atol, max_step, frozen, use_events):
    """Integrate one batch; returns (cell, time, species)."""
    stk = Stacked(network, p.copy(), frozen)
    n, s = x0.shape
    scale = math.sqrt(n) if method in ("BDF", "Radau") else 1.0
    opts = {"method": method, "rtol": rtol / scale, "atol": atol / scale, "max_step": max_step}
    if method in ("BDF", "Radau"):
        opts["jac"] = lambda t, y: stk.jac(t, y, banded=False)
    elif method == "LSODA":
        opts.update(jac=lambda t, y: stk.jac(t, y, banded=True), lband=s - 1, uband=s - 1)
    out = np.empty((n, times.size, s))  # (cell, time, species)
    out[:, 0] = x0
    events = _Events(network) if use_events and network.events else None
    x, t, k = x0.copy(), float(times[0]), 1
    if events is not None:
        prev = events.trigger(x, stk.p, t)
        start = prev & ~events.initial[None, :]
        if start.any():
            events.apply(x, stk.p, t, start)
            out[:, 0] = x
        prev = events.trigger(x, stk.p, t)
    n_fired = 0
    while k < times.size:
        sol = solve_ivp(
            stk.fun, (t, times[-1]), x.ravel(), dense_output=events is not None,
            t_eval=None if events is not None else times[k:], **opts,
        )  # fmt: skip
        if not sol.success:
            raise CellsdeError(
                f"ODE integration ({method}) failed at t = {sol.t[-1]:.6g}: {sol.message}; try "
                "method='BDF' or 'Radau' for a stiff model, or looser rtol/atol"
            )
        if events is None:
            out[:, k:] = sol.y.reshape(n, s, -1).transpose(0, 2, 1)
            break
        hit = _first_crossing(sol, stk, events, prev)
        t_stop = hit[0] if hit is not None else np.inf
        sel = np.flatnonzero(times[k:] < t_stop) + k
        if sel.size:
            out[:, sel] = sol.sol(times[sel]).reshape(n, s, -1).transpose(0, 2, 1)
            k = sel[-1] + 1
        if hit is None:
            break
        t = t_stop
        x = sol.sol(t).reshape(n, s).copy()
        events.apply(x, stk.p, t, hit[1])
        prev = events.trigger(x, stk.p, t)
        n_fired += 1
        if n_fired > _MAX_EVENTS:
            raise CellsdeError(f"more than {_MAX_EVENTS} events fired; check the triggers")
        while k < times.size and times[k] <= t:
            out[:, k] = x
            k += 1
    return out


def _check_inputs(network, x0, params, times):
    if not isinstance(network, ReactionNetwork):
        raise TypeError(f"network must be a ReactionNetwork, got {type(network).__name__}")
    x0 = np.asarray(x0, dtype=float)
    params = np.asarray(params, dtype=float)
    s, q = len(network.species), len(network.parameters)
    if x0.ndim != 2 or x0.shape[1] != s:
        raise ValueError(f"x0 has shape {x0.shape}; expected (cell, {s}) for {network.name!r}")
    if params.shape != (x0.shape[0], q):
        raise ValueError(f"params has shape {params.shape}; expected ({x0.shape[0]}, {q})")
    return x0, params, check_times(times)


def ode(
    network: ReactionNetwork,
    *,
    x0: np.ndarray,
    params: np.ndarray,
    times: np.ndarray,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    method: str = "LSODA",
    max_step: float = np.inf,
    batch_size: int | None = None,
    hold: Sequence[str] = (),
    events: bool = True,
    progress: bool = False,
) -> np.ndarray:
    """Integrate the deterministic rate equations of every cell.

    Parameters
    ----------
    network : ReactionNetwork
        The model.
    x0 : ndarray, shape (cell, species)
        State at ``times[0]``, in state units.
    params : ndarray, shape (cell, parameter)
        Full parameter vector of each cell (``network.parameter_names`` order).
    times : ndarray, shape (time,)
        Strictly increasing output times (model time units); integration starts at ``times[0]``.
    rtol, atol : float
        Per-cell relative and absolute tolerances.
    method : {"LSODA", "BDF", "Radau", "RK45", "RK23", "DOP853", "TRBDF2"}
        scipy integrator (see the module docstring for how each is stacked), or ``"TRBDF2"``:
        the population integrator of :mod:`cellsde.solvers.esdirk` (own steps per cell,
        sparse LU, exact Jacobian; no events; ``max_step`` and ``batch_size`` unused), much
        faster for many cells of a stiff model (:mod:`cellsde.solvers.ode_trbdf2`).
    max_step : float
        Largest step (time units).
    batch_size : int, optional
        Cells per stacked system (default: all). Step sizes follow the hardest cell of a
        batch, so very different cells may integrate faster in smaller batches.
    hold : sequence of str
        Species whose value is held constant (their derivative is set to 0).
    events : bool
        Apply ``network.events`` (see the module docstring).
    progress : bool
        tqdm bar over batches.

    Returns
    -------
    ndarray, shape (cell, time, species)
        Trajectories in state units.
    """
    _check_method(method)
    x0, params, times = _check_inputs(network, x0, params, times)
    unknown = sorted(set(hold) - set(network.species_names))
    if unknown:
        raise ValueError(f"hold names unknown species {unknown}")
    if method == "TRBDF2":
        from cellsde.solvers.ode_trbdf2 import trbdf2

        return trbdf2(network, x0, params, times, rtol=rtol, atol=atol, hold=hold)
    frozen = np.array([s in set(hold) for s in network.species_names], dtype=bool)
    n = x0.shape[0]
    if batch_size is None:
        batch_size = max(n, 1)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out = np.empty((n, times.size, x0.shape[1]))  # (cell, time, species)
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"ode ({method})", unit="batch", disable=None)
    for a in starts:
        b = min(a + batch_size, n)
        out[a:b] = _integrate_batch(
            network, x0[a:b], params[a:b], times, method=method, rtol=rtol, atol=atol,
            max_step=max_step, frozen=frozen, use_events=events,
        )  # fmt: skip
    if frozen.any() and not (events and network.events):
        out[:, :, frozen] = x0[:, None, frozen]  # exactly, not to the solver's round-off
    return out


def steady_state(
    network: ReactionNetwork,
    *,
    x0: np.ndarray,
    params: np.ndarray,
    chunk: float = 4000.0,
    rel_change: float = 5e-4,
    floor: float = 8e-7,
    max_chunks: int = 50,
    method: str = "BDF",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    hold: Sequence[str] = (),
    progress: bool = False,
) -> np.ndarray:
    """Each cell's steady state by repeated chunk integrations (Guo 2024 phase 1).

    Every still-moving cell is integrated over ``[0, chunk]`` from where its last chunk ended;
    a cell has converged when every species with final value ``>= floor`` changed by less
    than ``rel_change`` relative over the chunk (defaults: 8e-7 and 0.05 %). Events are
    ignored; time restarts at 0 in each chunk.

    Parameters
    ----------
    network : ReactionNetwork
        The model.
    x0 : ndarray, shape (cell, species)
        Starting state.
    params : ndarray, shape (cell, parameter)
        Full parameter vector of each cell.
    chunk : float
        Length of one chunk (model time units).
    rel_change, floor : float
        Convergence rule (see above).
    max_chunks : int
        Give up after this many chunks.
    method, rtol, atol :
        Stiff integrator and tolerances passed to :func:`ode`.
    hold : sequence of str
        Species held constant (e.g. the stimulus species at 0).
    progress : bool
        tqdm bar over chunks.

    Returns
    -------
    ndarray, shape (cell, species)
        Steady state per cell.

    Raises
    ------
    CellsdeError
        If some cells have not converged after ``max_chunks`` chunks (e.g. they oscillate).
    """
    _check_method(method)
    x0, params, _ = _check_inputs(network, x0, params, [0.0, chunk])
    if method == "TRBDF2":  # Newton on each cell's invariant manifold instead of chunk rules
        from cellsde.solvers.ode_trbdf2 import trbdf2_steady_state

        return trbdf2_steady_state(network, x0, params, rtol=rtol, atol=atol, hold=hold)
    x = x0.copy()
    moving = np.arange(x.shape[0])
    for _ in range(max_chunks):
        if moving.size == 0:
            return x
        end = ode(
            network, x0=x[moving], params=params[moving], times=np.array([0.0, chunk]),
            rtol=rtol, atol=atol, method=method, hold=hold, events=False, progress=progress,
        )[:, -1]  # fmt: skip
        start = x[moving]
        big = np.abs(end) >= floor
        change = np.abs(end - start) / np.where(big, np.abs(end), 1.0)
        done = np.all(~big | (change < rel_change), axis=1)
        x[moving] = end
        moving = moving[~done]
    if moving.size:
        raise CellsdeError(
            f"{moving.size} of {x.shape[0]} cells did not reach a steady state after "
            f"{max_chunks} chunks of {chunk} time units (first: cell {moving[0]}); the model may "
            "oscillate for these parameters; raise max_chunks or check the parameters"
        )
    return x
