"""``simulate``: one call from a model definition to a heterogeneous population Dataset.

Steps
-----
1. Resolve the model (a registered name, a :class:`ReactionNetwork`, an :class:`SDEModel` or
   any :class:`SDEProtocol`, or a ``LatticeModel``) and apply ``params`` as new nominal values.
2. Per-cell parameters ``theta``: given explicitly, or drawn with
   :func:`cellsde.heterogeneity.sample_theta` from the declared heterogeneity (seeded).
3. Reaction networks with a ``stimulus``: each cell is first brought to its own steady state
   with the stimulus species held at 0 (:func:`cellsde.solvers.ode.steady_state`), then the
   stimulus species are set and the chosen method runs from ``times[0]`` (for ssa/tau the
   initial state is rounded to whole molecules).
4. Run the method and wrap the result in the cellsde schema (``x`` (cell, time, species),
   ``theta`` (cell, param) of the heterogeneous parameters, ``group`` coordinate, attrs with
   the seed and a JSON ``config`` of every option).

Default method: ``"ode"`` for reaction networks (deterministic, so it always works, even
for non-integer stoichiometry; ask for ``"ssa"``/``"tau"``/``"cle"`` explicitly), ``"sde"`` for
SDE models, ``"lattice-ssa"`` for lattice models. Same arguments and seed -> identical Dataset.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from cellsde.datasets import from_arrays
from cellsde.errors import CellsdeError
from cellsde.heterogeneity import model_parameters
from cellsde.population import resolve_population
from models_bio.network import ReactionNetwork
from models_bio.sde import SDEModel


def _network_params(net: ReactionNetwork, theta: np.ndarray, cols: Sequence[str]) -> np.ndarray:
    kin = net.kinetics
    p = kin.parameter_vector({q: theta[:, j] for j, q in enumerate(cols)}, theta.shape[0])
    if not np.all(np.isfinite(p)):
        raise ValueError("per-cell parameters must be finite")
    for r in net.reactions:
        if r.mass_action:
            col = p[:, net.parameter_names.index(r.rate)]
            if np.any(col < 0):
                raise ValueError(
                    f"rate constant {r.rate!r} of reaction {r.name!r} is negative in "
                    f"{int(np.sum(col < 0))} cell(s) (min {col.min():.3g}); rate constants "
                    "must be >= 0"
                )
    return p  # (cell, parameter)


def _observable_matrix(net: ReactionNetwork, observables: Sequence[str]) -> np.ndarray:
    sp = net.species_names
    w = np.zeros((len(sp), len(observables)))  # (species, observable)
    for j, name in enumerate(observables):
        if name in net.observables:
            for s, c in net.observables[name].items():
                w[sp.index(s), j] = c
        elif name in sp:
            w[sp.index(name), j] = 1.0
        else:
            raise KeyError(
                f"unknown observable {name!r}; choose species ({', '.join(sp)}) or observables "
                f"({', '.join(net.observables) or 'none declared'})"
            )
    return w


def _run_network(net, method, p, times, seed, device, dt, progress, opts):
    from cellsde.solvers.ode import ode, steady_state

    kin = net.kinetics
    x0 = kin.initial_state(p)  # (cell, species)
    if net.stimulus:
        idx = [net.species_names.index(s) for s in net.stimulus]
        x0[:, idx] = 0.0
        x0 = steady_state(net, x0=x0, params=p, hold=tuple(net.stimulus), progress=progress)
        x0[:, idx] = list(net.stimulus.values())
    if method in ("ssa", "tau") and not kin.stoichiometry_is_integer:
        raise CellsdeError(
            f"method {method!r} needs whole-number stoichiometry; model {net.name!r} has "
            "parameter-valued or fractional coefficients; use method='ode' or 'cle'"
        )
    if method in ("ssa", "tau"):  # whole molecules (a steady state is not integer)
        scale = kin.count_scale()
        x0 = np.round(x0 * scale) / scale
    if method == "ode":
        return ode(net, x0=x0, params=p, times=times, progress=progress, **opts)
    if method == "cle":
        from cellsde.solvers.cle import cle

        kw = {"dt": dt, "seed": seed, "device": device, "progress": progress, **opts}
        return cle(net, x0=x0, params=p, times=times, **kw)
    if method == "ssa":
        from cellsde.solvers.ssa import ssa as solver
    else:
        from cellsde.solvers.tau_leap import tau_leap as solver
    kw = {"seed": seed, "device": device, "progress": progress, **opts}
    return np.asarray(solver(net, x0=x0, params=p, times=times, **kw))


def simulate(
    model: Any,
    *,
    times: Sequence[float] | np.ndarray,
    n_cells: int | None = None,
    theta: np.ndarray | Mapping[str, Any] | None = None,
    params: Mapping[str, float] | None = None,
    method: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    dt: float | None = None,
    heterogeneity: str | Mapping[str, Any] = "default",
    cells_per_group: int | None = None,
    x0: np.ndarray | None = None,
    observables: Sequence[str] | None = None,
    solver_options: Mapping[str, Any] | None = None,
    progress: bool = False,
    client: Any = None,
    chunk_cells: int | None = None,
) -> xr.Dataset:
    """Simulate a heterogeneous population of cells.

    Parameters
    ----------
    model : str, ReactionNetwork, SDEModel, SDEProtocol or LatticeModel
        The model or its registered name.
    times : array_like, shape (time,)
        Strictly increasing output times in the model's time units; the run starts at
        ``times[0]``.
    n_cells : int, optional
        Number of cells (a multiple of the grid size for grid heterogeneity); implied by
        ``theta`` or ``cells_per_group`` when omitted.
    theta : ndarray (cell, param) or mapping of str to values, optional
        Explicit per-cell parameters: an array whose columns are the heterogeneous parameters
        (or all parameters), or a mapping name -> scalar or (cell,) values, or (group,) values
        with ``cells_per_group``. Default: drawn from ``heterogeneity``.
    params : mapping of str to float, optional
        New nominal values (shared by all cells; relative heterogeneity centres on them).
    method : {"ode", "ssa", "tau", "cle", "sde", "lattice-ssa"}, optional
        Default by model kind (module docstring).
    seed : int
        Seed of every random draw (theta and the stochastic solver).
    device : str
        Torch device of the torch solvers (cle, sde; ssa/tau as implemented).
    dt : float, optional
        Step of cle/sde; default ``min(diff(times)) / 100``.
    heterogeneity : "default", "none" or mapping of str to Distribution
        Used when ``theta`` is not given (see :func:`cellsde.heterogeneity.sample_theta`).
    cells_per_group : int, optional
        Cells per grid point / per group of ``theta`` values.
    x0 : ndarray, shape (species,) or (cell, species), optional
        Initial state of an SDE model (required for an SDEProtocol without ``initial``).
    observables : sequence of str, optional
        Report these (species or declared observables) instead of all species.
    solver_options : mapping, optional
        Extra keyword arguments for the solver (e.g. ``{"rtol": 1e-9}`` for ode).
    progress : bool
        Progress bar (only when stderr is a terminal).
    client : distributed.Client, optional
        Run the population in chunks of ``chunk_cells`` cells on this dask cluster
        (:func:`cellsde.distributed.simulate_chunked`; ``theta`` drawn once from ``seed``,
        chunk ``i`` simulated with ``SeedSequence(seed).spawn(n_chunks)[i]``).
    chunk_cells : int, optional
        Cells per chunk (default 1000 with a client). Given without a client, the chunks run
        here one after another, with the same result as on dask. ``None`` and no client: one
        plain run (the behaviour above).

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time, species), ``theta`` (cell, param) when some parameter varies, coord
        ``group`` (cell,); attrs ``model``, ``method``, ``seed``, ``time_units``, ``config``
        (chunked runs add ``chunk_cells`` and ``n_chunks``).
    """
    if client is not None or chunk_cells is not None:
        from cellsde.distributed import simulate_chunked

        return simulate_chunked(
            model, times=times, n_cells=n_cells, theta=theta, params=params, method=method,
            seed=seed, device=device, dt=dt, heterogeneity=heterogeneity,
            cells_per_group=cells_per_group, x0=x0, observables=observables,
            solver_options=solver_options, client=client, chunk_cells=chunk_cells,
        )  # fmt: skip
    model, kind, times, method, th, cols, group = resolve_population(
        model, times=times, n_cells=n_cells, theta=theta, params=params, method=method,
        seed=seed, heterogeneity=heterogeneity, cells_per_group=cells_per_group,
    )  # fmt: skip
    n = th.shape[0]
    if dt is None and method in ("cle", "sde"):
        dt = float(np.min(np.diff(times))) / 100 if times.size > 1 else 1.0
    progress = bool(progress) and sys.stderr.isatty()
    opts = dict(solver_options or {})
    if kind == "network":
        p = _network_params(model, th, cols)
        x = _run_network(model, method, p, times, seed, device, dt, progress, opts)
        obs = tuple(observables or model.species_names)
        x = x @ _observable_matrix(model, obs) if observables else x
    elif kind == "sde":
        x, obs = _run_sde(model, th, cols, x0, times, dt, seed, device, progress, opts)
        if observables:
            x, obs = x[..., [obs.index(o) for o in observables]], tuple(observables)
    else:
        from cellsde.solvers.lattice_ssa import simulate_lattice

        res = simulate_lattice(
            model, times=times, n_cells=n, seed=seed, progress=progress,
            rates={q: th[:, j] for j, q in enumerate(cols)}, **opts,
        )  # fmt: skip
        obs = tuple(observables or model.observed)
        x = res.x[..., [res.observables.index(o) for o in obs]]
    time_units = (
        "dimensionless" if kind == "sde" and not isinstance(model, SDEModel) else (model.time_units)
    )
    config = {
        "model": getattr(model, "name", type(model).__name__), "method": method,
        "n_cells": n, "seed": seed, "device": str(device), "dt": dt, "times": times.tolist(),
        "heterogeneity": heterogeneity if isinstance(heterogeneity, str) else
        {k: repr(v) for k, v in heterogeneity.items()},
        "theta_given": theta is not None, "params": {k: float(v) for k, v in (params or {}).items()},
        "cells_per_group": cells_per_group, "observables": list(obs),
        "solver_options": {k: repr(v) for k, v in opts.items()},
    }  # fmt: skip
    return from_arrays(
        np.asarray(x, dtype=float), times=times, species=list(obs),
        theta=th if th.shape[1] else None, params=list(cols) if th.shape[1] else None,
        group=group, time_units=time_units,
        attrs={"model": config["model"], "method": method, "seed": int(seed),
               "config": json.dumps(config, sort_keys=True)},
    )  # fmt: skip


def _run_sde(model, th, cols, x0, times, dt, seed, device, progress, opts):
    import torch

    from cellsde.solvers.euler_maruyama import euler_maruyama

    names, nominal, _ = model_parameters(model)
    n = th.shape[0]
    full = np.empty((n, len(names)))  # (cell, param) in the model's order
    for j, q in enumerate(names):
        if q in cols:
            full[:, j] = th[:, cols.index(q)]
        elif q in nominal:
            full[:, j] = nominal[q]
        else:
            raise ValueError(f"parameter {q!r} has no nominal value; give it in theta=")
    species = tuple(model.species)
    if x0 is None:
        if not isinstance(model, SDEModel):
            raise ValueError("this SDE has no declared initial state; pass x0=")
        x0 = np.asarray(model.initial, dtype=float)
    x0 = np.broadcast_to(np.asarray(x0, dtype=float), (n, len(species)))
    # Mechanistic SDEs run in float64; a network runs in the dtype of its weights.
    dtype = torch.float64
    if isinstance(model, torch.nn.Module):
        dtype = next(iter(model.state_dict().values()), torch.zeros((), dtype=torch.float64)).dtype
    opts = {"dtype": dtype, **opts}
    x = euler_maruyama(
        model, x0=x0, theta=full, times=times, dt=dt, seed=seed, device=device,
        progress=progress, **opts,
    )  # fmt: skip
    return x.detach().cpu().numpy(), species
