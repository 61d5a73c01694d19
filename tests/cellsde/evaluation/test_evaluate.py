import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

import models_bio as mb
from cellsde.baselines import (
    MechanisticSDE,
    NeuralODE,
    NeuralODEConfig,
    RecurrentBaseline,
    RecurrentConfig,
)
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.evaluation import evaluate, noise_covariance, sampling_floor, teacher_forced_w2
from cellsde.losses import w2_per_time, w2_squared
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from models_bio.sde import SDEModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

SP, PA = ("x1", "x2"), ("omega1", "omega2")
TRUE = mb.damped_oscillator(k1=0.3, k2=0.1)


@pytest.fixture(scope="module")
def ds():
    return damped_dataset(n_per_group=16)


@pytest.mark.parametrize("states", ["model", "data"])
def test_true_model_has_zero_coefficient_errors(ds, states):
    table = evaluate(MechanisticSDE(TRUE), ds, dt=0.05, true_model=TRUE, error_states=states)
    assert table["w2"].dims == ("group", "time") and table.sizes == {"group": 9, "time": 6}
    assert float(table["drift_error_total"]) == 0.0
    assert float(table["diffusion_error_total"]) == 0.0
    assert np.all(table["drift_error"].values == 0) and np.all(table["diffusion_error"] == 0)
    assert np.allclose(table["tw2"], table["w2"].isel(time=slice(1, None)).sum("time"))
    assert float(table["tw2_total"]) == pytest.approx(float(table["tw2"].sum()))


def test_coefficient_errors_match_analytic_ratios(ds):
    # doubled drift rates: |2f - f| / |f| = 1; doubled noise: |4S - S| / |S| = 3
    fast = mb.damped_oscillator(k1=0.3, k2=0.1, a=0.38, b=0.42)
    loud = mb.damped_oscillator(k1=0.6, k2=0.2)
    t_fast = evaluate(MechanisticSDE(fast), ds, dt=0.05, true_model=TRUE, error_states="data")
    t_loud = evaluate(MechanisticSDE(loud), ds, dt=0.05, true_model=TRUE, error_states="data")
    assert float(t_fast["drift_error_total"]) == pytest.approx(1.0, rel=1e-5)
    assert float(t_fast["diffusion_error_total"]) == 0.0
    assert float(t_loud["drift_error_total"]) == 0.0
    assert float(t_loud["diffusion_error_total"]) == pytest.approx(3.0, rel=1e-5)
    # the wrong model is further from the data than the truth
    t_true = evaluate(MechanisticSDE(TRUE), ds, dt=0.05)
    assert float(t_loud["tw2_total"]) > float(t_true["tw2_total"])


def test_noise_covariance_general_and_diagonal():
    x, theta = torch.randn(4, 2), torch.randn(4, 2)
    model = ENDnSDE(ENDnSDEConfig(SP, PA, hidden=(8,), n_brownian=3), seed=0)
    g = model.diffusion(0.0, x, theta)
    assert torch.allclose(noise_covariance(model, 0.0, x, theta), g @ g.transpose(1, 2))
    d = TRUE.diffusion(0.0, x, theta)
    assert torch.allclose(noise_covariance(TRUE, 0.0, x, theta), torch.diag_embed(d**2))


def test_sampling_floor_is_small_and_positive(ds):
    floor = sampling_floor(TRUE, ds, dt=0.05, seed=0)
    total = float(floor["tw2_total"])
    assert total > 0 and np.all(floor["tw2"].values > 0)
    assert np.all(floor["w2"].isel(time=0).values == 0)  # shared initial state
    vs_data = float(evaluate(MechanisticSDE(TRUE), ds, dt=0.05)["tw2_total"])
    assert total < 3 * vs_data and vs_data < 3 * total
    wrong = mb.damped_oscillator(k1=0.3, k2=0.1, a=0.6, b=0.6)
    assert float(evaluate(MechanisticSDE(wrong), ds, dt=0.05)["tw2_total"]) > 10 * total
    split = sampling_floor(ds, seed=0)
    assert float(split["tw2_total"]) > 0 and split.attrs["n_paths"] == 8
    with pytest.raises(ValueError, match="either a true model"):
        sampling_floor(ds, ds)
    with pytest.raises(ValueError, match="data is needed"):
        sampling_floor(TRUE)


def test_w2_table_matches_dataset_level_loss(ds):
    model = NeuralODE(NeuralODEConfig(SP, PA, hidden=(8,)), seed=1)  # deterministic paths
    table = evaluate(model, ds, dt=0.05)
    x0 = torch.tensor(ds["x"].values[:, 0], dtype=torch.float32)
    theta = torch.tensor(ds["theta"].values, dtype=torch.float32)
    times = torch.tensor(ds["time"].values, dtype=torch.float32)
    with torch.no_grad():
        paths = model.sample_paths(x0, theta, times, dt=0.05, generator=torch.Generator())
    sim = ds.copy(data={"x": ds["x"].copy(data=paths.double().numpy()), "theta": ds["theta"]})
    ref = w2_per_time(sim, ds)
    assert np.allclose(table["w2"].values, ref.values, rtol=1e-4, atol=1e-7)


def test_teacher_forced_oracle_and_labels(ds):
    model = NeuralODE(NeuralODEConfig(SP, PA, hidden=(4,)))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()  # zero drift: each prediction is the observed previous state
    table = teacher_forced_w2(model, ds, dt=0.05)
    assert table.attrs["protocol"].startswith("teacher-forced")
    x = torch.tensor(ds["x"].values).reshape(9, 16, 6, 2)  # (group, cell, time, species)
    expect = w2_squared(x[:, :, :-1].transpose(1, 2), x[:, :, 1:].transpose(1, 2))
    assert np.allclose(table["w2"].values[:, 1:], expect.numpy(), rtol=1e-4, atol=1e-7)
    assert np.all(table["w2"].values[:, 0] == 0)
    rnn = RecurrentBaseline(RecurrentConfig(SP, PA, cell="rnn", hidden=8, head=(8,)), seed=0)
    assert teacher_forced_w2(rnn, ds)["w2"].shape == (9, 6)
    with pytest.raises(TypeError, match="teacher_forced_w2 applies to"):
        teacher_forced_w2(ENDnSDE(ENDnSDEConfig(SP, PA, hidden=(4,))), ds)


def test_bad_inputs_give_clear_errors(ds):
    model = ENDnSDE(ENDnSDEConfig(SP, PA, hidden=(4,)), seed=0)
    renamed = SDEModel(name="renamed", species=("a", "b"), parameters=TRUE.parameters,
                       drift_fn=TRUE.drift_fn, diffusion_fn=TRUE.diffusion_fn, initial=(0.0, 1.0))  # fmt: skip
    with pytest.raises(ModelMismatchError, match="species"):
        evaluate(model, ds, true_model=renamed, dt=0.05)
    with pytest.raises(ModelMismatchError, match="no 'theta' variable"):
        evaluate(model, ds.drop_vars("theta"), dt=0.05)
    with pytest.raises(ModelMismatchError, match="lacks parameters"):
        evaluate(model, ds.assign_coords(param=["a", "b"]), dt=0.05)
    with pytest.raises(ModelMismatchError, match="lack species"):
        evaluate(model, ds.sel(species=["x1"]), dt=0.05)
    rnn = RecurrentBaseline(RecurrentConfig(SP, PA, hidden=4, head=(4,)))
    with pytest.raises(TypeError, match="has no drift/diffusion"):
        evaluate(rnn, ds, true_model=TRUE)
    with pytest.raises(ValueError, match="error_states"):
        evaluate(model, ds, error_states="last")
    with pytest.raises(ValueError, match="n_paths"):
        evaluate(model, ds, n_paths=1)
    with pytest.raises(TypeError, match=r"xarray\.Dataset"):
        evaluate(model, ds["x"])
    with pytest.raises(TypeError, match="PopulationModel"):
        evaluate(TRUE, ds)
    with pytest.raises(CellsdeError, match="not species of the model"):
        evaluate(model, ds, observed=("x3",))


def test_eval_mode_is_restored_and_seed_recorded(ds):
    rnn = RecurrentBaseline(RecurrentConfig(SP, PA, hidden=4, head=(4,), dropout=0.5), seed=0)
    rnn.train()
    a = evaluate(rnn, ds, seed=3)
    b = evaluate(rnn, ds, seed=3)
    assert rnn.training and a.attrs["seed"] == 3
    assert set(a.data_vars) == set(evaluate(MechanisticSDE(TRUE), ds, true_model=TRUE).data_vars)
    assert np.isnan(float(a["drift_error_total"]))
    xr.testing.assert_identical(a, b)
