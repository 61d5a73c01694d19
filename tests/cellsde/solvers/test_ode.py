"""ODE solver: Vilar 2002 oracles (models.md §1), stacked vs per-cell, events, steady state."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.signal import find_peaks

from cellsde.errors import CellsdeError
from cellsde.simulation import sample_theta
from cellsde.solvers._stacked import MassAction
from cellsde.solvers.ode import ode, steady_state, stimulated_start
from models_bio import Event, Parameter, Reaction, ReactionNetwork, Species, vilar2002

R = 7  # index of R in the Vilar state


def _vilar(delta_r):
    net = vilar2002(heterogeneity="none")
    k = net.kinetics
    p = k.parameter_vector({"deltaR": np.asarray(delta_r, float)}, n=len(delta_r))
    return net, k.initial_state(p), p


def _period(t, r, lo=300.0, hi=800.0):
    peaks, _ = find_peaks(r, prominence=50)
    tp = t[peaks]
    tp = tp[(tp >= lo) & (tp <= hi)]
    return np.diff(tp).mean(), t[peaks]


def test_mass_action_fast_path_equals_kinetics():
    net = vilar2002()
    theta, names, _ = sample_theta(net, n_cells=50, seed=3)
    p = net.kinetics.parameter_vector({q: theta[:, j] for j, q in enumerate(names)}, 50)
    x = np.random.default_rng(0).uniform(0, 500, (50, 9))
    assert MassAction.applies(net)
    np.testing.assert_allclose(
        MassAction(net)(x, p, 0.0), net.kinetics.drift(x, p, 0.0), rtol=1e-12
    )


def test_vilar_oracles_three_cells_stacked():
    # one stacked LSODA call for deltaR = 0.2, 0.1, 0.05 (different regimes)
    net, x0, p = _vilar([0.2, 0.1, 0.05])
    t = np.arange(0.0, 800.0 + 1e-9, 0.01)
    x = ode(net, x0=x0, params=p, times=t, rtol=1e-7, atol=1e-9)  # (cell, time, species)
    assert x.shape == (3, t.size, 9)
    period, peaks = _period(t, x[0, :, R])
    assert abs(period - 25.56) < 0.1
    np.testing.assert_allclose(peaks[:3], [9.37, 34.99, 60.55], atol=0.05)
    late = t >= 300
    assert x[0, late, R].max() == pytest.approx(1717, rel=0.02)
    assert x[0, late, 6].max() == pytest.approx(1375, rel=0.02)  # A max
    period_01, _ = _period(t, x[1, :, R])
    assert abs(period_01 - 44.8) < 0.3
    fixed = x[2, -1]  # deltaR = 0.05: stable fixed point
    np.testing.assert_allclose(
        fixed[[7, 6, 8, 4, 5]], [123.3, 1.228, 302.7, 6.08, 1.233], rtol=0.01
    )
    assert np.ptp(x[2, -5000:, R]) < 1e-6
    np.testing.assert_allclose(x[:, :, 0] + x[:, :, 1], 1.0, atol=1e-6)  # DA + DA' = 1


@pytest.mark.slow
def test_vilar_oracles_reference_tolerances():
    net, x0, p = _vilar([0.2])
    t = np.arange(0.0, 800.0 + 1e-9, 0.01)
    x = ode(net, x0=x0, params=p, times=t, rtol=1e-9, atol=1e-9, max_step=0.05)
    period, peaks = _period(t, x[0, :, R])
    assert abs(period - 25.56) < 0.1
    np.testing.assert_allclose(peaks[:3], [9.37, 34.99, 60.55], atol=0.05)
    assert x[0, t >= 300, R].max() == pytest.approx(1717, rel=0.02)
    assert x[0, t >= 300, R].min() == pytest.approx(0.31, rel=0.02)


def _vilar_rhs(y, k):
    """The hand-written Vilar ODE of models.md §1 (independent of the kinetics compiler)."""
    DA, DAp, DR, DRp, MA, MR, A, R, C = y
    return [
        k["thetaA"] * DAp - k["gammaA"] * DA * A,
        k["gammaA"] * DA * A - k["thetaA"] * DAp,
        k["thetaR"] * DRp - k["gammaR"] * DR * A,
        k["gammaR"] * DR * A - k["thetaR"] * DRp,
        k["alphaA"] * DA + k["alphaAp"] * DAp - k["deltaMA"] * MA,
        k["alphaR"] * DR + k["alphaRp"] * DRp - k["deltaMR"] * MR,
        k["betaA"] * MA + k["thetaA"] * DAp + k["thetaR"] * DRp
        - A * (k["gammaA"] * DA + k["gammaR"] * DR + k["gammaC"] * R + k["deltaA"]),
        k["betaR"] * MR - k["gammaC"] * A * R + k["deltaA"] * C - k["deltaR"] * R,
        k["gammaC"] * A * R - k["deltaA"] * C,
    ]  # fmt: skip


def _per_cell(net, x0, p, t):
    out = []
    for c in range(x0.shape[0]):
        k = dict(zip(net.parameter_names, p[c]))
        sol = solve_ivp(
            lambda tt, y, k=k: _vilar_rhs(y, k), (t[0], t[-1]), x0[c],
            method="LSODA", t_eval=t, rtol=1e-11, atol=1e-11,
        )  # fmt: skip
        out.append(sol.y.T)
    return np.stack(out)


def _hetero_vilar(n, seed=1):
    net = vilar2002()
    theta, names, _ = sample_theta(net, n_cells=n, seed=seed)
    p = net.kinetics.parameter_vector({q: theta[:, j] for j, q in enumerate(names)}, n)
    return net, net.kinetics.initial_state(p), p


def test_stacked_equals_per_cell():
    net, x0, p = _hetero_vilar(6)
    t = np.linspace(0, 12, 25)
    ref = _per_cell(net, x0, p, t)
    for method in ("LSODA", "BDF"):
        stacked = ode(net, x0=x0, params=p, times=t, method=method, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(stacked, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


@pytest.mark.slow
def test_stacked_1000_cells_bdf_equals_per_cell_sample():
    net, x0, p = _hetero_vilar(1000, seed=2)
    t = np.linspace(0, 20, 21)
    stacked = ode(net, x0=x0, params=p, times=t, method="BDF", rtol=1e-9, atol=1e-9)
    pick = np.arange(0, 1000, 100)
    ref = _per_cell(net, x0[pick], p[pick], t)
    np.testing.assert_allclose(stacked[pick], ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def _sawtooth(events, mass_action=True):
    rate = "k" if mass_action else "k*(1 + 0*X)"  # same law, general (compiled) drift path
    return ReactionNetwork(
        name="sawtooth",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", 1.0), Parameter("cap", 10.0)),
        reactions=(Reaction("birth", {}, {"X": 1}, rate, mass_action=mass_action),),
        events=events,
        time_units="dimensionless",
    )


@pytest.mark.parametrize("mass_action", [True, False])
def test_state_triggered_event_per_cell(mass_action):
    net = _sawtooth((Event("reset", "X >= cap", {"X": "0"}),), mass_action)
    assert MassAction.applies(net) == mass_action
    k = np.array([1.0, 1.7, 3.3])
    p = net.kinetics.parameter_vector({"k": k}, 3)
    t = np.linspace(0, 25, 101)
    x = ode(net, x0=np.zeros((3, 1)), params=p, times=t)[..., 0]
    expected = (k[:, None] * t[None]) % 10.0
    np.testing.assert_allclose(x, expected, atol=1e-7)


def test_time_triggered_event_is_exact():
    # production switched off at t = 4.321 (assignment to a parameter)
    net = _sawtooth((Event("stop", "time >= 4.321", {"k": "0", "X": "X + 100"}),))
    p = net.kinetics.parameter_vector({"k": np.array([1.0, 2.0])}, 2)
    t = np.array([0.0, 4.0, 4.321, 5.0, 9.0])
    x = ode(net, x0=np.zeros((2, 1)), params=p, times=t)[..., 0]
    np.testing.assert_allclose(x[:, 1], [4.0, 8.0], rtol=1e-9)
    np.testing.assert_allclose(x[:, 2:], [[104.321] * 3, [108.642] * 3], rtol=1e-12)


def test_event_with_false_initial_value_fires_at_start():
    net = _sawtooth((Event("kick", "time >= 0", {"X": "5"}, initial_value=False),))
    p = net.kinetics.parameter_vector(n=1)
    x = ode(net, x0=np.zeros((1, 1)), params=p, times=[0.0, 1.0])[0, :, 0]
    np.testing.assert_allclose(x, [5.0, 6.0], rtol=1e-9)


def _birth_death(stimulus=None):
    return ReactionNetwork(
        name="bd",
        species=(Species("X", 0.0), Species("L", 0.0)),
        parameters=(Parameter("k", 10.0), Parameter("g", 0.5), Parameter("kl", 2.0)),
        reactions=(
            Reaction("birth", {}, {"X": 1}, "k", mass_action=True),
            Reaction("death", {"X": 1}, {}, "g", mass_action=True),
            Reaction("ligand_birth", {}, {"L": 1}, "kl", mass_action=True),
        ),
        stimulus=stimulus or {},
        time_units="h",
    )


def test_steady_state_holds_species_and_converges():
    net = _birth_death()
    p = net.kinetics.parameter_vector({"g": np.array([0.5, 1.0, 2.0])}, 3)
    ss = steady_state(net, x0=np.zeros((3, 2)), params=p, hold=("L",), chunk=100.0)
    np.testing.assert_allclose(ss[:, 0], 10.0 / np.array([0.5, 1.0, 2.0]), rtol=1e-4)
    np.testing.assert_array_equal(ss[:, 1], 0.0)


def test_stimulated_start_holds_the_stimulus_at_zero_then_sets_it():
    """Basal X = k / g with L held at 0 (though L has a source), then L = its stimulus."""
    net = _birth_death(stimulus={"L": 7.0})
    p = net.kinetics.parameter_vector({"g": np.array([0.5, 2.0])}, 2)
    x0 = np.full((2, 2), 3.0)
    for method in ("BDF", "TRBDF2"):
        x = stimulated_start(net, x0=x0, params=p, method=method, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(x[:, 0], 10.0 / np.array([0.5, 2.0]), rtol=1e-5)
        np.testing.assert_array_equal(x[:, 1], 7.0)
    np.testing.assert_array_equal(x0, 3.0)  # not modified
    with pytest.raises(CellsdeError, match="declares no stimulus"):
        stimulated_start(_birth_death(), x0=x0, params=p)


def test_simulate_phase1_with_a_population_integrator_matches_the_default():
    """simulate's two-phase start through ESDIRK4 (its Newton steady state) and through the
    default (BDF chunks) give the same ODE paths."""
    from cellsde import simulate

    net = _birth_death(stimulus={"L": 7.0})
    kw = {"n_cells": 3, "times": np.linspace(0.0, 4.0, 5), "method": "ode", "seed": 0}
    ref = simulate(net, solver_options={"rtol": 1e-9, "atol": 1e-12}, **kw)
    new = simulate(net, solver_options={"method": "ESDIRK4", "rtol": 1e-9, "atol": 1e-12}, **kw)
    np.testing.assert_allclose(new.x.values, ref.x.values, rtol=1e-6, atol=1e-9)
    x = ref.x.values  # (cell, time, species)
    assert np.allclose(x[:, 0, 1], 7.0) and np.allclose(x[:, 0, 0], 20.0, rtol=1e-6)


def test_steady_state_vilar_fixed_point_and_oscillation_error():
    net, x0, p = _vilar([0.05])
    ss = steady_state(net, x0=x0, params=p, chunk=1000.0, rtol=1e-8, atol=1e-10)
    assert ss[0, R] == pytest.approx(123.3, rel=0.01)
    net, x0, p = _vilar([0.2])
    with pytest.raises(CellsdeError, match="did not reach a steady state"):
        steady_state(net, x0=x0, params=p, chunk=50.0, max_chunks=2)


def test_validation_errors():
    net, x0, p = _vilar([0.2])
    with pytest.raises(ValueError, match="unknown ODE method"):
        ode(net, x0=x0, params=p, times=[0, 1], method="Euler")
    with pytest.raises(ValueError, match="x0 has shape"):
        ode(net, x0=x0[:, :3], params=p, times=[0, 1])
    with pytest.raises(ValueError, match="strictly increasing"):
        ode(net, x0=x0, params=p, times=[0, 2, 1])
    with pytest.raises(ValueError, match="hold names unknown"):
        ode(net, x0=x0, params=p, times=[0, 1], hold=("nope",))


@pytest.mark.slow
def test_steady_state_matches_guo2024_phase1_helper():
    # independent implementation in models_bio (the NF-kB engineer's phase-1 rule)
    steady = pytest.importorskip("models_bio.nfkb.steady")
    import models_bio

    net = models_bio.get("guo2024", ligand="TNF", dose=10)
    theta, names, _ = sample_theta(net, n_cells=6, seed=1)
    p = net.kinetics.parameter_vector({q: theta[:, j] for j, q in enumerate(names)}, 6)
    x0 = net.kinetics.initial_state(p)
    ref = np.asarray(steady.phase1_steady_state(net, p, x0=x0))
    x0[:, net.species_names.index("TNF")] = 0.0
    ours = steady_state(net, x0=x0, params=p, hold=("TNF",), rtol=1e-8, atol=1e-12)
    big = np.abs(ref) > 1e-6
    np.testing.assert_allclose(ours[big], ref[big], rtol=1e-6)
    assert np.all(ours[:, net.species_names.index("TNF")] == 0.0)
