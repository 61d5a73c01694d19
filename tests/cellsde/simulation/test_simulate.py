"""simulate(): schema, reproducibility, theta handling, stimulus protocol, dispatch, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cellsde import simulate
from cellsde.datasets import schema as S
from cellsde.datasets import validate_dataset
from cellsde.errors import CellsdeError
from models_bio import Parameter, Reaction, ReactionNetwork, Species, vilar2002

T = np.linspace(0.0, 10.0, 11)


def test_vilar_dataset_follows_schema():
    ds = simulate("vilar2002", times=T, n_cells=4, seed=3)
    validate_dataset(ds)
    assert ds[S.X].dims == S.X_DIMS and ds[S.X].shape == (4, 11, 9)
    assert ds[S.THETA].dims == S.THETA_DIMS and ds.sizes[S.PARAM] == 10
    assert ds[S.TIME].attrs[S.ATTR_UNITS] == "h"
    assert ds.attrs[S.ATTR_METHOD] == "ode" and ds.attrs[S.ATTR_SEED] == 3
    assert ds.attrs[S.ATTR_MODEL] == "vilar2002" and ds.attrs[S.ATTR_TIME_UNITS] == "h"
    config = json.loads(ds.attrs[S.ATTR_CONFIG])
    assert config["n_cells"] == 4 and config["times"] == T.tolist()
    np.testing.assert_array_equal(ds[S.GROUP].values, 0)


def test_same_seed_identical_dataset():
    a = simulate("damped_oscillator", times=np.linspace(0, 1, 6), n_cells=25, seed=1)
    b = simulate("damped_oscillator", times=np.linspace(0, 1, 6), n_cells=25, seed=1)
    c = simulate("damped_oscillator", times=np.linspace(0, 1, 6), n_cells=25, seed=2)
    assert a.identical(b)
    assert not np.array_equal(a[S.X].values, c[S.X].values)
    assert a.attrs[S.ATTR_METHOD] == "sde" and a.sizes[S.PARAM] == 2
    np.testing.assert_array_equal(np.bincount(a[S.GROUP].values), np.ones(25))


def test_explicit_theta_mapping_array_and_groups():
    ds = simulate("vilar2002", times=T, theta={"deltaR": [0.05, 0.2]}, seed=0)
    assert ds.sizes["cell"] == 2 and list(ds[S.PARAM].values) == ["deltaR"]
    np.testing.assert_allclose(ds[S.THETA].values[:, 0], [0.05, 0.2])
    ds = simulate("vilar2002", times=T, theta={"deltaR": [0.1, 0.2]}, cells_per_group=3, seed=0)
    np.testing.assert_array_equal(ds[S.GROUP].values, [0, 0, 0, 1, 1, 1])
    full = np.tile(vilar2002().kinetics.parameter_vector(n=1), (2, 1))
    ds = simulate("vilar2002", times=T, theta=full, seed=0)
    assert ds.sizes[S.PARAM] == 15
    with pytest.raises(ValueError, match="theta array has shape"):
        simulate("vilar2002", times=T, theta=np.ones((2, 3)))


def test_params_override_and_no_heterogeneity():
    ds = simulate("vilar2002", times=T, n_cells=2, heterogeneity="none", params={"deltaR": 0.05})
    assert S.THETA not in ds
    config = json.loads(ds.attrs[S.ATTR_CONFIG])
    assert config["params"] == {"deltaR": 0.05}
    np.testing.assert_allclose(ds[S.X].values[0], ds[S.X].values[1])


def _stimulated():
    return ReactionNetwork(
        name="stim",
        species=(Species("X", 0.0), Species("L", 0.0), Species("Y", 0.0)),
        parameters=(Parameter("k", 4.0), Parameter("g", 2.0), Parameter("kb", 1.0)),
        reactions=(
            Reaction("birth", {}, {"X": 1}, "k", mass_action=True),
            Reaction("death", {"X": 1}, {}, "g", mass_action=True),
            Reaction("signal", {"X": 1, "L": 1}, {"X": 1, "L": 1, "Y": 1}, "kb", mass_action=True),
        ),
        stimulus={"L": 3.0},
        observables={"total": {"X": 1.0, "Y": 1.0}},
        time_units="min",
    )


def test_two_phase_stimulus_protocol():
    ds = simulate(_stimulated(), times=[0.0, 1.0], n_cells=2, seed=0)
    x = ds[S.X].values  # phase 1: X = k/g = 2 with L = 0 (no Y made); phase 2: L = 3
    np.testing.assert_allclose(x[:, 0], [[2.0, 3.0, 0.0]] * 2, rtol=1e-4)
    np.testing.assert_allclose(x[:, 1, 2], 2.0 * 3.0 * 1.0, rtol=1e-4)  # dY/dt = kb X L
    obs = simulate(_stimulated(), times=[0.0, 1.0], n_cells=1, observables=["total", "L"])
    np.testing.assert_allclose(obs[S.X].values[0, 1], [8.0, 3.0], rtol=1e-4)
    assert list(obs[S.SPECIES].values) == ["total", "L"]


def test_stochastic_dispatch():
    pytest.importorskip("cellsde.solvers.ssa")
    pytest.importorskip("cellsde.solvers.tau_leap")
    ds = simulate(_stimulated(), times=[0.0, 1.0, 2.0], n_cells=3, method="ssa", seed=4)
    assert ds.attrs[S.ATTR_METHOD] == "ssa" and ds[S.X].shape == (3, 3, 3)
    x = ds[S.X].values
    np.testing.assert_array_equal(x, np.round(x))
    tau = simulate(_stimulated(), times=[0.0, 1.0], n_cells=3, method="tau", seed=4)
    assert tau.attrs[S.ATTR_METHOD] == "tau"
    np.testing.assert_array_equal(tau[S.X].values, np.round(tau[S.X].values))
    cle = simulate(_stimulated(), times=[0.0, 1.0], n_cells=3, method="cle", seed=4, dt=0.01)
    assert cle.attrs[S.ATTR_METHOD] == "cle" and json.loads(cle.attrs[S.ATTR_CONFIG])["dt"] == 0.01


def test_lattice_dispatch():
    rpa = pytest.importorskip("models_bio.rpa_dna")
    pytest.importorskip("cellsde.solvers.lattice_ssa")
    ds = simulate(rpa.rpa_dna(length=60), times=[0.0, 1.0, 5.0], n_cells=3, seed=0)
    assert ds.attrs[S.ATTR_METHOD] == "lattice-ssa"
    assert list(ds[S.SPECIES].values) == ["c20", "c30"] and ds[S.X].shape == (3, 3, 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_cells": 0}, ValueError, "n_cells must be a positive int"),
        ({"n_cells": 2, "times": [0, 2, 1]}, ValueError, "strictly increasing"),
        ({"n_cells": 2, "times": [0, np.nan]}, ValueError, "finite"),
        ({"n_cells": 2, "method": "rk4"}, ValueError, "ode, ssa, tau, cle, sde"),
        ({"n_cells": 2, "method": "sde"}, CellsdeError, "use one of ode, ssa, tau, cle"),
        ({"n_cells": 2, "params": {"kx": 1.0}}, KeyError, "its parameters are gammaA"),
        ({"n_cells": 2, "params": {"deltaR": -0.1}}, ValueError, "negative"),
        ({}, ValueError, "give n_cells"),
        ({"n_cells": 3, "theta": {"deltaR": [0.1, 0.2]}}, ValueError, "n_cells=3"),
    ],
)
def test_validation(kwargs, error, match):
    kwargs = {"times": T, **kwargs}
    with pytest.raises(error, match=match):
        simulate("vilar2002", **kwargs)


def test_model_errors():
    with pytest.raises(KeyError, match=r"available models: .*vilar2002"):
        simulate("vilar1999", times=T, n_cells=1)
    with pytest.raises(CellsdeError, match="does not apply to a SDEModel"):
        simulate("damped_oscillator", times=T, n_cells=25, method="ssa")
    with pytest.raises(TypeError, match="model must be"):
        simulate(42, times=T, n_cells=1)
