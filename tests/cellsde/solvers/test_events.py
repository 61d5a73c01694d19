"""SBML event semantics (cellsde.solvers._events) in every network solver, against hand-derived
trajectories: delays, priorities, persistence, trigger-time values, cascades, per-cell event
times, and events/flows inside the exact SSA, tau-leaping and the CLE."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.errors import CellsdeError
from cellsde.solvers import cle, ode
from cellsde.solvers.ssa import ssa
from cellsde.solvers.tau_leap import tau_leap
from models_bio import Event, Parameter, Reaction, ReactionNetwork, Species


def _clock(*events, params=(), species=()):
    """X grows at rate 1 (a rate rule); Y and Z are free registers."""
    return ReactionNetwork(
        name="clock",
        species=(Species("X", 0.0, boundary=True), Species("Y", 0.0, boundary=True),
                 Species("Z", 0.0, boundary=True), *species),
        parameters=(Parameter("one", 1.0), *params),
        reactions=(),
        rate_rules={"X": "one"},
        events=tuple(events),
        time_units="dimensionless",
    )  # fmt: skip


def _ode(net, times, n=1, **kw):
    k = net.kinetics
    p = k.parameter_vector(None, n)
    return ode(net, x0=k.initial_state(p), params=p, times=np.asarray(times, float), **kw)


def test_delay_with_trigger_time_or_execution_time_values():
    early = Event("E", "time >= 1", {"Y": "X"}, delay="0.5")
    late = Event("F", "time >= 1", {"Z": "X"}, delay="0.5", use_values_from_trigger_time=False)
    x = _ode(_clock(early, late), [0.0, 1.4, 1.5, 2.0])[0]
    np.testing.assert_allclose(x[:, 1], [0, 0, 1.0, 1.0], atol=1e-9)  # Y = X(1)
    np.testing.assert_allclose(x[:, 2], [0, 0, 1.5, 1.5], atol=1e-9)  # Z = X(1.5)


def test_priorities_order_simultaneous_events_and_cascades_fire_at_once():
    def pair(now: bool):
        late = {"use_values_from_trigger_time": not now}
        return (
            Event("plus", "time >= 1", {"Y": "Y + 10"}, priority="1", **late),
            Event("double", "time >= 1", {"Y": "2 * Y + 1"}, priority="2", **late),
        )

    # values from the trigger time: both read Y = 0; "plus" (lower priority) executes last
    assert _ode(_clock(*pair(False)), [0.0, 1.0])[0, 1, 1] == pytest.approx(10.0)
    # values when executed: double first (Y = 1), then plus (Y = 11)
    assert _ode(_clock(*pair(True)), [0.0, 1.0])[0, 1, 1] == pytest.approx(11.0)
    # a cascade at the same instant: Y = 2 * 5 + 1 + 10 = 21 > 20 triggers "chain"
    chain = Event("chain", "Y > 20", {"Z": "Y"})
    x = _ode(_clock(*pair(True), chain, Event("seed", "time >= 0.5", {"Y": "5"})), [0, 1, 2])[0]
    assert x[1, 1] == pytest.approx(21.0) and x[1, 2] == pytest.approx(21.0)


def test_non_persistent_event_cancelled_when_its_trigger_falls():
    # the window X in [1, 1.2) closes before the delay of 0.5 elapses
    window = "X >= 1 and X < 1.2"
    kept = Event("kept", window, {"Y": "1"}, delay="0.5")
    dropped = Event("dropped", window, {"Z": "1"}, delay="0.5", persistent=False)
    x = _ode(_clock(kept, dropped), [0.0, 2.0])[0]
    assert x[1, 1] == 1.0 and x[1, 2] == 0.0


def test_simultaneous_non_persistent_event_is_dropped_by_the_first():
    first = Event("first", "time >= 1", {"Y": "1"}, priority="1")
    second = Event("second", "time >= 1 and Y < 0.5", {"Z": "1"}, priority="0", persistent=False)
    x = _ode(_clock(first, second), [0.0, 2.0])[0]
    assert (x[1, 1], x[1, 2]) == (1.0, 0.0)


def test_ode_events_fire_per_cell_at_their_own_times():
    net = _clock(Event("E", "X >= cap", {"Y": "time"}), params=(Parameter("cap", 1.0),))
    p = net.kinetics.parameter_vector({"cap": np.array([0.5, 1.25, 3.0])}, 3)
    x = ode(net, x0=net.kinetics.initial_state(p), params=p, times=np.array([0.0, 4.0]))
    np.testing.assert_allclose(x[:, 1, 1], [0.5, 1.25, 3.0], atol=1e-9)


def _birth(events, k=2.0):
    return ReactionNetwork(
        name="birth",
        species=(Species("N", 0.0), Species("T", 0.0, boundary=True)),
        parameters=(Parameter("k", k), Parameter("one", 1.0)),
        reactions=(Reaction("b", {}, {"N": 1}, "k", mass_action=True),),
        rate_rules={"T": "one"},
        events=tuple(events),
        time_units="dimensionless",
    )


@pytest.mark.parametrize("solver", [ssa, tau_leap])
def test_stochastic_reset_at_a_time_and_on_a_flow(solver):
    # N is reset at time 5 and counted afresh: N(8) ~ Poisson(k * 3) in every cell; the clock T
    # (a flow) restarts at each firing, so the event fires at 5 exactly.
    net = _birth([Event("reset", "T >= 5", {"N": "0", "T": "-1e9"})])
    n = 4000
    p = net.kinetics.parameter_vector({"k": np.repeat([2.0, 6.0], n // 2)}, n)
    x = solver(net, x0=np.zeros((n, 2)), params=p, times=[0.0, 4.999, 8.0], seed=5)
    low, high = x[: n // 2, 2, 0], x[n // 2 :, 2, 0]
    for counts, lam in ((low, 6.0), (high, 18.0)):
        assert counts.mean() == pytest.approx(lam, rel=0.05)
        assert counts.var() == pytest.approx(lam, rel=0.12)
    assert np.all(x[:, 2, 1] < -1e8)  # the clock was reset once per cell
    assert x[:, 1, 0].mean() == pytest.approx(0.5 * 2 * 4.999 + 0.5 * 6 * 4.999, rel=0.03)


def test_ssa_state_trigger_per_cell_and_event_parameters():
    # each cell stops its birth process when N reaches its own cap: N(t) = min(cap, Poisson)
    net = ReactionNetwork(
        name="cap",
        species=(Species("N", 0.0),),
        parameters=(Parameter("k", 50.0), Parameter("cap", 10.0)),
        reactions=(Reaction("b", {}, {"N": 1}, "k", mass_action=True),),
        events=(Event("stop", "N >= cap", {"k": "0"}),),
    )
    p = net.kinetics.parameter_vector({"cap": np.array([3.0, 10.0, 40.0])}, 3)
    x = ssa(net, x0=np.zeros((3, 1)), params=p, times=[0.0, 10.0], seed=1)
    np.testing.assert_array_equal(x[:, 1, 0], [3.0, 10.0, 40.0])


def test_event_at_start_and_draws_in_assignments_are_seeded():
    net = _birth([Event("kick", "time >= 0", {"N": "poisson(100)"}, initial_value=False)], k=0.0)
    p = net.kinetics.parameter_vector(None, 3000)
    a = ssa(net, x0=np.zeros((3000, 2)), params=p, times=[0.0, 1.0], seed=9)
    b = ssa(net, x0=np.zeros((3000, 2)), params=p, times=[0.0, 1.0], seed=9)
    np.testing.assert_array_equal(a, b)
    assert a[:, 0, 0].mean() == pytest.approx(100, rel=0.02) and np.all(a[:, 0, 0] == a[:, 1, 0])


def test_cle_processes_events_at_step_ends():
    net = ReactionNetwork(
        name="bd",
        species=(Species("X", 0.0),),
        parameters=(Parameter("k", 1000.0), Parameter("g", 1.0)),
        reactions=(Reaction("b", {}, {"X": 1}, "k", mass_action=True),
                   Reaction("d", {"X": 1}, {}, "g", mass_action=True)),
        events=(Event("reset", "time >= 1", {"X": "0"}, delay="0.5"),),
    )  # fmt: skip
    p = net.kinetics.parameter_vector(None, 200)
    x = cle(net, x0=np.zeros((200, 1)), params=p, times=[0.0, 1.4, 1.5, 2.5], dt=1e-3, seed=0)
    assert x[:, 1, 0].mean() == pytest.approx(1000 * (1 - np.exp(-1.4)), rel=0.02)
    assert np.all(x[:, 2, 0] == 0.0)  # the delayed reset lands on an output time
    assert x[:, 3, 0].mean() == pytest.approx(1000 * (1 - np.exp(-1.0)), rel=0.02)


def test_stochastic_refusals_name_the_feature():
    reads_flow = ReactionNetwork(
        name="f",
        species=(Species("N", 0.0), Species("T", 1.0, boundary=True)),
        parameters=(Parameter("one", 1.0),),
        reactions=(Reaction("b", {}, {"N": 1}, "T"),),
        rate_rules={"T": "one"},
    )
    p = reads_flow.kinetics.parameter_vector(None, 2)
    with pytest.raises(CellsdeError, match="propensity of reaction 'b' reads 'T'"):
        ssa(reads_flow, x0=[[0, 1], [0, 1]], params=p, times=[0, 1], seed=0)
    growing = _clock(params=())
    growing = ReactionNetwork(
        name="g", species=(Species("X", 1.0, boundary=True),), parameters=(), reactions=(),
        rate_rules={"X": "X"},
    )  # fmt: skip
    with pytest.raises(CellsdeError, match=r"rate rule of 'X' \('X'\) reads 'X'"):
        tau_leap(growing, x0=[[1.0]], params=np.zeros((1, 0)), times=[0, 1], seed=0)
    ev = _birth([Event("e", "T > 1", {"N": "0"})])
    with pytest.raises(CellsdeError, match="numpy backend"):
        ssa(ev, x0=[[0, 0]], params=ev.kinetics.parameter_vector(), times=[0, 1], seed=0,
            backend="torch")  # fmt: skip
    with pytest.raises(CellsdeError, match="pass a seed"):
        _ode(_clock(Event("d", "time > 1", {"Y": "normal(0, 1)"})), [0, 2])
