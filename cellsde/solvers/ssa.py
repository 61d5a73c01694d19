"""Exact stochastic simulation (Gillespie direct method), vectorised over cells.

Algorithm
---------
Every cell runs its own Gillespie direct-method chain. With propensities ``a`` (reaction,)
of a cell:

1. ``a = K * prod_f (n[i_f] - m_f)`` (mass action, falling factorials; see
   :class:`~cellsde.solvers._stochastic.Propensities`), or the compiled rate laws;
2. cumulative sums ``s_j = a_0 + ... + a_j``, added in reaction order (both backends add in
   this order, so they agree bit for bit);
3. waiting time ``tau = E / a0`` with ``E ~ Exp(1)`` and ``a0 = s[-1]``;
4. the fired reaction is the first ``j`` with ``s_j > U a0`` (the last one when none is);
5. output times passed by the step get the state *before* the reaction (the state is
   piecewise constant), see :class:`~cellsde.solvers._recording.GridRecorder`.

Random numbers are drawn in blocks of :data:`BLOCK` iterations x active cells (fewer
iterations when that would exceed :data:`DRAWS` numbers, so memory stays bounded for huge
populations), ``E`` then ``U``; cell ``c`` uses row ``b`` of the block at its ``b``-th event
in the block. Finished cells idle until the end of a block; when a quarter of the active
cells are finished they are dropped (compaction), so heterogeneous populations cost about the
sum, not the maximum, of their event counts. The method is exact: each cell's path has the
law of the chemical master equation (for rate laws that read ``time`` the propensity is
frozen between events).

Backends (:mod:`cellsde.solvers._backend`)
------------------------------------------
* ``numba`` (default for mass-action networks without events or rate rules when numba is
  installed): each block, every cell runs its events in a compiled loop
  (:mod:`cellsde.solvers._kernels`) that recomputes only the propensities the fired
  reaction changes (dependency graph), then forms ``a0`` and the selection in two passes
  over the reactions: ``O(reactions)`` flops per event. Same output as numpy for the same seed.
* ``numpy``: all active cells advance in lockstep, one event per cell per iteration, in ~10
  array operations on (reaction, cell) arrays (the state update is one small matrix product
  with the "staircase" ``D``: ``S_0 + sum_k (S_{k+1} - S_k) [s_k <= U a0]``); Python
  overhead is amortised over cells. Every model, events and flows included
  (:class:`~cellsde.solvers._hybrid.Hybrid`).
* ``torch``: the lockstep loop on any ``device`` (e.g. ``"cuda"``), with the sums as a matrix
  product; models without events.

Complexity: ``O(events per cell x cells x reactions)`` arithmetic; memory
``O(cells x (times + reactions) x species + BLOCK x cells)``, independent of the number of
events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers._backend import choose_backend
from cellsde.solvers._hybrid import Hybrid
from cellsde.solvers._recording import GridRecorder, Progress
from cellsde.solvers._stochastic import (
    Propensities,
    compact,
    numpy_generator,
    prepare,
    torch_generator,
)

BLOCK = 256  # iterations per block of random numbers
DRAWS = 1 << 22  # draws of each kind per block at most (32 MiB): huge populations, shorter blocks
_TINY = 5e-324  # smallest positive double: keeps E / 0 = inf (never 0 / 0)


def ssa(
    network: Any,
    *,
    x0: Any,
    params: Any,
    times: Any,
    seed: Any,
    device: Any = "cpu",
    progress: bool = False,
    max_events: int | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Simulate a reaction network with the exact Gillespie SSA, all cells together.

    Parameters
    ----------
    network : models_bio.ReactionNetwork
        Model with whole-number stoichiometry; events and rate rules that are flows
        (:func:`cellsde.solvers._hybrid.check_flows`) run on the numpy backend.
    x0 : array_like, shape (cell, species)
        Initial state in state units; ``x0 * network.kinetics.count_scale()`` must be
        whole molecule counts.
    params : array_like, shape (cell, parameter)
        Full per-cell parameter matrix in ``network.parameter_names`` order.
    times : array_like, shape (time,)
        Strictly increasing output times in the model's time units; ``times[0]`` is the start.
    seed : int, numpy.random.Generator or torch.Generator
        Source of randomness. The numpy and numba backends use a numpy Generator (a
        torch.Generator is used to draw its seed); the torch backend a torch.Generator on
        ``device`` (an int or numpy Generator seeds one). The same seed gives the same output,
        and the numba and numpy backends give the same output as each other.
    device : str or torch.device
        ``"cpu"`` (numba or numpy backend unless ``backend="torch"``) or a torch device such
        as ``"cuda"``.
    progress : bool
        Show a tqdm bar over simulated time (silent when stderr is not a terminal).
    max_events : int, optional
        Maximum number of reactions per cell; exceeding it raises :class:`CellsdeError`.
    backend : {"auto", "numba", "numpy", "torch"}
        ``"auto"``: torch off the CPU, else numba when it is installed and the network is
        mass action without events or rate rules, else numpy (see
        :mod:`cellsde.solvers._backend`).

    Returns
    -------
    ndarray, shape (cell, time, species), float64
        State at each output time in state units (counts / count scale).

    Raises
    ------
    CellsdeError
        On non-integer stoichiometry, rate rules that are not flows, bad shapes, non-whole
        counts, non-increasing times, negative or NaN propensities, too many events, or a
        backend that cannot run the model (numba not installed, events on torch).
    """
    prob = prepare(network, x0, params, times, "SSA")
    chosen = choose_backend(backend, device, network, "SSA")
    prop = Propensities(network, prob.scale)
    if chosen == "torch":
        out = _run_torch(prob, prop, seed, device, progress, max_events)
    else:
        rng = numpy_generator(seed)
        hybrid = bool(network.events or network.rate_rules)
        hyb = Hybrid(network, len(prob.counts), prob.scale, prob.times[-1], rng) if hybrid else None
        out = _run_numpy(prob, prop, rng, progress, max_events, hyb, chosen == "numba")
    return out / prob.scale


def _selection_matrices(stoich: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``L`` (reaction, reaction) lower-triangular ones; ``D`` (species, reaction) staircase."""
    r = stoich.shape[0]
    d = np.zeros((stoich.shape[1], max(r, 1)))  # no reaction: one column of zeros
    if r:
        d[:, 0] = stoich[0]
        d[:, 1:] = (stoich[1:] - stoich[:-1]).T
    return np.tril(np.ones((r, r))), d


def _block_length(m: int, events: int, max_events: int | None) -> int:
    """Iterations of the next block for ``m`` active cells: at most :data:`BLOCK`, at most
    :data:`DRAWS` draws of each kind (at least one iteration), and no more than the events left."""
    n = max(1, min(BLOCK, DRAWS // max(m, 1)))
    return n if max_events is None else min(n, max_events - events)


def _too_many(max_events: int) -> CellsdeError:
    return CellsdeError(
        f"SSA reached max_events={max_events} reactions in a cell before the last output "
        "time; raise max_events, shorten times, or use method='tau'"
    )


def _run_numpy(
    prob: Any,
    prop: Propensities,
    rng: np.random.Generator,
    progress: bool,
    max_events: Any,
    hyb: Hybrid | None,
    compiled: bool,
) -> np.ndarray:
    """The block loop of the numpy and numba backends (``compiled``: numba steps each block)."""
    stoich, times = prob.stoich, prob.times
    n_reac, n_sp = stoich.shape
    n_cells = prob.counts.shape[0]
    xe = np.ones((n_sp + 1, n_cells))  # (species + 1, cell); last row stays 1
    xe[:n_sp] = prob.counts.T
    t = np.full(n_cells, float(times[0]))  # (active,)
    params = prob.params.copy()  # events may assign parameters
    if hyb is not None:
        # events of t0 (initial_value=False), before the first record
        hyb.start(xe[:n_sp], params, t)
    rec = GridRecorder(times, n_cells, n_sp, xe)
    rec.start(xe[:n_sp])
    if (n_reac == 0 and hyb is None) or len(times) == 1:
        rec.out[:] = rec.out[:, :1]
        return rec.out
    coef = prop.coefficients(params)
    step = _compiled_block(prop, stoich) if compiled else _numpy_block(prop, stoich, hyb, params)
    bar = Progress(progress, times)
    buf = np.empty((2, min(BLOCK * n_cells, max(DRAWS, n_cells))))  # E and U of a block
    events = 0
    while True:
        m = t.shape[0]
        n_it = _block_length(m, events, max_events)
        # (iteration, active): the same draws on both backends, whatever order they use them
        # in; written into reused buffers (a fresh 1e5-element array costs page faults)
        e = buf[0, : n_it * m].reshape(n_it, m)
        u = buf[1, : n_it * m].reshape(n_it, m)
        rng.standard_exponential(out=e)
        np.maximum(e, _TINY, out=e)
        rng.random(out=u)
        step(xe, t, coef, e, u, rec)
        events += n_it
        done = rec.done()
        if done.all():
            break
        if max_events is not None and events >= max_events:
            raise _too_many(max_events)
        bar.update(float(t[~done].min()))
        if done.sum() * 4 >= m:
            xe, t, params, coef = compact(
                np.flatnonzero(~done), xe, t, params, coef, prop, rec, hyb
            )
            if hyb is not None:
                step = _numpy_block(prop, stoich, hyb, params)
    bar.close()
    return rec.out


def _compiled_block(prop: Propensities, stoich: np.ndarray) -> Any:
    from cellsde.solvers._kernels import Tables, run_block

    tables = Tables.build(prop, stoich)
    return lambda xe, t, coef, e, u, rec: run_block(tables, xe, t, coef, e, u, rec)


def _numpy_block(prop: Propensities, stoich: np.ndarray, hyb: Hybrid | None, params: Any) -> Any:
    """One block of lockstep iterations on numpy arrays, in place (``t`` too)."""
    n_reac, n_sp = stoich.shape
    _, stair = _selection_matrices(stoich)

    def block(xe: np.ndarray, t: np.ndarray, coef: Any, e: np.ndarray, u: np.ndarray, rec: Any):
        m = t.shape[0]
        xs = xe[:n_sp]  # view, (species, active)
        c = np.empty((n_reac, m))
        step = np.ones((max(n_reac, 1), m))  # row 0: 1 while a0 > 0 (S_0 + D[:, 1:] @ b)
        no_reaction = np.zeros(m)
        with np.errstate(divide="ignore", invalid="ignore"):
            for b in range(e.shape[0]):
                a = prop(xe, coef, t)  # (reaction, active)
                # sequential sums, in the order of the compiled kernel (a matrix product
                # with a lower-triangular L is faster for few cells but its order is BLAS's)
                np.cumsum(a, 0, out=c)
                a0 = c[-1] if n_reac else no_reaction
                t_new = t + e[b] / a0
                # events and flows may stop a cell before its reaction (then discarded: exact)
                t_stop = t_new if hyb is None else hyb.stop(t, t_new, xs, params, rec.next_after(t))
                rec.cross(t_stop, xs)
                if hyb is not None:
                    hyb.flow(xs, params, t, t_stop)
                np.less_equal(c[:-1], u[b] * a0, out=step[1:], casting="unsafe")
                np.greater(a0, 0.0, out=step[0], casting="unsafe")  # absorbed: no reaction
                step[1:] *= step[0]  # (0 <= U * 0 holds)
                if hyb is not None:
                    step *= t_new <= t_stop
                xs += stair @ step
                t[:] = t_stop
                if hyb is not None:
                    prop.refresh(coef, params, hyb.after(xs, params, t))

    return block


def _run_torch(
    prob: Any, prop: Propensities, seed: Any, device: Any, progress: bool, max_events: Any
) -> np.ndarray:
    import torch

    dev = torch.device(device)
    gen = torch_generator(seed, dev)
    f64 = {"dtype": torch.float64, "device": dev}
    stoich, times = prob.stoich, prob.times
    n_reac, n_sp = stoich.shape
    n_cells = prob.counts.shape[0]
    xe = torch.ones((n_sp + 1, n_cells), **f64)
    xe[:n_sp] = torch.as_tensor(prob.counts.T, **f64)
    xs = xe[:n_sp]
    rec = GridRecorder(times, n_cells, n_sp, xe)
    rec.start(xs)
    if n_reac == 0 or len(times) == 1:
        rec.out[:] = rec.out[:, :1]
        return rec.out.cpu().numpy()
    coef = torch.as_tensor(prop.coefficients(prob.params), **f64)
    lower, stair = (torch.as_tensor(a, **f64) for a in _selection_matrices(stoich))
    t = torch.full((n_cells,), float(times[0]), **f64)
    bar = Progress(progress, times)
    events = 0
    while True:
        m = t.shape[0]
        step = torch.ones((n_reac, m), **f64)
        n_it = _block_length(m, events, max_events)
        e = torch.empty((n_it, m), **f64).exponential_(generator=gen).clamp_(min=_TINY)
        u = torch.rand((n_it, m), generator=gen, **f64)
        for b in range(n_it):
            a = prop(xe, coef, t)  # (reaction, active)
            c = lower @ a
            a0 = c[-1]
            t_new = t + e[b] / a0
            rec.cross(t_new, xs)
            step[1:] = (c[:-1] <= u[b] * a0) & (a0 > 0)  # absorbed: no reaction
            step[0] = a0 > 0  # absorbed: no reaction
            xs += stair @ step
            t = t_new
        events += n_it
        done = rec.done()
        if bool(done.all()):
            break
        if max_events is not None and events >= max_events:
            raise _too_many(max_events)
        bar.update(float(t[~done].min()))
        if int(done.sum()) * 4 >= m:
            keep = torch.nonzero(~done).flatten()
            xe, t, _, coef = compact(keep, xe, t, None, coef, prop, rec, None)
            xs = xe[:n_sp]
    bar.close()
    return rec.out.cpu().numpy()
