"""Euler–Maruyama for any SDE satisfying :class:`models_bio.sde.SDEProtocol` (torch, batched).

Algorithm
---------
For the Itô SDE ``dX = f(t, X, theta) dt + g(t, X, theta) dW`` one step of length ``h`` is

    X <- X + f(t, X, theta) h + g(t, X, theta) dW,     dW ~ N(0, h I),

with ``g dW`` the elementwise product for ``noise_type="diagonal"`` (g: (cell, species),
dW: (cell, species)) and the matrix product ``einsum("csb,cb->cs")`` for ``"general"``
(g: (cell, species, brownian), dW: (cell, brownian)). Strong order 1/2, weak order 1.

Between consecutive output times ``t_k, t_{k+1}`` the solver takes
``ceil((t_{k+1} - t_k) / dt)`` equal steps, so it lands exactly on every observation time.
The Brownian increments come from a ``torch.Generator`` seeded with ``seed`` (same seed,
device and dtype -> same paths), or from a user function ``increments(t0, t1)`` (e.g. a
``torchsde.BrownianInterval``) to drive several solvers with one Brownian path.
No autograd graph is built unless ``grad=True``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from cellsde.datasets.timegrid import check_times
from cellsde.solvers.cle import step_counts
from models_bio.sde import SDEProtocol

Increments = Callable[[float, float], torch.Tensor]


def _as_tensor(a, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(a, np.ndarray) and not a.flags.writeable:
        a = a.copy()  # torch warns on read-only arrays (e.g. np.broadcast_to views)
    t = torch.as_tensor(a, dtype=dtype, device=device)
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (cell, ...), got {tuple(t.shape)}")
    return t


def euler_maruyama(
    sde: SDEProtocol,
    *,
    x0,
    theta,
    times,
    dt: float,
    seed: int | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    grad: bool = False,
    increments: Increments | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Simulate ``sde`` for a batch of cells on an output time grid.

    Parameters
    ----------
    sde : SDEProtocol
        Drift ``f(t, x, theta)`` and diffusion ``g(t, x, theta)`` on torch tensors.
    x0 : array_like or Tensor, shape (cell, species)
        State at ``times[0]``.
    theta : array_like or Tensor, shape (cell, param)
        Per-cell parameters, constant along each path (may have 0 columns).
    times : array_like, shape (time,)
        Strictly increasing output times.
    dt : float
        Largest step.
    seed : int
        Seed of the ``torch.Generator``; required unless ``increments`` is given.
    device : str or torch.device
        Where to compute.
    dtype : torch.dtype, optional
        Default ``torch.get_default_dtype()`` (what a torch network expects).
    grad : bool
        Build the autograd graph (for training through the solver).
    increments : callable, optional
        ``increments(t0, t1) -> Tensor (cell, brownian)``: the Brownian increment over
        ``[t0, t1]``; replaces the seeded generator.
    progress : bool
        tqdm bar over output intervals.

    Returns
    -------
    Tensor, shape (cell, time, species)
        Paths at ``times``, on ``device``.
    """
    if sde.noise_type not in ("diagonal", "general"):
        raise ValueError(f"noise_type must be 'diagonal' or 'general', got {sde.noise_type!r}")
    dev = torch.device(device)
    dtype = dtype or torch.get_default_dtype()
    times = check_times(times)
    steps = step_counts(times, dt)
    x = _as_tensor(x0, "x0", dtype, dev)  # (cell, species)
    th = _as_tensor(theta, "theta", dtype, dev)  # (cell, param)
    if th.shape[0] != x.shape[0]:
        raise ValueError(f"theta has {th.shape[0]} cells but x0 has {x.shape[0]}")
    if x.shape[1] != len(sde.species):
        raise ValueError(f"x0 has {x.shape[1]} species; the SDE has {len(sde.species)}")
    if increments is None:
        if seed is None:
            raise ValueError("give seed= (an int) or increments=")
        gen = torch.Generator(device=dev).manual_seed(int(seed))
    n_b = x.shape[1] if sde.noise_type == "diagonal" else int(sde.n_brownian)
    intervals = range(times.size - 1)
    if progress:
        from tqdm.auto import tqdm

        intervals = tqdm(intervals, desc="euler-maruyama", unit="interval", disable=None)
    out = [x]
    with torch.set_grad_enabled(grad):
        for k in intervals:
            h = (times[k + 1] - times[k]) / steps[k]
            for i in range(steps[k]):
                t = float(times[k] + i * h)
                if increments is None:
                    dw = torch.randn(
                        (x.shape[0], n_b), generator=gen, device=dev, dtype=dtype
                    ) * math.sqrt(h)
                else:
                    dw = increments(t, float(times[k] + (i + 1) * h)).to(dev, dtype)
                f = sde.drift(t, x, th)  # (cell, species)
                g = sde.diffusion(t, x, th)
                if sde.noise_type == "diagonal":
                    x = x + f * h + g * dw
                else:
                    x = x + f * h + torch.einsum("csb,cb->cs", g, dw)
            out.append(x)
    return torch.stack(out, dim=1)
