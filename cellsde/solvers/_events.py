"""SBML event semantics for a population of cells, shared by every network solver.

A solver advances its cells and asks this module two things: *where must a cell stop* (a
trigger changes value, or a delayed event comes due), and *what happens there*
(:meth:`Events.process`). Everything is vectorised over cells; each cell has its own event
times. The solvers differ only in how they find the instant a trigger changes: the ODE solver
bisects its dense output, the stochastic solvers bisect the deterministic flow between two
reactions (:func:`bisect`), and a reaction itself can flip a trigger.

Semantics (SBML Level 3 Version 2, section 4.12), per cell:

* an event is *triggered* when its trigger turns from false to true (before the start, the
  trigger has the value ``initial_value``, so ``initial_value=False`` fires at the start);
* a triggered event is *due* after its delay (evaluated when triggered; none: at once). Its
  assignment values are computed when triggered if ``use_values_from_trigger_time``, else when
  executed. An event triggered again while pending is pending twice;
* at an instant, due events are executed one at a time, highest priority first (evaluated
  just before each execution; no priority ranks lowest; ties are broken at random with the
  solver's generator, or in declaration order without one). After each execution every trigger
  is re-evaluated: new rising edges are triggered, and a pending event that is not
  ``persistent`` is cancelled when its trigger is false;
* all of an event's assignments are evaluated before any is applied.

Pending events are kept in flat arrays (instance -> cell, event, due time, values), so a
population with thousands of cells and delays costs array operations, not Python loops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from models_bio.expressions import draws, namespace
from models_bio.network import ReactionNetwork

MAX_ROUNDS = 10_000  # executions at one instant before declaring an endless cascade


class Events:
    """Compiled events of ``network`` and the event state of ``n_cells`` cells.

    Parameters
    ----------
    network : ReactionNetwork
        Its ``events`` (must be non-empty).
    n_cells : int
        Cells of the population (cell ids ``0 .. n_cells - 1``).
    rng : numpy.random.Generator, optional
        Draws in assignments and random tie-breaks; None: ties in declaration order, and a
        model with draws is refused.

    Attributes
    ----------
    prev : ndarray of bool, shape (cell, event)
        Trigger values last seen.
    due : ndarray, shape (cell,)
        Earliest pending execution time per cell (``inf``: none).
    reads_flow : bool
        Some trigger can change between reactions (reads ``time`` or a rate-rule variable).
    """

    def __init__(self, network: ReactionNetwork, n_cells: int, rng: Any = None) -> None:
        ev = network.events
        self.network, self.n_events = network, len(ev)
        if rng is None and any(draws(x) for e in ev for x in e.assignments.values()):
            raise CellsdeError(
                f"model {network.name!r} draws random numbers in event assignments; pass a seed"
            )
        self.rng = rng
        self._ns = namespace("numpy", rng=rng)
        self._trigger = network.compile_expressions([e.trigger for e in ev])
        self._delay = network.compile_expressions([e.delay or "0" for e in ev])
        self.has_priority = any(e.priority is not None for e in ev)
        self._priority = network.compile_expressions([e.priority or "-inf" for e in ev])
        self.persistent = np.array([e.persistent for e in ev], dtype=bool)
        self.early = np.array([e.use_values_from_trigger_time for e in ev], dtype=bool)
        sp, pn = network.species_names, network.parameter_names
        self._assign = []  # per event: (species columns, parameter columns, values, factors)
        for e in ev:
            cols = list(e.assignments)
            xs = [(k, sp.index(v)) for k, v in enumerate(cols) if v in sp]
            ps = [(k, pn.index(v)) for k, v in enumerate(cols) if v not in sp]
            values = network.compile_expressions(list(e.assignments.values()))
            factors = None
            if e.multiply:
                factors = network.compile_expressions([e.multiply.get(v, "1") for v in cols])
            self._assign.append((xs, ps, values, factors))
        atoms = [a for e in ev for a in _atoms(e.trigger)]
        self.n_atoms = len(atoms)
        self._atoms = network.compile_expressions(atoms) if atoms else None
        self.width = max([1, *(len(e.assignments) for e in ev)])
        self.prev = np.tile(np.array([e.initial_value for e in ev], dtype=bool), (n_cells, 1))
        self.due = np.full(n_cells, np.inf)
        self._cell = np.empty(0, dtype=np.int64)  # pending instances ...
        self._event = np.empty(0, dtype=np.int64)
        self._time = np.empty(0)
        self._vals = np.empty((0, self.width))  # NaN row: compute when executed
        self._early = np.empty(0, dtype=bool)
        rate_vars = set(network.rate_rules)
        read = set()
        for e in ev:
            read |= reads(network, e.trigger)
        self.reads_flow = bool(read & (rate_vars | {"time"}))

    # -- queries -----------------------------------------------------------------------
    def triggers(self, x: np.ndarray, p: np.ndarray, t: Any) -> np.ndarray:
        """Trigger values, shape (cell, event), at states ``x`` (cell, species)."""
        with np.errstate(all="ignore"):
            return np.asarray(self._trigger(x, p, t, self._ns), dtype=float) > 0.5

    def atoms(self, x: np.ndarray, p: np.ndarray, t: Any) -> np.ndarray:
        """Signs of the comparisons inside the triggers (``a < b`` -> ``sign(a - b)``), (cell, atom).

        A trigger such as ``x > 1 and x < 2`` can turn true and false again between two solver
        steps; each of its comparisons changes sign there, so solvers watch these signs too.
        """
        if self._atoms is None:
            return np.zeros((x.shape[0], 0))
        with np.errstate(all="ignore"):
            return np.sign(np.asarray(self._atoms(x, p, t, self._ns), dtype=float))

    def significant(self, trig: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """(cell, event) changes that need a stop: rising edges, and falls that cancel events."""
        old = self.prev[cells]
        rising = trig & ~old
        falling = old & ~trig
        if not falling.any() or self.persistent.all() or not self._cell.size:
            return rising
        fragile = np.zeros_like(falling)
        pos = np.full(len(self.prev), -1)
        pos[cells] = np.arange(len(cells))
        keep = (~self.persistent[self._event]) & (pos[self._cell] >= 0)
        fragile[pos[self._cell[keep]], self._event[keep]] = True
        return rising | (falling & fragile)

    def settle(self, trig: np.ndarray, cells: np.ndarray) -> None:
        """Record trigger values seen where nothing needs a stop (harmless falls)."""
        self.prev[cells] = trig

    # -- what happens at an instant ----------------------------------------------------
    def process(self, x: np.ndarray, p: np.ndarray, t: Any, cells: np.ndarray) -> np.ndarray:
        """Trigger, cancel and execute events of ``cells`` at time ``t``, in place.

        Parameters
        ----------
        x : ndarray, shape (cell, species)
            States of ``cells`` (modified in place).
        p : ndarray, shape (cell, parameter)
            Parameters of ``cells`` (modified in place by assignments to parameters).
        t : float or ndarray of shape (cell,)
            Each cell's time.
        cells : ndarray of int, shape (cell,)
            Cell ids.

        Returns
        -------
        ndarray of bool, shape (cell,)
            Which cells executed at least one event.
        """
        m = len(cells)
        tc = np.broadcast_to(np.asarray(t, dtype=float), (m,))
        pos = np.full(len(self.prev), -1)
        pos[cells] = np.arange(m)
        fired = np.zeros(m, dtype=bool)
        for _ in range(MAX_ROUNDS):
            trig = self.triggers(x, p, tc)
            rising = trig & ~self.prev[cells]
            self.prev[cells] = trig
            if rising.any():
                self._schedule(x, p, tc, cells, rising)
            if self._cell.size and not self.persistent.all():
                mine = pos[self._cell]
                off = (mine >= 0) & ~self.persistent[self._event]
                off[off] = ~trig[mine[off], self._event[off]]
                self._drop(off)
            mine = pos[self._cell]
            now = (mine >= 0) & (self._time <= tc[np.maximum(mine, 0)])
            if not now.any():
                break
            self._execute(x, p, tc, mine, np.flatnonzero(now))
            fired[np.unique(mine[now])] = True
        else:
            c = int(cells[np.argmax(fired)])
            raise CellsdeError(
                f"events keep firing at t = {float(tc[0]):g} (cell {c}) after {MAX_ROUNDS} "
                "executions; check the triggers and assignments"
            )
        self._update_due()
        return fired

    def _schedule(self, x, p, tc, cells, rising) -> None:
        rows, evs = np.nonzero(rising)
        with np.errstate(all="ignore"):
            delay = np.asarray(self._delay(x[rows], p[rows], tc[rows], self._ns))[
                np.arange(rows.size), evs
            ]
        if np.any(delay < 0) or np.any(np.isnan(delay)):
            j = int(evs[np.argmax(~(delay >= 0))])
            raise CellsdeError(
                f"event {self.network.events[j].name!r} has delay {delay[~(delay >= 0)][0]}; "
                "delays must be >= 0"
            )
        vals = np.full((rows.size, self.width), np.nan)
        early = self.early[evs]
        for j in np.unique(evs[early]):
            k = np.flatnonzero(early & (evs == j))
            vals[k, : len(self.network.events[j].assignments)] = self._values(j, x, p, tc, rows[k])
        self._cell = np.concatenate([self._cell, cells[rows]])
        self._event = np.concatenate([self._event, evs])
        self._time = np.concatenate([self._time, tc[rows] + delay])
        self._vals = np.concatenate([self._vals, vals])
        self._early = np.concatenate([self._early, early])

    def _values(self, j: int, x, p, tc, rows) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = self._assign[j][2](x[rows], p[rows], tc[rows], self._ns)
        return np.broadcast_to(out, (len(rows), out.shape[-1]))

    def _execute(self, x, p, tc, mine, due: np.ndarray) -> None:
        """Execute one due instance per cell: highest priority, ties at random."""
        rows, evs = mine[due], self._event[due]
        key = np.zeros(due.size)
        if self.has_priority:
            with np.errstate(all="ignore"):
                prio = np.asarray(self._priority(x[rows], p[rows], tc[rows], self._ns))
            key = np.nan_to_num(prio[np.arange(due.size), evs], nan=-math.inf)
        tie = self.rng.random(due.size) if self.rng is not None else -evs.astype(float)
        order = np.lexsort((-tie, -key, rows))  # per cell: highest key, then tie
        first = np.ones(order.size, dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        chosen = due[order[first]]
        for j in np.unique(self._event[chosen]):
            inst = chosen[self._event[chosen] == j]
            r = mine[inst]
            vals = self._vals[inst, : len(self.network.events[j].assignments)].copy()
            late = ~self._early[inst]
            if late.any():
                vals[late] = self._values(j, x, p, tc, r[late])
            xs, ps, _, factors = self._assign[j]
            if factors is not None:
                with np.errstate(all="ignore"):
                    vals = vals * factors(x[r], p[r], tc[r], self._ns)
            for k, col in xs:
                x[r, col] = vals[:, k]
            for k, col in ps:
                p[r, col] = vals[:, k]
        gone = np.zeros(self._cell.size, dtype=bool)
        gone[chosen] = True
        self._drop(gone)

    def _drop(self, mask: np.ndarray) -> None:
        if mask.any():
            keep = ~mask
            self._cell, self._event, self._time = (
                self._cell[keep],
                self._event[keep],
                self._time[keep],
            )
            self._vals, self._early = self._vals[keep], self._early[keep]

    def _update_due(self) -> None:
        self.due[:] = np.inf
        np.minimum.at(self.due, self._cell, self._time)


def _atoms(trigger: str) -> list[str]:
    """``(a) - (b)`` for every comparison ``a op b`` in ``trigger`` (chains split in pairs)."""
    import ast
    import itertools

    from models_bio.expressions import parse

    out = []
    for node in ast.walk(parse(trigger)):
        if isinstance(node, ast.Compare):
            terms = [node.left, *node.comparators]
            out += [
                f"({ast.unparse(a)}) - ({ast.unparse(b)})" for a, b in itertools.pairwise(terms)
            ]
    return out


def reads(network: ReactionNetwork, expr: str) -> set[str]:
    """Symbols ``expr`` reads, through assignment rules."""
    from models_bio.expressions import symbols

    rules = dict(network.assignment_rules)
    out, todo = set(), set(symbols(expr))
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo |= set(symbols(rules[n])) if n in rules else set()
    return out


def bisect(changed: Any, lo: np.ndarray, hi: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Per pair, the earliest time in ``(lo, hi]`` at which ``changed(times) -> bool`` holds.

    ``changed`` maps times (pair,) to a bool (pair,) that is false at ``lo`` and true at ``hi``
    (a change of a trigger between two known states); bisection to adjacent floats.
    """
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        open_ = (mid > lo) & (mid < hi)
        if not open_.any():
            break
        on = changed(np.where(open_, mid, hi))
        hi = np.where(open_ & on, mid, hi)
        lo = np.where(open_ & ~on, mid, lo)
    return hi
