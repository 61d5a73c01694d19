"""The one table of squared W2 between simulated and observed clouds per (group, time).

Every score and loss of cellsde that compares simulated cells with data is built on
:func:`w2_table`: the END-nSDE training loss (:mod:`cellsde.training.objective`), the
evaluation tables (:mod:`cellsde.evaluation`), the W2 search of :func:`cellsde.infer`, the
Dataset-level :func:`cellsde.losses.w2_per_time` and the sampling floors. It works on padded
tensors only, so any simulator can feed it (neural models, mechanistic SDEs, SSA clouds).

Debiased value
--------------
The expected W2² between two finite clouds grows with their spread, so the plain W2² to the
data is smallest for a simulated cloud *narrower* than the data (2-D, 50 points per cloud:
about 18 % too little variance); fitting or searching on it shrinks the noise. With ``R >= 2``
independent simulated clouds ``s_1 .. s_R`` of one (group, time) the debiased value is

    mean_r W2²(s_r, obs) - 1/2 mean_r W2²(s_r, s_{r+1 mod R})

(cyclic pairs; the single pair ``(s_1, s_2)`` when ``R = 2``, which gives
``(W2²(a, obs) + W2²(b, obs)) / 2 - W2²(a, b) / 2``). If the sampling bias of W2² between
two clouds is ``beta (var_a + var_b)``, the subtracted simulated-vs-simulated term removes its
part that depends on the simulation — the Wasserstein analogue of the Sinkhorn divergence. It
is a first-order correction, not exact, and the value may be negative.
"""

from __future__ import annotations

import torch

from cellsde.losses.wasserstein import w2_squared


def _check(sim, obs, sim_mask, obs_mask, debiased: bool, clouds: int) -> None:
    for name, x in (("sim", sim), ("obs", obs)):
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            raise ValueError(
                f"{name} must be a tensor of shape (group, time, point, coordinate), got "
                f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
            )
    if sim.shape[:2] != obs.shape[:2] or sim.shape[-1] != obs.shape[-1]:
        raise ValueError(
            f"sim {tuple(sim.shape)} and obs {tuple(obs.shape)} must agree in group, time and "
            "coordinate dims"
        )
    for name, mask, x in (("sim_mask", sim_mask, sim), ("obs_mask", obs_mask, obs)):
        if mask is not None and tuple(mask.shape) != tuple(x.shape[:-1]):
            raise ValueError(
                f"{name} has shape {tuple(mask.shape)}; it must be {tuple(x.shape[:-1])}"
            )
    if debiased and (clouds < 2 or sim.shape[2] % clouds):
        raise ValueError(
            f"debiased=True splits the {sim.shape[2]} simulated points into clouds={clouds} "
            "equal clouds: clouds must be >= 2 and divide the number of points"
        )


def w2_table(
    sim: torch.Tensor,
    obs: torch.Tensor,
    *,
    sim_mask: torch.Tensor | None = None,
    obs_mask: torch.Tensor | None = None,
    debiased: bool = False,
    clouds: int = 2,
    method: str = "exact",
    n_projections: int = 64,
    seed: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared W2 (or its debiased value) between simulated and observed clouds.

    Parameters
    ----------
    sim : torch.Tensor, shape (group, time, path, d)
        Simulated clouds, in the units of the observed coordinates.
    obs : torch.Tensor, shape (group, time, cell, d)
        Observed clouds, padded to the largest group.
    sim_mask, obs_mask : torch.Tensor of bool, shape (group, time, path) / (group, time, cell)
        True for real points (default all); padded or unobserved points may hold anything.
    debiased : bool
        Return the debiased value (module docstring): the ``path`` axis holds ``clouds``
        independent simulated clouds of equal size, back to back.
    clouds : int
        Number ``R >= 2`` of simulated clouds (``debiased=True`` only).
    method, n_projections, seed
        Passed to :func:`cellsde.losses.w2_squared` (``"sliced"`` needs ``seed``).

    Returns
    -------
    w2 : torch.Tensor, shape (group, time)
        Squared W2 in squared coordinate units, differentiable with respect to ``sim`` and
        ``obs``; 0 where the entry is not comparable; ``inf`` where a simulated point is not
        finite (a diverged simulation), so a loss built on it is not finite either.
    comparable : torch.Tensor of bool, shape (group, time)
        True where the observed cloud and every simulated cloud have at least one point.

    Examples
    --------
    >>> sim, obs = torch.zeros(1, 1, 4, 2), torch.full((1, 1, 4, 2), 1.0)
    >>> w2, ok = w2_table(sim, obs)
    >>> float(w2[0, 0]), bool(ok[0, 0])
    (2.0, True)
    """
    _check(sim, obs, sim_mask, obs_mask, debiased, clouds)
    r = clouds if debiased else 1
    g, t, n, d = sim.shape
    a = sim.reshape(g, t, r, n // r, d)  # (group, time, cloud, path, d)
    am = None if sim_mask is None else sim_mask.reshape(g, t, r, n // r)
    comparable = torch.ones((g, t), dtype=torch.bool, device=sim.device)
    if am is not None:
        comparable = comparable & am.any(-1).all(-1)
    if obs_mask is not None:
        comparable = comparable & obs_mask.to(sim.device).any(-1)
    opts = {"method": method, "n_projections": n_projections, "seed": seed}
    # A simulated point that is not finite (a diverged simulation) is infinitely far away.
    bad = ~torch.isfinite(a).all(-1) if am is None else ~torch.isfinite(a).all(-1) & am
    diverged = comparable & bad.flatten(2).any(-1)  # (group, time)
    w2 = torch.zeros((g, t), dtype=torch.promote_types(sim.dtype, obs.dtype), device=sim.device)
    ok = comparable & ~diverged
    if bool(ok.any()):
        w2 = w2.index_put((ok,), _value(a[ok], obs, ok, am, obs_mask, debiased, opts).to(w2.dtype))
    return w2.masked_fill(diverged, torch.inf), comparable


def _value(a_ok, obs, ok, am, obs_mask, debiased, opts) -> torch.Tensor:
    """The entries at ``ok``: ``a_ok`` (k, cloud, path, d) against ``obs[ok]`` -> (k,)."""
    r = a_ok.shape[1]
    am_ok = None if am is None else am[ok]  # (k, cloud, path)
    b_ok = obs.to(a_ok.device)[ok][:, None].expand(-1, r, -1, -1)  # (k, cloud, cell, d)
    bm_ok = None if obs_mask is None else obs_mask.to(a_ok.device)[ok][:, None].expand(-1, r, -1)
    value = w2_squared(a_ok, b_ok, a_mask=am_ok, b_mask=bm_ok, **opts).mean(1)  # (k,)
    if not debiased:
        return value
    ia = torch.arange(1 if r == 2 else r, device=a_ok.device)
    ib = (ia + 1) % r  # cyclic pairs (r, r + 1): every cloud in two pairs
    pair_masks = (None, None) if am_ok is None else (am_ok[:, ia], am_ok[:, ib])
    self_w2 = w2_squared(a_ok[:, ia], a_ok[:, ib], a_mask=pair_masks[0], b_mask=pair_masks[1],
                         **opts)  # fmt: skip
    return value - 0.5 * self_w2.mean(1)
