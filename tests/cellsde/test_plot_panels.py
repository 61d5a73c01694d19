"""Figures that make their point: one panel per group, every θ component, informative times,
densities bounded at 0 for counts, conditions in titles, markers only where data are, and a
floor at the model's own sample sizes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from cellsde.datasets import from_arrays
from cellsde.errors import CellsdeError
from cellsde.plot import (
    group_panels,
    marginal_times,
    marginals,
    theta_recovery_panels,
    trajectory_fan,
    w2_over_time,
)
from cellsde.plot.distributions import bounded_below, gaussian_kde

T = np.arange(11.0)


def peaked(n=20, *, groups=3, units="molecules", seed=0, shape=(5, 40, 10, 20)):
    """Counts that rise to a peak at t = 3, fall to a trough at t = 6, and settle."""
    rng = np.random.default_rng(seed)
    base = np.interp(T, [0, 3, 6, 10], shape)
    x = rng.poisson(base[None, :, None] * np.ones((n * groups, 1, 1))).astype(float)
    ligand = np.repeat(np.array(["TNF", "LPS", "CpG"])[:groups], n)
    ds = from_arrays(x, times=T, species=["n"], group=np.repeat(np.arange(groups), n),
                     time_units="min", cell_coords={"ligand": ligand,
                                                    "dose": np.full(n * groups, 10.0)})  # fmt: skip
    ds["x"].attrs["units"] = units
    return ds


def test_fans_are_drawn_per_group_never_pooled():
    fig = group_panels(peaked(), trajectory_fan, species="n")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3
    titles = [ax.get_title(loc="left") for ax in panels]
    assert titles[0] == "group 0, TNF 10 (20 cells)" and "LPS" in titles[1]
    assert len(fig.legends) == 1  # one legend for the figure


def test_many_groups_are_subsampled_and_said_so():
    fig = group_panels(peaked(4, groups=3), trajectory_fan, species="n", max_panels=2)
    assert "2 of 3 groups" in fig._suptitle.get_text()
    with pytest.raises(CellsdeError, match="not in the data"):
        group_panels(peaked(), trajectory_fan, species="n", groups=[7])


def test_a_single_condition_is_named_in_the_title():
    one = peaked(groups=1)
    ax = trajectory_fan(one, species="n").axes[0]
    assert "TNF 10" in ax.get_title(loc="left")


def test_marginal_times_pick_start_peak_trough_end():
    assert marginal_times(peaked(), species="n") == [0.0, 3.0, 6.0, 10.0]
    assert marginal_times(peaked(), species="n", n=2) == [0.0, 10.0]
    flat = peaked()
    flat["x"][:] = np.linspace(1, 2, T.size)[None, :, None]  # monotone: the largest departure
    assert marginal_times(flat, species="n", n=3) == [0.0, 5.0, 10.0]
    # starts at its top: the deepest trough, then the peak after it (not a second trough)
    falling = peaked(shape=(40, 10, 30, 20))
    assert marginal_times(falling, species="n") == [0.0, 3.0, 6.0, 10.0]


def test_kde_reflected_at_zero_integrates_to_one_above_it():
    rng = np.random.default_rng(1)
    samples = rng.exponential(2.0, size=400)  # mass piled at 0
    grid = np.linspace(-2, 30, 4001)
    plain = gaussian_kde(samples, grid)
    bounded = gaussian_kde(samples, grid, lower=0.0)
    above = grid >= 0
    assert np.trapezoid(plain[above], grid[above]) < 0.97  # leaks below 0
    assert np.trapezoid(bounded, grid) == pytest.approx(1.0, abs=5e-3)
    assert np.all(bounded[~above] == 0.0)
    # the density at 0 is close to the exponential's 1/2, not halved
    assert bounded[np.searchsorted(grid, 0.0)] == pytest.approx(0.5, rel=0.25)


def test_marginals_of_counts_start_at_zero():
    assert bounded_below(np.array([0.0, 3.0]), "molecules")
    assert not bounded_below(np.array([-1.0, 3.0]), "molecules")
    assert not bounded_below(np.array([0.5, 3.2]), "dimensionless")
    ax = marginals(peaked(), species="n", times=[0, 3], group=0).axes[0]
    xs = np.concatenate([ln.get_xdata() for ln in ax.get_lines() if len(ln.get_xdata()) > 2])
    assert xs.min() == 0.0


def test_theta_recovery_has_a_panel_per_component():
    gp = ("group", "param")
    true = xr.DataArray([[0.1, 1.0], [0.2, 2.0], [0.3, 3.0]], dims=gp,
                        coords={"param": ["a", "b"]})  # fmt: skip
    fig = theta_recovery_panels(true, true * 1.1, std=true * 0.05)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_xlabel() for ax in fig.axes] == ["true a (units not recorded)",
                                                    "true b (units not recorded)"]  # fmt: skip


def test_markers_are_the_computed_times_only():
    table = xr.DataArray(np.linspace(0, 1, 11), dims="time", coords={"time": T})
    ax = w2_over_time(table, floor=None).axes[0]
    line = ax.get_lines()[0]
    assert line.get_marker() not in ("", "None") and line.get_markevery() is None
    assert len(line.get_xdata()) == T.size
    dense = xr.DataArray(np.linspace(0, 1, 200), dims="time", coords={"time": np.arange(200.0)})
    assert w2_over_time(dense, floor=None).axes[0].get_lines()[0].get_marker() in ("", "None")


def test_the_automatic_floor_is_rescaled_to_the_models_sample_size():
    """Halves of N cells compare N/2 vs N/2; a model scored with N paths against N cells is
    compared with half of that (the 1/n rate of W2²)."""
    from cellsde.plot.w2 import _auto_floor

    data = peaked(20, groups=2)
    raw = _auto_floor(data, None, 0, n_sim=None)
    from cellsde.evaluation import sampling_floor

    halves = sampling_floor(data, seed=0)["w2"]
    np.testing.assert_allclose(raw.values, 0.5 * halves.values)
    big = _auto_floor(data, None, 0, n_sim=200)  # many model paths: (1/200 + 1/20) / (4/20)
    np.testing.assert_allclose(big.values, (1 / 200 + 1 / 20) / (4 / 20) * halves.values)


def test_size_matched_floor_is_the_truth_scored_like_a_model():
    import models_bio
    from cellsde.baselines import MechanisticSDE
    from cellsde.evaluation import evaluate, sampling_floor
    from cellsde.simulation import simulate

    truth = models_bio.damped_oscillator(k1=0.3, k2=0.1)
    data = simulate(truth, times=np.linspace(0, 0.5, 6), cells_per_group=6, seed=0, dt=1e-2)
    data = data.isel(cell=np.flatnonzero(data["group"].values < 3))
    floor = sampling_floor(truth, data, n_paths=6, dt=0.05, seed=4, against="data")
    direct = evaluate(MechanisticSDE(truth), data, n_paths=6, dt=0.05, seed=4)
    np.testing.assert_allclose(floor["tw2"].values, direct["tw2"].values)
    assert "size-matched" in floor.attrs["protocol"]
    ax = w2_over_time({"m": direct}, floor=floor).axes[0]
    assert "the truth scored like the model" in ax.get_legend_handles_labels()[1][-1]
    with pytest.raises(ValueError, match="against"):
        sampling_floor(truth, data, against="model")


def test_squared_units_of_w2_labels():
    from cellsde.plot.style import squared_units

    assert squared_units("µM") == "µM²" and squared_units("a.u.") == "(a.u.)²"
    assert squared_units("dimensionless") == "dimensionless" and squared_units(None) is None
    table = xr.DataArray([0.1, 0.2], dims="time", coords={"time": [0.0, 5.0]})
    ax = w2_over_time(table, data=peaked(), species=["n"], floor=None).axes[0]
    assert ax.get_ylabel() == "W2² per time (molecules²)"
