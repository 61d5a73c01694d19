"""Chemical Langevin solver: large-copy-number limit, stationary variance, seeds, clamping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cellsde.solvers.cle import cle, step_counts
from cellsde.solvers.ode import ode
from models_bio import Event, Parameter, Reaction, ReactionNetwork, Species


def _birth_death(omega=100.0, k=10.0, g=1.0, x_init=0.0, events=()):
    return ReactionNetwork(
        name="birth_death",
        species=(Species("X", x_init, "uM"),),
        parameters=(Parameter("k", k, "uM/h"), Parameter("g", g, "1/h")),
        reactions=(
            Reaction("birth", {}, {"X": 1}, "k", mass_action=True),
            Reaction("death", {"X": 1}, {}, "g", mass_action=True),
        ),
        system_size=omega,
        events=events,
        time_units="h",
    )


def _run(net, n, times, dt=0.01, seed=0):
    p = net.kinetics.parameter_vector(n=n)
    x0 = net.kinetics.initial_state(p)
    return cle(net, x0=x0, params=p, times=times, dt=dt, seed=seed), x0, p


def test_mean_matches_ode_and_variance_matches_linear_noise():
    # k/g = 10 state units, Omega = 100 -> ~1000 molecules: the CLE is accurate here.
    net = _birth_death()
    t = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    x, x0, p = _run(net, 3000, t, dt=2e-3)  # (cell, time, species); Euler bias < 4e-3
    det = ode(net, x0=x0[:1], params=p[:1], times=t, rtol=1e-10)[0, :, 0]
    mean, sd = x[..., 0].mean(0), x[..., 0].std(0, ddof=1)
    assert np.all(np.abs(mean - det) <= 4 * sd / np.sqrt(x.shape[0]) + 1e-12)
    # stationary: counts are Poisson(k Omega / g) -> Var[x] = k / (g Omega) = 0.1
    assert sd[-1] ** 2 == pytest.approx(0.1, rel=0.1)


def test_noise_shrinks_with_system_size():
    t = np.array([0.0, 5.0])
    sds = [_run(_birth_death(omega=w, x_init=10.0), 2000, t)[0][:, -1, 0].std() for w in (10, 1000)]
    assert sds[0] / sds[1] == pytest.approx(10.0, rel=0.15)  # 1/sqrt(Omega)


def test_seed_reproducible_and_lands_on_grid():
    net = _birth_death()
    t = np.array([0.0, 0.013, 0.5])
    a, _, _ = _run(net, 10, t, seed=7)
    b, _, _ = _run(net, 10, t, seed=7)
    c, _, _ = _run(net, 10, t, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(step_counts(t, 0.01), [2, 49])


def test_clamps_at_zero():
    net = _birth_death(omega=1.0, k=0.5, g=2.0)
    x, _, _ = _run(net, 500, np.linspace(0, 5, 11), dt=0.05)
    assert np.all(x >= 0) and np.all(np.isfinite(x))
    assert np.any(x == 0)


def test_event_resets_and_bad_dt_is_rejected():
    net = _birth_death(events=(Event("e", "time >= 1", {"X": "0"}),))
    assert np.all(_run(net, 2, [0.0, 1.0])[0][:, 1] == 0.0)  # fires at the output time 1
    with pytest.raises(ValueError, match="dt must be"):
        _run(_birth_death(), 2, [0.0, 1.0], dt=0.0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda():
    net = _birth_death(x_init=10.0)
    p = net.kinetics.parameter_vector(n=1000)
    x = cle(
        net,
        x0=net.kinetics.initial_state(p),
        params=p,
        times=[0.0, 2.0],
        dt=0.01,
        seed=0,
        device="cuda",
    )
    assert x.shape == (1000, 2, 1) and abs(x[:, -1, 0].mean() - 10.0) < 0.05
