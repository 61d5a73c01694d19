"""SBML Level 3 features beyond reactions, each on a synthetic document against hand-derived
values: algebraic rules, fast reactions, varying compartments, conversion factors, reaction ids
in math, event attributes, ``distrib`` draws, non-finite parameters, models without states."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cellsde import simulate
from models_bio import read_sbml
from models_bio.distrib import Draw
from models_bio.sbml import SBMLError, sbml_variables

libsbml = pytest.importorskip("libsbml")
from helpers_sbml import SBMLBuilder, drift_at  # noqa: E402


def _distrib(formula: str):
    settings = libsbml.L3ParserSettings()
    settings.setParsePackageMath(libsbml.EM_DISTRIB, True)
    return libsbml.parseL3FormulaWithSettings(formula, settings)


def test_linear_algebraic_rule_is_solved_for_its_one_free_variable(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 0.5).param("T", 10.0)
    b.species("S1", conc=4.0).species("S2", conc=0.0)
    b.reaction("R", {"S1": 1}, {}, "k * S1")
    b.rule("algebraic", "", "2 * S2 + S1 - T")  # S2 = (T - S1) / 2
    net = read_sbml(b.write(tmp_path))
    (name, _), *_ = net.assignment_rules
    assert name == "S2" and "S2" not in net.species_names
    x = np.array([[3.0]])
    assert net.kinetics.rule_values(x, net.kinetics.parameter_vector())[0, 0] == 3.5


def test_fast_reaction_starts_at_and_stays_at_equilibrium(tmp_path):
    b = SBMLBuilder().comp("c").param("kf", 1.0).param("kr", 2.0).param("k", 0.3)
    b.species("A", conc=3.0).species("B", conc=0.0).species("C", conc=0.0)
    b.reaction("bind", {"A": 1}, {"B": 1}, "kf * A - kr * B", fast=True)  # B = A / 2
    b.reaction("leak", {"B": 1}, {"C": 1}, "k * B")
    net = read_sbml(b.write(tmp_path))
    assert [s.initial for s in net.species] == pytest.approx([2.0, 1.0, 0.0])
    times = np.linspace(0, 2, 5)
    ds = simulate(net, times=times, n_cells=1, solver_options={"method": "BDF", "rtol": 1e-9})
    a, bb, _ = ds.x.values[0].T
    np.testing.assert_allclose(bb, a / 2, rtol=1e-6)
    # slow dynamics of the pool P = A + B: dP/dt = -k B = -(k/3) P
    np.testing.assert_allclose(a + bb, 3 * np.exp(-0.1 * times), rtol=1e-6)


def test_species_in_a_growing_compartment_keep_their_amount(tmp_path):
    b = SBMLBuilder().comp("V", 2.0, constant=False).param("g", 0.5).param("k", 1.0)
    b.species("S", "V", conc=3.0).rule("rate", "V", "g")
    b.reaction("in", {}, {"S": 1}, "k")  # amount / time
    path = b.write(tmp_path)
    net = read_sbml(path)
    assert "S_amount" in net.species_names and dict(net.assignment_rules)["S"] == "S_amount/V"
    times = np.linspace(0, 4, 5)
    ds = simulate(net, times=times, n_cells=1, solver_options={"rtol": 1e-10, "atol": 1e-12})
    var = sbml_variables(path)["S"]
    fn = net.compile_expressions([var.amount, var.concentration])
    x = ds.x.values[0]
    p = net.kinetics.parameter_vector()
    from models_bio.expressions import namespace

    amount, conc = fn(x, p, times, namespace("numpy")).T
    np.testing.assert_allclose(amount, 6.0 + times, rtol=1e-8)
    np.testing.assert_allclose(conc, (6.0 + times) / (2.0 + 0.5 * times), rtol=1e-8)


def test_species_of_an_item_model_count_molecules_under_ssa(tmp_path):
    # substanceUnits="item": a concentration species times its volume is a count, so SSA
    # runs it as it is; without the model's substance unit it would be refused as a
    # concentration of unknown scale
    b = SBMLBuilder().comp("c", 2.0).param("k", 0.5)
    b.m.setSubstanceUnits("item")
    b.m.setVolumeUnits("litre")
    b.species("X", "c", amount=100.0).reaction("death", {"X": 1}, {}, "k*X")
    net = read_sbml(b.write(tmp_path))
    assert [s.units for s in net.species] == ["item/litre"]
    ds = simulate(net, times=[0.0, 1.0], n_cells=400, method="ssa", seed=0)
    counts = ds["x"].values[:, :, 0] * 2.0  # concentration x volume
    assert np.all(counts == np.round(counts)) and counts[0, 0] == 100.0
    # the law k*X reads the concentration, amount / volume: d amount/dt = -(k / 2) amount, so
    # E[count(1)] = 100 exp(-0.25) = 77.9; sd of the mean over 400 cells ~0.21
    assert abs(counts[:, 1].mean() - 100.0 * math.exp(-0.25)) < 1.0
    b.m.setSubstanceUnits("mole")
    with pytest.raises(Exception, match="counts molecules"):
        simulate(read_sbml(b.write(tmp_path, "mole.xml")), times=[0.0, 1.0], n_cells=2,
                 method="ssa", seed=0)  # fmt: skip


def test_conversion_factor_and_reaction_id_in_math(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 2.0).param("cf", 3.0).param("flux", constant=False)
    b.species("A", conc=1.0).species("B", conc=0.0)
    b.m.getSpecies("B").setConversionFactor("cf")
    b.reaction("R", {"A": 1}, {"B": 1}, "k * A").rule("assign", "flux", "R * 10")
    net = read_sbml(b.write(tmp_path))
    assert dict(net.reactions[0].products) == {"B": 3.0}
    assert dict(net.assignment_rules)["R"] == "k*A"
    assert drift_at(net, {"A": 0.5, "B": 0.0}) == pytest.approx({"A": -1.0, "B": 3.0})


def test_event_attributes_are_read(tmp_path):
    b = SBMLBuilder(version=2).comp("c").species("X", amount=0.0, only_amount=True)
    b.event("E", "time > 1", {"X": "X + 1"}, delay="0.5", priority="2")
    e = b.m.getEvent("E")
    e.setUseValuesFromTriggerTime(False), e.getTrigger().setPersistent(False)
    (ev,) = read_sbml(b.write(tmp_path)).events
    assert (ev.delay, ev.priority, ev.persistent, ev.use_values_from_trigger_time) == (
        "0.5", "2", False, False,
    )  # fmt: skip


def test_distrib_draws_become_heterogeneity_or_event_draws(tmp_path):
    b = SBMLBuilder(version=2, distrib=True).comp("c").param("k", constant=False)
    b.param("mu", 5.0).species("X", amount=0.0, only_amount=True)
    b.initial("k", "1").initial("X", "1")
    b.m.getInitialAssignment("k").setMath(_distrib("normal(mu, 0.5)"))
    b.m.getInitialAssignment("X").setMath(_distrib("uniform(10, 20)"))
    b.event("E", "time > 1", {"X": "0"})
    b.m.getEvent("E").getEventAssignment(0).setMath(_distrib("exponential(2)"))
    net = read_sbml(b.write(tmp_path))
    assert net.heterogeneity["k"] == Draw("normal", (5.0, 0.5)) and net.nominal["k"] == 5.0
    assert net.species[0].initial == "X_initial"
    assert net.heterogeneity["X_initial"] == Draw("uniform", (10.0, 20.0))
    assert net.events[0].assignments["X"] == "exponential(2)"
    ds = simulate(net, times=[0.0, 0.5, 2.0], n_cells=4000, seed=3)
    theta = ds.theta.to_series().unstack()
    assert theta["k"].mean() == pytest.approx(5.0, abs=0.05) and theta["k"].std() > 0.45
    x = ds.x.sel(species="X").values
    assert x[:, 0].min() >= 10 and x[:, 0].max() <= 20 and np.all(x[:, 1] == x[:, 0])
    assert x[:, 2].mean() == pytest.approx(0.5, abs=0.05)  # exponential(rate 2), per cell
    same = simulate(net, times=[0.0, 0.5, 2.0], n_cells=4000, seed=3)
    np.testing.assert_array_equal(same.x.values, ds.x.values)


def test_draw_inside_an_initial_expression_is_refused(tmp_path):
    b = SBMLBuilder(version=2, distrib=True).comp("c").param("k").initial("k", "1")
    b.m.getInitialAssignment("k").setMath(_distrib("2 * normal(0, 1)"))
    with pytest.raises(SBMLError, match="random draw inside a larger expression"):
        read_sbml(b.write(tmp_path))


def test_non_finite_parameters_and_a_model_without_states(tmp_path):
    b = SBMLBuilder().param("big", math.inf).param("nan", math.nan).param("p", constant=False)
    b.rule("assign", "p", "time * 2")
    path = b.write(tmp_path)
    net = read_sbml(path)
    assert net.species_names == () and dict(net.assignment_rules)["big"] == "inf"
    ds = simulate(net, times=[0.0, 1.0, 2.0], n_cells=2)
    assert ds.x.shape == (2, 3, 0)
    assert sbml_variables(path)["p"].value == "p"


@pytest.mark.parametrize(
    ("expr", "name", "solution"),
    [("2 * S2 + S1 - T", "S2", 3.5), ("(k + 1) * S2 - T / 2", "S2", 2.5), ("S2 * S2 - T", "S2", None),
     ("exp(S2) - T", "S2", None), ("T / S2 - 1", "S2", None)],
)  # fmt: skip
def test_linear_solve(expr, name, solution):
    from models_bio.sbml_algebra import solve_linear
    from models_bio.sbml_math import evaluate

    solved = solve_linear(expr, name)
    if solution is None:
        assert solved is None
    else:
        assert evaluate(solved, {"S1": 3.0, "T": 10.0, "k": 1.0}) == pytest.approx(solution)
