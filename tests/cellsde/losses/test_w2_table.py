"""w2_table: the one (group, time) table of plain and debiased W2², against scipy's assignment."""

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from cellsde.losses import w2_table


def exact(a: np.ndarray, b: np.ndarray) -> float:
    cost = cdist(a, b, "sqeuclidean")
    r, c = linear_sum_assignment(cost)
    return float(cost[r, c].mean())


def clouds(g=2, t=3, n=6, d=2, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(g, t, n, d, generator=gen, dtype=torch.float64)


def test_plain_value_is_the_exact_w2_per_group_and_time():
    sim, obs = clouds(seed=0), clouds(seed=1) + 0.5
    w2, ok = w2_table(sim, obs)
    assert ok.all()
    for g in range(2):
        for t in range(3):
            assert float(w2[g, t]) == pytest.approx(exact(sim[g, t].numpy(), obs[g, t].numpy()))


@pytest.mark.parametrize("clouds_", [2, 3])
def test_debiased_value_is_cross_minus_half_the_cyclic_self_term(clouds_):
    n = 4
    sim, obs = clouds(n=clouds_ * n, seed=2), clouds(n=n, seed=3)
    w2, _ = w2_table(sim, obs, debiased=True, clouds=clouds_)
    pairs = [(0, 1)] if clouds_ == 2 else [(r, (r + 1) % clouds_) for r in range(clouds_)]
    for g in range(2):
        for t in range(3):
            s = sim[g, t].numpy().reshape(clouds_, n, 2)  # clouds back to back on the path axis
            cross = np.mean([exact(s[r], obs[g, t].numpy()) for r in range(clouds_)])
            self_ = np.mean([exact(s[a], s[b]) for a, b in pairs])
            assert float(w2[g, t]) == pytest.approx(cross - 0.5 * self_, rel=1e-9, abs=1e-12)


def test_masks_drop_points_and_empty_clouds_are_not_comparable():
    sim, obs = clouds(seed=4), clouds(seed=5)
    obs_mask = torch.ones(2, 3, 6, dtype=torch.bool)
    obs_mask[0, 1, 2:] = False  # two real cells
    obs_mask[1, 2] = False  # no cell at all
    obs = obs.masked_fill(~obs_mask[..., None], float("nan"))  # padding may hold NaN
    w2, ok = w2_table(sim, obs, obs_mask=obs_mask)
    assert ok.tolist() == [[True, True, True], [True, True, False]]
    assert float(w2[1, 2]) == 0.0
    # 6 simulated vs 2 observed points: W2 between the uniform measures (scipy on repeats)
    want = exact(sim[0, 1].numpy(), np.repeat(obs[0, 1, :2].numpy(), 3, 0))
    assert float(w2[0, 1]) == pytest.approx(want)


def test_gradient_flows_to_the_simulated_clouds():
    sim = clouds(seed=6).requires_grad_(True)
    w2, _ = w2_table(sim, clouds(seed=7), debiased=True)
    w2.sum().backward()
    assert sim.grad is not None and torch.isfinite(sim.grad).all() and sim.grad.abs().sum() > 0


def test_a_diverged_simulation_scores_inf():
    sim = clouds(seed=8)
    sim[1, 0, 3, 0] = float("nan")
    w2, ok = w2_table(sim, clouds(seed=9))
    assert ok.all() and torch.isinf(w2[1, 0]) and torch.isfinite(w2[0]).all()


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(sim=torch.zeros(2, 3, 4)), "shape \\(group, time, point, coordinate\\)"),
        (dict(obs=torch.zeros(2, 2, 4, 2)), "must agree in group, time"),
        (dict(obs_mask=torch.ones(2, 3, 5, dtype=torch.bool)), "obs_mask has shape"),
        (dict(debiased=True, clouds=3), "clouds must be >= 2 and divide"),
        (dict(debiased=True, clouds=1), "clouds must be >= 2"),
    ],
)
def test_bad_inputs_are_named(kw, match):
    args = {"sim": torch.zeros(2, 3, 4, 2), "obs": torch.zeros(2, 3, 4, 2), **kw}
    with pytest.raises(ValueError, match=match):
        w2_table(args.pop("sim"), args.pop("obs"), **args)
