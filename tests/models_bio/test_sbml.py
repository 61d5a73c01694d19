"""SBML reader on synthetic documents, one feature at a time, checked against analytic values.

Documents are built with libsbml (``SBMLBuilder``) so every test states its model in a few
lines; a kitchen-sink model is also cross-checked against libroadrunner.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from models_bio import read_sbml
from models_bio.expressions import compile_program, namespace
from models_bio.sbml import SBMLError
from models_bio.sbml_math import MathTranslator, evaluate

libsbml = pytest.importorskip("libsbml")
from helpers_sbml import SBMLBuilder, drift_at  # noqa: E402


def test_amounts_and_concentrations_in_a_compartment_of_volume_2(tmp_path):
    b = SBMLBuilder().comp("c", 2.0).param("k", 0.3)
    b.species("A", amount=4.0).species("B", conc=3.0, only_amount=True)
    b.reaction("R", {"A": 1}, {"B": 1}, "k * A * c")  # amount/time; A is a concentration
    net = read_sbml(b.write(tmp_path))
    assert net.species_names == ("A", "B")
    assert [s.initial for s in net.species] == [2.0, 6.0]  # conc 4/2; amount 3*2
    assert [s.volume for s in net.species] == [2.0, 1.0]
    f = drift_at(net, {"A": 1.5, "B": 1.0})
    v = 0.3 * 1.5 * 2.0
    assert f["A"] == pytest.approx(-v / 2.0, rel=1e-14) and f["B"] == pytest.approx(v, rel=1e-14)
    assert net.parameter("c").value == 2.0  # the law reads the compartment
    assert net.time_units == "s"


def test_local_parameters_renamed_only_when_ambiguous(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 1.0).species("A", conc=1.0)
    b.reaction("R1", {"A": 1}, {}, "k * A", local={"k": 2.0, "kk": 5.0})
    b.reaction("R2", {}, {"A": 1}, "k + kk2", local={"k": 3.0, "kk2": 7.0})
    net = read_sbml(b.write(tmp_path))
    assert net.nominal == {"k": 1.0, "R1_k": 2.0, "kk": 5.0, "R2_k": 3.0, "kk2": 7.0}
    assert net.reactions[0].mass_action and net.reactions[0].rate == "R1_k"
    assert net.reactions[1].law == "R2_k + kk2"
    assert drift_at(net, {"A": 2.0})["A"] == pytest.approx(-4.0 + 10.0)


def test_function_definitions_are_inlined(tmp_path):
    b = SBMLBuilder().comp("c").param("V", 2.0).param("K", 0.5).species("S", conc=1.0)
    b.function("mm", "lambda(x, Km, x / (Km + x))")
    b.function("scaled", "lambda(a, b, 2 * mm(a, b))")
    b.reaction("R", {"S": 1}, {}, "V * scaled(S, K) / 2")
    net = read_sbml(b.write(tmp_path))
    assert "mm" not in net.reactions[0].law and "scaled" not in net.reactions[0].law
    assert drift_at(net, {"S": 1.5})["S"] == pytest.approx(-2.0 * 1.5 / 2.0)


def test_initial_assignments_in_dependency_order(tmp_path):
    b = SBMLBuilder().comp("c", 1.0).param("p1", 2.0).param("p2").param("p3")
    b.species("S", amount=0.0).species("T", amount=1.0, only_amount=True)
    b.initial("S", "p3 + 1").initial("p3", "p2 * 10").initial("p2", "p1 * 2").initial("c", "p1")
    net = read_sbml(b.write(tmp_path))
    assert net.nominal["p2"] == 4.0 and net.nominal["p3"] == 40.0
    s = {sp.name: sp for sp in net.species}
    assert s["S"].initial == 41.0 and s["S"].volume == 2.0 and s["T"].initial == 1.0


def test_assignment_rules_become_ordered_rules_and_derived_species(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 0.5).param("tot", constant=False)
    b.param("twice", constant=False).species("A", conc=1.0).species("B", conc=2.0)
    b.species("D", conc=0.0, boundary=True)
    b.rule("assign", "twice", "2 * tot").rule("assign", "tot", "A + B").rule("assign", "D", "A^2")
    b.reaction("R", {"A": 1}, {"B": 1}, "k * twice * D", modifiers=["D"])
    net = read_sbml(b.write(tmp_path))
    assert net.species_names == ("A", "B")  # D is derived, not a state
    order = [n for n, _ in net.assignment_rules]
    assert sorted(order) == ["D", "tot", "twice"] and order.index("tot") < order.index("twice")
    assert "tot" not in net.parameter_names
    v = 0.5 * 2 * (1.5 + 2.5) * 1.5**2
    assert drift_at(net, {"A": 1.5, "B": 2.5})["A"] == pytest.approx(-v)


def test_rate_rules_on_species_and_on_a_parameter(tmp_path):
    b = SBMLBuilder().comp("c", 3.0).param("q", 1.0, constant=False).param("r", 0.5)
    b.species("S", conc=2.0).rule("rate", "S", "-r * S * q").rule("rate", "q", "1")
    net = read_sbml(b.write(tmp_path))
    assert net.species_names == ("S", "q") and net.species[1].boundary
    assert dict(net.rate_rules) == {"S": "-r*S*q", "q": "1"}
    f = drift_at(net, {"S": 2.0, "q": 4.0})
    assert f == pytest.approx({"S": -4.0, "q": 1.0})  # rate rules are in formula units


def test_time_and_state_events(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 1.0, constant=False).species("S", conc=3.0)
    b.reaction("R", {"S": 1}, {}, "k * S")
    b.event("pulse", "time >= 5", {"S": "S + 10"})
    b.event("refill", "S < 1", {"S": "5", "k": "k / 2"}, initial_value=False)
    net = read_sbml(b.write(tmp_path))
    e1, e2 = net.events
    assert (e1.name, e1.trigger, dict(e1.assignments), e1.initial_value) == (
        "pulse",
        "time >= 5",
        {"S": "S + 10"},
        True,
    )
    assert e2.trigger == "S < 1" and dict(e2.assignments) == {"S": "5", "k": "k/2"}
    assert e2.initial_value is False
    assert "k" in net.species_names  # an event target becomes a state
    ins = {"S": "_x_[..., 0]", "k": "_x_[..., 1]", "time": "_t_"}
    trig = compile_program([e1.trigger, e2.trigger], inputs=ins, stack=False)
    x = np.array([[0.5, 1.0], [2.0, 1.0]])
    t1, t2 = trig(x, None, 6.0, namespace("numpy"))
    assert bool(np.all(t1)) and list(t2) == [True, False]


def test_michaelis_menten_hill_and_piecewise_laws(tmp_path):
    b = SBMLBuilder().comp("c").param("Vm", 2.0).param("Km", 0.5).param("n", 3.0)
    b.param("k1", 1.0).param("k2", 4.0).species("S", conc=1.0).species("P", conc=0.0)
    b.reaction("mm", {"S": 1}, {"P": 1}, "Vm * S / (Km + S)")
    b.reaction("hill", {}, {"P": 1}, "Vm * S^n / (Km^n + S^n)", modifiers=["S"])
    b.reaction("pw", {"P": 1}, {}, "piecewise(k1, time < 5, k2) * P")
    net = read_sbml(b.write(tmp_path))
    s, p = 0.7, 0.9
    for t, kp in ((1.0, 1.0), (6.0, 4.0)):
        f = drift_at(net, {"S": s, "P": p}, t)
        assert f["S"] == pytest.approx(-2 * s / (0.5 + s), rel=1e-14)
        assert f["P"] == pytest.approx(2 * s / (0.5 + s) + 2 * s**3 / (0.125 + s**3) - kp * p)
    assert not any(r.mass_action for r in net.reactions)


def test_mass_action_detection(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 2.0).param("neg", -1.0)
    b.species("A", conc=1.0).species("B", conc=1.0)
    b.reaction("bi", {"A": 1, "B": 1}, {}, "k * A * B")
    b.reaction("dimer", {"A": 2}, {"B": 1}, "A^2 * k")
    b.reaction("wrong_order", {"A": 2}, {}, "k * A")
    b.reaction("negative_k", {"A": 1}, {}, "neg * A")
    b.reaction("two_constants", {"A": 1}, {}, "k * k * A")
    net = read_sbml(b.write(tmp_path))
    assert [r.mass_action for r in net.reactions] == [True, True, False, False, False]
    assert net.kinetics.rates(np.array([[3.0, 5.0]]), net.kinetics.parameter_vector())[
        0
    ].tolist() == [30.0, 18.0, 6.0, -3.0, 12.0]


def test_boundary_species_kept_when_read_dropped_when_inert(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 1.0)
    b.species("Src", conc=2.0, boundary=True).species("Sink", conc=0.0, boundary=True)
    b.species("X", conc=0.0).reaction("in", {"Src": 1}, {"X": 1}, "k * Src")
    b.reaction("out", {"X": 1}, {"Sink": 1}, "k * X")
    net = read_sbml(b.write(tmp_path))
    assert net.species_names == ("Src", "X") and net.species[0].boundary
    assert drift_at(net, {"Src": 2.0, "X": 0.5}) == pytest.approx({"Src": 0.0, "X": 1.5})


def test_reserved_ids_are_renamed(tmp_path):
    b = SBMLBuilder().comp("c").param("pi", 2.0).param("lambda_", 1.0).species("e", conc=1.0)
    b.reaction("R", {"e": 1}, {}, "pi * e")
    net = read_sbml(b.write(tmp_path))
    assert net.species_names == ("e_",) and "pi_" in net.parameter_names
    assert drift_at(net, {"e_": 3.0})["e_"] == pytest.approx(-6.0)


def test_unsupported_features_are_all_listed_in_one_error(tmp_path):
    b = SBMLBuilder(version=2, distrib=True).comp("c").param("k", 1.0)
    b.param("y", 1.0, constant=False).species("A", conc=1.0).species("B", conc=1.0)
    b.rule("algebraic", "", "y * y - A")
    b.reaction("slow", {"A": 1}, {}, "k * delay(A, 2)")
    b.reaction("noisy", {"B": 1}, {}, "k * B")
    b.m.getReaction("noisy").getKineticLaw().setMath(_distrib("normal(k, 1) * B"))
    with pytest.raises(SBMLError) as info:
        read_sbml(b.write(tmp_path))
    msg = str(info.value)
    assert "uses features cellsde does not support" in msg and "\n" not in msg
    for part in ("algebraic rule 0 = y*y - A", "delay()", "a random draw (distrib) in the kinetic"):
        assert part in msg


def _distrib(formula: str):
    """``formula`` with ``normal(...)``/``uniform(...)`` as distrib csymbols."""
    settings = libsbml.L3ParserSettings()
    settings.setParsePackageMath(libsbml.EM_DISTRIB, True)
    ast = libsbml.parseL3FormulaWithSettings(formula, settings)
    assert ast is not None, libsbml.getLastParseL3Error()
    return ast


def test_rate_of_reads_the_derivative_and_fbc_is_refused(tmp_path):
    b = SBMLBuilder(version=2).comp("c").param("k", 2.0).param("y", 0.0, constant=False)
    b.species("A", conc=1.0).rule("rate", "y", "3 * A")
    b.reaction("R", {"A": 1}, {}, "k * A * rateOf(y)")
    net = read_sbml(b.write(tmp_path))
    assert evaluate(dict(net.assignment_rules)["rateOf_y"], {"A": 0.5}) == 1.5
    assert drift_at(net, {"A": 0.5, "y": 0.0})["A"] == pytest.approx(-2 * 0.5 * 1.5)
    doc = libsbml.SBMLDocument(libsbml.SBMLNamespaces(3, 1, "fbc", 2))
    doc.setPackageRequired("fbc", False)
    doc.createModel().setId("m")
    doc.getModel().getPlugin("fbc").setStrict(True)
    path = tmp_path / "fbc.xml"
    path.write_text(libsbml.writeSBMLToString(doc))
    with pytest.raises(SBMLError, match=r"SBML package 'fbc', flux balance"):
        read_sbml(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "is empty"),
        ("this is not XML <", "not valid SBML"),
        ("<?xml version='1.0' encoding='UTF-8'?><notes><p>hi</p></notes>", "not valid SBML"),
        (
            '<?xml version="1.0" encoding="UTF-8"?><sbml'
            ' xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"><model id="m"><listOfReactions><reaction id="r"'
            ' reversible="false" fast="false"><listOfReactants><speciesReference'
            ' species="nope" stoichiometry="1" constant="true"/></listOfReactants></reaction>'
            "</listOfReactions></model></sbml>",
            "not valid SBML",
        ),
        (
            '<?xml version="1.0" encoding="UTF-8"?><sbml'
            ' xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"/>',
            "contains no <model>",
        ),
    ],
    ids=["empty", "not-xml", "not-sbml", "unknown-species", "no-model"],
)
def test_bad_files_give_one_line_errors(tmp_path, content, match):
    path = tmp_path / "bad.xml"
    path.write_text(content)
    with pytest.raises(SBMLError, match=match) as info:
        read_sbml(path)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_sbml(tmp_path / "absent.xml")


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("root(3, 8)", 2.0),
        ("sqrt(16)", 4.0),
        ("log(2, 8)", 3.0),
        ("log10(1000)", 3.0),
        ("ln(exponentiale)", 1.0),
        ("-2^2", -4.0),
        ("2^-1", 0.5),
        ("(1 - 2) - 3", -4.0),
        ("1 - (2 - 3)", 2.0),
        ("8 / (2 * 2)", 2.0),
        ("8 / 2 * 2", 8.0),
        ("2 * 3^2", 18.0),
        ("pow(2, 3)", 8.0),
        ("abs(-3) + ceil(1.2) + floor(1.8)", 6.0),
        ("sec(0) + cosh(0) + arccosh(1) + arctan(1) * 4 / pi", 3.0),
        ("sinh(1) - (exponentiale - 1 / exponentiale) / 2", 0.0),
        ("arcsinh(0) + arctanh(0) + arcsin(0) + arccos(1)", 0.0),
        ("coth(1) * tanh(1) + csc(1) * sin(1) + cot(1) * tan(1)", 3.0),
        ("piecewise(1, false, 2, true, 3)", 2.0),
        ("piecewise(1, 2 > 3, 5)", 5.0),
        ("piecewise(10, 1 < 2 && 2 < 3, 0)", 10.0),
        ("piecewise(1, xor(true, false, true), 0)", 0.0),
        ("piecewise(1, xor(true, false), 0)", 1.0),
        ("piecewise(1, !(1 > 2) || false, 0)", 1.0),
        ("piecewise(1, implies(false, false), 0)", 1.0),
        ("piecewise(1, 1 == 1 && 1 != 2, 0)", 1.0),
        ("max(1, 3, 2) + min(4, 5)", 7.0),
        ("x * 2 + time", 9.0),
        ("avogadro / 6.02214179e23", 1.0),
    ],
)
def test_mathml_translation(formula, expected):
    settings = libsbml.L3ParserSettings()
    settings.setParseAvogadroCsymbol(True)
    ast = libsbml.parseL3FormulaWithSettings(formula, settings)
    assert ast is not None, libsbml.getLastParseL3Error()
    problems: list[str] = []
    expr = MathTranslator(libsbml, {"x": "x"}, {}, problems).translate(ast, "test")
    assert problems == []
    assert evaluate(expr, {"x": 3.0, "time": 3.0}) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [("factorial(3)", 6.0), ("quotient(7, 2)", 3.0), ("quotient(-7, 2)", -3.0),
     ("rem(-7, 2)", -1.0), ("rem(7.5, 2)", 1.5)],
)  # fmt: skip
def test_factorial_quotient_and_rem(formula, expected):
    problems: list[str] = []
    expr = MathTranslator(libsbml, {}, {}, problems).translate(libsbml.parseL3Formula(formula), "R")
    assert problems == [] and evaluate(expr, {}) == expected


def test_kitchen_sink_model_matches_roadrunner(tmp_path):
    """Volumes != 1, amounts, locals, functions, initial assignment, rules, piecewise in time."""
    roadrunner = pytest.importorskip("roadrunner")
    b = SBMLBuilder().comp("cyt", 2.0).comp("nuc", 0.5).param("kin", 0.7).param("Km", 0.4)
    b.param("n", 2.0).param("kf").param("tot", constant=False).param("g", 1.0, constant=False)
    b.species("A", "cyt", conc=1.0).species("B", "nuc", amount=0.2)
    b.species("C", "cyt", amount=0.5, only_amount=True)
    b.function("hill", "lambda(x, K, m, x^m / (K^m + x^m))")
    b.initial("kf", "kin * 3").rule("assign", "tot", "A * cyt + B * nuc + C")
    b.rule("rate", "g", "-0.1 * g")
    b.reaction("import", {"A": 1}, {"B": 1}, "cyt * kf * hill(A, Km, n)")
    b.reaction("export", {"B": 1}, {"A": 1}, "nuc * k * B", local={"k": 0.9})
    b.reaction("make", {}, {"C": 1}, "g * piecewise(1, time < 3, 0.2) * tot")
    b.reaction("use", {"C": 1}, {}, "k * C / (0.3 + C)", local={"k": 0.5})
    path = b.write(tmp_path)
    net = read_sbml(path)
    k = net.kinetics
    p = k.parameter_vector()
    times = np.linspace(0.0, 10.0, 41)
    sol = solve_ivp(
        lambda t, y: k.drift(y[None], p, t)[0], (0.0, 10.0), k.initial_state(p)[0],
        method="LSODA", rtol=1e-10, atol=1e-12, t_eval=times,
    )  # fmt: skip
    r = roadrunner.RoadRunner(str(path))
    r.integrator.relative_tolerance, r.integrator.absolute_tolerance = 1e-11, 1e-14
    r.timeCourseSelections = ["time", "[A]", "[B]", "C", "g"]
    ref = np.asarray(r.simulate(0.0, 10.0, len(times)))[:, 1:]
    assert net.species_names == ("A", "B", "C", "g")
    assert math.isclose(net.nominal["kf"], 2.1)
    np.testing.assert_allclose(sol.y.T, ref, rtol=1e-6, atol=1e-9)


def test_level2_stoichiometry_math_naming_a_parameter(tmp_path):
    doc = libsbml.SBMLDocument(2, 4)
    m = doc.createModel()
    m.setId("l2")
    c = m.createCompartment()
    c.setId("c"), c.setSize(1.0)
    for pid, v in (("nu", 3.0), ("k", 0.5)):
        p = m.createParameter()
        p.setId(pid), p.setValue(v)
    for sid in ("A", "B"):
        s = m.createSpecies()
        s.setId(sid), s.setCompartment("c"), s.setInitialConcentration(1.0)
    r = m.createReaction()
    r.setId("R"), r.setReversible(False)
    r.createReactant().setSpecies("A")
    prod = r.createProduct()
    prod.setSpecies("B")
    prod.createStoichiometryMath().setMath(libsbml.parseL3Formula("nu"))
    r.createKineticLaw().setMath(libsbml.parseL3Formula("k * A"))
    path = tmp_path / "l2.xml"
    path.write_text(libsbml.writeSBMLToString(doc))
    net = read_sbml(path, name="custom")
    assert net.name == "custom" and net.time_units == "s"
    assert dict(net.reactions[0].products) == {"B": "nu"}
    assert drift_at(net, {"A": 2.0, "B": 0.0}) == pytest.approx({"A": -1.0, "B": 3.0})


def test_variable_stoichiometry_becomes_a_rate_term(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 1.0).species("A", conc=1.0).species("B", conc=0.0)
    b.reaction("R", {"A": 1}, {"B": 2}, "k * A")
    ref = b.m.getReaction("R").getReactant(0)
    ref.setId("sA"), ref.setConstant(False)
    b.rule("rate", "sA", "0.1")
    net = read_sbml(b.write(tmp_path))
    assert dict(net.reactions[0].reactants) == {} and dict(net.reactions[0].products) == {"B": 2}
    assert drift_at(net, {"A": 2.0, "B": 0.0, "sA": 1.5}) == pytest.approx(
        {"A": -1.5 * 2.0, "B": 2 * 2.0, "sA": 0.1}
    )


def test_missing_libsbml_gives_install_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "libsbml", None)
    with pytest.raises(ImportError, match=r"pip install 'cellsde\[sbml\]'"):
        read_sbml(tmp_path / "any.xml")


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_inverse_and_hyperbolic_functions_added_for_mathml(backend):
    names = ("asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh")
    args = (0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 1.3, 0.3)
    exprs = [f"{f}(x + {a - 0.1})" for f, a in zip(names, args)]
    fn = compile_program(exprs, inputs={"x": "_x_[..., 0]"})
    if backend == "numpy":
        x = np.full((2, 1), 0.1)
    else:
        torch = pytest.importorskip("torch")
        x = torch.full((2, 1), 0.1, dtype=torch.float64)
    out = np.asarray(fn(x, None, 0.0, namespace(backend)))  # (cell, function)
    want = [getattr(math, f)(a) for f, a in zip(names, args)]
    np.testing.assert_allclose(out, np.tile(want, (2, 1)), rtol=1e-14)


def test_level3_stoichiometry_ids_are_read_as_constants(tmp_path):
    b = SBMLBuilder().comp("c").param("k", 0.5).species("A", conc=1.0).species("B", conc=0.0)
    b.reaction("R", {"A": 1}, {"B": 1}, "k * A")
    b.m.getReaction("R").getReactant(0).setId("nA")
    b.m.getReaction("R").getProduct(0).setId("nB")
    b.initial("nB", "nA * 3")
    b.m.getReaction("R").getKineticLaw().setMath(libsbml.parseL3Formula("k * A * nB"))
    net = read_sbml(b.write(tmp_path))
    assert net.nominal["nB"] == 3.0 and "nA" not in net.parameter_names  # nA is never read
    assert dict(net.reactions[0].products) == {"B": 3.0}
    assert drift_at(net, {"A": 2.0, "B": 0.0}) == pytest.approx({"A": -3.0, "B": 9.0})
