"""Compiled (numba) SSA and tau-leaping kernels against the numpy backend (same seed: the same
bits), the backend choice and its errors, and the exact-SSA oracles on both backends."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp
from test_ssa import birth_death, dimerisation  # same folder: on sys.path under pytest

from cellsde.errors import CellsdeError
from cellsde.solvers import _backend
from cellsde.solvers._backend import choose_backend
from cellsde.solvers._stochastic import Propensities
from cellsde.solvers.ssa import ssa
from cellsde.solvers.tau_leap import tau_leap
from models_bio import Event, Parameter, Reaction, ReactionNetwork, Species, vilar2002

numba = pytest.importorskip("numba")
SOLVERS = {"ssa": ssa, "tau": tau_leap}


def heterogeneous(net: ReactionNetwork, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell rates spread over a factor ~3 (cells finish blocks at different times)."""
    kin = net.kinetics
    p = kin.parameter_vector(None, n)
    p *= np.exp(np.random.default_rng(seed).uniform(-0.5, 0.5, p.shape))
    return kin.initial_state(p), p


def run_both(solver, net, n, times, seed=3, **kw):
    x0, p = heterogeneous(net, n)
    out = {}
    for backend in ("numba", "numpy"):
        out[backend] = solver(net, x0=x0, params=p, times=times, seed=seed, backend=backend, **kw)
    return out["numba"], out["numpy"]


@pytest.mark.parametrize("method", ["ssa", "tau"])
@pytest.mark.parametrize(
    "net, n, t_end",
    [(birth_death(200.0, 1.0), 40, 5.0), (dimerisation(), 30, 8.0), (vilar2002(), 6, 3.0)],
    ids=["birth_death", "dimerisation", "vilar"],
)
def test_numba_equals_numpy_bit_for_bit(method, net, n, t_end):
    times = np.linspace(0.0, t_end, 31)
    a, b = run_both(SOLVERS[method], net, n, times)
    assert a.shape == (n, 31, len(net.species))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:, -1], a[:, 0])  # the cells moved


def test_numba_equals_numpy_with_max_events_and_absorbing_cells():
    """Cells absorb at X = 0 at different times (compaction), and max_events trims blocks."""
    net = ReactionNetwork(
        name="decay",
        species=(Species("X", 30.0),),
        parameters=(Parameter("g", 1.0),),
        reactions=(Reaction("death", {"X": 1}, {}, "g", mass_action=True),),
    )
    a, b = run_both(ssa, net, 50, np.linspace(0, 10, 11), max_events=700)
    np.testing.assert_array_equal(a, b)
    assert (a[:, -1] == 0).mean() > 0.5
    for backend in ("numba", "numpy"):
        with pytest.raises(CellsdeError, match="max_events=20"):
            ssa(net, x0=np.full((3, 1), 30.0), params=np.ones((3, 1)), times=[0, 50], seed=0,
                max_events=20, backend=backend)  # fmt: skip


def test_huge_populations_take_shorter_blocks_with_the_same_law_on_both_backends(monkeypatch):
    """Above DRAWS draws per kind a block has fewer iterations (one at the least), so memory
    stays bounded; outputs stay equal across backends and Poisson(k / g) in law."""
    from cellsde.solvers import ssa as ssa_module

    assert ssa_module._block_length(1000, 0, None) == ssa_module.BLOCK
    assert ssa_module._block_length(10 * ssa_module.DRAWS, 0, None) == 1
    assert ssa_module._block_length(ssa_module.DRAWS // 64, 0, None) == 64
    assert ssa_module._block_length(1000, 90, 100) == 10  # events left
    monkeypatch.setattr(ssa_module, "DRAWS", 1500)  # 1000 cells: 1 iteration, then more
    net = birth_death(10.0, 1.0)
    x0, p = np.full((1000, 1), 10.0), net.kinetics.parameter_vector(None, 1000)
    kw = {"x0": x0, "params": p, "times": [0.0, 3.0, 6.0], "seed": 5}
    a, b = (ssa(net, backend=be, **kw) for be in ("numba", "numpy"))
    np.testing.assert_array_equal(a, b)
    sample = a[:, -1, 0]
    assert abs(sample.mean() - 10.0) < 4 * np.sqrt(10 / 1000)
    assert abs(sample.var(ddof=1) - 10.0) < 4 * np.sqrt((10 * 31 - 100) / 1000)


def test_dependency_graph_covers_every_propensity_a_reaction_changes():
    from cellsde.solvers._kernels import Tables

    net = vilar2002()
    kin = net.kinetics
    p = kin.parameter_vector(None, 1)
    prop = Propensities(net, kin.count_scale())
    stoich = np.rint(kin.stoichiometry(p))
    tb = Tables.build(prop, stoich)
    x = np.append(kin.initial_state(p)[0] + 5, 1.0)[:, None]  # (species + 1, 1)
    coef = prop.coefficients(p)
    for j in range(stoich.shape[0]):
        moved = x.copy()
        moved[: stoich.shape[1], 0] += stoich[j]
        changed = np.flatnonzero(prop(moved, coef, 0.0)[:, 0] != prop(x, coef, 0.0)[:, 0])
        deps = tb.dep_reaction[tb.dep_ptr[j] : tb.dep_ptr[j + 1]]
        assert set(changed) <= set(deps)
        sp = tb.change_species[tb.change_ptr[j] : tb.change_ptr[j + 1]]
        np.testing.assert_array_equal(tb.change_value[tb.change_ptr[j] : tb.change_ptr[j + 1]],
                                      stoich[j, sp])  # fmt: skip


def test_birth_death_stationary_law_on_numba():
    """Poisson(k / g) stationary law (the oracle of test_ssa) on the compiled kernel."""
    net = birth_death(10.0, 1.0)
    x0 = np.zeros((2000, 1))
    p = net.kinetics.parameter_vector(None, 2000)
    out = ssa(net, x0=x0, params=p, times=[0.0, 6.0, 12.0], seed=0, backend="numba")
    x = out[:, 1:, 0].ravel()
    assert abs(x.mean() - 10.0) < 0.25
    assert abs(x.var() / x.mean() - 1.0) < 0.08


def test_auto_picks_numba_for_mass_action_and_numpy_otherwise():
    assert choose_backend("auto", "cpu", birth_death(), "SSA") == "numba"
    assert choose_backend("auto", "cpu", birth_death(mass_action=False), "SSA") == "numpy"
    assert choose_backend("numpy", "cpu", birth_death(), "SSA") == "numpy"
    assert choose_backend("auto", "cuda", birth_death(), "SSA") == "torch"


def test_numba_missing_falls_back_or_fails_in_one_line(monkeypatch):
    net = birth_death()
    kw = {"x0": np.zeros((3, 1)), "params": np.tile([10.0, 1.0], (3, 1)), "times": [0, 1, 2]}
    compiled = ssa(net, seed=1, **kw)
    monkeypatch.setattr(_backend, "numba_installed", lambda: False)
    assert choose_backend("auto", "cpu", net, "SSA") == "numpy"
    np.testing.assert_array_equal(ssa(net, seed=1, **kw), compiled)  # auto: numpy, same bits
    for solver in SOLVERS.values():
        with pytest.raises(CellsdeError, match="needs numba") as err:
            solver(net, seed=1, backend="numba", **kw)
        assert "\n" not in str(err.value)


def test_numba_refuses_models_it_cannot_run():
    kw = {"x0": np.zeros((2, 1)), "params": np.tile([10.0, 1.0], (2, 1)), "times": [0, 1]}
    for solver in SOLVERS.values():
        with pytest.raises(CellsdeError, match="not mass action"):
            solver(birth_death(mass_action=False), seed=0, backend="numba", **kw)
        with pytest.raises(CellsdeError, match="CPU only"):
            solver(birth_death(), seed=0, backend="numba", device="cuda", **kw)
        with pytest.raises(CellsdeError, match="backend must be one of"):
            solver(birth_death(), seed=0, backend="cython", **kw)
    ev = ReactionNetwork(
        name="bd_event",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", 10.0), Parameter("g", 1.0)),
        reactions=birth_death().reactions,
        events=(Event("reset", "X > 5", {"X": "0"}),),
    )
    with pytest.raises(CellsdeError, match="events or rate rules"):
        ssa(ev, seed=0, backend="numba", **kw)
    out = ssa(ev, seed=0, **kw)  # auto: numpy runs the events
    assert out.shape == (2, 2, 1)


def test_compiled_tau_matches_exact_ssa_in_law():
    """Compiled tau-leaping vs compiled exact SSA on a dimerisation with ~100 molecules: the
    two-sample KS test does not reject at 1 % (Bonferroni over the times) and the means agree."""
    net = dimerisation(kf=0.005, kb=1.0)
    n, times = 1500, np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    p = net.kinetics.parameter_vector(None, n)
    x0 = np.tile([200.0, 0.0], (n, 1))
    exact = ssa(net, x0=x0, params=p, times=times, seed=1, backend="numba")[:, 1:, 1]
    leap = tau_leap(net, x0=x0, params=p, times=times, seed=2, backend="numba")[:, 1:, 1]
    for k in range(len(times) - 1):
        assert ks_2samp(exact[:, k], leap[:, k]).pvalue > 0.01 / (len(times) - 1)
        sem = np.sqrt((exact[:, k].var() + leap[:, k].var()) / n)
        assert abs(leap[:, k].mean() - exact[:, k].mean()) < 4 * sem
