"""``ode(method="TRBDF2" / "ESDIRK4")``: scipy oracles, order of convergence, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from cellsde.errors import CellsdeError
from cellsde.simulation import sample_theta
from cellsde.solvers.esdirk import Options, System, integrate
from cellsde.solvers.ode import ode, steady_state, stimulated_start
from cellsde.solvers.ode_esdirk import esdirk_ode
from models_bio import Event, Parameter, Reaction, ReactionNetwork, Species
from models_bio.sparse_kinetics import SparseKinetics


def _cycle() -> ReactionNetwork:
    """A -> B -> C -> A at rate k: linear, eigenvalues 0 and -3k/2 +- i sqrt(3) k / 2."""
    names = ("A", "B", "C")
    return ReactionNetwork(
        name="cycle",
        species=(Species("A", 1.0), Species("B", 0.0), Species("C", 0.0)),
        parameters=(Parameter("k", 1.0),),
        reactions=tuple(
            Reaction(f"r{i}", {a: 1}, {b: 1}, f"k*{a}")
            for i, (a, b) in enumerate(zip(names, names[1:] + names[:1], strict=True))
        ),
        time_units="s",
    )


def _fixed_step_error(method: str, h: float) -> float:
    """Largest error at t = 4 of fixed steps ``h`` (steps land on outputs; loose control)."""
    net = _cycle()
    k = np.array([[1.0, 2.0]])  # (parameter, cell)
    x0 = np.array([[1.0, 0.3], [0.0, 0.5], [0.0, 0.2]])  # (species, cell)
    times = np.arange(0.0, 4.0 + 1e-12, h)
    # rtol 1e3: every step is accepted, so the steps are the output spacing; the problem is
    # linear and the Jacobian exact, so one Newton iteration solves each stage exactly
    opts = Options(rtol=1e3, atol=1e3, h0=h, method=method)
    out, rec = integrate(System(SparseKinetics(net)), x0, k, times, options=opts, record=True)
    assert np.allclose(np.concatenate(rec.h), h)
    a = np.array([[-1.0, 0.0, 1.0], [1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])  # dx/dt = k a x
    exact = np.stack([expm(4.0 * k[0, c] * a) @ x0[:, c] for c in range(2)], axis=1)
    return float(np.max(np.abs(out[-1] - exact)))


@pytest.mark.parametrize(("method", "order"), [("TRBDF2", 2), ("ESDIRK4", 4)])
def test_fixed_step_order_of_convergence_on_a_linear_system(method: str, order: int) -> None:
    errors = [_fixed_step_error(method, h) for h in (0.2, 0.1, 0.05)]
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    np.testing.assert_allclose(rates, order, atol=0.25)


def test_adaptive_error_scales_as_rtol_to_order_over_estimate_order_plus_one() -> None:
    # error per step ~ rtol and steps ~ rtol**(-1/(q+1)) give a global error ~ rtol**(p/(q+1)):
    # 4/4 for ESDIRK4 (local extrapolation of its third-order estimate), 2/3 for TR-BDF2
    net = _cycle()
    p = net.kinetics.parameter_vector({"k": np.array([0.5, 1.0, 3.0])}, 3)  # (cell, param)
    x0 = net.kinetics.initial_state(p)
    times = np.linspace(0.0, 5.0, 11)
    a = np.array([[-1.0, 0.0, 1.0], [1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    exact = np.stack([[expm(t * k * a) @ x0[c] for t in times] for c, k in enumerate(p[:, 0])])
    rtols = np.array([1e-4, 1e-5, 1e-6, 1e-7, 1e-8])
    errors = {}
    for method in ("ESDIRK4", "TRBDF2"):
        errors[method] = np.array([
            np.max(np.abs(ode(net, x0=x0, params=p, times=times, method=method, rtol=r,
                              atol=1e-14) - exact))
            for r in rtols
        ])  # fmt: skip
    slope = {m: np.polyfit(np.log10(rtols), np.log10(e), 1)[0] for m, e in errors.items()}
    assert 0.8 < slope["ESDIRK4"] < 1.1
    assert 0.55 < slope["TRBDF2"] < 0.8
    assert np.all(errors["ESDIRK4"] < 10 * rtols)
    assert errors["ESDIRK4"][2] < errors["TRBDF2"][2] / 5  # at rtol 1e-6


@pytest.fixture(scope="module")
def guo_cells():
    """Two heterogeneous Guo 2024 cells at their basal steady states, TNF 10 ng/mL added."""
    nfkb = pytest.importorskip("models_bio.nfkb.guo2024")
    net = nfkb.guo2024(ligand="TNF", dose=10.0)
    theta, cols, _ = sample_theta(net, n_cells=2, seed=3)  # (cell, param)
    kin = net.kinetics
    p = kin.parameter_vector({q: theta[:, j] for j, q in enumerate(cols)}, 2)
    x0 = stimulated_start(net, x0=kin.initial_state(p), params=p, method="TRBDF2", rtol=1e-10,
                          atol=1e-14)  # fmt: skip
    return net, x0, p


@pytest.mark.parametrize(
    ("method", "rtol", "bound"), [("ESDIRK4", 1e-9, 2e-8), ("TRBDF2", 1e-7, 2e-5)]
)
def test_guo2024_matches_scipy_solve_ivp_at_tight_tolerance(method, rtol, bound, guo_cells):
    net, x0, p = guo_cells
    times = np.linspace(0.0, 30.0, 7)  # minutes after TNF
    out = ode(net, x0=x0, params=p, times=times, method=method, rtol=rtol, atol=1e-14)
    for c in range(2):

        def f(t, y, c=c):
            return net.kinetics.drift(y[None], p[c][None], t)[0]

        ref = solve_ivp(f, (0.0, 30.0), x0[c], method="BDF", t_eval=times, rtol=1e-12,
                        atol=1e-16).y.T  # fmt: skip
        scale = np.abs(ref).max(axis=0) + 1e-9  # per species
        assert np.max(np.abs(out[c] - ref) / scale) < bound


def test_bad_inputs() -> None:
    net = _cycle()
    p = net.kinetics.parameter_vector(None, 1)
    x0 = net.kinetics.initial_state(p)
    times = np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="unknown ODE method 'ESDIRK5'"):
        ode(net, x0=x0, params=p, times=times, method="ESDIRK5")
    with pytest.raises(ValueError, match="unknown ESDIRK method 'RK45'"):
        esdirk_ode(net, x0, p, times, method="RK45", rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="rtol and atol must be > 0"):
        ode(net, x0=x0, params=p, times=times, method="ESDIRK4", rtol=0.0)
    with pytest.raises(ValueError, match="x0 has shape"):
        ode(net, x0=x0[:, :2], params=p, times=times, method="ESDIRK4")
    with pytest.raises(ValueError, match="hold names unknown species"):
        ode(net, x0=x0, params=p, times=times, method="ESDIRK4", hold=("D",))
    timed = ReactionNetwork(
        name="timed", species=net.species, parameters=net.parameters, reactions=net.reactions,
        events=(Event("kick", "time >= 0.5", {"A": "1"}),), time_units="s",
    )  # fmt: skip
    for call in (ode, steady_state):
        kw = {"times": times} if call is ode else {}
        with pytest.raises(CellsdeError, match="method 'ESDIRK4' does not handle events"):
            call(timed, x0=x0, params=p, method="ESDIRK4", **kw)
