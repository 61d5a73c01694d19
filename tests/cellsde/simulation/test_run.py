"""The Population request and the one run: built once, sliced for chunks, checked at the door."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from cellsde import simulate
from cellsde.errors import CellsdeError
from cellsde.simulation import Population, build_population, run
from cellsde.simulation.chunked import ChunkTask, run_chunk
from cellsde.simulation.kinds import model_parameters
from cellsde.simulation.run import solve
from models_bio import damped_oscillator, vilar2002

T = np.linspace(0.0, 2.0, 5)


def test_run_of_the_request_is_simulate():
    kw = {"times": T, "n_cells": 6, "seed": 4, "method": "tau", "observables": ["R", "A"]}
    pop = build_population("vilar2002", **kw)
    assert isinstance(pop, Population) and pop.kind == "network" and pop.method == "tau"
    assert pop.n_cells == 6 and pop.species == ("R", "A") and pop.dt is None
    xr.testing.assert_identical(run(pop), simulate("vilar2002", **kw))
    config = pop.config()
    assert config["observables"] == ["R", "A"] and config["theta_given"] is False
    assert json.loads(run(pop).attrs["config"]) == json.loads(json.dumps(config))


def test_cells_slice_theta_group_and_x0_with_their_own_seed():
    x0 = np.arange(50, dtype=float).reshape(25, 2)
    pop = build_population("damped_oscillator", times=T, n_cells=25, seed=1, x0=x0)
    assert pop.dt == pytest.approx(0.005)  # min(diff(times)) / 100 for a fixed-step method
    part = pop.cells(5, 10, seed=99)
    assert part.seed == 99 and part.n_cells == 5 and part.param_names == pop.param_names
    np.testing.assert_array_equal(part.theta, pop.theta[5:10])
    np.testing.assert_array_equal(part.group, pop.group[5:10])
    np.testing.assert_array_equal(part.x0, x0[5:10])
    # a chunk is one plain solve of its slice: same numbers as a plain run of those cells
    x = run_chunk(ChunkTask(1, 5, 10, part))
    np.testing.assert_array_equal(x, run(part).x.values)
    np.testing.assert_array_equal(solve(part), x)


def test_explicit_full_theta_and_nominal_fallback():
    osc = damped_oscillator()
    names, nominal, _ = model_parameters(osc)
    pop = build_population(osc, times=T, theta={names[0]: [1.0, 1.5]}, seed=0)
    assert pop.param_names == (names[0],) and pop.n_cells == 2
    assert pop.provenance["theta_given"] is True and names[1] in nominal


@pytest.mark.parametrize(
    ("model", "kwargs", "error", "match"),
    [
        ("vilar2002", {"x0": [1.0]}, CellsdeError, "x0= sets the initial state of an SDE"),
        ("damped_oscillator", {"x0": [1.0, 2.0, 3.0]}, ValueError, r"x0 has shape \(3,\)"),
        ("damped_oscillator", {"x0": np.zeros((3, 2))}, ValueError, r"\(cell, species\) = \(25"),
        ("vilar2002", {"observables": ["Q"]}, KeyError, r"unknown observable 'Q'; choose species"),
        ("damped_oscillator", {"observables": ["Q"]}, KeyError, "choose x1, x2"),
        ("vilar2002", {"seed": -1}, ValueError, "seed must be an int >= 0"),
        ("vilar2002", {"method": "lattice-ssa"}, CellsdeError, "does not apply"),
    ],
)
def test_bad_requests_fail_at_the_door(model, kwargs, error, match):
    with pytest.raises(error, match=match):
        build_population(model, times=T, n_cells=25, **kwargs)


def test_network_rate_constants_checked_for_every_method():
    net = vilar2002()
    with pytest.raises(CellsdeError, match=r"rate constant 'deltaR'.*negative"):
        simulate(net, times=T, theta={"deltaR": [-0.1, 0.2]}, method="cle")


def test_every_kind_of_the_method_table_has_an_adapter():
    from cellsde.simulation.adapters import ADAPTERS
    from cellsde.solvers import METHODS
    from cellsde.solvers.methods import KINDS

    assert tuple(ADAPTERS) == KINDS == tuple(dict.fromkeys(m.kind for m in METHODS.values()))
