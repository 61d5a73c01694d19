"""The ESDIRK population integrator (TR-BDF2, ESDIRK4), its discrete adjoint and sensitivities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from cellsde.errors import CellsdeError
from cellsde.solvers.esdirk import Options, System, integrate
from cellsde.solvers.esdirk_adjoint import adjoint, sensitivities
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species
from models_bio.sparse_kinetics import SparseKinetics


def robertson() -> ReactionNetwork:
    """Robertson's stiff chemical kinetics (Hairer & Wanner's test problem)."""
    return ReactionNetwork(
        name="robertson",
        species=(Species("A", 1.0), Species("B", 0.0), Species("C", 0.0)),
        parameters=(Parameter("k1", 0.04), Parameter("k2", 3e7), Parameter("k3", 1e4)),
        reactions=(
            Reaction("r1", {"A": 1}, {"B": 1}, "k1*A"),
            Reaction("r2", {"B": 2}, {"B": 1, "C": 1}, "k2*B**2"),
            Reaction("r3", {"B": 1, "C": 1}, {"A": 1, "C": 1}, "k3*B*C"),
        ),
        time_units="s",
    )


def _cells(net, n, seed=0):
    rng = np.random.default_rng(seed)
    p = net.kinetics.parameter_vector(None, n).T * np.exp(0.2 * rng.standard_normal((3, n)))
    return net.kinetics.initial_state(p.T).T, p


@pytest.mark.parametrize("method", ["TRBDF2", "ESDIRK4"])
def test_robertson_matches_scipy_radau_for_every_cell(method: str) -> None:
    net = robertson()
    x0, p = _cells(net, 4)
    times = np.array([0.0, 0.4, 4.0, 40.0, 400.0])
    opts = Options(rtol=1e-7, atol=1e-12, method=method)
    out, _ = integrate(System(SparseKinetics(net)), x0, p, times, options=opts)
    for c in range(4):

        def f(_t, y, c=c):
            return net.kinetics.drift(y[None], p[:, c][None])[0]

        ref = solve_ivp(
            f, (0, 400), x0[:, c], method="Radau", t_eval=times, rtol=1e-11, atol=1e-15
        ).y
        np.testing.assert_allclose(out[:, :, c], ref.T, rtol=2e-5, atol=1e-10)
    np.testing.assert_array_equal(out[0], x0)


def test_linear_decay_meets_the_tolerance_and_loose_is_cheaper() -> None:
    net = ReactionNetwork(
        name="decay", species=(Species("A", 1.0),), parameters=(Parameter("k", 1.0),),
        reactions=(Reaction("d", {"A": 1}, {}, "k*A"),), time_units="s",
    )  # fmt: skip
    k = np.array([[0.1, 1.0, 30.0]])
    x0 = np.ones((1, 3))
    times = np.linspace(0.0, 5.0, 11)
    system = System(SparseKinetics(net))
    steps, errors = [], []
    exact = np.exp(-k[0][None] * times[:, None])
    for rtol in (1e-4, 1e-7):
        out, rec = integrate(
            system, x0, k, times, options=Options(rtol=rtol, atol=1e-12), record=True
        )
        errors.append(np.max(np.abs(out[:, 0] - exact)))
        steps.append(rec.steps)
    # local error control: the global error is a modest multiple of rtol and falls with it
    assert errors[0] < 100 * 1e-4 and errors[1] < 100 * 1e-7
    assert steps[0] < steps[1]


def _loss(out):
    return float(np.sum(np.sin(out[1:]) * np.arange(1, out.shape[0])[:, None, None]))


def _grad_out(out):
    g = np.cos(out) * np.arange(out.shape[0])[:, None, None]
    g[0] = 0.0
    return g


@pytest.mark.parametrize("method", ["TRBDF2", "ESDIRK4"])
def test_adjoint_equals_finite_differences_and_sensitivities(method: str) -> None:
    net = robertson()
    x0, p = _cells(net, 2, seed=1)
    times = np.array([0.0, 0.1, 0.5])
    opts = Options(rtol=1e-9, atol=1e-14, newton_tol=1e-4, method=method)
    system = System(SparseKinetics(net, params=("k1", "k3")))
    out, rec = integrate(system, x0, p, times, options=opts, record=True)
    _gx0, gp = adjoint(system, rec, p, _grad_out(out))
    for q, k in enumerate((0, 2)):
        h = 1e-6 * p[k]
        up, down = p.copy(), p.copy()
        up[k] += h
        down[k] -= h
        fd = []
        for c in range(2):
            mask = np.zeros(2)
            mask[c] = 1.0
            lp = _loss(
                integrate(system, x0, p + (up - p) * mask, times, options=opts)[0][..., c : c + 1]
            )
            lm = _loss(
                integrate(system, x0, p + (down - p) * mask, times, options=opts)[0][..., c : c + 1]
            )
            fd.append((lp - lm) / (2 * h[c]))
        np.testing.assert_allclose(gp[q], fd, rtol=1e-5)
    s0 = np.zeros((3, 2, 2))  # x0 does not depend on k1, k3
    sens = sensitivities(system, rec, p, s0)  # (time, species, cell, param)
    np.testing.assert_allclose(np.einsum("tsc,tscq->qc", _grad_out(out), sens), gp, rtol=1e-9)


def test_bad_options_and_underflow() -> None:
    with pytest.raises(ValueError, match="rtol"):
        Options(rtol=0.0)
    with pytest.raises(ValueError, match="h0"):
        Options(h0=-1.0)
    with pytest.raises(ValueError, match="unknown ESDIRK method 'RK4'"):
        Options(method="RK4")
    net = robertson()
    x0, p = _cells(net, 1)
    with pytest.raises(CellsdeError, match="max_steps"):
        integrate(
            System(SparseKinetics(net)), x0, p, np.array([0.0, 1e5]), options=Options(max_steps=3)
        )
