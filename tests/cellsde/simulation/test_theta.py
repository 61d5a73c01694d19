"""sample_theta: declared distributions, grids, seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.errors import CellsdeError
from cellsde.simulation import sample_theta
from models_bio import Grid, LogNormal, Uniform, damped_oscillator, vilar2002


def test_vilar_default_columns_and_statistics():
    net = vilar2002()
    theta, names, group = sample_theta(net, n_cells=20_000, seed=0)
    assert names == tuple(q for q in net.parameter_names if q in net.heterogeneity)
    assert theta.shape == (20_000, 10) and np.all(group == 0)
    beta_a = theta[:, names.index("betaA")]
    assert np.median(beta_a) == pytest.approx(50.0, rel=0.01)
    assert np.log(beta_a).std() == pytest.approx(0.15, rel=0.03)
    dr = theta[:, names.index("deltaR")]
    assert dr.min() >= 0.1 and dr.max() <= 0.3
    # log-uniform: log(deltaR) uniform on [log 0.1, log 0.3]
    assert np.log(dr).mean() == pytest.approx(np.log(0.3 * 0.1) / 2, abs=0.01)


def test_same_seed_same_table_and_independent_columns():
    net = vilar2002()
    a = sample_theta(net, n_cells=500, seed=5)[0]
    b = sample_theta(net, n_cells=500, seed=5)[0]
    c = sample_theta(net, n_cells=500, seed=6)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    corr = np.corrcoef(np.log(a).T)
    assert np.abs(corr - np.eye(corr.shape[0])).max() < 0.2


def test_grid_cartesian_product_split_evenly():
    theta, names, group = sample_theta(damped_oscillator(), n_cells=100, seed=0)
    assert names == ("omega1", "omega2") and theta.shape == (100, 2)
    np.testing.assert_array_equal(np.bincount(group), np.full(25, 4))
    pts = {tuple(r) for r in theta}
    assert len(pts) == 25
    np.testing.assert_array_equal(theta[:4], [[-1, -1]] * 4)
    np.testing.assert_array_equal(theta[4], [-1, -0.5])  # last parameter fastest
    for g in range(25):
        assert len({tuple(r) for r in theta[group == g]}) == 1


def test_cells_per_group_and_errors():
    model = damped_oscillator()
    theta, _, group = sample_theta(model, n_cells=None, cells_per_group=2, seed=0)
    assert theta.shape == (50, 2) and group[-1] == 24
    with pytest.raises(CellsdeError, match="not a multiple of the 25 grid points"):
        sample_theta(model, n_cells=30, seed=0)
    with pytest.raises(CellsdeError, match="cells_per_group"):
        sample_theta(model, n_cells=30, cells_per_group=2, seed=0)
    with pytest.raises(KeyError, match="omega1"):
        sample_theta(model, n_cells=5, seed=0, heterogeneity={"nope": Uniform(0, 1)})
    with pytest.raises(ValueError, match="n_cells"):
        sample_theta(model, n_cells=0, seed=0)
    with pytest.raises(ValueError, match="heterogeneity must be"):
        sample_theta(model, n_cells=25, seed=0, heterogeneity="some")


def test_none_and_mapping_override():
    theta, names, group = sample_theta(vilar2002(), n_cells=7, seed=0, heterogeneity="none")
    assert theta.shape == (7, 0) and names == () and np.all(group == 0)
    spec = {"deltaR": Grid((0.1, 0.2)), "betaR": LogNormal(cv=0.5)}
    theta, names, group = sample_theta(vilar2002(), n_cells=6, seed=0, heterogeneity=spec)
    assert names == ("betaR", "deltaR")
    np.testing.assert_array_equal(theta[:, 1], [0.1] * 3 + [0.2] * 3)
    np.testing.assert_array_equal(group, [0, 0, 0, 1, 1, 1])


def test_lattice_model_factors():
    rpa = pytest.importorskip("models_bio.rpa_dna")
    model = rpa.rpa_dna(length=100)
    theta, names, _ = sample_theta(model, n_cells=4000, seed=0)
    assert names == ("k_minus2",)
    nominal = model.nominal["k_minus2"]
    assert theta.min() >= 0.3 * nominal and theta.max() <= 3.0 * nominal
