"""Tau-leaping with Cao-Gillespie-Petzold step selection, vectorised over cells.

Step-size rule (Cao, Gillespie & Petzold, J Chem Phys 124:044109, 2006)
-----------------------------------------------------------------------
Each iteration, for every active cell with counts ``x`` and propensities ``a``:

1. **Critical reactions.** ``L_j = min_i floor(x_i / |nu_ij|)`` over the species reaction j
   consumes, and ``min_i x_i`` over the species it produces that some propensity reads;
   reaction j is critical when ``a_j > 0`` and ``L_j < n_critical`` (10): it could exhaust a
   reactant within a few firings (CGP), or it moves a species the rates depend on while that
   species has only a few copies. The second clause is the partition rule of Salis &
   Kaznessis (J Chem Phys 122:054103, 2005: a reaction leaps only when its reactants *and*
   products are abundant). Without it a leap may create a molecule that a fast critical
   reaction would consume at once, but whose consumption cannot start before the leap ends:
   on Vilar 2002 free R (0-1 copies, bound by A within ~0.3 ms) stayed twice as often
   present as under the exact SSA in the first hours (KS p ~ 1e-18 at 1000 cells).
2. **Leap length** from the non-critical reactions (propensities ``a'``):
   ``mu_i = sum_j nu_ij a'_j``, ``s_i = sum_j nu_ij^2 a'_j`` and, over reactant species,
   ``tau1 = min_i min( max(eps x_i / g_i, 1) / |mu_i|, max(eps x_i / g_i, 1)^2 / s_i )``.
   ``g_i`` follows the highest order of the reactions consuming species i (1; 2; 2 + 1/(x-1)
   for ``2X``; 3; 3/2 (2 + 1/(x-1)); 3 + 1/(x-1) + 2/(x-2) for ``3X``; the order itself
   above 3). ``eps`` is ``epsilon``: the relative change of every propensity in a leap is
   bounded by about ``eps``.
3. **Exact steps when leaping does not pay.** If ``tau1 < ssa_factor / a0`` the cell takes an
   exact Gillespie step instead (CGP take 100 such steps; here the test is repeated each
   iteration, which is equivalent in law).
4. **Leap.** Otherwise draw ``tau2 ~ Exp(sum of critical propensities)``. The step is
   ``tau = min(tau1, tau2, next output time - t)``; non-critical reactions fire
   ``Poisson(a'_j tau)`` times and, when ``tau = tau2``, one critical reaction fires, chosen
   with probability proportional to its propensity. Critical reactions thus never leap.
5. **Non-negativity.** A step that would make any count negative is rejected and the cell
   retries with ``tau1`` halved (the cap is lifted after the next accepted step). Counts are
   therefore never negative.

Because waiting times are exponential (memoryless), cutting a step at an output time and
discarding the pending reaction is exact, so each cell lands on every output time and
records the state there. Cells run in lockstep: one leap or one exact step per cell per
iteration; finished cells are dropped every :data:`CHECK_EVERY` iterations. Each iteration
draws one Exp(1) and one U(0, 1) per active cell, then the Poisson counts of the leaping
cells, reaction by reaction; sums over reactions are added in reaction order.

Backends (:mod:`cellsde.solvers._backend`)
------------------------------------------
* ``numba`` (default for mass-action networks without events or rate rules when numba is
  installed): the iterations run compiled, cell by cell inside each iteration
  (:mod:`cellsde.solvers._kernels`), drawing from the same numpy Generator in the same
  order: the same output as numpy for the same seed, bit for bit.
* ``numpy``: ~40 array operations per iteration on (reaction, cell) arrays; every model,
  events and flows included.
* ``torch``: the same operations on any ``device``; models without events.

Complexity: ``O(steps x cells x reactions x species)`` per run (compiled: ``O(steps x cells x
(reactions x order + nonzero stoichiometry))``); memory ``O(cells x (times + reactions) x
species)``. Where many events move species at a few copies (Vilar's 0/1 promoters, free R,
scarce mRNA: over 40 % of its events) they are fired one at a time, and the exact SSA is
cheaper (measured in docs/benchmarks.md, "Stochastic simulation: one table").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cellsde.errors import CellsdeError
from cellsde.solvers._backend import choose_backend
from cellsde.solvers._hybrid import Hybrid
from cellsde.solvers._recording import GridRecorder, Progress
from cellsde.solvers._stochastic import Propensities, compact, prepare
from cellsde.solvers._tau_rule import Constants, NumpyOps, TorchOps, step_bounds

CHECK_EVERY = 64  # iterations between checks for finished cells


def tau_leap(
    network: Any,
    *,
    x0: Any,
    params: Any,
    times: Any,
    seed: Any,
    device: Any = "cpu",
    progress: bool = False,
    epsilon: float = 0.03,
    n_critical: int = 10,
    ssa_factor: float = 10.0,
    backend: str = "auto",
) -> np.ndarray:
    """Simulate a reaction network by adaptive tau-leaping, all cells together.

    Parameters
    ----------
    network : models_bio.ReactionNetwork
        Model with whole-number stoichiometry; events and rate rules that are flows run on
        the numpy backend.
    x0 : array_like, shape (cell, species)
        Initial state in state units (whole counts after ``count_scale()``).
    params : array_like, shape (cell, parameter)
        Full per-cell parameter matrix.
    times : array_like, shape (time,)
        Strictly increasing output times; ``times[0]`` is the start.
    seed : int, numpy.random.Generator or torch.Generator
        Randomness, converted as in :func:`cellsde.solvers.ssa.ssa`.
    device : str or torch.device
        ``"cpu"`` or a torch device such as ``"cuda"``.
    progress : bool
        Show a tqdm bar over simulated time.
    epsilon : float
        CGP error-control parameter, 0 < epsilon < 1 (smaller: shorter, more accurate leaps).
    n_critical : int
        A reaction that can fire fewer than this many times before exhausting a reactant
        is simulated exactly.
    ssa_factor : float
        Take an exact SSA step when the leap would be shorter than ``ssa_factor / a0``.
    backend : {"auto", "numba", "numpy", "torch"}
        ``"auto"``: torch off the CPU, else numba when it is installed and the network is
        mass action without events or rate rules, else numpy; numba and numpy give the same
        output for the same seed.

    Returns
    -------
    ndarray, shape (cell, time, species), float64
        State at each output time in state units.

    Raises
    ------
    CellsdeError
        On bad inputs (as :func:`cellsde.solvers.ssa.ssa`), epsilon outside (0, 1), negative
        n_critical or ssa_factor, or a backend that cannot run the model.
    """
    if not 0 < epsilon < 1:
        raise CellsdeError(f"epsilon must be in (0, 1), got {epsilon}")
    if n_critical < 0 or ssa_factor < 0:
        raise CellsdeError("n_critical and ssa_factor must be >= 0")
    prob = prepare(network, x0, params, times, "tau-leaping")
    chosen = choose_backend(backend, device, network, "tau-leaping")
    if (network.events or network.rate_rules) and not network.reactions:
        from cellsde.solvers.ssa import ssa  # nothing to leap: the exact path runs the events

        return ssa(network, x0=x0, params=params, times=times, seed=seed, progress=progress)
    xp = TorchOps(seed, device) if chosen == "torch" else NumpyOps(seed)
    prop = Propensities(network, prob.scale)
    c = Constants(network, prob.stoich, xp)
    n_reac, n_sp = prob.stoich.shape
    n_cells = prob.counts.shape[0]
    xe = xp.ones((n_sp + 1, n_cells))  # (species + 1, cell), last row 1
    xe[:n_sp] = xp.asarray(prob.counts.T)
    st = _State(xe, xp.full(n_cells, float(prob.times[0])), xp.full(n_cells, np.inf))
    st.params = prob.params.copy()  # events may assign parameters
    hyb = None
    if network.events or network.rate_rules:
        hyb = Hybrid(network, n_cells, prob.scale, prob.times[-1], xp.rng)
        hyb.start(xe[:n_sp], st.params, st.t)
    rec = GridRecorder(prob.times, n_cells, n_sp, xe)
    rec.start(xe[:n_sp])
    if n_reac == 0 or len(prob.times) == 1:
        rec.out[:] = rec.out[:, :1]
        return xp.numpy(rec.out) / prob.scale
    st.coef = xp.asarray(prop.coefficients(st.params))
    settings = (float(epsilon), float(n_critical), float(ssa_factor))
    if chosen == "numba":
        from cellsde.solvers._kernels import Tables, run_iterations

        tables = Tables.build(prop, prob.stoich)

        def iterate() -> None:
            run_iterations(CHECK_EVERY, xp.rng, st.arrays(), st.coef, tables, c, settings, rec)
    else:

        def iterate() -> None:
            for _ in range(CHECK_EVERY):
                _leap(xp, c, prop, st, rec, hyb, settings)

    bar = Progress(progress, prob.times)
    while True:
        iterate()
        done = rec.done()
        if bool(done.all()):
            break
        bar.update(float(st.t[~done].min()))
        if int(done.sum()) * 4 >= st.t.shape[0]:
            keep = xp.nonzero(~done)
            st.cap = st.cap[keep]
            st.xe, st.t, st.params, st.coef = compact(
                keep, st.xe, st.t, st.params, st.coef, prop, rec, hyb
            )
    bar.close()
    return xp.numpy(rec.out) / prob.scale


class _State:
    """The active cells' state: ``xe`` (species + 1, active), ``t`` and ``cap`` (active,),
    ``params`` (active, parameter) and propensity coefficients ``coef``."""

    def __init__(self, xe: Any, t: Any, cap: Any) -> None:
        self.xe, self.t, self.cap = xe, t, cap
        self.params: Any = None
        self.coef: Any = None

    def arrays(self) -> tuple:
        return self.xe, self.t, self.cap


def _leap(xp: Any, c: Any, prop: Any, st: _State, rec: Any, hyb: Any, settings: tuple) -> None:
    """One lockstep iteration (a leap or an exact step per cell) on numpy or torch, in place."""
    epsilon, n_critical, ssa_factor = settings
    xe, t, params, coef = st.xe, st.t, st.params, st.coef
    n_sp = xe.shape[0] - 1
    xs = xe[:n_sp]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = prop(xe, coef, t)  # (reaction, active)
        a0 = a.sum(0)
        crit, a_nc, tau_i = step_bounds(xp, c, xe, a, epsilon, n_critical)
        tau1 = xp.minimum(xp.amin(tau_i, 0), st.cap)
        exact = tau1 * a0 < ssa_factor  # (active,)
        w = xp.where(exact[None] | crit, a, 0.0)  # clock of one exact reaction
        tau_exp = xp.exponential(t.shape) / w.sum(0)
        tau_leap_len = xp.where(exact, np.inf, tau1)
        t_land = rec.tnext  # where a step may end at the latest: output time, or an event
        live = t_land < np.inf  # finished cells draw no Poisson numbers (as compiled)
        if hyb is not None:
            t_land = hyb.stop(t, t_land, xs, params, t_land)
        dt_out = t_land - t
        tau = xp.minimum(xp.minimum(tau_exp, tau_leap_len), dt_out)
        fire = tau_exp <= xp.minimum(tau_leap_len, dt_out)
        cum = xp.cumsum(w)
        j = (cum < xp.rand(t.shape) * cum[-1]).sum(0)
        k = (c.arange_r == j) & fire  # (reaction, active) one-hot
        leaps = live & ~exact & (tau < np.inf)
        lam = xp.where(leaps[None], a_nc * xp.where(exact, 0.0, tau), 0.0)
        k = k + xp.poisson(lam)
        x_new = xs + c.nu_t @ k  # whole numbers: exact in any order
        ok = ((x_new >= 0) | c.free).all(0)  # counts stay >= 0 (a clock may not)
        t_new = xp.where(tau >= dt_out, t_land, t + tau)
        if hyb is not None:  # flows; a leap of several reactions must not skip a trigger
            hyb.flow(x_new, params, t, t_new, at=xs)
            ok &= ~(hyb.flips(x_new, params, t_new) & ~exact & (k.sum(0) > 1))
        xe[:n_sp] = xp.where(ok, x_new, xs)
        st.t = xp.where(ok, t_new, t)
        st.cap = xp.where(ok, np.inf, tau / 2)
        if hyb is not None:
            prop.refresh(coef, params, hyb.after(xe[:n_sp], params, st.t))
        rec.cross(st.t, xe[:n_sp], inclusive=True)
