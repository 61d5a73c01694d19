"""SBML distrib draws (models_bio.distrib): sample moments against the analytic ones, exact
truncation, the draws inside compiled expressions, and bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models_bio.distrib import Draw, draw
from models_bio.expressions import ExpressionError, compile_program, namespace, parse

N = 200_000


@pytest.mark.parametrize(
    ("name", "args", "mean", "var"),
    [
        ("normal", (2.0, 3.0), 2.0, 9.0),
        ("uniform", (1.0, 4.0), 2.5, 0.75),
        ("lognormal", (0.1, 0.4), math.exp(0.1 + 0.08), (math.exp(0.16) - 1) * math.exp(0.36)),
        ("exponential", (2.0,), 0.5, 0.25),
        ("gamma", (3.0, 2.0), 6.0, 12.0),
        ("chisquare", (4.0,), 4.0, 8.0),
        ("laplace", (1.0, 2.0), 1.0, 8.0),
        ("rayleigh", (2.0,), 2 * math.sqrt(math.pi / 2), (4 - math.pi) / 2 * 4),
        ("poisson", (7.0,), 7.0, 7.0),
        ("binomial", (20.0, 0.3), 6.0, 4.2),
        ("bernoulli", (0.23,), 0.23, 0.23 * 0.77),
    ],
)
def test_moments(name, args, mean, var):
    x = draw(np.random.default_rng(1), name, args, (N,))
    se = math.sqrt(var / N)
    assert abs(x.mean() - mean) < 5 * se
    assert x.var() == pytest.approx(var, rel=0.05)
    assert Draw(name, args).mean == pytest.approx(mean)


def test_truncation_is_exact_and_cauchy_has_a_location():
    x = draw(np.random.default_rng(2), "normal", (0.0, 1.0, 0.5, math.inf), (N,))
    phi = math.exp(-0.125) / math.sqrt(2 * math.pi)
    tail = 0.5 * math.erfc(0.5 / math.sqrt(2))
    assert x.min() >= 0.5 and x.mean() == pytest.approx(phi / tail, rel=0.01)
    c = draw(np.random.default_rng(3), "cauchy", (1.0, 0.5), (N,))
    assert np.median(c) == pytest.approx(1.0, abs=0.01) and Draw("cauchy", (1.0, 0.5)).mean == 1
    assert Draw("normal", (0, 1, -1, 2)).bounds(0.0) == (-1.0, 2.0)


def test_draws_in_compiled_expressions_are_per_cell_and_need_a_generator():
    fn = compile_program(["x + normal(0, 1)", "uniform(x, x + 1)"], inputs={"x": "_x_[..., 0]"})
    x = np.full((5000, 1), 10.0)
    out = fn(x, None, 0.0, namespace("numpy", rng=np.random.default_rng(4)))
    assert out.shape == (5000, 2) and out[:, 0].std() == pytest.approx(1.0, rel=0.05)
    assert np.all((out[:, 1] >= 10) & (out[:, 1] <= 11))
    with pytest.raises(ExpressionError, match="normal\\(\\) draws random numbers"):
        fn(x, None, 0.0, namespace("numpy"))


def test_bad_draws_raise():
    with pytest.raises(ExpressionError, match="normal\\(\\) takes 2 or 4 arguments, got 3"):
        parse("normal(0, 1, 2)")
    with pytest.raises(ValueError, match="unknown distribution 'weibull'"):
        Draw("weibull", (1.0,))
    with pytest.raises(ValueError, match="no draw inside the bounds"):
        draw(np.random.default_rng(0), "normal", (0.0, 1.0, 50.0, 51.0), (3,))
