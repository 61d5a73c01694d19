"""The SBML Test Suite's odd-numbered cases as an outside judge (benchmarks/sbml_test_suite.py).

Every semantic case must pass or be refused with one clean line naming an unsupported feature;
a wrong number or any other exception fails the test. The fast test runs a representative subset (every
tenth semantic case, and DSMTS/distrib cases with and without events at 2,000 runs); the slow
one runs every semantic case, and every stochastic case at the suite's 10,000 runs (at least
90 % must pass: the acceptance target). Stochastic failures are re-run once with another seed,
as the suite's README prescribes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("libsbml")
import sbml_test_suite as suite

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sbml-test-suite"
if not SUITE.is_dir():
    pytest.skip(f"SBML Test Suite not found at {SUITE}", allow_module_level=True)

# What cellsde refuses, by design (docs/sbml-support.md): nothing else may be refused.
REFUSED = ("delay() function", "package 'fbc'")


def _judge(cases, runs: int) -> list[str]:
    bad = []
    for case in cases:
        out = suite.run(case, suite.ours, runs, seed=1)
        refused_ok = out.status == "refused" and any(r in out.detail for r in REFUSED)
        if out.status != "pass" and not refused_ok:
            bad.append(f"{case.kind} {case.number}: {out.status}: {out.detail}")
    return bad


def test_semantic_subset_passes_or_is_refused_by_design():
    cases = suite.cases(SUITE, "semantic")[::10]
    assert len(cases) > 80
    assert _judge(cases, runs=1) == []


def test_stochastic_cases_with_and_without_events_pass():
    # birth-death, dimerisation with a state event, a time event, draws on a clock
    cases = suite.cases(SUITE, "stochastic", ["1", "29", "33", "41", "93"])
    assert _judge(cases, runs=2000) == []


def test_refusals_and_crashes_are_one_line_errors():
    # fbc (a flux balance model) and a delay differential equation are refused, not crashed
    for number in ("1187", "937"):
        (case,) = suite.cases(SUITE, "semantic", [number])
        out = suite.ours(case)
        assert out.status == "refused" and "\n" not in out.detail


@pytest.mark.slow
def test_every_semantic_case():
    assert _judge(suite.cases(SUITE, "semantic"), runs=1) == []


@pytest.mark.slow
def test_every_stochastic_case_runs_and_at_least_90_percent_pass():
    # Not all: the suite's Y test assumes a light-tailed sample variance, which heavy-tailed
    # cases (extinction, Laplace draws) break for many seeds (docs/sbml-support.md).
    cases = suite.cases(SUITE, "stochastic")
    bad = _judge(cases, runs=10_000)
    assert [b for b in bad if ": fail: " not in b] == []  # no refusal, no crash
    assert len(bad) <= 0.1 * len(cases), bad


def test_a_case_without_sd_is_judged_by_its_median():
    # Cauchy draws: no mean, so the suite gives the median (location) and no sd
    x = np.random.default_rng(0).standard_cauchy((10_000, 2)) + 1.0  # (run, time)
    case = suite.Case(
        "0", "stochastic", Path("m.xml"),
        {"duration": "1", "steps": "1", "variables": "X", "meanRange": "(-3, 3)"}, (),
        {"time": np.array([0.0, 1.0]), "X-mean": np.array([1.0, 1.0])},
    )  # fmt: skip
    assert suite.stochastic_verdict(case, {"X": x}).status == "pass"
    case.expected["X-mean"][1] = 1.1  # 0.1 off: ~6 standard errors of the median
    assert suite.stochastic_verdict(case, {"X": x}).status == "fail"
