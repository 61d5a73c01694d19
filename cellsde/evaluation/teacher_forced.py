"""The paper's teacher-forced protocol for the recurrent and neural-ODE baselines.

``x_hat(t_i) = NN(x_true(t_{i-1}), omega)``: every prediction starts from the *observed*
previous state and no noise is injected (reference/end-nsde.md section 7). The spread of the
predicted cloud then comes only from the observed inputs, which favours these models on
short-horizon error and hides that they cannot generate intrinsic noise. Use it only for
comparability with the authors' numbers, labelled as teacher-forced; compare models with
:func:`cellsde.evaluation.evaluate` (autoregressive rollouts).

Differences from the authors' code: each cell is its own sequence (they fed the 50
trajectories of a batch as one length-50 sequence), and only cells observed at every time
in every model species are used.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from cellsde.baselines.neural_ode import NeuralODE
from cellsde.baselines.recurrent import RecurrentBaseline
from cellsde.datasets.schema import GROUP, PARAM, SPECIES, THETA, X
from cellsde.errors import SchemaError
from cellsde.evaluation.table import checked_groups, evaluating, grouped_table, w2_array


def teacher_forced_w2(
    model: RecurrentBaseline | NeuralODE,
    data: xr.Dataset,
    *,
    dt: float = 1e-3,
    observed: tuple[str, ...] | None = None,
) -> xr.Dataset:
    """Squared W2 of noise-free one-step predictions from observed states (paper protocol).

    Parameters
    ----------
    model : RecurrentBaseline or NeuralODE
        Recurrent models carry their state along each observed sequence; the neural ODE
        integrates each interval (Euler, step ``dt``) from the observed start.
    data : xarray.Dataset
        cellsde schema with ``group`` and (when the model has params) ``theta``.
    dt : float
        Euler step of the neural ODE, in the data's time units.
    observed : tuple of str, optional
        Species compared; default all of the model's species.

    Returns
    -------
    xarray.Dataset
        The table of :func:`cellsde.evaluation.evaluate` (``w2`` (group, time), ``tw2``,
        ``tw2_total``...; coefficient errors NaN), ``attrs["protocol"]`` = "teacher-forced".
    """
    if not isinstance(model, (RecurrentBaseline, NeuralODE)):
        raise TypeError(
            f"teacher_forced_w2 applies to RecurrentBaseline and NeuralODE, got {type(model).__name__}"
        )
    grouped, observed = checked_groups(model, data, observed)  # validates species, params, groups
    device, dtype = grouped.x0.device, grouped.x0.dtype
    have = [str(s) for s in data[X][SPECIES].values]
    values = data[X].values[..., [have.index(s) for s in model.species]]  # (cell, time, species)
    labels_all = np.asarray(data[GROUP].values) if GROUP in data.coords else np.zeros(len(values))
    full = np.isfinite(values).all((1, 2))  # (cell,)
    theta_all = (
        data[THETA].sel({PARAM: list(model.param_names)}).values
        if model.param_names
        else np.zeros((len(values), 0))
    )
    members = [np.flatnonzero((labels_all == g) & full) for g in grouped.labels]
    empty = [g for g, m in zip(grouped.labels, members) if len(m) == 0]
    if empty:
        raise SchemaError(f"groups {empty} have no cell observed at every time in every species")
    width = max(len(m) for m in members)
    t_len = values.shape[1]
    readout = grouped.readout  # (species, observed)
    pred = torch.zeros((len(members), t_len, width, len(observed)), dtype=torch.float64)
    true = torch.zeros_like(pred)
    mask = torch.zeros((len(members), t_len, width), dtype=torch.bool)
    with evaluating(model):
        for k, m in enumerate(members):
            x = torch.as_tensor(values[m], dtype=dtype, device=device)  # (cell, time, species)
            th = torch.as_tensor(theta_all[m], dtype=dtype, device=device)  # (cell, param)
            p = _one_step(model, x, th, grouped.times, dt)  # (cell, time, species)
            pred[k, :, : len(m)] = (p @ readout).transpose(0, 1).double().cpu()
            true[k, :, : len(m)] = (x @ readout).transpose(0, 1).double().cpu()
            mask[k, :, : len(m)] = True
    w2 = w2_array(pred, true, sim_mask=mask, obs_mask=mask)
    return grouped_table(w2, grouped, data, model=model, observed=observed, settings={"dt": dt},
                         protocol="teacher-forced: one-step predictions from observed states, "
                         "no noise (paper)")  # fmt: skip


def _one_step(
    model: RecurrentBaseline | NeuralODE,
    x: torch.Tensor,
    theta: torch.Tensor,
    times: torch.Tensor,
    dt: float,
) -> torch.Tensor:
    """(cell, time, species) predictions from the observed previous state."""
    if isinstance(model, RecurrentBaseline):
        return model.teacher_forced(x, theta)
    out = [x[:, 0]]
    gen = torch.Generator(device=x.device)  # unused: the neural ODE is deterministic
    for i in range(1, times.shape[0]):
        seg = model.sample_paths(x[:, i - 1], theta, times[i - 1 : i + 1], dt=dt, generator=gen)
        out.append(seg[:, -1])
    return torch.stack(out, 1)
