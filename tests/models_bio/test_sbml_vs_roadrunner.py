"""SBML import cross-checked against an independent simulator (libroadrunner) and Vilar 2002.

Oracles: the hand-written :func:`models_bio.vilar2002` (same right-hand side to 1e-12, same ODE
trajectory to 1e-6) and libroadrunner's CVODE trajectories of every SBML file in
``shared/data`` (1e-5 relative), events included (Hoffmann 2002's IKK step at t = 2000 min).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import models_bio
from models_bio.expressions import compile_program, namespace

libsbml = pytest.importorskip("libsbml")

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DATA = SHARED / "data"
if not DATA.is_dir():
    pytest.skip(f"shared data folder {DATA} not found", allow_module_level=True)

VILAR = DATA / "vilar2002" / "BIOMD0000000035.xml"

# Hand-written Vilar parameter -> parameter names read from the SBML file. Local parameters
# keep their id unless another reaction has a local parameter of the same id: deltaA is local
# to Reaction2 (A -> 0) and Reaction3 (C -> R), so it becomes two parameters.
VILAR_NAMES = {
    "gammaA": ["gammaA"],
    "thetaA": ["thetaA"],
    "gammaR": ["gammaR"],
    "thetaR": ["thetaR"],
    "alphaA": ["alphaA"],
    "alphaAp": ["alphaAp"],
    "alphaR": ["alphaR"],
    "alphaRp": ["alphaRp"],
    "betaA": ["betaA"],
    "betaR": ["betaR"],
    "gammaC": ["gammaC"],
    "deltaA": ["Reaction2_deltaA", "Reaction3_deltaA"],
    "deltaR": ["deltaR"],
    "deltaMA": ["deltaMA"],
    "deltaMR": ["deltaMR"],
}

# (folder/file, end time, number of output intervals) in each model's time units.
FILES = [
    ("vilar2002/BIOMD0000000035.xml", 50.0, 100),
    ("goldbeter1995/BIOMD0000000016.xml", 100.0, 100),
    ("leloup2003/BIOMD0000000073.xml", 100.0, 100),
    ("hoffmann2002/BIOMD0000000140.xml", 2600.0, 130),
]


def integrate(net: models_bio.ReactionNetwork, times: np.ndarray) -> np.ndarray:
    """LSODA on ``kinetics.drift`` with SBML event semantics (fire on false -> true).

    Returns the state at ``times``, shape (time, species).
    """
    k = net.kinetics
    p = k.parameter_vector()  # (1, parameter)
    y = k.initial_state(p)[0]
    sp, pn = net.species_names, net.parameter_names
    inputs = {s: f"_x_[..., {i}]" for i, s in enumerate(sp)}
    inputs.update({q: f"_p_[..., {i}]" for i, q in enumerate(pn)})
    inputs["time"] = "_t_"
    ns, rules = namespace("numpy"), net.assignment_rules
    trig_fn = compile_program(
        [e.trigger for e in net.events], inputs=inputs, assignments=rules, stack=False
    )
    assign_fns = [
        compile_program(list(e.assignments.values()), inputs=inputs, assignments=rules, stack=False)
        for e in net.events
    ]

    def triggers(t: float, y: np.ndarray) -> list[bool]:
        return [bool(np.asarray(v).ravel()[0]) for v in trig_fn(y[None], p, t, ns)]

    def fire(t: float, y: np.ndarray, which: list[int]) -> np.ndarray:
        new = y.copy()
        for j in which:  # all assignments read the pre-event state
            vals = assign_fns[j](y[None], p, t, ns)
            for var, v in zip(net.events[j].assignments, vals):
                new[sp.index(var)] = float(np.asarray(v).ravel()[0])
        return new

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        return k.drift(y[None], p, t)[0]

    def event_fn(j: int):
        def g(t: float, y: np.ndarray) -> float:
            return 1.0 if triggers(t, y)[j] else -1.0

        g.terminal, g.direction = True, 1.0
        return g

    atol = 1e-10 * max(float(np.abs(y).max()), 1e-2)  # models in uM or nM need a small atol
    t = float(times[0])
    before = [e.initial_value for e in net.events]
    now = triggers(t, y) if net.events else []
    y = fire(t, y, [j for j in range(len(now)) if now[j] and not before[j]])
    out = np.full((len(times), len(sp)), np.nan)
    out[0] = y
    events = [event_fn(j) for j in range(len(net.events))]
    while t < times[-1]:
        todo = times > t
        sol = solve_ivp(
            rhs, (t, times[-1]), y, method="LSODA", rtol=1e-10, atol=atol,
            t_eval=times[todo], events=events or None, dense_output=bool(events),
        )  # fmt: skip
        assert sol.success, sol.message
        out[np.flatnonzero(todo)[: sol.y.shape[1]]] = sol.y.T
        if sol.status != 1:
            break
        j = next(i for i, te in enumerate(sol.t_events) if len(te))
        t_ev, dt = float(sol.t_events[j][0]), 0.0
        t, y = t_ev, sol.y_events[j][0]
        while not triggers(t, y)[j]:  # step onto the true side of the located crossing
            dt = max(2 * dt, 1e-15 * max(1.0, abs(t_ev)))
            assert dt < 1e-6, f"event {net.events[j].name!r} not confirmed after {t_ev}"
            t, y = t_ev + dt, sol.sol(t_ev + dt)
        y = fire(t, y, [j])
        out[np.isclose(times, t, rtol=1e-12, atol=0.0)] = y  # at the event time: post-event
    return out


def assert_close(ours: np.ndarray, ref: np.ndarray, names: tuple[str, ...], rtol: float) -> None:
    """``|ours - ref| <= rtol (|ref| + max_t |ref|)`` per species; the message names the worst."""
    err = np.abs(ours - ref) / (np.abs(ref) + np.abs(ref).max(0) + 1e-300)  # (time, species)
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() <= rtol, (
        f"relative difference {err.max():.3g} > {rtol:g} for {names[worst[1]]!r} at time index "
        f"{worst[0]}: {ours[worst]!r} vs {ref[worst]!r}"
    )


@functools.cache
def trajectory(file: str, t_end: float, n: int) -> np.ndarray:
    """Our event-aware LSODA trajectory of a shared SBML file, shape (time, species); cached."""
    return integrate(models_bio.read_sbml(DATA / file), np.linspace(0.0, t_end, n + 1))


def roadrunner_run(path: Path, names: tuple[str, ...], times: np.ndarray) -> np.ndarray:
    rr_mod = pytest.importorskip("roadrunner")
    doc = libsbml.readSBMLFromFile(str(path))
    amounts = {s.getId() for s in doc.getModel().getListOfSpecies() if s.getHasOnlySubstanceUnits()}
    species = {s.getId() for s in doc.getModel().getListOfSpecies()}
    r = rr_mod.RoadRunner(str(path))
    r.integrator.relative_tolerance = 1e-11
    r.integrator.absolute_tolerance = 1e-14
    r.timeCourseSelections = ["time"] + [
        f"[{n}]" if n in species and n not in amounts else n for n in names
    ]
    res = np.asarray(r.simulate(float(times[0]), float(times[-1]), len(times)))
    np.testing.assert_allclose(res[:, 0], times, rtol=1e-12)
    return res[:, 1:]


def test_vilar_sbml_parameters_match_hand_written_table():
    net = models_bio.read_sbml(VILAR)
    hand = models_bio.vilar2002().nominal
    read = net.nominal
    assert sorted(n for names in VILAR_NAMES.values() for n in names) == sorted(read)
    for hand_name, names in VILAR_NAMES.items():
        for n in names:
            assert read[n] == hand[hand_name]
    assert net.time_units == "h"
    assert "EmptySet" not in net.species_names
    assert all(r.mass_action for r in net.reactions)


def test_vilar_sbml_rhs_equals_hand_written():
    net = models_bio.read_sbml(VILAR)
    hand = models_bio.vilar2002(heterogeneity="none")
    assert sorted(net.species_names) == sorted(hand.species_names)
    rng = np.random.default_rng(0)
    xh = rng.uniform(0.0, 2000.0, (64, len(hand.species_names)))  # (cell, species)
    xh[:, :4] = rng.uniform(0.0, 1.0, (64, 4))  # promoters are 0/1-ish
    perm = [hand.species_names.index(s) for s in net.species_names]
    ph = hand.kinetics.parameter_vector(n=64)
    ph *= rng.lognormal(0.0, 0.3, ph.shape)  # random positive parameters too
    ps = np.empty((64, len(net.parameter_names)))
    for hand_name, names in VILAR_NAMES.items():
        for n in names:
            ps[:, net.parameter_names.index(n)] = ph[:, hand.parameter_names.index(hand_name)]
    fh = hand.kinetics.drift(xh, ph)[:, perm]
    fs = net.kinetics.drift(xh[:, perm], ps)
    scale = np.abs(hand.kinetics.rates(xh, ph)).sum(1, keepdims=True)  # no cancellation below this
    assert np.all(np.abs(fs - fh) <= 1e-12 * scale)


def test_vilar_sbml_trajectory_equals_hand_written():
    net = models_bio.read_sbml(VILAR)
    hand = models_bio.vilar2002(heterogeneity="none")
    perm = [hand.species_names.index(s) for s in net.species_names]
    ours = trajectory(*FILES[0])
    times = np.linspace(0.0, FILES[0][1], FILES[0][2] + 1)
    assert_close(ours, integrate(hand, times)[:, perm], net.species_names, 1e-6)


@pytest.mark.parametrize(("file", "t_end", "n"), FILES, ids=[f.split("/")[0] for f, _, _ in FILES])
def test_sbml_trajectory_matches_roadrunner(file: str, t_end: float, n: int):
    path = DATA / file
    net = models_bio.read_sbml(path)
    times = np.linspace(0.0, t_end, n + 1)
    ours = trajectory(file, t_end, n)  # (time, species)
    ref = roadrunner_run(path, net.species_names, times)
    assert_close(ours, ref, net.species_names, 1e-5)


def test_hoffmann_event_fires_at_crossing():
    net = models_bio.read_sbml(DATA / "hoffmann2002" / "BIOMD0000000140.xml")
    assert net.time_units == "min"
    (event,) = net.events
    assert dict(event.assignments)["IKK"] == "0.1"
    times = np.linspace(0.0, FILES[3][1], FILES[3][2] + 1)
    assert times[100] == 2000.0
    x = trajectory(*FILES[3])[99:102]  # (time, species) at 1980, 2000, 2020 min
    col = {n: x[:, net.species_names.index(n)] for n in ("IKK", "trigger_value")}
    col["flag"] = x[:, net.species_names.index("flag_for_after_trigger")]
    # one output step (20 min) before the event, at it (post-event), and one after
    assert col["IKK"][0] < 1e-9 and col["trigger_value"][0] == 0.0 and col["flag"][0] == 0.5
    assert col["IKK"][1] == 0.1 and col["trigger_value"][1] == 1.0 and col["flag"][1] == 0.0
    assert 0.0 < col["IKK"][2] < 0.1  # IKK binds the IkBs after the step


def _event_model(path: Path) -> Path:
    """S -> P (k S); refill S when it drops below 0.5 (halving k), pulse S at t = 2.5."""
    doc = libsbml.SBMLDocument(3, 1)
    m = doc.createModel()
    m.setId("events"), m.setTimeUnits("second")
    c = m.createCompartment()
    c.setId("c"), c.setSize(2.0), c.setConstant(True)
    for sid, v in (("S", 3.0), ("P", 0.0)):
        s = m.createSpecies()
        s.setId(sid), s.setCompartment("c"), s.setInitialConcentration(v)
        s.setHasOnlySubstanceUnits(False), s.setBoundaryCondition(False), s.setConstant(False)
    k = m.createParameter()
    k.setId("k"), k.setValue(1.0), k.setConstant(False)
    r = m.createReaction()
    r.setId("R"), r.setReversible(False), r.setFast(False)
    for sid, add in (("S", r.createReactant), ("P", r.createProduct)):
        ref = add()
        ref.setSpecies(sid), ref.setStoichiometry(1.0), ref.setConstant(True)
    r.createKineticLaw().setMath(libsbml.parseL3Formula("c * k * S"))
    events = (
        ("refill", "S < 0.5", {"S": "5", "k": "k / 2"}, True),
        ("pulse", "time >= 2.5", {"S": "S + 10", "P": "S"}, True),  # P reads the old S
        ("start", "time >= 0", {"P": "1"}, False),  # initialValue false: fires at t = 0
    )
    for eid, trigger, assignments, initial in events:
        e = m.createEvent()
        e.setId(eid), e.setUseValuesFromTriggerTime(True)
        t = e.createTrigger()
        t.setMath(libsbml.parseL3Formula(trigger)), t.setInitialValue(initial)
        t.setPersistent(True)
        for var, formula in assignments.items():
            a = e.createEventAssignment()
            a.setVariable(var), a.setMath(libsbml.parseL3Formula(formula))
    path.write_text(libsbml.writeSBMLToString(doc))
    return path


def test_synthetic_time_and_state_events_match_roadrunner(tmp_path):
    path = _event_model(tmp_path / "events.xml")
    net = models_bio.read_sbml(path)
    assert net.species_names == ("S", "P", "k")
    times = np.linspace(0.0, 12.0, 49)
    ours = integrate(net, times)
    ref = roadrunner_run(path, net.species_names, times)
    assert ours[0, 1] == 1.0 and ours[-1, 2] == 0.25  # started; refilled twice
    assert_close(ours, ref, net.species_names, 1e-6)
