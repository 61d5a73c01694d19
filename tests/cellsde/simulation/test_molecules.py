"""SSA/tau on models in concentrations: converted to molecules through the volume, or refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import cellsde
from cellsde.errors import CellsdeError
from cellsde.simulation.molecules import AVOGADRO, counting_model
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species


def _birth_death(units="uM", volume=1e-15, x0=0.1, system_size=1.0):
    """SBML-style fluxes in amount/time: dA/dt = (k_in - k_out A V) / V, steady state 0.1."""
    return ReactionNetwork(
        name="bd", species=(Species("A", x0, units, volume),),
        parameters=(Parameter("kin", 0.1 * volume, "umol/h"), Parameter("kout", 1.0, "1/h"),
                    Parameter("V", volume, "L")),
        reactions=(Reaction("in", {}, {"A": 1}, "kin", mass_action=True),
                   Reaction("out", {"A": 1}, {}, "kout * A * V")),
        system_size=system_size,
    )  # fmt: skip


def test_molar_units_get_avogadro_times_the_scale():
    model = counting_model(_birth_death("uM"), "network", "ssa")
    assert model.system_size == pytest.approx(AVOGADRO * 1e-6)
    nano = _birth_death("nM", volume=1e-12)  # 0.1 nM in 1 pL: 60 molecules
    assert counting_model(nano, "network", "tau").system_size == pytest.approx(AVOGADRO * 1e-9)


def test_ode_and_counts_are_left_alone():
    m = _birth_death("uM")
    assert counting_model(m, "network", "ode") is m
    counts = _birth_death("molecules", volume=1.0, x0=10.0)
    assert counting_model(counts, "network", "ssa") is counts
    stated = _birth_death("concentration", system_size=6.022e17)
    assert counting_model(stated, "network", "ssa") is stated


def test_unknown_concentration_scale_is_refused_with_the_option():
    with pytest.raises(CellsdeError, match="--molecules-per-unit"):
        counting_model(_birth_death("concentration"), "network", "ssa")


def test_a_factor_that_rounds_everything_to_zero_is_refused():
    tiny = _birth_death("concentration", system_size=10.0)  # 0.1 * 1e-15 * 10 molecules
    with pytest.raises(CellsdeError, match="rounds to 0"):
        counting_model(tiny, "network", "ssa")


def test_ssa_mean_matches_the_ode_after_conversion():
    """0.1 uM in 1e-15 L = 60 molecules; the SSA mean stays near the ODE (oracle)."""
    model = _birth_death("uM")
    times = np.linspace(0.0, 2.0, 5)
    ssa = cellsde.simulate(model, times=times, n_cells=300, method="ssa", seed=3)
    ode = cellsde.simulate(model, times=times, n_cells=1, method="ode")
    mean = ssa["x"].values[:, :, 0].mean(0)
    assert mean.min() > 0  # not the silent zeros of an unconverted model
    np.testing.assert_allclose(mean, ode["x"].values[0, :, 0], rtol=0.05)


def test_goldbeter_under_ssa_is_refused_or_converted(shared_dir):
    pytest.importorskip("libsbml")
    from models_bio.sbml import read_sbml

    model = read_sbml(shared_dir / "data/goldbeter1995/BIOMD0000000016.xml")
    with pytest.raises(CellsdeError, match="unknown scale"):
        cellsde.simulate(model, times=[0.0, 1.0], n_cells=2, method="ssa")
    stated = dataclasses.replace(model, system_size=AVOGADRO * 1e-6)  # micromole, litre
    ds = cellsde.simulate(stated, times=[0.0, 1.0, 2.0], n_cells=20, method="ssa", seed=0)
    assert np.all(ds["x"].values[:, -1].mean(0) > 0)
