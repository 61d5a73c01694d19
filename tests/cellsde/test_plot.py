"""cellsde.plot: figures with units on every axis, greyscale-safe styles, clear errors.

The plotting functions build pyplot-free ``Figure`` objects, so no GUI backend is involved.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from cellsde.datasets import from_arrays
from cellsde.errors import CellsdeError, ModelMismatchError, SchemaError
from cellsde.plot import (
    PALETTE,
    cellsde_style,
    marginals,
    pareto,
    pareto_front,
    save_figure,
    theta_heatmap,
    theta_recovery,
    trajectory_fan,
    w2_over_time,
)

TIMES = np.linspace(0.0, 4.0, 5)


def make(seed=0, *, n=12, shift=0.0, units="µM", time_units="h", nan=0.2):
    rng = np.random.default_rng(seed)
    x = 1.0 + shift + np.cumsum(rng.normal(size=(n, TIMES.size, 2)), axis=1)
    x[rng.random(x.shape) < nan] = np.nan
    ds = from_arrays(
        x, times=TIMES, species=["A", "B"], group=np.arange(n) % 2, time_units=time_units,
        theta=rng.random((n, 1)), params=["k"],
    )  # fmt: skip
    if units:
        ds["x"].attrs["units"] = units
    return ds


@pytest.fixture
def data():
    return make(0)


@pytest.fixture
def model():
    return make(1, shift=0.5, nan=0.0)


def axes_of(fig):
    assert isinstance(fig, Figure)
    return fig.axes[0]


def test_importing_cellsde_plot_does_not_import_matplotlib():
    code = "import sys, cellsde.plot; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fan_labels_units_and_greyscale_styles(data, model):
    ax = axes_of(trajectory_fan(data, species="A", model=model, n_samples=3))
    assert ax.get_xlabel() == "time (h)" and ax.get_ylabel() == "A (µM)"
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    data_med, model_med = lines["data: median"], lines["model: median"]
    assert data_med.get_linestyle() != model_med.get_linestyle()  # survives greyscale
    assert data_med.get_color() == PALETTE["data"] and model_med.get_color() == PALETTE["model"]
    assert np.isfinite(data_med.get_ydata()).all()  # NaN-aware: quantiles over observed cells
    assert "5–95%" in " ".join(ax.get_legend_handles_labels()[1])


def test_fan_on_given_axes_with_group_and_all_nan_time(data):
    x = data["x"].values.copy()
    x[:, 2] = np.nan  # nobody observed at t = 2
    data = data.copy(data={"x": x, "theta": data["theta"].values})
    fig = Figure()
    ax = fig.add_subplot()
    assert trajectory_fan(data, species="B", group=1, ax=ax) is fig
    med = next(ln for ln in ax.get_lines() if ln.get_label() == "data: median")
    assert 2.0 not in med.get_xdata()
    assert "group 1" in ax.get_title(loc="left")


def test_missing_species_units_are_never_guessed(data):
    del data["x"].attrs["units"]
    ax = axes_of(trajectory_fan(data, species="A"))
    assert ax.get_ylabel() == "A (units not recorded)"


def test_marginals_rows_and_units(data, model):
    ax = axes_of(marginals(data, species="A", times=[0, 2, 4], model=model))
    assert ax.get_xlabel() == "A (µM)" and ax.get_ylabel().startswith("time (h)")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "2", "4"]
    styles = {ln.get_label(): ln.get_linestyle() for ln in ax.get_lines()}
    assert styles["model"] == "--"
    fig = Figure()
    assert marginals(data, species="B", times=[1], bins=5, ax=fig.add_subplot()) is fig


def test_w2_over_time_tables_floor_and_units(data, model):
    from cellsde.losses import w2_per_time

    tables = {"END-nSDE": w2_per_time(model, data), "LSTM": w2_per_time(make(3, shift=2), data)}
    ax = axes_of(w2_over_time(tables, data=data))
    assert ax.get_xlabel() == "time (h)" and "µM²" in ax.get_ylabel()
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels[0].startswith("END-nSDE") and labels[1].startswith("LSTM")
    assert any("sampling floor" in lab for lab in labels)
    styles = [ln.get_linestyle() for ln in ax.get_lines()]
    assert len(set(styles)) == 3  # model, baseline, floor differ without colour
    # datasets are compared with the data on the fly; a plain curve without data still works
    fig = Figure()
    assert w2_over_time([model], data=data, labels=["m"], floor=None, ax=fig.add_subplot()) is fig
    ax = axes_of(w2_over_time(tables["LSTM"].mean("group"), floor=0.1, log=True))
    assert ax.get_yscale() == "log" and "units not recorded" in ax.get_ylabel()
    # result Datasets of cellsde.evaluation (variable w2) as tables and as the floor
    table = tables["LSTM"].assign_attrs(units="squared species units")
    ax = axes_of(w2_over_time(xr.Dataset({"w2": table}), floor=xr.Dataset({"w2": 0.5 * table})))
    assert ax.get_ylabel() == "W2² per time (squared species units)"
    assert [ln.get_label() for ln in ax.get_lines()][1] == "sampling floor"


def test_theta_recovery_identity_and_units():
    true = xr.DataArray(np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]), dims=("group", "param"),
                        coords={"param": ["k", "d"]}, attrs={"units": ["1/h", "h"]})  # fmt: skip
    est = true + 0.1
    ax = axes_of(theta_recovery(true, est, std=0.05 * est, param="d"))
    assert ax.get_xlabel() == "true d (h)" and ax.get_ylabel() == "estimated d (h)"
    assert "RMSE = 0.1" in ax.texts[0].get_text()
    ident = next(ln for ln in ax.get_lines() if ln.get_label() == "identity")
    assert np.allclose(ident.get_xdata(), ident.get_ydata())
    with pytest.raises(CellsdeError, match=r"several params \['k', 'd'\]"):
        theta_recovery(true, est)
    with pytest.raises(CellsdeError, match="param 'z' is not in true"):
        theta_recovery(true, est, param="z")
    fig = Figure()
    est_nan = np.array([1.0, np.nan, 3.1])
    assert theta_recovery([1, 2, 3], est_nan, param="k", ax=fig.add_subplot()) is fig


def test_theta_heatmap_2d_and_from_points():
    om, d = np.array([0.5, 1.0, 2.0]), np.array([0.1, 0.2])
    z = xr.DataArray(np.arange(6.0).reshape(2, 3) + 1, dims=("d", "omega"),
                     coords={"d": d, "omega": om}, name="W2", attrs={"units": "µM²"})  # fmt: skip
    z["omega"].attrs["units"] = "rad/h"
    ax = axes_of(theta_heatmap(z, x_param="omega", y_param="d", mark="min"))
    assert ax.get_xlabel() == "omega (rad/h)" and ax.get_ylabel() == "d (units not recorded)"
    assert "W2 (µM²)" in ax.figure.axes[1].get_ylabel()  # colour bar
    assert "omega = 0.5, d = 0.1" in ax.get_title(loc="left")
    # one value per grid point (dim group) with theta given separately; a missing point is NaN
    theta = xr.DataArray([[0.5, 0.1], [1.0, 0.1], [0.5, 0.2]], dims=("group", "param"),
                         coords={"param": ["omega", "d"]})  # fmt: skip
    vals = xr.DataArray([1.0, 2.0, 3.0], dims="group")
    fig = Figure()
    theta_heatmap(vals, x_param="omega", y_param="d", theta=theta, ax=fig.add_subplot())
    img = fig.axes[0].images[0].get_array()
    assert img.shape == (2, 2) and np.ma.is_masked(img[1, 1])
    with pytest.raises(CellsdeError, match="two values at"):
        theta_heatmap(xr.DataArray([1.0, 2.0], dims="g"), x_param="omega", y_param="d",
                      theta=theta.isel(group=[0, 0]))  # fmt: skip


def test_pareto_front_and_plot():
    params, w2 = [100, 200, 400, 800, 150], [0.5, 0.3, 0.35, 0.1, 0.6]
    assert pareto_front(params, w2).tolist() == [True, True, False, True, False]
    ax = axes_of(pareto(params, w2, labels=list("abcde"), kinds=["wide"] * 3 + ["dend"] * 2))
    assert ax.get_xscale() == "log"
    assert "count" in ax.get_xlabel() and "(units not recorded)" in ax.get_ylabel()
    assert {t.get_text() for t in ax.texts} == set("abcde")
    with pytest.raises(CellsdeError, match="differ in length"):
        pareto(params, w2[:2], labels=list("abcde"))


def test_save_figure_writes_png_and_pdf_atomically(tmp_path, data):
    fig = trajectory_fan(data, species="A")
    paths = save_figure(fig, tmp_path / "fan.png", dpi=50)
    assert [p.name for p in paths] == ["fan.png", "fan.pdf"]
    assert paths[0].read_bytes()[:4] == b"\x89PNG" and paths[1].read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fan.pdf", "fan.png"]  # no temp left
    with pytest.raises(ValueError, match="unsupported figure formats"):
        save_figure(fig, tmp_path / "x", formats=("docx",))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_figure(fig, tmp_path / "nodir" / "x")


def test_save_failure_leaves_no_file(tmp_path, data, monkeypatch):
    fig = trajectory_fan(data, species="A")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(OSError, match="disk full"):
        save_figure(fig, tmp_path / "fan")
    assert list(tmp_path.iterdir()) == []


def test_style_is_local():
    import matplotlib as mpl

    before = mpl.rcParams["axes.spines.top"]
    with cellsde_style():
        assert mpl.rcParams["axes.spines.top"] is False
    assert mpl.rcParams["axes.spines.top"] == before


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda d, m: trajectory_fan(d[["theta"]], species="A"), SchemaError, "no variable 'x'"),
        (lambda d, m: trajectory_fan(d, species="Z"), CellsdeError,
         r"species 'Z' is not in data; it has \['A', 'B'\]"),
        (lambda d, m: trajectory_fan(d), CellsdeError, "choose one with species="),
        (lambda d, m: trajectory_fan(d, species="A", model=make(2, time_units="min")),
         ModelMismatchError, "time units differ"),
        (lambda d, m: marginals(d, species="A", times=[1], model=make(2, units="nM")),
         ModelMismatchError, "units of species 'A' differ"),
        (lambda d, m: trajectory_fan(d, species="A", model=m[["x"]].sel(species=["B"])),
         ModelMismatchError, r"lacks species \['A'\]"),
        (lambda d, m: trajectory_fan(d.isel(cell=[]), species="A"), CellsdeError, "is empty"),
        (lambda d, m: trajectory_fan(d.where(d.species == "B"), species="A"), CellsdeError,
         "no observed value"),
        (lambda d, m: trajectory_fan(d, species="A", group=7), CellsdeError, "group 7 is not"),
        (lambda d, m: trajectory_fan(d, species="A", quantiles=(0.1,)), ValueError, "even"),
        (lambda d, m: marginals(d, species="A", times=[99]), CellsdeError, "not near any time"),
        (lambda d, m: w2_over_time([m]), CellsdeError, "pass data="),
    ],
)  # fmt: skip
def test_bad_inputs_raise_one_line_errors(data, model, call, error, match):
    with pytest.raises(error, match=match) as info:
        call(data, model)
    assert "\n" not in str(info.value)
