"""Exact stochastic simulation (Gillespie direct method), vectorised over cells.

Algorithm
---------
Every cell runs its own Gillespie direct-method chain, and all cells advance in lockstep:
each iteration, every active cell fires its next reaction. For active cells ``c`` at
once, with propensities ``a`` (reaction, cell):

1. ``a = K * prod_f (n[i_f] - m_f)`` (mass action, falling factorials; see
   :class:`~cellsde.solvers._stochastic.Propensities`), or the compiled rate laws;
2. cumulative sums ``s = L @ a`` with ``L`` the lower-triangular ones matrix (one small
   matrix product; ``np.cumsum`` along the reaction axis is several times slower);
3. waiting time ``tau = E / a0`` with ``E ~ Exp(1)`` and ``a0 = s[-1]``;
4. the fired reaction is the first ``j`` with ``s_j > U a0``. It is never formed
   explicitly: the indicator ``b_k = [s_k < U a0]`` (k < R - 1) is a "staircase", and the net
   change of the fired reaction is ``S_0 + sum_k (S_{k+1} - S_k) b_k``, one more small
   matrix product ``D @ b``;
5. output times passed by the step get the state *before* the reaction (the state is
   piecewise constant), see :class:`~cellsde.solvers._recording.GridRecorder`.

Random numbers are drawn in blocks of :data:`BLOCK` iterations. Finished cells idle until
the end of a block; when a quarter of the active cells are finished they are dropped
(compaction), so heterogeneous populations cost about the sum, not the maximum, of their
event counts. The method is exact: each cell's path has the law of the chemical master
equation (for rate laws that read ``time`` the propensity is frozen between events).

Complexity: ``O(max events per cell x cells x reactions)`` arithmetic, in ~10 array
operations per iteration, so Python overhead is amortised over cells; memory
``O(cells x (times + reactions) x species)``, independent of the number of events.

Backends: ``numba`` on CPU for mass-action networks without events or rate rules (the
block's iterations run in a compiled per-cell loop, :mod:`cellsde.solvers._ssa_kernel`:
about 3x the numpy path on Vilar 2002, and the *same output for the same seed*, because blocks,
draws and compaction are shared and the arithmetic is the same); numpy on CPU otherwise (~1 us
per operation against ~5-10 us for torch); torch for any ``device`` (e.g. ``"cuda"``).
``backend="auto"`` takes numba where it applies and is installed, else numpy, and torch off
the CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers import _ssa_kernel
from cellsde.solvers._hybrid import Hybrid
from cellsde.solvers._recording import GridRecorder, Progress
from cellsde.solvers._stochastic import Propensities, numpy_generator, prepare, torch_generator

BLOCK = 256  # iterations per block of random numbers
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
        Model with whole-number stoichiometry, no rate rules and no events.
    x0 : array_like, shape (cell, species)
        Initial state in state units; ``x0 * network.kinetics.count_scale()`` must be
        whole molecule counts.
    params : array_like, shape (cell, parameter)
        Full per-cell parameter matrix in ``network.parameter_names`` order.
    times : array_like, shape (time,)
        Strictly increasing output times in the model's time units; ``times[0]`` is the start.
    seed : int, numpy.random.Generator or torch.Generator
        Source of randomness. The numpy backend uses a numpy Generator (a torch.Generator is
        used to draw its seed); the torch backend a torch.Generator on ``device`` (an int or
        numpy Generator seeds one). The same seed gives the same output.
    device : str or torch.device
        ``"cpu"`` (numpy backend unless ``backend="torch"``) or a torch device such as ``"cuda"``.
    progress : bool
        Show a tqdm bar over simulated time (silent when stderr is not a terminal).
    max_events : int, optional
        Maximum number of reactions per cell; exceeding it raises :class:`CellsdeError`.
    backend : {"auto", "numba", "numpy", "torch"}
        ``"numba"``: the compiled CPU kernel (mass-action networks without events or rate
        rules; needs numba, ``pip install 'cellsde[fast]'``), identical output to
        ``"numpy"`` for the same seed. ``"auto"``: numba where it applies and imports, else
        numpy, on CPU; torch elsewhere.

    Returns
    -------
    ndarray, shape (cell, time, species), float64
        State at each output time in state units (counts / count scale).

    Raises
    ------
    CellsdeError
        On non-integer stoichiometry, rate rules, events, bad shapes, non-whole counts,
        non-increasing times, negative or NaN propensities, or too many events.
    """
    prob = prepare(network, x0, params, times, "SSA")
    use_torch = _use_torch(backend, device)
    prop = Propensities(network, prob.scale)
    hybrid = bool(network.events or network.rate_rules)
    compiled = _compiled(backend, network, prop, hybrid, prob.stoich)
    if use_torch and hybrid:
        raise CellsdeError(
            f"SSA with events or rate rules runs on the numpy backend; model {network.name!r} "
            f"has them, so use device='cpu' (got device={device!r}, backend={backend!r})"
        )
    if use_torch:
        out = _run_torch(prob, prop, seed, device, progress, max_events)
    else:
        rng = numpy_generator(seed)
        hyb = Hybrid(network, len(prob.counts), prob.scale, prob.times[-1], rng) if hybrid else None
        out = _run_numpy(prob, prop, rng, progress, max_events, hyb, compiled)
    return out / prob.scale


def _use_torch(backend: str, device: Any) -> bool:
    if backend not in ("auto", "numba", "numpy", "torch"):
        raise CellsdeError(f"backend must be 'auto', 'numba', 'numpy' or 'torch', got {backend!r}")
    on_cpu = str(device) == "cpu"
    if backend in ("numpy", "numba") and not on_cpu:
        raise CellsdeError(f"backend={backend!r} runs on the CPU only, got device={device!r}")
    return backend == "torch" or not on_cpu


def _compiled(
    backend: str, network: Any, prop: Propensities, hybrid: bool, stoich: np.ndarray
) -> _ssa_kernel.Graph | None:
    """The compiled kernel's graph when it runs (see ``backend``), else None."""
    eligible = prop.mass_action and not hybrid
    if backend == "numba":
        if not _ssa_kernel.available():
            raise CellsdeError(
                "backend='numba' needs numba; install it with pip install 'cellsde[fast]' or "
                "use backend='numpy' (same results, slower)"
            )
        if not eligible:
            why = "events or rate rules" if hybrid else "rate laws other than mass action"
            raise CellsdeError(
                f"backend='numba' runs mass-action networks without events or rate rules; "
                f"model {network.name!r} has {why}: use backend='numpy'"
            )
    if backend not in ("auto", "numba") or not eligible or not _ssa_kernel.available():
        return None
    return _ssa_kernel.graph(stoich, prop.index, stoich.shape[1])


def _selection_matrices(stoich: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``L`` (reaction, reaction) lower-triangular ones; ``D`` (species, reaction) staircase."""
    r = stoich.shape[0]
    d = np.zeros((stoich.shape[1], max(r, 1)))  # no reaction: one column of zeros
    if r:
        d[:, 0] = stoich[0]
        d[:, 1:] = (stoich[1:] - stoich[:-1]).T
    return np.tril(np.ones((r, r))), d


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
    compiled: _ssa_kernel.Graph | None = None,
) -> np.ndarray:
    stoich, times = prob.stoich, prob.times
    n_reac, n_sp = stoich.shape
    n_cells = prob.counts.shape[0]
    xe = np.ones((n_sp + 1, n_cells))  # (species + 1, cell); last row stays 1
    xe[:n_sp] = prob.counts.T
    xs = xe[:n_sp]  # view, (species, cell)
    t = np.full(n_cells, float(times[0]))  # (active,)
    params = prob.params.copy()  # events may assign parameters
    if hyb is not None:
        hyb.start(xs, params, t)  # events of t0 (initial_value=False), before the first record
    rec = GridRecorder(times, n_cells, n_sp, xe)
    rec.start(xs)
    if (n_reac == 0 and hyb is None) or len(times) == 1:
        rec.out[:] = rec.out[:, :1]
        return rec.out
    coef = prop.coefficients(params)
    lower, stair = _selection_matrices(stoich)
    no_reaction = np.zeros(n_cells)
    bar = Progress(progress, times)
    events = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while True:
            m = t.shape[0]
            c = np.empty((n_reac, m))
            step = np.ones((max(n_reac, 1), m))  # row 0: 1 while a0 > 0 (S_0 + D[:, 1:] @ b)
            n_it = BLOCK if max_events is None else min(BLOCK, max_events - events)
            e = rng.standard_exponential((n_it, m))
            np.maximum(e, _TINY, out=e)
            u = rng.random((n_it, m))
            if compiled is not None:  # the same iterations, compiled (t, xe, rec in place)
                _ssa_kernel.advance(xe, coef, prop.index, prop.offset, compiled, e, u, t, rec)
            for b in range(0 if compiled is not None else n_it):
                a = prop(xe, coef, t)  # (reaction, active)
                np.matmul(lower, a, out=c)  # cumulative sums
                a0 = c[-1] if n_reac else no_reaction[:m]
                t_new = t + e[b] / a0
                # events and flows may stop a cell before its reaction (then discarded: exact)
                t_stop = t_new if hyb is None else hyb.stop(t, t_new, xs, params, rec.next_after(t))
                rec.cross(t_stop, xs)
                if hyb is not None:
                    hyb.flow(xs, params, t, t_stop)
                np.less(c[:-1], u[b] * a0, out=step[1:], casting="unsafe")
                np.greater(a0, 0.0, out=step[0], casting="unsafe")  # absorbed: no reaction
                if hyb is not None:
                    step *= t_new <= t_stop
                xs += stair @ step
                t = t_stop
                if hyb is not None:
                    prop.refresh(coef, params, hyb.after(xs, params, t))
            events += n_it
            done = rec.done()
            if done.all():
                break
            if max_events is not None and events >= max_events:
                raise _too_many(max_events)
            bar.update(float(t[~done].min()))
            if done.sum() * 4 >= m:
                keep = np.flatnonzero(~done)
                xe, t = np.ascontiguousarray(xe[:, keep]), t[keep]
                xs = xe[:n_sp]
                params = params[keep]
                coef = prop.take(coef, keep) if hyb is None else prop.coefficients(params)
                rec.take(keep)
                if hyb is not None:
                    hyb.take(keep)
    bar.close()
    return rec.out


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
        n_it = BLOCK if max_events is None else min(BLOCK, max_events - events)
        e = torch.empty((n_it, m), **f64).exponential_(generator=gen).clamp_(min=_TINY)
        u = torch.rand((n_it, m), generator=gen, **f64)
        for b in range(n_it):
            a = prop(xe, coef, t)  # (reaction, active)
            c = lower @ a
            a0 = c[-1]
            t_new = t + e[b] / a0
            rec.cross(t_new, xs)
            step[1:] = c[:-1] < u[b] * a0
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
            xe, t = xe[:, keep].contiguous(), t[keep]
            xs = xe[:n_sp]
            coef = prop.take(coef, keep)
            rec.take(keep)
    bar.close()
    return rec.out.cpu().numpy()
