"""Score a calibrated population on measured conditions (held-out or not).

The same simulation and the same loss as :func:`cellsde.calibrate`: cells drawn from the
population file (:func:`cellsde.calibration.sample_cells`), the two-phase stiff simulation,
the observation model stored in the file, and the tW2 per condition of
:class:`cellsde.calibration.objective.Objective`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import xarray as xr

from cellsde.calibration.calibrate import _model
from cellsde.calibration.conditions import conditions_from_data, measured_clouds
from cellsde.calibration.draw import sample_cells
from cellsde.calibration.objective import Draws, clouds, per_condition
from cellsde.calibration.simulator import TwoPhaseODE
from cellsde.errors import ModelMismatchError
from cellsde.losses import w2_table
from cellsde.simulation.adapters import observable_weights


def simulate_conditions(
    model: Any,
    population: xr.Dataset,
    data: xr.Dataset,
    *,
    cells: int | None = None,
    seed: int = 0,
    conditions: Mapping[Any, Mapping[str, float]] | None = None,
    rtol: float = 1e-3,
    atol: float = 1e-9,
) -> tuple[np.ndarray, Draws, Any]:
    """Observed simulated cells (time, cell) for every condition of ``data``.

    Returns the values, the draws (which condition each simulated cell belongs to) and the
    measured clouds of ``data``.
    """
    net, name, build = _model(model)
    if population.attrs.get("model") != name:
        raise ModelMismatchError(
            f"the population was calibrated for model {population.attrs.get('model')!r}, not {name!r}"
        )
    conds, index = conditions_from_data(data, constructor=build, conditions=conditions)
    measured = measured_clouds(data, conds, index, population.attrs["measured"])
    counts = np.full(len(conds), cells) if cells else measured.cells
    draws = Draws.make(np.asarray(counts), population.sizes["param"], measured.times.size, seed,
                       lhs=False)  # fmt: skip
    theta = sample_cells(population, int(draws.condition.size), seed=seed)
    free = [str(p) for p in population["param"].values]
    stim = sorted({s for c in conds for s in c.stimulus})
    stimulus = {s: np.array([conds[c].stimulus.get(s, 0.0) for c in draws.condition]) for s in stim}
    engine = TwoPhaseODE(net, free=free, stimulus=stimulus, times=measured.times,
                         readout=observable_weights(net, population.attrs["observable"]), rtol=rtol, atol=atol)  # fmt: skip
    y = engine.forward(np.stack([theta[q] for q in free], axis=1), record=False)  # (time, cell)
    scale, offset, noise = (
        float(population["observation"].sel(term=t)) for t in ("scale", "offset", "noise")
    )
    y = scale * y + offset + noise * draws.eps.numpy()
    return y, draws, measured


def score(
    model: Any,
    population: xr.Dataset,
    data: xr.Dataset,
    *,
    cells: int | None = None,
    seed: int = 0,
    conditions: Mapping[Any, Mapping[str, float]] | None = None,
    skip_first: bool = True,
) -> xr.DataArray:
    """tW2 of the population against every condition of ``data``.

    Parameters
    ----------
    model : str, ReactionNetwork or path
        The calibrated model (as passed to :func:`cellsde.calibrate`).
    population : xarray.Dataset
        From :func:`cellsde.calibrate` or :func:`cellsde.calibration.open_population`.
    data : xarray.Dataset
        Measured cells of the conditions to score.
    cells : int, optional
        Simulated cells per condition (default: the measured count).
    seed : int
        Seeds the drawn cells and the measurement noise.

    Returns
    -------
    xarray.DataArray, dims (condition,)
        tW2 (squared measured units, summed over the frames after the first).
    """
    y, draws, measured = simulate_conditions(model, population, data, cells=cells, seed=seed,
                                             conditions=conditions)  # fmt: skip
    sim, mask = clouds(torch.as_tensor(y), draws, len(measured.conditions))
    w2, _ = w2_table(sim, measured.x, sim_mask=mask, obs_mask=measured.mask)
    values = per_condition(w2, skip_first=skip_first).numpy()
    return xr.DataArray(values, dims="condition",
                        coords={"condition": [c.label for c in measured.conditions]}, name="tw2")  # fmt: skip
