"""Differentiable batched Euler–Maruyama rollouts for training.

All groups' paths advance together as one (path, species) tensor. Between two observation
times ``[t_i, t_{i+1}]`` the solver takes ``n_i = ceil((t_{i+1} - t_i) / dt)`` equal steps, so
observation times are hit exactly. The Brownian increments of a segment are drawn before the
segment from an explicit generator; with ``checkpoint=True`` each segment is wrapped in
:func:`torch.utils.checkpoint.checkpoint`, so memory grows with the number of observation
times instead of the number of steps (activations are recomputed in the backward pass from
the same increments, so gradients are unchanged).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch.utils.checkpoint import checkpoint as _checkpoint

from models_bio.sde import SDEProtocol


def step_counts(times: torch.Tensor, dt: float) -> list[int]:
    """Number of equal Euler steps in each observation interval (at least 1).

    ``n_i = ceil(gap_i / dt)``, where a gap that exceeds a whole number of steps by no more
    than the rounding of the stored times does not get an extra step: float32 times are off
    by up to an ulp of the later time (2.4e-7 near t = 2.5), so with ``dt = gap / 84`` a
    tolerance of a fixed 1e-5 steps gave 85 steps in half of the intervals. The tolerance is
    ``max(1e-5, 4 eps |t_{i+1}| / dt)`` steps, ``eps`` the machine epsilon of ``times``'
    dtype (float64 times: 1e-5 steps, as before).

    Parameters
    ----------
    times : torch.Tensor, shape (time,)
        Observation times, strictly increasing.
    dt : float
        Largest step, same units.

    Returns
    -------
    list of int, length time - 1
    """
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    tt = times.tolist()
    if any(b <= a for a, b in itertools.pairwise(tt)):
        raise ValueError("observation times must be strictly increasing")
    eps = torch.finfo(times.dtype).eps if times.is_floating_point() else 0.0
    return [
        max(1, math.ceil((b - a) / dt - max(1e-5, 4 * eps * max(abs(a), abs(b)) / dt)))
        for a, b in itertools.pairwise(tt)
    ]


def _segment(
    sde: SDEProtocol, x: torch.Tensor, theta: torch.Tensor, t0: float, h: float, dw: torch.Tensor
) -> torch.Tensor:
    # x (path, species); dw (steps, path, brownian), already scaled by sqrt(h)
    general = sde.noise_type == "general"
    t = t0
    for k in range(dw.shape[0]):
        g = sde.diffusion(t, x, theta)
        noise = torch.einsum("psm,pm->ps", g, dw[k]) if general else g * dw[k]
        x = x + sde.drift(t, x, theta) * h + noise
        t = t0 + (k + 1) * h
    return x


def rollout(sde: SDEProtocol, x0: torch.Tensor, theta: torch.Tensor, times: torch.Tensor, *,
            dt: float, generator: torch.Generator, checkpoint: bool = False) -> torch.Tensor:  # fmt: skip
    """Simulate paths of ``sde`` with Euler–Maruyama, keeping the autograd graph.

    ``sde`` is any model with ``drift(t, x, theta)``, ``diffusion(t, x, theta)``,
    ``noise_type`` and ``n_brownian`` (:class:`models_bio.sde.SDEProtocol`); the other
    arguments and the result are those of :meth:`cellsde.nn.base.PopulationModel.sample_paths`
    (``x0`` (path, species), ``theta`` (path, param), ``times`` (time,) -> (path, time,
    species), ``out[:, 0] = x0``). The Brownian increments of each segment are drawn from
    ``generator`` before the segment; ``checkpoint=True`` recomputes each segment in the
    backward pass to save memory.
    """
    counts = step_counts(times, dt)
    m = sde.n_brownian
    out = [x0]
    x = x0
    tt = times.tolist()
    for i, n in enumerate(counts):
        h = (tt[i + 1] - tt[i]) / n
        dw = torch.randn(
            (n, x0.shape[0], m), generator=generator, device=generator.device, dtype=x0.dtype
        ).to(x0.device) * math.sqrt(h)
        if checkpoint and torch.is_grad_enabled():
            x = _checkpoint(_segment, sde, x, theta, tt[i], h, dw, use_reentrant=False)
        else:
            x = _segment(sde, x, theta, tt[i], h, dw)
        out.append(x)
    return torch.stack(out, 1)
