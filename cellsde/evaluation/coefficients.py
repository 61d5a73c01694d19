"""Relative errors of a learned drift and of its noise covariance against the true SDE.

With ``f`` the drift and ``S = sigma sigma^T`` the instantaneous covariance (species x species):

    drift error     = sum |f_hat - f| / sum |f|
    diffusion error = sum | |S_hat| - |S| | / sum |S|        (|.| elementwise)

the sums running over the species (entries) and over a set of visited states. These are the
authors' definitions (reference/end-nsde.md section 8), except that their code counted only
the last time point (pitfall 5); here every state of every time point counts.
"""

from __future__ import annotations

import numpy as np
import torch

from cellsde.errors import ModelMismatchError
from models_bio.sde import SDEProtocol


def noise_covariance(
    sde: SDEProtocol, t: float, x: torch.Tensor, theta: torch.Tensor
) -> torch.Tensor:
    """``sigma sigma^T`` at each state, shape (path, species, species).

    Diagonal noise (``diffusion`` returns (path, species)) gives ``diag(sigma**2)``; general
    noise ((path, species, brownian)) gives ``sigma @ sigma^T``.
    """
    g = sde.diffusion(t, x, theta)
    if sde.noise_type == "diagonal":
        return torch.diag_embed(g * g)
    return g @ g.transpose(-1, -2)


def check_same_names(model: SDEProtocol, truth: SDEProtocol) -> None:
    """Raise :class:`ModelMismatchError` unless species and parameters agree, in order."""
    for label, mine, theirs in (
        ("species", tuple(model.species), tuple(truth.species)),
        ("parameters", tuple(model.param_names), tuple(truth.param_names)),
    ):
        if mine != theirs:
            raise ModelMismatchError(
                f"the true model's {label} {list(theirs)} differ from the fitted model's "
                f"{list(mine)}; compare models with the same {label} in the same order"
            )


def coefficient_error_sums(
    model: SDEProtocol,
    truth: SDEProtocol,
    states: torch.Tensor,
    theta: torch.Tensor,
    times: torch.Tensor,
    valid: torch.Tensor | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Numerators and denominators of both relative errors, per group.

    Parameters
    ----------
    model, truth : SDEProtocol
        Fitted and true SDEs (same species and parameters).
    states : torch.Tensor, shape (group, path, time, species)
        Visited states.
    theta : torch.Tensor, shape (group, param)
        Parameters of each group.
    times : torch.Tensor, shape (time,)
        The time of each state column (passed to ``drift``/``diffusion``).
    valid : torch.Tensor of bool, shape (group, path, time), optional
        Which states count (default all).

    Returns
    -------
    (drift_num, drift_den), (cov_num, cov_den) : numpy arrays, shape (group,)
    """
    check_same_names(model, truth)
    g, n, t_len, d = states.shape
    valid = torch.ones((g, n, t_len), dtype=torch.bool) if valid is None else valid
    sums = np.zeros((4, g))
    th = theta.repeat_interleave(n, 0)  # (group*path, param)
    for i, t in enumerate(times.tolist()):
        x = states[:, :, i].reshape(g * n, d)  # (group*path, species)
        w = valid[:, :, i].reshape(g, n, 1).to(x.dtype)
        x = torch.where(valid[:, :, i].reshape(-1, 1), x, torch.zeros_like(x))  # no NaN inputs
        f_hat, f = model.drift(t, x, th), truth.drift(t, x, th)  # (group*path, species)
        s_hat = noise_covariance(model, t, x, th).abs().reshape(g, n, -1)
        s = noise_covariance(truth, t, x, th).abs().reshape(g, n, -1)
        parts = (
            (f_hat - f).abs().reshape(g, n, d),
            f.abs().reshape(g, n, d),
            (s_hat - s).abs(),
            s,
        )
        for k, part in enumerate(parts):
            sums[k] += (part * w).sum((1, 2)).double().cpu().numpy()
    return (sums[0], sums[1]), (sums[2], sums[3])
