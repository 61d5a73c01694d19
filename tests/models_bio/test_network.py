"""Model layer: expression safety, network validation, kinetics, heterogeneity distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models_bio import (
    Event,
    Expression,
    ExpressionError,
    Grid,
    LogitNormal,
    LogNormal,
    LogUniform,
    Parameter,
    Reaction,
    ReactionNetwork,
    Species,
    Uniform,
)
from models_bio.expressions import compile_program, namespace


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "k.__class__",
        "(lambda: 1)()",
        "[x for x in y]",
        "open('f')",
        "exp(x, y)",
        "'text'",
        "x[0]",
        "exp(x=1)",
        "",
        "k +",
    ],
)
def test_expressions_reject_unsafe_or_malformed(source):
    with pytest.raises(ExpressionError):
        Expression(source)


def test_expressions_evaluate_on_numpy_and_torch():
    inputs = {"x": "_x_[..., 0]", "k": "_p_[..., 0]", "time": "_t_"}
    prog = compile_program(
        ["k*hill(x, 2, 3)", "piecewise(1, x > 2, 0)", "max(x, k, 2) if time > 1 else -1"],
        inputs=inputs,
    )
    x = np.array([[1.0], [3.0]])
    p = np.array([[2.0], [5.0]])
    got = prog(x, p, 2.0, namespace("numpy"))
    expected = [[2 * 1 / 10, 0, 2], [5 * 9 / 18, 1, 5]]
    np.testing.assert_allclose(got, expected)
    got_t = prog(torch.tensor(x), torch.tensor(p), 2.0, namespace("torch"))
    np.testing.assert_allclose(got_t.numpy(), expected)


def _net(**changes):
    kw = {
        "name": "t",
        "species": (Species("A", 5.0), Species("B", "b0")),
        "parameters": (Parameter("k", 2.0, "1/h"), Parameter("b0", 3.0), Parameter("nu", 2.0)),
        "reactions": (
            Reaction("dimer", {"A": 2}, {"B": 1}, "k", mass_action=True),
            Reaction("out", {"B": 1}, {"A": "nu"}, "k*B/(1 + B)"),
        ),
    }
    kw.update(changes)
    return ReactionNetwork(**kw)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"species": (Species("A"), Species("A"))}, "duplicated species"),
        ({"parameters": (Parameter("A", 1.0),)}, "both species and parameters"),
        (
            {"reactions": (Reaction("r", {"C": 1}, {}, "k", mass_action=True),)},
            "unknown species 'C'",
        ),
        ({"reactions": (Reaction("r", {"A": 1}, {}, "q", mass_action=True),)}, "not a parameter"),
        ({"reactions": (Reaction("r", {"A": 1}, {}, "q*A"),)}, "unknown symbols"),
        (
            {"parameters": (Parameter("k", -1.0), Parameter("b0", 1.0), Parameter("nu", 1.0))},
            "negative",
        ),
        ({"heterogeneity": {"zz": LogNormal(cv=0.1)}}, "unknown parameter 'zz'"),
        ({"stimulus": {"Q": 1.0}}, "stimulus names unknown species"),
        ({"system_size": 0.0}, "system_size"),
        ({"observables": {"o": {"Z": 1}}}, "unknown species 'Z'"),
    ],
)
def test_network_validation_errors(changes, match):
    with pytest.raises(ValueError, match=match):
        _net(**changes)


def test_with_parameters_and_lookup():
    net = _net()
    assert net.with_parameters(k=4.0).nominal["k"] == 4.0
    with pytest.raises(KeyError, match="its parameters are k, b0, nu"):
        net.with_parameters(kk=1.0)
    with pytest.raises(ValueError, match="finite"):
        net.with_parameters(k=math.nan)
    with pytest.raises(KeyError, match="no parameter 'z'"):
        net.parameter("z")
    with pytest.raises(ExpressionError):
        Event("e", "time >=", {"A": "0"})


def test_kinetics_stoichiometry_propensities_and_drift():
    net = _net()
    kin = net.kinetics
    p = kin.parameter_vector({"nu": np.array([1.0, 3.0])}, 2)
    x0 = kin.initial_state(p)
    np.testing.assert_allclose(x0, [[5.0, 3.0], [5.0, 3.0]])
    s = kin.stoichiometry(p)  # per cell: the coefficient nu is a parameter
    assert s.shape == (2, 2, 2) and not kin.stoichiometry_is_integer
    np.testing.assert_allclose(s[:, 1, 0], [1.0, 3.0])
    v = kin.rates(x0, p)
    np.testing.assert_allclose(v[0], [2 * 25, 2 * 3 / 4])
    f = kin.drift(x0, p)
    np.testing.assert_allclose(f[1], [-2 * v[1, 0] + 3 * v[1, 1], v[1, 0] - v[1, 1]])
    a = kin.propensities(np.array([[5.0, 3.0]]), p[:1])  # falling factorial n(n-1)
    np.testing.assert_allclose(a[0], [2 * 5 * 4, 2 * 3 / 4])
    at = kin.propensities(torch.tensor([[5.0, 3.0]]), torch.tensor(p[:1]))
    np.testing.assert_allclose(at.numpy(), a)


@pytest.mark.parametrize(
    ("dist", "nominal", "check"),
    [
        (
            LogNormal(cv=0.3),
            4.0,
            lambda v: (np.median(v) / 4, v.std() / v.mean()),
        ),
        (LogNormal(sigma=0.2, clip=(0.8, 1.2)), 1.0, lambda v: (v.min(), v.max())),
        (Uniform(2.0, 6.0), 0.0, lambda v: (v.mean(), v.var())),
        (LogUniform(0.1, 10.0), 0.0, lambda v: (np.log(v).mean(), np.log(v).var())),
        (
            LogitNormal.around(0.3, lo=0.0, hi=1.0, sigma=0.5),
            0.0,
            lambda v: (np.median(v), v.min()),
        ),
    ],
)
def test_distribution_statistics(dist, nominal, check):
    v = dist.sample(np.random.default_rng(0), 40_000, nominal)
    assert v.shape == (40_000,)
    expected = {
        LogNormal: None,
        Uniform: (4.0, 16 / 12),
        LogUniform: (0.0, (2 * math.log(10)) ** 2 / 12),
    }.get(type(dist))
    got = check(v)
    if isinstance(dist, LogNormal) and dist.clip is None:
        np.testing.assert_allclose(got, (1.0, 0.3), rtol=0.03)
    elif isinstance(dist, LogNormal):
        assert got[0] >= 0.8 and got[1] <= 1.2
    elif isinstance(dist, LogitNormal):
        assert got[0] == pytest.approx(0.3, abs=0.01) and got[1] > 0
    else:
        np.testing.assert_allclose(got, expected, rtol=0.03, atol=0.01)
    lo, hi = dist.bounds(nominal)
    assert np.all((v >= lo) & (v <= hi))


def test_distribution_argument_errors():
    with pytest.raises(ValueError, match="exactly one"):
        LogNormal()
    with pytest.raises(ValueError, match="lo < hi"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="0 < lo"):
        LogUniform(0.0, 1.0)
    with pytest.raises(ValueError, match="strictly inside"):
        LogitNormal.around(2.0, lo=0.0, hi=1.0)
    with pytest.raises(ValueError, match="at least one"):
        Grid(())
    with pytest.raises(TypeError, match="per group"):
        Grid((1.0,)).sample(np.random.default_rng(0), 3, 0.0)
