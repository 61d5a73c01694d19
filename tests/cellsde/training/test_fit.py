import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cellsde.errors import CellsdeError, CheckpointError, ModelMismatchError, SchemaError
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.training.config import FitConfig, preset
from cellsde.training.fit import fit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset


def small_model(seed=0):
    torch.manual_seed(seed)
    return ENDnSDE(
        ENDnSDEConfig(
            species=("x1", "x2"), params=("omega1", "omega2"), hidden=(16, 16), activation="elu"
        )
    )


CFG = FitConfig(epochs=6, lr=5e-3, dt=0.05, progress=False, seed=3)


def test_fit_reduces_the_loss_and_returns_history():
    ds = damped_dataset()
    res = fit(small_model(), ds, config=CFG.replace(epochs=25))
    loss = res.history["train_loss"].values
    assert loss.shape == (25,) and np.all(np.isfinite(loss))
    assert loss[-5:].mean() < 0.5 * loss[:3].mean()
    assert res.best_epoch == 24 and np.all(np.isnan(res.history["valid_loss"].values))


def test_validation_early_stopping_and_best_restore():
    ds = damped_dataset(grid=(-1.0, 1.0))
    valid = damped_dataset(grid=(0.0,), seed=9)
    res = fit(small_model(), ds, valid=valid, config=CFG.replace(epochs=40, patience=2, lr=0.05))
    v = res.history["valid_loss"].values
    assert np.all(np.isfinite(v))
    assert res.history.sizes["epoch"] <= 40
    assert res.best_epoch == int(np.nanargmin(v))


def test_resume_continues_exactly(tmp_path):
    ds = damped_dataset(n_per_group=12)
    full = fit(
        small_model(),
        ds,
        config=CFG.replace(checkpoint_path=str(tmp_path / "a.state"), checkpoint_every=3),
    )
    ck = tmp_path / "b.state"
    part = CFG.replace(epochs=3, checkpoint_path=str(ck), checkpoint_every=3)
    fit(small_model(), ds, config=part)
    # a fresh process would rebuild the model from scratch: use different initial weights
    resumed = fit(
        small_model(seed=99),
        ds,
        config=CFG.replace(checkpoint_path=str(ck), checkpoint_every=3, resume=True),
    )
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(
        full.history["train_loss"].values, resumed.history["train_loss"].values
    )


def test_resume_refuses_other_data_or_options(tmp_path):
    ds = damped_dataset(n_per_group=8)
    ck = str(tmp_path / "s.state")
    fit(small_model(), ds, config=CFG.replace(epochs=2, checkpoint_path=ck))
    with pytest.raises(CheckpointError, match="different training data"):
        fit(
            small_model(),
            damped_dataset(n_per_group=8, seed=5),
            config=CFG.replace(checkpoint_path=ck, resume=True),
        )
    with pytest.raises(CheckpointError, match="options differ"):
        fit(small_model(), ds, config=CFG.replace(checkpoint_path=ck, resume=True, lr=1e-4))


def test_bad_inputs_have_clear_errors():
    ds = damped_dataset(n_per_group=4)
    with pytest.raises(ModelMismatchError, match="no 'theta'"):
        fit(small_model(), ds.drop_vars("theta"), config=CFG)
    other = ENDnSDE(ENDnSDEConfig(species=("x1", "y"), params=("omega1", "omega2"), hidden=(4,)))
    with pytest.raises(ModelMismatchError, match=r"lack species \['y'\]"):
        fit(other, ds, config=CFG)
    nan = ds.copy(deep=True)
    nan["x"][{"cell": slice(0, 4), "time": slice(1, None)}] = np.nan
    with pytest.raises(SchemaError, match="group 0 has no observed values"):
        fit(small_model(), nan, config=CFG)
    mixed = ds.copy(deep=True)
    mixed["theta"][{"cell": 1}] = [5.0, 5.0]
    with pytest.raises(SchemaError, match="theta differs"):
        fit(small_model(), mixed, config=CFG)
    with pytest.raises(CellsdeError, match="observed species"):
        fit(small_model(), ds, config=CFG.replace(observed=("zz",)))
    with pytest.raises(TypeError, match="ENDnSDE or a baseline"):
        fit(torch.nn.Linear(2, 2), ds, config=CFG)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(epochs=0), "epochs"),
        (dict(lr=-1), "lr"),
        (dict(dt=0), "dt"),
        (dict(n_paths=1), "n_paths"),
        (dict(reduce_groups="max"), "reduce_groups"),
        (dict(resume=True), "checkpoint_path"),
    ],
)
def test_fit_config_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        FitConfig(**kw)


def test_presets():
    assert preset("damped_oscillator").weight_decay == 5e-3
    assert preset("nfkb").observed == ("IkBaNFkBn", "NFkBn")
    with pytest.raises(KeyError, match="presets"):
        preset("nope")


def test_fit_records_the_training_theta_range():
    ds = damped_dataset(n_per_group=4, grid=(-0.5, 1.0))
    model = small_model()
    assert model.theta_range() is None
    fit(model, ds, config=CFG.replace(epochs=1))
    lo, hi = model.theta_range()
    assert lo.tolist() == [-0.5, -0.5] and hi.tolist() == [1.0, 1.0]
