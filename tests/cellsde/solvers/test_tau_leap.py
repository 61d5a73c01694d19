"""Tau-leaping against oracles: ODE mean and Poisson variance at large copy numbers,
exact dimerisation law, non-negativity, reproducibility, Vilar mean of R vs exact SSA."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.errors import CellsdeError
from cellsde.solvers.ssa import ssa
from cellsde.solvers.tau_leap import tau_leap
from models_bio import Parameter, Reaction, ReactionNetwork, Species, vilar2002


def birth_death(k: float, g: float) -> ReactionNetwork:
    return ReactionNetwork(
        name="birth_death_tau",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", k), Parameter("g", g)),
        reactions=(
            Reaction("birth", {}, {"X": 1}, "k", mass_action=True),
            Reaction("death", {"X": 1}, {}, "g", mass_action=True),
        ),
    )


def run(net, n, times, seed=0, x0=None, **kw):
    p = net.kinetics.parameter_vector(None, n)
    x = net.kinetics.initial_state(p) if x0 is None else x0
    return tau_leap(net, x0=x, params=p, times=np.asarray(times, float), seed=seed, **kw)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_large_copy_birth_death_matches_ode_mean_and_poisson_variance(backend):
    k, g = 1000.0, 1.0
    times = np.array([0.0, 0.5, 1.0, 2.0, 6.0])
    out = run(birth_death(k, g), 400, times, seed=1, backend=backend)
    ode = k / g * (1 - np.exp(-g * times))
    # Leaps are Euler steps of the mean: O(eps) bias in transients (about 1 % at eps = 0.03).
    np.testing.assert_allclose(out[:, 1:, 0].mean(0), ode[1:], rtol=0.02)
    # Stationary law Poisson(1000); leaps of length tau inflate it by 1 / (1 - g tau / 2).
    var = out[:, -1, 0].var(ddof=1)
    assert 0.8 < var / 1000 < 1.4


def test_tau_leap_takes_far_fewer_steps_than_ssa_at_large_copy_numbers():
    # With eps = 0.03 a leap covers many reactions: the run must leave the exact regime.
    net = birth_death(1000.0, 1.0)
    x0 = np.full((50, 1), 1000.0)
    out = run(net, 50, [0.0, 5.0], x0=x0, epsilon=0.03)
    assert abs(out[:, -1, 0].mean() - 1000) < 4 * np.sqrt(1000 / 50)


def test_dimerisation_mean_and_conservation():
    net = ReactionNetwork(
        name="dimer_tau",
        species=(Species("A", 200.0), Species("B", 0.0)),
        parameters=(Parameter("kf", 0.005), Parameter("kb", 1.0)),
        reactions=(
            Reaction("dimerise", {"A": 2}, {"B": 1}, "kf", mass_action=True),
            Reaction("split", {"B": 1}, {"A": 2}, "kb", mass_action=True),
        ),
    )
    b = np.arange(101)  # exact stationary law by detailed balance, A + 2B = 200
    a = 200 - 2 * b
    logw = np.concatenate([[0.0], np.cumsum(np.log(0.005 * a[:-1] * (a[:-1] - 1) / b[1:]))])
    pi = np.exp(logw - logw.max())
    pi /= pi.sum()
    mean = (b * pi).sum()
    sd = np.sqrt(((b - mean) ** 2 * pi).sum())
    out = run(net, 1000, [0.0, 10.0], seed=2)
    np.testing.assert_array_equal(out[:, -1, 0] + 2 * out[:, -1, 1], 200.0)
    assert abs(out[:, -1, 1].mean() - mean) < 4 * sd / np.sqrt(1000) + 0.01 * mean


def test_counts_never_negative_and_whole_and_reproducible():
    # Fast degradation of few molecules: naive Poisson leaps would overshoot below zero.
    net = birth_death(5.0, 50.0)
    times = np.linspace(0, 2, 21)
    x0 = np.full((300, 1), 30.0)
    a = run(net, 300, times, seed=9, x0=x0, epsilon=0.5)
    b = run(net, 300, times, seed=9, x0=x0, epsilon=0.5)
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and np.all(a == np.round(a))
    v = run(vilar2002(heterogeneity="none"), 5, np.linspace(0, 2, 5), seed=3)
    assert v.min() >= 0 and np.all(v == np.round(v))


def test_bad_inputs():
    net = birth_death(1.0, 1.0)
    p = net.kinetics.parameter_vector(None, 2)
    x0 = np.zeros((2, 1))
    with pytest.raises(CellsdeError, match="epsilon"):
        tau_leap(net, x0=x0, params=p, times=[0, 1], seed=0, epsilon=1.5)
    with pytest.raises(CellsdeError, match="strictly increasing"):
        tau_leap(net, x0=x0, params=p, times=[1, 0], seed=0)
    with pytest.raises(CellsdeError, match="backend"):
        tau_leap(net, x0=x0, params=p, times=[0, 1], seed=0, backend="jax")


@pytest.mark.slow
def test_vilar_population_mean_of_r_close_to_ssa():
    net = vilar2002(heterogeneity="none")
    n = 120
    p = net.kinetics.parameter_vector(None, n)
    x0 = net.kinetics.initial_state(p)
    times = np.arange(0.0, 45.0 + 1e-9, 0.5)
    r = net.species_names.index("R")
    exact = ssa(net, x0=x0, params=p, times=times, seed=1)[:, times >= 15, r]
    leap = tau_leap(net, x0=x0, params=p, times=times, seed=2)[:, times >= 15, r]
    sem = np.sqrt(exact.mean(1).var(ddof=1) / n + leap.mean(1).var(ddof=1) / n)
    rel = leap.mean() / exact.mean() - 1
    assert abs(rel) < 0.08
    assert abs(leap.mean() - exact.mean()) < 4 * sem + 0.02 * exact.mean()


def test_vilar_free_r_at_one_copy_is_not_kept_alive_by_leaps():
    """Early on Vilar, R is made at ~250/h and bound by A (~1000 copies) within ~0.3 ms, so free R
    is 0 or 1. A leap that creates R cannot start its binding before it ends; with the CGP rule
    alone a cell had R > 0 twice as often as under the exact SSA (0.33 vs 0.14 at t = 2 h).
    Production of a read species at few copies is critical, so the fractions agree."""
    net = vilar2002(heterogeneity="none")
    kin = net.kinetics
    n = 600
    p = kin.parameter_vector(None, n)
    x0 = kin.initial_state(p)
    times = np.array([0.0, 1.0, 1.5, 2.0, 2.5])
    r = net.species_names.index("R")
    exact = ssa(net, x0=x0, params=p, times=times, seed=11)[:, 1:, r] > 0  # (cell, time)
    leap = tau_leap(net, x0=x0, params=p, times=times, seed=12)[:, 1:, r] > 0
    pe, pl = exact.mean(0), leap.mean(0)  # (time,)
    se = np.sqrt((pe * (1 - pe) + pl * (1 - pl)) / n)
    assert np.all(np.abs(pl - pe) < 4 * se + 1e-12), (pe, pl)
    assert pe.max() > 0.05  # R does appear in this window


def test_critical_reactions_follow_cgp_and_the_low_copy_product_rule():
    """0 -> R is critical while R (read by R + A -> C) has < 10 copies; A + R -> C while A or R
    could run out within 10 firings; 0 -> C never (C is read by nothing)."""
    from cellsde.solvers._stochastic import Propensities, prepare
    from cellsde.solvers._tau_rule import Constants, NumpyOps, step_bounds

    net = ReactionNetwork(
        name="low_copy",
        species=(Species("R", 0.0), Species("A", 0.0), Species("C", 0.0)),
        parameters=(Parameter("k", 5.0), Parameter("g", 2.0), Parameter("kc", 1.0)),
        reactions=(
            Reaction("make_R", {}, {"R": 1}, "k", mass_action=True),
            Reaction("bind", {"A": 1, "R": 1}, {"C": 1}, "g", mass_action=True),
            Reaction("make_C", {}, {"C": 1}, "kc", mass_action=True),
        ),
    )
    counts = np.array([[0, 1000, 0], [9, 1000, 5], [10, 1000, 5], [50, 9, 5], [50, 50, 0]], float)
    p = net.kinetics.parameter_vector(None, len(counts))
    prob = prepare(net, counts, p, [0.0, 1.0], "tau-leaping")
    prop, ops = Propensities(net, prob.scale), NumpyOps(0)
    xe = np.vstack([counts.T, np.ones(len(counts))])  # (species + 1, cell)
    a = prop(xe, prop.coefficients(p), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # as inside tau_leap
        crit, a_nc, _ = step_bounds(ops, Constants(net, prob.stoich, ops), xe, a, 0.03, 10.0)
    # (reaction, cell); bind has a = 0 in cell 0 (no R), so it is not critical there
    expected = np.array([[1, 1, 0, 0, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(crit, expected)
    np.testing.assert_array_equal(a_nc, np.where(crit, 0.0, a))
