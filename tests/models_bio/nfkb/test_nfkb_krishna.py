"""Krishna 2006 NF-kB oscillator: equations, fixed points, stability and limit-cycle oracles.

Oracles from models.md section 5 ([C], Radau rtol 1e-11). scipy integrates
``network.kinetics.drift`` directly.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import fsolve
from scipy.signal import find_peaks

import models_bio
from models_bio.heterogeneity import Grid, LogNormal
from models_bio.nfkb.krishna import krishna2006

# A point close to the standard-set limit cycle (end of a t' = 200 Radau rtol 1e-11 run from
# (0, 0, 0)); the approach to the cycle is slow, so the period test starts here.
NEAR_CYCLE = (0.00155211, 0.05703647, 0.01205879)


def rhs(network, **overrides):
    kin = network.kinetics
    p = kin.parameter_vector({k: np.array([v]) for k, v in overrides.items()})
    return lambda t, y: kin.drift(np.asarray(y)[None, :], p)[0]


def jacobian(f, x: np.ndarray) -> np.ndarray:
    """Central finite differences of f at x, shape (species, species)."""
    J = np.zeros((x.size, x.size))
    for j in range(x.size):
        h = 1e-7 * max(abs(x[j]), 1e-3)
        e = np.zeros(x.size)
        e[j] = h
        J[:, j] = (np.asarray(f(0.0, x + e)) - np.asarray(f(0.0, x - e))) / (2 * h)
    return J


def test_reduced_structure_and_equations():
    net = krishna2006()
    assert net.species_names == ("n", "m", "i") and net.time_units == "dimensionless"
    assert net.nominal == {"A": 0.007, "B": 954.5, "C": 0.035, "delta": 0.029, "epsilon": 2e-5}
    x = np.array([[0.3, 0.05, 0.01], [0.1, 0.2, 0.002]])
    f = net.kinetics.drift(x, net.kinetics.parameter_vector(n=2))
    n, m, i = x.T
    A, B, C, d, e = 0.007, 954.5, 0.035, 0.029, 2e-5
    want = np.stack(
        [A * (1 - n) / (e + i) - B * i * n / (d + n), n**2 - m, m - C * (1 - n) * i / (e + i)], -1
    )
    np.testing.assert_allclose(f, want, rtol=1e-12)
    assert net.observables["nfkb_nuclear"] == {"n": 1.0}


def test_full_structure_and_equations():
    net = krishna2006(form="full")
    assert net.species_names == ("Nn", "Im", "I", "N", "NI", "In", "NIn")
    assert net.time_units == "min" and net.nominal["IKK"] == 0.5
    x0 = net.kinetics.initial_state(net.kinetics.parameter_vector())[0]
    np.testing.assert_array_equal(x0, [0, 0, 0, 0, 1.0, 0, 0])
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 7)
    Nn, Im, I, N, NI, In, NIn = x
    q = net.nominal
    a = 1.05 * 0.5
    want = [
        q["kNin"] * N - q["kfn"] * Nn * In + q["kbn"] * NIn,
        q["kt"] * Nn**2 - q["gamma_m"] * Im,
        q["ktl"] * Im - q["kf"] * N * I + q["kb"] * NI - q["kIin"] * I + q["kIout"] * In,
        -q["kf"] * N * I + (q["kb"] + a) * NI - q["kNin"] * N,
        q["kf"] * N * I - (q["kb"] + a) * NI + q["kNIout"] * NIn,
        q["kIin"] * I - q["kIout"] * In - q["kfn"] * Nn * In + q["kbn"] * NIn,
        q["kfn"] * Nn * In - (q["kbn"] + q["kNIout"]) * NIn,
    ]
    np.testing.assert_allclose(rhs(net)(0.0, x), want, rtol=1e-12)


def test_heterogeneity_and_stimulus_levels():
    net = krishna2006(stimulus_levels=(0.01, 0.035, 0.1, 0.2))
    assert net.heterogeneity["A"] == LogNormal(sigma=0.25)
    assert set(net.heterogeneity) == {"A", "B", "delta", "C"}
    assert net.heterogeneity["C"] == Grid((0.01, 0.035, 0.1, 0.2))
    full = krishna2006(form="full", heterogeneity="none", stimulus_levels=(0.1, 0.5))
    assert set(full.heterogeneity) == {"IKK"}
    with pytest.raises(ValueError, match="form must be 'reduced' or 'full'"):
        krishna2006(form="tiny")
    with pytest.raises(ValueError, match="heterogeneity must be"):
        krishna2006(heterogeneity="lognormal")
    assert models_bio.get("krishna2006", form="full").name == "krishna2006"


@pytest.mark.parametrize(
    ("C", "fixed", "max_re"),
    [(0.035, (0.16982, 0.028839, 0.002660), 1.10), (0.2, None, -0.22)],
)
def test_fixed_point_and_stability(C, fixed, max_re):
    f = rhs(krishna2006(), C=C)
    x = fsolve(lambda y: f(0.0, y), [0.1, 0.01, 0.001], xtol=1e-13)
    assert np.max(np.abs(f(0.0, x))) < 1e-10 and np.all(x > 0)
    if fixed is not None:
        np.testing.assert_allclose(x, fixed, rtol=1e-4)
    lam = np.linalg.eigvals(jacobian(f, x)).real.max()
    assert np.sign(lam) == np.sign(max_re) and lam == pytest.approx(max_re, abs=0.01)


@pytest.mark.parametrize("C", [0.01, 0.1])
def test_unstable_over_the_oscillating_range(C):
    f = rhs(krishna2006(), C=C)
    x = fsolve(lambda y: f(0.0, y), [0.1, 0.01, 0.001], xtol=1e-13)
    assert np.max(np.abs(f(0.0, x))) < 1e-10
    assert np.linalg.eigvals(jacobian(f, x)).real.max() > 0


@pytest.mark.slow
def test_reduced_limit_cycle_period_and_amplitude():
    f = rhs(krishna2006())
    sol = solve_ivp(
        f, (0.0, 9.0), NEAR_CYCLE, method="Radau", rtol=1e-10, atol=1e-13, dense_output=True
    )
    assert sol.success
    t = np.linspace(0.0, 9.0, 900001)
    n, m, i = sol.sol(t)  # each (time,)
    peaks, _ = find_peaks(n, prominence=0.1)
    assert len(peaks) >= 4
    period = np.diff(t[peaks])[-2:].mean()
    assert period == pytest.approx(2.0811, abs=0.002)
    assert period / 0.017 == pytest.approx(122.4, rel=0.002)  # minutes
    assert n.max() == pytest.approx(0.6272, abs=0.005)
    assert m.min() == pytest.approx(0.0117, rel=0.01) and m.max() == pytest.approx(0.0670, rel=0.01)
    assert i.max() == pytest.approx(0.01704, rel=0.01)
    last = t >= t[peaks[-3]]
    thr = (n.max() + n.min()) / 2
    frac = np.mean(n[last][t[last] < t[peaks[-1]]] > thr)
    assert frac == pytest.approx(0.107, abs=0.005)


@pytest.mark.slow
def test_full_model_period_at_ikk_half_uM():
    net = krishna2006(form="full")
    x0 = net.kinetics.initial_state(net.kinetics.parameter_vector())[0]
    sol = solve_ivp(
        rhs(net), (0.0, 1500.0), x0, method="LSODA", rtol=1e-9, atol=1e-12, dense_output=True
    )
    assert sol.success
    t = np.linspace(0.0, 1500.0, 150001)
    nn = sol.sol(t)[0]  # (time,)
    peaks, _ = find_peaks(nn, prominence=1e-3)
    assert t[peaks[0]] == pytest.approx(5.6, rel=0.01)
    assert np.diff(t[peaks])[-2:].mean() == pytest.approx(155.0, rel=0.01)
    assert nn[t > 700].max() == pytest.approx(0.72, rel=0.01)
