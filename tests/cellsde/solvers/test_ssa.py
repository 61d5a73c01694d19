"""Exact SSA against oracles: birth-death (Poisson stationary law), dimerisation (master
equation), large copy numbers (ODE mean), Vilar 2002 period (models.md section 1). The compiled
kernels against the numpy paths: test_compiled_kernels.py."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks

from cellsde.errors import CellsdeError
from cellsde.solvers._backend import numba_installed
from cellsde.solvers._stochastic import Propensities
from cellsde.solvers.ssa import ssa
from models_bio import Event, Parameter, Reaction, ReactionNetwork, Species, vilar2002


def birth_death(k: float = 10.0, g: float = 1.0, *, mass_action: bool = True) -> ReactionNetwork:
    """0 -> X at k, X -> 0 at g X: stationary law Poisson(k / g)."""
    return ReactionNetwork(
        name="birth_death",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", k), Parameter("g", g)),
        reactions=(
            Reaction("birth", {}, {"X": 1}, "k", mass_action=mass_action),
            Reaction("death", {"X": 1}, {}, "g" if mass_action else "g*X", mass_action=mass_action),
        ),
    )


def dimerisation(kf: float = 0.05, kb: float = 1.0) -> ReactionNetwork:
    """2A -> B at kf A (A - 1), B -> 2A at kb B."""
    return ReactionNetwork(
        name="dimer",
        species=(Species("A", 20.0), Species("B", 0.0)),
        parameters=(Parameter("kf", kf), Parameter("kb", kb)),
        reactions=(
            Reaction("dimerise", {"A": 2}, {"B": 1}, "kf", mass_action=True),
            Reaction("split", {"B": 1}, {"A": 2}, "kb", mass_action=True),
        ),
    )


def run(net, n, times, seed=0, x0=None, **kw):
    p = net.kinetics.parameter_vector(None, n)
    x = net.kinetics.initial_state(p) if x0 is None else x0
    return ssa(net, x0=x, params=p, times=np.asarray(times, float), seed=seed, **kw)


@pytest.mark.parametrize(
    "backend",
    [
        "numpy",
        pytest.param(
            "numba", marks=pytest.mark.skipif(not numba_installed(), reason="needs numba")
        ),
        "torch",
    ],
)
def test_birth_death_stationary_mean_and_variance(backend):
    net = birth_death(10.0, 1.0)
    x0 = np.full((2000, 1), 10.0)
    out = run(net, 2000, [0.0, 6.0, 12.0], x0=x0, backend=backend)  # (cell, time, species)
    assert out.shape == (2000, 3, 1) and out.dtype == np.float64
    sample = out[:, -1, 0]  # independent cells
    assert abs(sample.mean() - 10.0) < 4 * np.sqrt(10 / 2000)
    assert abs(sample.var(ddof=1) - 10.0) < 4 * np.sqrt((10 * 31 - 100) / 2000)


def test_generic_rate_law_path_matches_poisson():
    net = birth_death(10.0, 1.0, mass_action=False)
    out = run(net, 1000, [0.0, 10.0], x0=np.full((1000, 1), 10.0))
    assert abs(out[:, -1, 0].mean() - 10.0) < 4 * np.sqrt(10 / 1000)


def test_dimerisation_matches_master_equation():
    kf, kb, n_total = 0.05, 1.0, 20  # A + 2 B = 20
    net = dimerisation(kf, kb)
    # Stationary law over b = 0..10 by detailed balance of the birth-death chain in B.
    b = np.arange(n_total // 2 + 1)
    a = n_total - 2 * b
    w = np.ones(len(b))
    for i in range(1, len(b)):
        w[i] = w[i - 1] * kf * a[i - 1] * (a[i - 1] - 1) / (kb * b[i])
    pi = w / w.sum()
    out = run(net, 4000, [0.0, 8.0], seed=3)
    final = out[:, -1, 1].astype(int)
    assert np.all(out[:, -1, 0] + 2 * out[:, -1, 1] == n_total)  # conservation
    freq = np.bincount(final, minlength=len(b)) / len(final)
    exact_mean = (b * pi).sum()
    sd = np.sqrt(((b - exact_mean) ** 2 * pi).sum() / len(final))
    assert abs(final.mean() - exact_mean) < 4 * sd
    assert 0.5 * np.abs(freq - pi).sum() < 0.04  # total variation


def test_mass_action_propensities_equal_kinetics():
    rng = np.random.default_rng(0)
    for net in (vilar2002(heterogeneity="none"), dimerisation(), birth_death()):
        kin = net.kinetics
        n = rng.integers(0, 50, size=(7, kin.n_species)).astype(float)
        p = kin.parameter_vector(None, 7) * rng.uniform(0.5, 1.5, size=(7, kin.n_params))
        prop = Propensities(net, kin.count_scale())
        xe = np.vstack([n.T, np.ones((1, 7))])
        got = prop(xe, prop.coefficients(p), 0.0)  # (reaction, cell)
        np.testing.assert_allclose(got.T, kin.propensities(n, p), rtol=1e-12)


def test_large_copy_numbers_follow_ode_mean():
    k, g = 1000.0, 1.0
    times = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    out = run(birth_death(k, g), 200, times, seed=5)
    ode = k / g * (1 - np.exp(-g * times))
    np.testing.assert_allclose(out[:, 1:, 0].mean(0), ode[1:], rtol=0.01)


def test_same_seed_same_output_and_counts_whole_nonnegative():
    net = vilar2002(heterogeneity="none")
    times = np.linspace(0, 1, 11)
    a = run(net, 8, times, seed=11)
    b = run(net, 8, times, seed=11)
    c = run(net, 8, times, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0 and np.all(a == np.round(a))
    np.testing.assert_array_equal(a[:, :, 0] + a[:, :, 1], 1.0)  # DA + DA' = 1
    t = run(net, 8, times, seed=np.random.default_rng(4), backend="torch")
    assert t.min() >= 0 and np.all(t == np.round(t))


def test_first_output_is_x0_and_absorbing_state_holds():
    net = birth_death(0.0, 1.0)  # pure death: absorbs at 0
    out = run(net, 5, [0.0, 1.0, 100.0], x0=np.full((5, 1), 3.0))
    np.testing.assert_array_equal(out[:, 0, 0], 3.0)
    np.testing.assert_array_equal(out[:, -1, 0], 0.0)


@pytest.mark.parametrize("n_reactions", [1, 2])
def test_generic_rate_law_absorbing_state_fires_nothing(n_reactions):
    # At X = 0 (a0 = 0) no reaction may be applied, or g*X goes negative (DSMTS 001-17 has
    # two: X -> 2X at l*X and X -> 0 at g*X).
    birth = Reaction("birth", {"X": 1}, {"X": 2}, "l*X")
    death = Reaction("death", {"X": 1}, {}, "g*X")
    net = ReactionNetwork(
        name="absorbing",
        species=(Species("X", 0.0),),
        parameters=(Parameter("g", 2.0), Parameter("l", 0.5)),
        reactions=(death,) if n_reactions == 1 else (birth, death),
    )
    p = net.kinetics.parameter_vector(None, 4)
    for backend in ("numpy", "torch"):
        out = ssa(
            net, x0=np.full((4, 1), 2.0), params=p, times=[0, 50, 60], seed=1, backend=backend
        )
        np.testing.assert_array_equal(out[:, 1:, 0], 0.0)


def test_heterogeneous_cells_and_compaction():
    net = birth_death()
    p = net.kinetics.parameter_vector({"k": np.r_[np.full(50, 1.0), np.full(50, 100.0)]}, 100)
    out = ssa(net, x0=np.zeros((100, 1)), params=p, times=[0.0, 20.0, 30.0], seed=0)
    assert out[:50, 1:, 0].mean() < 3 and abs(out[50:, 1:, 0].mean() - 100) < 5


def test_bad_inputs_have_clear_messages():
    net = birth_death()
    p = net.kinetics.parameter_vector(None, 3)
    x0 = np.zeros((3, 1))
    half = ReactionNetwork(
        name="half",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", 1.0), Parameter("p9n2", 0.5)),
        reactions=(Reaction("r", {}, {"X": "p9n2"}, "k", mass_action=True),),
    )
    hp = half.kinetics.parameter_vector(None, 3)
    with pytest.raises(CellsdeError, match=r"whole-number stoichiometry.*'p9n2'.*method='cle'"):
        ssa(half, x0=x0, params=hp, times=[0, 1], seed=0)
    with pytest.raises(CellsdeError, match=r"x0 must have shape \(cell, species\)"):
        ssa(net, x0=np.zeros((3, 2)), params=p, times=[0, 1], seed=0)
    with pytest.raises(CellsdeError, match=r"params must have shape"):
        ssa(net, x0=x0, params=p[:, :1], times=[0, 1], seed=0)
    with pytest.raises(CellsdeError, match="strictly increasing"):
        ssa(net, x0=x0, params=p, times=[0, 1, 1], seed=0)
    with pytest.raises(CellsdeError, match="whole molecule counts"):
        ssa(net, x0=x0 + 0.5, params=p, times=[0, 1], seed=0)
    with pytest.raises(CellsdeError, match="max_events=10"):
        ssa(net, x0=x0, params=p, times=[0, 100], seed=0, max_events=10)
    with pytest.raises(CellsdeError, match="seed must be"):
        ssa(net, x0=x0, params=p, times=[0, 1], seed="x")
    neg = ReactionNetwork(
        name="neg",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", 1.0),),
        reactions=(Reaction("r", {}, {"X": 1}, "k - 5", mass_action=False),),
    )
    with pytest.raises(CellsdeError, match=r"reaction 'r' has propensity -4"):
        ssa(neg, x0=x0, params=neg.kinetics.parameter_vector(None, 3), times=[0, 1], seed=0)
    ev = ReactionNetwork(
        name="ev",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", 1.0),),
        reactions=(Reaction("r", {}, {"X": 1}, "k", mass_action=True),),
        events=(Event("reset", "time >= 1", {"X": "0"}),),
    )
    with pytest.raises(CellsdeError, match="numpy backend"):  # events: tests/.../test_events.py
        ssa(ev, x0=x0, params=ev.kinetics.parameter_vector(None, 3), times=[0, 1], seed=0,
            backend="torch")  # fmt: skip


def vilar_periods(delta_r: float, n_cells: int, t_end: float, seed: int) -> list[np.ndarray]:
    """Inter-peak intervals of R per cell, with the peak detection of models.md section 1."""
    net = vilar2002(heterogeneity="none").with_parameters(deltaR=delta_r)
    times = np.arange(0.0, t_end + 1e-9, 0.1)
    out = run(net, n_cells, times, seed=seed)
    r = out[:, times >= 100, net.species_names.index("R")]
    kernel = np.ones(20) / 20  # 2-h moving average
    periods = []
    for cell in r:
        smooth = np.convolve(cell, kernel, mode="valid")
        peaks, _ = find_peaks(smooth, prominence=300, distance=50)
        periods.append(np.diff(peaks) * 0.1)
    return periods


@pytest.mark.slow
def test_vilar_ssa_period_at_delta_r_0_2():
    periods = np.concatenate(vilar_periods(0.2, 12, 200.0, seed=2024))
    assert len(periods) >= 30
    assert abs(periods.mean() - 24.8) < 1.0


@pytest.mark.slow
def test_vilar_ssa_keeps_oscillating_at_delta_r_0_05():
    periods = vilar_periods(0.05, 2, 400.0, seed=7)
    for p in periods:
        assert len(p) >= 2  # >= 3 peaks of prominence 300 in 300 h
        assert 35 < p.mean() < 110
