"""``simulate``: the front door from a model definition to a heterogeneous population Dataset.

It checks the arguments and builds the request
(:func:`~cellsde.simulation.request.build_population`), then runs it here
(:func:`~cellsde.simulation.run.run`) or in chunks of cells, in this process or on dask
(:mod:`cellsde.simulation.chunked`).

Steps
-----
1. Resolve the model (a registered name, a :class:`ReactionNetwork`, an :class:`SDEModel` or
   any :class:`SDEProtocol`, or a ``LatticeModel``) and apply ``params`` as new nominal values.
2. Per-cell parameters ``theta``: given explicitly, or drawn with
   :func:`cellsde.simulation.theta.sample_theta` from the declared heterogeneity (seeded).
3. Reaction networks with a ``stimulus``: each cell is first brought to its own steady state
   with the stimulus species held at 0 (:func:`cellsde.solvers.ode.steady_state`), then the
   stimulus species are set and the chosen method runs from ``times[0]`` (for ssa/tau the
   initial state is rounded to whole molecules).
4. Run the method (its solver from :data:`cellsde.solvers.METHODS`) and wrap the result in
   the cellsde schema (``x`` (cell, time, species), ``theta`` (cell, param) of the
   heterogeneous parameters, ``group`` coordinate, attrs with the seed and a JSON ``config``
   of every option).

Default method: ``"ode"`` for reaction networks (deterministic, so it always works, even
for non-integer stoichiometry; ask for ``"ssa"``/``"tau"``/``"cle"`` explicitly), ``"sde"`` for
SDE models, ``"lattice-ssa"`` for lattice models. Same arguments and seed -> identical Dataset.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from cellsde.simulation.chunked import DEFAULT_CHUNK_CELLS, run_chunked
from cellsde.simulation.request import build_population
from cellsde.simulation.run import run


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
    method : str, optional
        A key of :data:`cellsde.solvers.METHODS`: "ode", "ssa", "tau" or "cle" for reaction
        networks, "sde" for SDE models, "lattice-ssa" for lattice models. Default by model
        kind (module docstring).
    seed : int
        Seed of every random draw (theta and the stochastic solver).
    device : str
        Torch device of the torch solvers (cle, sde; ssa/tau as implemented).
    dt : float, optional
        Step of cle/sde; default ``min(diff(times)) / 100``.
    heterogeneity : "default", "none" or mapping of str to Distribution
        Used when ``theta`` is not given (see :func:`cellsde.simulation.theta.sample_theta`).
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
        (:func:`cellsde.simulation.simulate_chunked`; ``theta`` drawn once from ``seed``,
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
    population = build_population(
        model, times=times, n_cells=n_cells, theta=theta, params=params, method=method,
        seed=seed, device=device, dt=dt, heterogeneity=heterogeneity,
        cells_per_group=cells_per_group, x0=x0, observables=observables,
        solver_options=solver_options,
    )  # fmt: skip
    if client is not None or chunk_cells is not None:
        chunk = DEFAULT_CHUNK_CELLS if chunk_cells is None else chunk_cells
        return run_chunked(population, chunk_cells=chunk, client=client)
    return run(population, progress=bool(progress) and sys.stderr.isatty())
