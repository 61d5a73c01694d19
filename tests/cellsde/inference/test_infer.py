import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
import torch
import xarray as xr

import models_bio as mb
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.inference.amortized import load_amortizer, save_amortizer
from cellsde.inference.amortized_train import simulate_training_sets, train_amortizer
from cellsde.inference.groups import assign_groups
from cellsde.inference.infer import infer
from cellsde.nn.mechanistic import MechanisticSDE
from cellsde.nn.rollout import rollout

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

FAST = dict(n_starts=2, iterations=25, n_bootstrap=4, dt=0.05, n_paths=120)


@pytest.fixture(scope="module")
def truth():
    return MechanisticSDE(mb.damped_oscillator(k1=0.3, k2=0.1))


@pytest.fixture(scope="module")
def data():
    return damped_dataset(n_per_group=40, grid=(-0.8, 0.8), seed=4, n_times=11)


def test_assign_groups_chunks_and_reports_leftovers(data):
    out, assignment = assign_groups(data, group_size=15)
    # 4 groups of 40 cells -> 2 chunks of 15 each, 10 cells left over per group
    assert out.sizes["cell"] == 4 * 30 and assignment.max() == 7
    assert (assignment == -1).sum() == 4 * 10
    with pytest.raises(CellsdeError, match="larger than the 40 cells"):
        assign_groups(data, group_size=41)
    with pytest.raises(CellsdeError, match="needs at least 2"):
        assign_groups(data.isel(cell=[0, 40, 41]), group_size=None)


def test_w2_inference_tells_noisy_from_quiet_groups(truth):
    data = damped_dataset(n_per_group=60, grid=(-0.8, 0.8), seed=4, n_times=11).isel(
        cell=np.r_[0:60, 180:240]
    )  # groups (-0.8, -0.8) and (0.8, 0.8)
    res = infer(truth, data.drop_vars("theta"), method="w2", seed=1, **FAST)
    th, sd = res["theta"].values, res["theta_std"].values
    assert th.shape == (2, 2)
    assert np.all(th[1] > th[0])  # the noisier group gets the larger omega, in both coordinates
    true = data["theta"].values[::60]
    assert np.all(np.abs(th - true) <= 3 * sd + 0.15)
    assert np.all(sd > 0) and np.all(np.isfinite(res["tw2"].values))
    assert res["cell_group"].shape == (data.sizes["cell"],)
    inside = (th >= -1) & (th <= 1)
    assert np.array_equal(res["out_of_range"].values, ~inside)  # flagged exactly when outside
    assert set(res.attrs) >= {"method", "seed", "config", "uncertainty"}


def test_estimates_outside_training_range_are_flagged_not_clipped(truth, data):
    res = infer(
        truth,
        data.drop_vars("theta"),
        method="w2",
        seed=1,
        bounds={"omega1": (-1, -0.9), "omega2": (-1, -0.9)},
        **FAST,
    )
    th = res["theta"].values
    assert res["out_of_range"].values[th > -0.9].all()
    assert (th > -0.9).any()  # the search may leave the training box


def test_amortized_round_trip_and_reuse(truth, data, tmp_path):
    lo, hi = truth.theta_range()
    x0 = torch.tensor([[0.0, 1.0]])
    times = torch.tensor(data["time"].values, dtype=torch.float32)
    gen = torch.Generator().manual_seed(0)
    y, theta = simulate_training_sets(truth, x0=x0, lo=lo.float(), hi=hi.float(), times=times,
                                      readout=torch.eye(2), n_sets=64, k=16, dt=0.05, generator=gen)  # fmt: skip
    net = train_amortizer(y, theta, observed=("x1", "x2"), params=truth.param_names, times=times,
                          lo=lo.float(), hi=hi.float(), k_max=16, epochs=60, generator=gen)  # fmt: skip
    path = save_amortizer(net, tmp_path / "amortizer.pt")
    again = load_amortizer(path)
    r1 = infer(
        truth,
        data.drop_vars("theta"),
        method="amortized",
        amortizer=net,
        seed=0,
        n_bootstrap=3,
        dt=0.05,
    )
    r2 = infer(
        truth,
        data.drop_vars("theta"),
        method="amortized",
        amortizer=again,
        seed=0,
        n_bootstrap=3,
        dt=0.05,
    )
    np.testing.assert_allclose(r1["theta"].values, r2["theta"].values, rtol=1e-6)
    # the estimate does not depend on the order of the cells
    perm = data.isel(cell=np.r_[np.arange(40)[::-1], np.arange(40, 160)])
    r3 = infer(
        truth,
        perm.drop_vars("theta"),
        method="amortized",
        amortizer=net,
        seed=0,
        n_bootstrap=0,
        dt=0.05,
    )
    np.testing.assert_allclose(r1["theta"].values, r3["theta"].values, rtol=1e-5, atol=1e-6)


def test_bad_inputs(truth, data):
    with pytest.raises(CellsdeError, match="unknown inference method"):
        infer(truth, data, method="mcmc")
    other = data.assign_coords(species=["a", "b"])
    with pytest.raises(CellsdeError, match="none of the data's species"):
        infer(truth, other, **FAST)
    with pytest.raises(CellsdeError, match="larger than"):
        infer(truth, data, group_size=500, **FAST)
    with pytest.raises(TypeError, match="PopulationModel"):
        infer(torch.nn.Linear(2, 2), data)
    with pytest.raises(CellsdeError, match="bounds lack"):
        infer(truth, data, bounds={"omega1": (0, 1)}, **FAST)
    with pytest.raises(ModelMismatchError, match="initial_state"):
        infer(truth, data, initial_state=np.ones(3), **FAST)


def test_issue_bad_inputs_are_one_line_errors(truth, data):
    # Issue 6 acceptance: a group with too few cells, species that do not match the model,
    # K larger than the data -- each one line naming the fix.
    cases = [
        (dict(data=data.isel(cell=[0, 40, 41])), "group 0 has 1 cell"),
        (dict(data=data.assign_coords(species=["a", "b"])), "none of the data's species"),
        (dict(data=data, group_size=41), "choose K <= 40"),
        (dict(data=data, group_size=1), "group_size must be >= 2"),
    ]
    for kwargs, needle in cases:
        with pytest.raises(CellsdeError, match=needle) as err:
            infer(truth, **{**kwargs, "data": kwargs["data"].drop_vars("theta")}, **FAST)
        assert "\n" not in str(err.value)
    # one cell per group is enough without a bootstrap
    res = infer(truth, data.isel(cell=[0, 40]).drop_vars("theta"), **{**FAST, "n_bootstrap": 0})
    assert res.sizes["group"] == 2 and np.isnan(res["theta_lo"].values).all()


def held_out_groups(n_groups: int, k: int, *, seed: int) -> tuple[xr.Dataset, np.ndarray]:
    """``k`` cells for each of ``n_groups`` omega drawn uniformly in [-1, 1]^2 (off any grid)."""
    sde = mb.damped_oscillator(k1=0.3, k2=0.1)
    omega = np.random.default_rng(seed).uniform(-1, 1, size=(n_groups, 2))
    times = torch.linspace(0, 1, 11)
    theta = torch.tensor(np.repeat(omega, k, 0), dtype=torch.float32)
    x0 = torch.tensor([[0.0, 1.0]]).repeat(n_groups * k, 1)
    with torch.no_grad():
        x = rollout(
            sde, x0, theta, times, dt=0.01, generator=torch.Generator().manual_seed(seed + 1)
        )
    ds = xr.Dataset({"x": (("cell", "time", "species"), x.numpy().astype(float))},
                    coords={"time": times.numpy(), "species": ["x1", "x2"],
                            "group": ("cell", np.repeat(np.arange(n_groups), k))})  # fmt: skip
    return ds, omega


@pytest.mark.slow
def test_coverage_of_the_stated_uncertainty(truth):
    # Acceptance (issue 6): on the damped oscillator (identifiable omega), the stated 95 %
    # intervals of method="amortized", uncertainty="parametric" cover the true omega of
    # held-out groups in >= 90 % of cases, per parameter and per group (both parameters at
    # once, Bonferroni: each at 97.5 %). 48 groups of K = 32 cells. Measured (seeds 0, 1, 2):
    # per parameter 98 / 95 / 97 %, per group 100 / 96 / 94 %. The bootstrap over the cells
    # covers only 61-75 % per parameter here: the network shrinks towards the middle.
    ds, omega = held_out_groups(48, 32, seed=0)
    lo, hi = truth.theta_range()
    times = torch.tensor(ds["time"].values, dtype=torch.float32)
    gen = torch.Generator().manual_seed(2)
    y, theta = simulate_training_sets(truth, x0=torch.tensor([[0.0, 1.0]]), lo=lo.float(), hi=hi.float(),
                                      times=times, readout=torch.eye(2), n_sets=256, k=32, dt=0.02,
                                      generator=gen)  # fmt: skip
    net = train_amortizer(y, theta, observed=("x1", "x2"), params=truth.param_names, times=times,
                          lo=lo.float(), hi=hi.float(), k_max=32, epochs=400, generator=gen, seed=2)  # fmt: skip
    res = infer(truth, ds, method="amortized", amortizer=net, uncertainty="parametric",
                n_bootstrap=100, level=0.95, dt=0.02, seed=3)  # fmt: skip
    inside = (omega >= res["theta_lo"].values) & (omega <= res["theta_hi"].values)
    assert inside.mean() >= 0.90, inside.mean()
    z = NormalDist().inv_cdf(1 - 0.05 / 4)  # per parameter 97.5 %: joint >= 95 %
    joint = (np.abs(res["theta_debiased"].values - omega) <= z * res["theta_std"].values).all(1)
    assert joint.mean() >= 0.90, joint.mean()
    # the intervals are informative, not just wide: mean half-width < 0.4 of the range 2
    assert float((res["theta_hi"] - res["theta_lo"]).mean()) / 2 < 0.4
