"""Events and deterministic flows inside the stochastic solvers (SSA, tau-leaping), per cell.

Between two reactions of a cell its molecule counts are constant, but two things may still
happen: a *flow* (a rate rule, e.g. a clock ``dt/dt = 1``) moves a continuous variable, and
an event may come due or be triggered by ``time`` or by that flow. :class:`Hybrid` gives a
solver the instant each cell must stop before its next reaction (:meth:`Hybrid.stop`), moves
the flows there (:meth:`Hybrid.flow`) and processes events after each step (:meth:`Hybrid.after`),
all vectorised over the active cells. The event semantics are :mod:`cellsde.solvers._events`.

A solver proposes a reaction at ``t_new``; the cell stops at ``t_stop = min(t_new, next due
event, next output time (when flows exist), first trigger change on the flow)``. The reaction
happens only if ``t_stop == t_new``; otherwise it is discarded, which is exact because waiting
times are memoryless (the same argument cuts tau-leaps at output times).

Flows are supported when they are piecewise linear between reactions (their rate reads neither
``time`` nor a flow variable) and no propensity reads a flow variable: the process of the
reactions is then unchanged and every flow is exact. :func:`check_flows` enforces this.

Arrays: counts ``xs`` are species-major (species, cell) as in the solvers; events see states
``x = counts / scale`` (cell, species). Everything here is numpy; the torch solvers hand over
CPU copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers._events import Events, bisect, reads
from models_bio.expressions import namespace
from models_bio.network import ReactionNetwork


def check_flows(network: ReactionNetwork, method: str) -> None:
    """Raise :class:`CellsdeError` unless every rate rule is a flow the stochastic solvers take."""
    flows = set(network.rate_rules)
    if not flows:
        return
    species = {s.name: s for s in network.species}
    for name, expr in network.rate_rules.items():
        bad = reads(network, expr) & (flows | {"time"})
        if not species[name].boundary or bad:
            why = (
                f"reads {sorted(bad)[0]!r}, so it changes between reactions"
                if bad
                else "is also changed by reactions"
            )
            raise CellsdeError(
                f"{method} integrates a rate rule only when its rate is constant between "
                f"reactions; the rate rule of {name!r} ({expr!r}) {why}; use method='ode' or 'cle'"
            )
    for r in network.reactions:
        read = reads(network, r.law) | set(r.reactants)
        if read & flows:
            raise CellsdeError(
                f"{method}: the propensity of reaction {r.name!r} reads {sorted(read & flows)[0]!r}, "
                "which a rate rule changes between reactions (the waiting times would not be "
                "exponential); use method='ode' or 'cle'"
            )


class Hybrid:
    """Events and flows of ``network`` for ``n_cells`` cells in count space.

    Parameters
    ----------
    network : ReactionNetwork
        The model (events and/or rate rules).
    n_cells : int
        Cells of the run.
    scale : ndarray, shape (species,)
        Molecules per unit state value.
    t_end : float
        Last output time: nothing after it matters.
    rng : numpy.random.Generator
        Draws in event assignments, random tie-breaks.
    """

    def __init__(
        self, network: ReactionNetwork, n_cells: int, scale: np.ndarray, t_end: float, rng: Any
    ) -> None:
        self.events = Events(network, n_cells, rng) if network.events else None
        sp = network.species_names
        self.flow_idx = np.array([sp.index(s) for s in network.rate_rules], dtype=np.int64)
        self.has_flows = bool(self.flow_idx.size)
        self._rates = network.compile_expressions(list(network.rate_rules.values()))
        self._ns = namespace("numpy")
        self.scale = np.asarray(scale, dtype=float)
        self.ids = np.arange(n_cells)
        self.horizon = float(np.nextafter(t_end, np.inf))  # stops beyond it record t_end
        self.watch = self.events is not None and self.events.reads_flow

    def state(self, xs: np.ndarray) -> np.ndarray:
        """States (cell, species) from counts (species, cell)."""
        return (xs / self.scale[:, None]).T

    def _flow_rates(self, x: np.ndarray, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """d x / dt of the flow variables, (cell, flow), in state units."""
        with np.errstate(all="ignore"):
            return np.asarray(self._rates(x, p, t, self._ns))

    def start(self, xs: np.ndarray, params: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Process the events at the start (``initial_value=False`` triggers); cells changed."""
        return self.after(xs, params, t)

    def stop(
        self,
        t: np.ndarray,
        t_new: np.ndarray,
        xs: np.ndarray,
        params: np.ndarray,
        t_out: np.ndarray,
    ) -> np.ndarray:
        """Where each cell stops, (cell,): the proposed reaction time or an earlier interruption.

        ``t_out`` is each cell's next output time after ``t`` (a stop when flows exist).
        """
        t_stop = np.minimum(t_new, self.horizon)
        if self.events is not None:
            np.minimum(t_stop, self.events.due[self.ids], out=t_stop)
        if self.has_flows:
            np.minimum(t_stop, t_out, out=t_stop)
        if not self.watch:
            return t_stop
        x = self.state(xs)
        rate = self._flow_rates(x, params, t) if self.has_flows else None
        end = self._moved(x, rate, t_stop - t)
        ev = self.events
        trig = ev.triggers(end, params, t_stop)
        sig = ev.significant(trig, self.ids)
        before = ev.atoms(x, params, t)
        flip = ev.atoms(end, params, t_stop) != before
        for mask, fn, ref in ((sig, ev.triggers, ev.prev[self.ids]), (flip, ev.atoms, before)):
            rows, cols = np.nonzero(mask)
            if rows.size:
                hit = bisect(
                    self._on_flow(fn, x, rate, params, t, rows, cols, ref), t[rows], t_stop[rows]
                )
                np.minimum.at(t_stop, rows, hit)
        return t_stop

    def _moved(self, x: np.ndarray, rate: Any, dt: np.ndarray, rows: Any = None) -> np.ndarray:
        """States after the flows ran for ``dt`` (cell,)."""
        if rate is None:
            return x if rows is None else x[rows]
        out = (x if rows is None else x[rows]).copy()
        r = rate if rows is None else rate[rows]
        out[:, self.flow_idx] += r * dt[:, None]
        return out

    def _on_flow(self, fn, x, rate, params, t, rows, cols, ref):
        before = ref[rows, cols]

        def changed(tt: np.ndarray) -> np.ndarray:
            moved = self._moved(x, rate, tt - t[rows], rows)
            return fn(moved, params[rows], tt)[np.arange(rows.size), cols] != before

        return changed

    def flips(self, xs: np.ndarray, params: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Cells (cell,) whose triggers would change as it matters at counts ``xs`` and ``t``."""
        if self.events is None:
            return np.zeros(xs.shape[1], dtype=bool)
        trig = self.events.triggers(self.state(xs), params, t)
        return self.events.significant(trig, self.ids).any(1)

    def flow(
        self, xs: np.ndarray, params: np.ndarray, t: np.ndarray, t_stop: np.ndarray, at: Any = None
    ) -> None:
        """Move the flow variables of every cell from ``t`` to ``t_stop``, in place.

        The rates are those of the counts ``at`` (default ``xs``): the state during the step.
        """
        if not self.has_flows:
            return
        rate = self._flow_rates(self.state(xs if at is None else at), params, t)  # (cell, flow)
        dt = np.where(np.isfinite(t_stop), t_stop - t, 0.0)
        xs[self.flow_idx] += (rate * dt[:, None]).T * self.scale[self.flow_idx, None]

    def after(self, xs: np.ndarray, params: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Process events of the cells where a trigger changed or an event is due.

        Modifies ``xs`` (counts) and ``params`` in place; returns the rows (active cells) whose
        state or parameters an event changed.
        """
        ev = self.events
        if ev is None:
            return np.empty(0, dtype=np.int64)
        x = self.state(xs)
        trig = ev.triggers(x, params, t)
        need = ev.significant(trig, self.ids).any(1) | (ev.due[self.ids] <= t)
        if not need.all():
            ev.settle(trig[~need], self.ids[~need])
        rows = np.flatnonzero(need)
        if not rows.size:
            return rows
        xr, pr = x[rows].copy(), params[rows].copy()
        fired = ev.process(xr, pr, t[rows], self.ids[rows])
        changed = xr != x[rows]
        sub = xs[:, rows]
        sub[changed.T] = (xr * self.scale).T[changed.T]
        xs[:, rows] = sub
        params[rows] = pr
        return rows[fired]

    def take(self, keep: np.ndarray) -> None:
        """Keep only the active cells ``keep`` (index array)."""
        self.ids = self.ids[keep]
