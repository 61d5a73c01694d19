"""Intervals for the population parameters: a one-step cell bootstrap.

Both the measured cells and the simulated cells of every condition are random samples, so a
replicate resamples both, with replacement, within each condition. Refitting every replicate
would cost a whole calibration each; the one-step bootstrap (a Newton step from the
estimate, as for M-estimators) replaces the refit by

    phi_b = phi_hat - H^-1 (g_b - g)

where ``g_b`` is the gradient of replicate ``b``'s loss at ``phi_hat``, ``g`` that of the full
data (zero at an exact optimum; subtracting it centres the replicates on the estimate when
the search stopped short of one) and ``H`` the
Gauss-Newton Hessian of the full loss there. Both come from one Jacobian ``G = d y / d phi``
of every simulated, observed value (time, cell, phi), built from exact forward sensitivities
of the solver (:meth:`TwoPhaseODE.jacobian`) and autograd through the population and
observation maps. In 1-D the squared W2 moves a simulated point of mass ``1/n`` by its
matched residual, so its Hessian in that point is ``2/n``, whatever the matching:
``H = sum_(t, cell) 2/n_c G^T G``. A replicate's gradient needs only the W2 table of the
resampled clouds (``g_b = G^T dL_b/dy``), so a thousand replicates cost seconds.

Intervals are percentiles of the natural parameters (medians, spreads, correlations,
observation parameters) over the replicates. A direction the data do not inform (a
near-zero eigenvalue of ``H``) shows up as a wide interval; the smallest eigenvalues are
reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from cellsde.calibration.objective import Objective, observation


@dataclass(frozen=True)
class Bootstrap:
    """Replicates of the population parameters.

    Attributes
    ----------
    phi : ndarray, shape (replicate, phi)
        One-step replicate estimates on the unconstrained scale.
    eigenvalues : ndarray, shape (phi,)
        Of the Gauss-Newton Hessian (ascending): how well the data pin each direction down.
    """

    phi: np.ndarray
    eigenvalues: np.ndarray


def output_jacobian(objective: Objective, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The observed simulated values ``y`` (time, cell) at ``phi`` and ``G = dy/dphi`` (time, cell, phi)."""
    engine, pop, draws = objective.engine, objective.population, objective.draws
    phi = phi.detach().clone()
    theta = pop.cells(phi, draws.z)  # (cell, param)
    y = torch.as_tensor(engine.forward(theta.numpy(), record=True))  # (time, cell)
    dy_dtheta = torch.as_tensor(engine.jacobian())  # (time, cell, param)
    dtheta_dphi = torch.autograd.functional.jacobian(lambda v: pop.cells(v, draws.z), phi)

    def scalars(v: torch.Tensor) -> torch.Tensor:  # (scale, offset, noise) of phi
        o = observation(pop, objective.spec, v)
        return torch.stack([o[k].reshape(()).to(v.dtype) for k in ("scale", "offset", "noise")])

    scale, offset, noise = scalars(phi)
    eps = torch.as_tensor(draws.eps, dtype=phi.dtype)  # (time, cell)
    # y_obs = scale * y + offset + noise * eps: through y (the solver's sensitivities), and
    # at fixed y through the three scalars' (3, phi) Jacobian (one small autograd call, not
    # one per observed value)
    d = torch.autograd.functional.jacobian(scalars, phi)  # (3, phi)
    g = scale * torch.einsum("tcq,cqf->tcf", dy_dtheta, dtheta_dphi)
    g = g + y.to(g.dtype)[..., None] * d[0] + d[1] + eps[..., None] * d[2]
    return scale * y + offset + noise * eps, g


def one_step_bootstrap(
    objective: Objective, phi: torch.Tensor, *, replicates: int, seed: int
) -> Bootstrap:
    """``replicates`` one-step bootstrap estimates around ``phi`` (see the module docstring)."""
    y, g = output_jacobian(objective, phi)  # (time, cell), (time, cell, phi)
    draws, measured = objective.draws, objective.measured
    counts = np.bincount(draws.condition)
    weight = torch.as_tensor(2.0 / counts[draws.condition])  # (cell,)
    times = slice(1, None) if objective.skip_first else slice(None)
    gt = g[times]
    hess = torch.einsum("tcf,c,tcg->fg", gt, weight, gt)
    if objective.reduce == "mean":
        hess = hess / len(measured.conditions)
    evals, evecs = torch.linalg.eigh(hess)
    floor = max(float(evals.max()), 1e-300) * 1e-10  # pseudo-inverse of uninformed directions
    inv = evecs @ torch.diag(torch.where(evals > floor, 1.0 / evals, 0.0)) @ evecs.T
    # the full-data gradient: replicates are centred on phi even if the search stopped short
    # of a stationary point (phi_b - phi = -H^-1 (g_b - g))
    yf = y.detach().clone().requires_grad_(True)
    (grad_full,) = torch.autograd.grad(objective.table(yf)[1], yf)
    g_full = torch.einsum("tc,tcf->f", grad_full, g)
    rng = np.random.default_rng(seed)
    out = np.empty((replicates, phi.numel()))
    for b in range(replicates):
        sim_idx = _resample(draws.condition, rng)  # simulated cells drawn within conditions
        data = _resample_measured(measured, rng)
        yb = y.detach().clone().requires_grad_(True)
        _, loss = objective.table(yb[:, sim_idx], data=data)
        (grad_y,) = torch.autograd.grad(loss, yb)
        gb = torch.einsum("tc,tcf->f", grad_y, g)
        out[b] = (phi.detach() - inv @ (gb - g_full)).numpy()
    return Bootstrap(phi=out, eigenvalues=evals.numpy())


def _resample(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn with replacement within each group, group order kept."""
    idx = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        idx.append(rng.choice(members, size=members.size, replace=True))
    return np.concatenate(idx)


def _resample_measured(measured, rng: np.random.Generator):
    """Measured clouds with each condition's cells drawn with replacement."""
    x, mask = measured.x.clone(), measured.mask.clone()
    for c, n in enumerate(measured.cells):
        pick = torch.as_tensor(rng.integers(0, n, size=n))
        x[c, :, :n] = measured.x[c, :, pick]
        mask[c, :, :n] = measured.mask[c, :, pick]
    return x, mask


def intervals(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals along the first axis: (lower, upper), each of shape samples.shape[1:]."""
    alpha = (1.0 - level) / 2.0
    return np.quantile(samples, alpha, axis=0), np.quantile(samples, 1.0 - alpha, axis=0)
