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
SBML semantics (delays, priorities, persistence, trigger-time values, simultaneous events),
from :mod:`cellsde.solvers._events`. Each segment is integrated with dense output and ends at
the earliest pending delayed event. Every trigger is evaluated for every cell at the solver's
step boundaries; a change that matters (a rise, or a fall that cancels a non-persistent
pending event) is refined per cell by bisection on the dense output to adjacent floats. The
earliest such instant over all cells ends the segment: output times before it come from the
dense output, the events of every cell are processed there, and integration restarts for all
cells. A time-only trigger (``"time >= 10"``) is therefore split exactly at its time; a state
trigger is located to round-off on the interpolant. A trigger that becomes true and false again
within one solver step is missed: lower ``max_step`` if that matters. Output at an event time is
the post-event state (right-continuous). Events with ``initial_value=False`` whose trigger holds
at the start fire at the start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.integrate import solve_ivp

from cellsde.datasets.timegrid import check_times
from cellsde.errors import CellsdeError
from cellsde.solvers._events import Events, bisect
from cellsde.solvers._stacked import Stacked
from models_bio.network import ReactionNetwork

METHODS = ("LSODA", "BDF", "Radau", "RK45", "RK23", "DOP853", "TRBDF2", "ESDIRK4")
POPULATION_METHODS = ("TRBDF2", "ESDIRK4")  # the per-cell-step integrators of ode_esdirk
_MAX_EVENTS = 100_000


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown ODE method {method!r}; choose one of {', '.join(METHODS)}")


def _first_change(sol, stk: Stacked, events: Events, cells: np.ndarray):
    """Earliest instant on a dense segment where a trigger, or a comparison in one, changes.

    Returns None when nothing changes on the segment. Only the earliest instant over all cells
    matters (integration restarts there for all of them), so the bisection is on one time:
    "has any watched (cell, trigger) or (cell, comparison) changed by then?", each evaluation
    one dense-output call for all cells.
    """
    n, s = stk.n, stk.s
    ys = sol.y.reshape(n, s, -1)  # (cell, species, step)
    signs = events.atoms(ys[:, :, 0], stk.p, sol.t[0])  # (cell, atom)
    for j in range(1, sol.t.size):
        trig = events.triggers(ys[:, :, j], stk.p, sol.t[j])  # (cell, event)
        sig = events.significant(trig, cells)
        now = events.atoms(ys[:, :, j], stk.p, sol.t[j])
        flip = now != signs
        if not (sig.any() or flip.any()):
            events.settle(trig, cells)
            signs = now
            continue
        watched = [
            (np.nonzero(sig), events.triggers, events.prev),
            (np.nonzero(flip), events.atoms, signs),
        ]

        def changed(tt: np.ndarray, watched=watched) -> np.ndarray:
            x = sol.sol(float(tt[0])).reshape(n, s)
            hit = False
            for (rows, cols), fn, before in watched:
                if rows.size:
                    hit = hit or bool(np.any(fn(x, stk.p, tt[0])[rows, cols] != before[rows, cols]))
            return np.array([hit])

        return float(bisect(changed, np.array([sol.t[j - 1]]), np.array([sol.t[j]]))[0])
    return None


def _integrate_batch(
    network, x0, p, times, *, method, rtol, atol, max_step, frozen, use_events, seed
):
    """Integrate one batch; returns (cell, time, species)."""
    n, s = x0.shape
    out = np.empty((n, times.size, s))  # (cell, time, species)
    out[:, 0] = x0
    has_events = use_events and bool(network.events)
    if s == 0 and not has_events:  # nothing moves: a model of rules and parameters
        return out
    stk = Stacked(network, p.copy(), frozen)
    scale = math.sqrt(n) if method in ("BDF", "Radau") else 1.0
    opts = {"method": method, "rtol": rtol / scale, "atol": atol / scale, "max_step": max_step}
    if method in ("BDF", "Radau"):
        opts["jac"] = lambda t, y: stk.jac(t, y, banded=False)
    elif method == "LSODA":
        opts.update(jac=lambda t, y: stk.jac(t, y, banded=True), lband=s - 1, uband=s - 1)
    cells = np.arange(n)
    rng = None if seed is None else np.random.default_rng(seed)
    events = Events(network, n, rng) if has_events else None
    x, t, k = x0.copy(), float(times[0]), 1
    if events is not None:
        events.process(x, stk.p, t, cells)
        out[:, 0] = x
    n_fired = 0
    while k < times.size:
        t_end = float(times[-1]) if events is None else min(float(times[-1]), events.due.min())
        hit = None
        if t_end > t and s > 0:
            sol = solve_ivp(
                stk.fun, (t, t_end), x.ravel(), dense_output=events is not None,
                t_eval=None if events is not None else times[k:], **opts,
            )  # fmt: skip
            if not sol.success:
                raise CellsdeError(
                    f"ODE integration ({method}) failed at t = {sol.t[-1]:.6g}: {sol.message}; "
                    "try method='BDF' or 'Radau' for a stiff model, or looser rtol/atol"
                )
            if events is None:
                out[:, k:] = sol.y.reshape(n, s, -1).transpose(0, 2, 1)
                break
            hit = _first_change(sol, stk, events, cells)
            dense = sol.sol
        else:
            dense = None
        t_stop = hit if hit is not None else t_end
        sel = np.flatnonzero(times[k:] < t_stop) + k
        if sel.size:
            out[:, sel] = (
                dense(times[sel]).reshape(n, s, -1).transpose(0, 2, 1)
                if dense is not None
                else x[:, None, :]
            )
            k = sel[-1] + 1
        if dense is not None:
            x = dense(t_stop).reshape(n, s).copy()
        t = t_stop
        if hit is None and t_end >= times[-1]:
            out[:, k:] = x[:, None, :]
            break
        events.process(x, stk.p, t, cells)
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
    seed: int | None = None,
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
    method : {"LSODA", "BDF", "Radau", "RK45", "RK23", "DOP853", "TRBDF2", "ESDIRK4"}
        scipy integrator (see the module docstring for how each is stacked), or
        ``"TRBDF2"`` (order 2) / ``"ESDIRK4"`` (order 4): the population integrator of
        :mod:`cellsde.solvers.esdirk` (own steps per cell, sparse LU, exact Jacobian; no
        events; ``max_step`` and ``batch_size`` unused), much faster for many cells of a
        stiff model (:mod:`cellsde.solvers.ode_esdirk`). At the accuracy of a scipy ``BDF``
        at ``rtol=1e-6``, ``"ESDIRK4"`` is the fastest for the Guo 2024 population
        (docs/benchmarks.md).
    max_step : float
        Largest step (time units).
    batch_size : int, optional
        Cells per stacked system (default: all). Step sizes follow the hardest cell of a
        batch, so very different cells may integrate faster in smaller batches.
    hold : sequence of str
        Species whose value is held constant (their derivative is set to 0).
    events : bool
        Apply ``network.events`` (see the module docstring).
    seed : int, optional
        Seed of the random draws in event assignments and of random tie-breaks between
        simultaneous events of equal priority (None: ties in declaration order; a model with
        draws then raises).
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
    if method in POPULATION_METHODS:
        from cellsde.solvers.ode_esdirk import esdirk_ode

        return esdirk_ode(network, x0, params, times, method=method, rtol=rtol, atol=atol,
                          hold=hold)  # fmt: skip
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
            seed=None if seed is None else [seed, a],
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
    if method in POPULATION_METHODS:  # Newton on each cell's invariant manifold, not chunk rules
        from cellsde.solvers.ode_esdirk import esdirk_steady_state

        return esdirk_steady_state(network, x0, params, method=method, rtol=rtol, atol=atol,
                                   hold=hold)  # fmt: skip
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


def stimulated_start(
    network: ReactionNetwork, *, x0: np.ndarray, params: np.ndarray, **options: object
) -> np.ndarray:
    """The two-phase start of a model with a ``stimulus`` (Guo 2024): each cell's steady state
    with the stimulus species held at 0 (:func:`steady_state`, ``options`` passed on), then the
    stimulus set. ``x0`` (cell, species) is not modified; returns (cell, species).

    Raises
    ------
    CellsdeError
        The model declares no stimulus, or as :func:`steady_state`.
    """
    from models_bio.nfkb.steady import apply_stimulus

    if not network.stimulus:
        raise CellsdeError(
            f"model {network.name!r} declares no stimulus; call steady_state for a plain steady "
            "state"
        )
    x = np.array(x0, dtype=float, copy=True)
    x[..., [network.species_names.index(s) for s in network.stimulus]] = 0.0
    x = steady_state(network, x0=x, params=params, hold=tuple(network.stimulus), **options)
    return apply_stimulus(network, x)
