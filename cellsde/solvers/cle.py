"""Chemical Langevin equation (CLE) of a reaction network, Euler–Maruyama in torch.

Algorithm
---------
The CLE is integrated in molecule-count space ``n = x * system_size * volume``
(``network.kinetics.count_scale()``). With propensities ``a(n)`` (cell, reaction) and the
net stoichiometry ``S`` (reaction, species), one step of length ``h`` is

    n <- n + S^T a(n) h + S^T (sqrt(a(n)) * dW),      dW ~ N(0, h) per reaction and cell,

i.e. ``dn = S^T a dt + S^T diag(sqrt(a)) dW``. In state units this is
``dx = S^T v dt / volume + S^T diag(sqrt(v)) dW / (volume sqrt(system_size))``, so the noise
shrinks like ``1/sqrt(system_size)`` and the large-``system_size`` limit is the ODE. Rate rules
(deterministic by nature) are added to the drift.

Events (SBML semantics, :mod:`cellsde.solvers._events`) are checked at the end of every step:
a trigger that changed during a step, or a delayed event that came due, is processed at the
step's end, so event times are resolved to ``dt`` (an output time is always a step end). Draws
in event assignments and random tie-breaks use a numpy generator seeded from ``seed``.

Non-negativity: propensities are evaluated at ``max(n, 0)`` and, after every step, negative
counts are **clamped to 0** (absorbing truncation). Clamping biases a species upwards only
when it comes within a few molecules of 0, where the CLE is not a good approximation anyway
(use SSA there).

Time grid: between consecutive output times ``t_k, t_{k+1}`` the solver takes
``ceil((t_{k+1} - t_k) / dt)`` equal steps, so it lands exactly on every output time and never
steps longer than ``dt``. Randomness comes from one ``torch.Generator`` seeded with ``seed``
on ``device``: the same seed, device and dtype give identical paths.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from cellsde.solvers._events import Events
from cellsde.solvers.ode import _check_inputs
from models_bio.network import ReactionNetwork


def step_counts(times: np.ndarray, dt: float) -> np.ndarray:
    """Number of equal sub-steps per output interval, shape (time - 1,), each step <= ``dt``."""
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    gaps = np.diff(np.asarray(times, dtype=float))
    return np.maximum(1, np.ceil(gaps / dt * (1 - 1e-12))).astype(int)


def cle(
    network: ReactionNetwork,
    *,
    x0: np.ndarray,
    params: np.ndarray,
    times: np.ndarray,
    dt: float,
    seed: int,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
    progress: bool = False,
) -> np.ndarray:
    """Simulate the chemical Langevin equation of every cell.

    Parameters
    ----------
    network : ReactionNetwork
        The model; its ``system_size`` sets the noise level.
    x0 : ndarray, shape (cell, species)
        State at ``times[0]`` in state units.
    params : ndarray, shape (cell, parameter)
        Full parameter vector of each cell.
    times : ndarray, shape (time,)
        Strictly increasing output times (model time units).
    dt : float
        Largest Euler–Maruyama step (model time units).
    seed : int
        Seed of the ``torch.Generator``.
    device : str or torch.device
        Where to compute (``"cpu"``, ``"cuda"``).
    dtype : torch.dtype
        Floating type of the computation.
    progress : bool
        tqdm bar over output intervals.

    Returns
    -------
    ndarray, shape (cell, time, species)
        Trajectories in state units (float64).
    """
    x0, params, times = _check_inputs(network, x0, params, times)
    steps = step_counts(times, dt)
    kin = network.kinetics
    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    scale = torch.as_tensor(kin.count_scale(), dtype=dtype, device=dev)  # (species,)
    p = torch.as_tensor(params, dtype=dtype, device=dev)  # (cell, parameter)
    stoich = kin.stoichiometry(p)  # (reaction, species) or (cell, reaction, species)
    n = torch.as_tensor(x0, dtype=dtype, device=dev) * scale  # (cell, species) counts
    events = None
    if network.events:
        events = Events(network, n.shape[0], np.random.default_rng([int(seed), 1]))
        n, p = _fire(events, kin, n, p, float(times[0]))
    out = torch.empty((n.shape[0], times.size, n.shape[1]), dtype=dtype, device=dev)
    out[:, 0] = n
    n_reactions = kin.n_reactions
    intervals = range(times.size - 1)
    if progress:
        from tqdm.auto import tqdm

        intervals = tqdm(intervals, desc="cle", unit="interval", disable=None)
    with torch.no_grad():
        for k in intervals:
            h = (times[k + 1] - times[k]) / steps[k]
            for i in range(steps[k]):
                t = times[k] + i * h
                a = kin.propensities(n.clamp(min=0), p, t)  # (cell, reaction)
                dw = torch.randn(
                    (n.shape[0], n_reactions), generator=gen, device=dev, dtype=dtype
                ) * math.sqrt(h)
                flux = a * h + a.sqrt() * dw  # (cell, reaction)
                if stoich.ndim == 2:
                    dn = flux @ stoich
                else:
                    dn = torch.einsum("cr,crs->cs", flux, stoich)
                if kin.has_rate_rules:
                    dn = dn + _rate_rules(kin, n / scale, p, t) * scale * h
                n = (n + dn).clamp(min=0)
                if events is not None:
                    n, p = _fire(events, kin, n, p, t + h)
            out[:, k + 1] = n
    return (out / scale).cpu().numpy().astype(np.float64)


def _fire(events: Events, kin, n: torch.Tensor, p: torch.Tensor, t: float):
    """Process the events of the cells whose trigger changed or whose delayed event is due.

    Returns the counts and parameters, changed where events assigned them.
    """
    scale = kin.count_scale()
    x = n.cpu().numpy().astype(np.float64) / scale  # (cell, species)
    pn = p.cpu().numpy().astype(np.float64)
    cells = np.arange(x.shape[0])
    trig = events.triggers(x, pn, t)
    need = events.significant(trig, cells).any(1) | (events.due <= t)
    events.settle(trig[~need], cells[~need])
    rows = np.flatnonzero(need)
    if not rows.size:
        return n, p
    xr, pr = x[rows].copy(), pn[rows].copy()
    events.process(xr, pr, t, rows)
    x[rows], pn[rows] = xr, pr
    changed = np.zeros(x.shape, dtype=bool)
    changed[rows] = xr != (n.cpu().numpy()[rows] / scale)
    new = torch.as_tensor(x * scale, dtype=n.dtype, device=n.device)
    mask = torch.as_tensor(changed, device=n.device)
    return torch.where(mask, new, n), torch.as_tensor(pn, dtype=p.dtype, device=p.device)


def _rate_rules(kin, x: torch.Tensor, p: torch.Tensor, t: float) -> torch.Tensor:
    """Rate-rule part of the drift, shape (cell, species), in state units per time."""
    v = kin.rates(x, p, t)  # (cell, reaction)
    s = kin.stoichiometry(p)
    reaction_part = v @ s if s.ndim == 2 else torch.einsum("cr,crs->cs", v, s)
    vol = torch.as_tensor(kin.volumes, dtype=x.dtype, device=x.device)
    return kin.drift(x, p, t) - reaction_part / vol
