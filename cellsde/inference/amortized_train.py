"""Training the amortised inference network: :func:`train_amortizer` on trajectories with known
parameters, and :func:`simulate_training_sets` to draw those from a population model."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from cellsde.inference.amortized import Amortizer, AmortizerConfig
from cellsde.nn.base import PopulationModel


def simulate_training_sets(
    model: PopulationModel,
    *,
    x0: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    times: torch.Tensor,
    readout: torch.Tensor,
    n_sets: int = 512,
    k: int = 32,
    dt: float = 1e-2,
    seed: int = 0,
    generator: torch.Generator | None = None,
    covariates: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training sets for :func:`train_amortizer` from simulations of ``model``.

    ``n_sets`` parameter sets are drawn uniformly in the box [lo, hi] and ``k`` paths are
    simulated for each; a model with known covariates is simulated at the one condition
    ``covariates`` (call once per condition and concatenate).

    Parameters
    ----------
    x0 : torch.Tensor, shape (n0, species)
        Pool of initial states, cycled through.
    lo, hi : torch.Tensor, shape (param,)
        The box theta is drawn from.
    times : torch.Tensor, shape (time,)
        Observation times.
    readout : torch.Tensor, shape (species, observed)
        Linear map from model species to observed coordinates.
    n_sets, k : int
        Parameter sets, paths per set.
    dt : float
        Euler–Maruyama step.
    seed : int
        Seeds ``generator`` when none is given.
    generator : torch.Generator, optional
        Source of theta and of the Brownian increments; pass the same one on to
        :func:`train_amortizer` to make the whole training one random stream.
    covariates : torch.Tensor, shape (covariate,), optional
        The encoded known covariates of the condition (the trailing columns of the model's
        ``theta``); required exactly when the model has covariates.

    Returns
    -------
    y : torch.Tensor, shape (set, k, time, observed)
        The observed coordinates of the paths.
    theta : torch.Tensor, shape (set, param + covariate)
        The drawn unknown parameters of each set, followed by the covariates (if any).
    """
    n_fixed = len(model.param_names) - lo.shape[0]
    given = 0 if covariates is None else int(covariates.numel())
    if given != n_fixed:
        raise ValueError(
            f"the model takes {len(model.param_names)} conditioning inputs and the box has "
            f"{lo.shape[0]}: pass covariates= the other {n_fixed} (got {given})"
        )
    gen = generator or torch.Generator(device=x0.device).manual_seed(seed)
    u = torch.rand((n_sets, lo.shape[0]), generator=gen, device=gen.device).to(x0.device)
    theta = lo + (hi - lo) * u  # (set, param)
    if n_fixed:
        fixed = covariates.reshape(1, -1).to(theta).expand(n_sets, n_fixed)
        theta = torch.cat([theta, fixed], -1)  # (set, param + covariate)
    idx = torch.arange(n_sets * k, device=x0.device) % x0.shape[0]
    with torch.no_grad():
        paths = model.sample_paths(
            x0[idx], theta.repeat_interleave(k, 0), times, dt=dt, generator=gen
        )
    return (paths @ readout).reshape(n_sets, k, len(times), -1), theta


def train_amortizer(
    y: torch.Tensor,
    theta: torch.Tensor,
    *,
    observed: tuple[str, ...],
    params: tuple[str, ...],
    times: torch.Tensor,
    lo: torch.Tensor | None = None,
    hi: torch.Tensor | None = None,
    k_max: int = 32,
    epochs: int = 1500,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    hidden: int = 64,
    spread_features: bool = False,
    covariates: tuple[str, ...] = (),
    bounded: bool = True,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> Amortizer:
    """Train an :class:`Amortizer` on given trajectories with known parameters.

    The trajectories may be simulations of a fitted model (:func:`simulate_training_sets`,
    what :func:`cellsde.infer` does) or of the ground-truth (mechanistic) model, as the
    END-nSDE paper does.

    Inputs are standardised per feature by the training mean and SD, the SD floored at 1/10
    of its mean over features (features constant in training, like a shared initial state,
    would otherwise divide by ~0). Each epoch is one full-batch Adam step on the MSE of the
    standardised theta; every set
    shows a random group size K in 1..k_max, made of a random subset of its ``n`` cells
    (fresh each epoch, so sets with ``n > k_max`` cells give more distinct groups).

    Parameters
    ----------
    y : torch.Tensor, shape (set, n, time, observed)
        ``n >= k_max`` trajectories per parameter set, no NaN.
    theta : torch.Tensor, shape (set, param + covariate)
        The parameters of each set, followed by its known covariates (if any).
    observed, params : tuple of str
        Names of the last axis of ``y`` and of ``theta``.
    times : torch.Tensor, shape (time,)
        Observation times of ``y``.
    lo, hi : torch.Tensor, shape (param,), optional
        Range the outputs are scaled to (default: the range of ``theta``).
    k_max, epochs, lr, weight_decay, hidden
        Largest group size, Adam steps, learning rate, weight decay, embedding width.
    spread_features : bool
        See :class:`AmortizerConfig` (log spread of the group as extra head inputs).
    covariates : tuple of str
        Names of the trailing covariate columns of ``theta`` (inputs, not targets).
    bounded : bool
        Keep every output inside [lo, hi] (``tanh``; see :class:`AmortizerConfig`).
    seed : int
        Seeds the weights and, without ``generator``, the subsets.
    generator : torch.Generator, optional
        Source of the random subsets.

    Returns
    -------
    Amortizer
        The trained network (in eval mode).
    """
    if y.ndim != 4 or theta.ndim != 2 or y.shape[0] != theta.shape[0]:
        raise ValueError(
            f"y must be (set, n, time, observed) and theta (set, param) with the same sets; "
            f"got {tuple(y.shape)} and {tuple(theta.shape)}"
        )
    if y.shape[1] < k_max:
        raise ValueError(f"y has {y.shape[1]} trajectories per set; k_max={k_max} needs >= k_max")
    n_p = len(params)
    if (
        y.shape[2] != len(times)
        or y.shape[3] != len(observed)
        or theta.shape[1] != n_p + len(covariates)
    ):
        raise ValueError(
            f"y {tuple(y.shape)} / theta {tuple(theta.shape)} do not match {len(times)} times, "
            f"observed {list(observed)}, params {list(params)} and covariates {list(covariates)}"
        )
    if not bool(torch.isfinite(y).all() & torch.isfinite(theta).all()):
        raise ValueError("y and theta must be finite (drop cells with NaN first)")
    dev = y.device
    theta, cov = theta[:, :n_p], theta[:, n_p:]  # targets, known inputs
    gen = generator or torch.Generator(device=dev).manual_seed(seed)
    lo = theta.min(0).values if lo is None else torch.as_tensor(lo, dtype=y.dtype, device=dev)
    hi = theta.max(0).values if hi is None else torch.as_tensor(hi, dtype=y.dtype, device=dev)
    n_sets, n = y.shape[:2]
    cfg = AmortizerConfig(observed=tuple(observed), params=tuple(params),
                          times=tuple(float(t) for t in times.tolist()), k_max=k_max, hidden=hidden,
                          spread_features=spread_features, covariates=tuple(covariates),
                          bounded=bounded)  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Amortizer(cfg).to(dev)
    flat = y.flatten(-2).reshape(-1, y.shape[-2] * y.shape[-1])  # (set*n, features)
    with torch.no_grad():
        net.reference.copy_(flat.mean(0))
        net.y_loc.copy_(flat.mean(0))
        # A feature that is constant in training (e.g. the shared initial state) gets the
        # scale floor 1/10 of the mean SD, so data that differ there (measured cells) are
        # not blown up by 1/0 into huge inputs.
        sd = flat.std(0)  # (features,)
        net.y_scale.copy_(sd.clamp(min=max(0.1 * float(sd.mean()), 1e-12)))
        net.theta_loc.copy_((lo + hi) / 2)
        net.theta_scale.copy_(torch.where(hi > lo, (hi - lo) / 2, torch.ones_like(hi)))
        if spread_features:
            z = (y.flatten(-2) - net.y_loc) / net.y_scale  # (set, n, features)
            spread = net.log_spread(z)  # (set, features) over all n cells
            net.spread_loc.copy_(spread.mean(0))
            net.spread_scale.copy_(
                spread.std(0).clamp(min=1e-3) if n_sets > 1 else torch.ones_like(spread[0])
            )
        if covariates:
            net.cov_loc.copy_(cov.mean(0))
            sd = cov.std(0) if n_sets > 1 else torch.ones_like(cov[0])
            net.cov_scale.copy_(torch.where(sd > 1e-8, sd, torch.ones_like(sd)))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    target = (theta - net.theta_loc) / net.theta_scale
    rows = torch.arange(n_sets, device=dev)[:, None]
    for _ in tqdm(range(epochs), desc="infer: amortizer", unit="epoch", leave=False, disable=None):
        ks = torch.randint(1, k_max + 1, (n_sets, 1), generator=gen, device=gen.device).to(dev)
        order = torch.rand((n_sets, n), generator=gen, device=gen.device).to(dev).argsort(1)
        pick = order[:, :k_max]  # (set, k_max) a random subset of the n cells
        mask = torch.arange(k_max, device=dev)[None, :] < ks  # first K of the subset count
        pred = (
            net(y[rows, pick], mask, cov if covariates else None) - net.theta_loc
        ) / net.theta_scale
        loss = (pred - target).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()
