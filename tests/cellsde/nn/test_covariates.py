"""Known covariates of an END-nSDE: encoding, datasets, checkpoints, simulate, bad input."""

from pathlib import Path

import numpy as np
import pytest
import torch

from cellsde import ENDnSDE, ENDnSDEConfig, from_arrays, load_model, save_model, simulate
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.nn.covariates import (
    Covariate,
    attach_covariates,
    covariate_columns,
    covariates_from_data,
    describe,
    encode_mapping,
    parse_spec,
)


def lab(n=6, *, dose=(0.1, 1.0, 10.0, 0.1, 1.0, 10.0), ligand=("TNF",) * 3 + ("LPS",) * 3):
    x = np.random.default_rng(0).normal(size=(n, 3, 1))
    return from_arrays(x, times=[0.0, 1.0, 2.0], species=["y"], group=np.arange(n),
                       cell_coords={"dose": np.asarray(dose), "ligand": np.asarray(ligand)})  # fmt: skip


def test_encodings_match_their_definitions():
    ds = lab()
    covs = covariates_from_data(ds, ["log10:dose", "onehot:ligand"])
    assert covs[1].levels == ("LPS", "TNF")  # sorted distinct values of the training data
    assert covariate_columns(covs) == ("log10(dose)", "ligand=LPS", "ligand=TNF")
    out = attach_covariates(covs, ds)
    theta = out["theta"].values
    np.testing.assert_allclose(theta[:, 0], [-1, 0, 1, -1, 0, 1])
    np.testing.assert_array_equal(theta[:, 1:], [[0, 1]] * 3 + [[1, 0]] * 3)
    assert covariates_from_data(ds, ["dose"])[0].columns == ("dose",)  # identity
    assert describe(covs) == "log10(dose), ligand (onehot: LPS, TNF)"
    assert parse_spec("log10:dose") == ("dose", "log10") and parse_spec("t") == ("t", "identity")


def test_attach_keeps_other_parameters_and_reuses_encoded_columns():
    ds = lab()
    ds = ds.assign(theta=(("cell", "param"), np.arange(6.0)[:, None]), param=["omega"])
    covs = covariates_from_data(ds, ["log10:dose"])
    out = attach_covariates(covs, ds)
    assert list(out["param"].values) == ["omega", "log10(dose)"]
    np.testing.assert_array_equal(out["theta"].values[:, 0], np.arange(6.0))
    again = attach_covariates(covs, out.drop_vars("dose"))  # no coord, but encoded columns
    np.testing.assert_array_equal(again["theta"].values, out["theta"].values)
    assert attach_covariates((), ds) is ds


def test_config_and_checkpoint_round_trip(tmp_path):
    covs = covariates_from_data(lab(), ["log10:dose", "onehot:ligand"])
    cfg = ENDnSDEConfig(species=("y",), params=("omega",), hidden=(8,), covariates=covs)
    model = ENDnSDE(cfg, seed=0)
    assert model.param_names == ("omega", "log10(dose)", "ligand=LPS", "ligand=TNF")
    assert model.unknown_params == ("omega",) and model.covariates == covs
    assert model.drift_net[0].in_features == 1 + 4
    assert ENDnSDEConfig.from_dict(cfg.to_dict()) == cfg
    assert "covariates" not in ENDnSDEConfig(species=("y",)).to_dict()  # old readers still work
    back = load_model(save_model(model, tmp_path / "m.pt"))
    assert back.config == cfg and back.param_names == model.param_names


def test_simulate_encodes_raw_covariates():
    covs = covariates_from_data(lab(), ["log10:dose", "onehot:ligand"])
    model = ENDnSDE(ENDnSDEConfig(species=("y",), params=("omega",), hidden=(8,),
                                  noise="diagonal", covariates=covs), seed=0)  # fmt: skip
    raw = simulate(model, times=[0.0, 0.5], theta={"omega": 0.2, "dose": 10.0, "ligand": "LPS"},
                   n_cells=3, x0=np.zeros(1), dt=0.1, seed=1)  # fmt: skip
    cols = {"omega": 0.2, "log10(dose)": 1.0, "ligand=LPS": 1.0, "ligand=TNF": 0.0}
    enc = simulate(model, times=[0.0, 0.5], theta=cols, n_cells=3, x0=np.zeros(1), dt=0.1, seed=1)
    np.testing.assert_array_equal(raw["x"].values, enc["x"].values)
    assert encode_mapping(covs, {"dose": [1.0, 100.0], "ligand": "TNF"})[
        "log10(dose)"
    ].tolist() == [
        0.0,
        2.0,
    ]
    with pytest.raises(CellsdeError, match="conditioned on the known covariates 'dose', 'ligand'"):
        simulate(model, times=[0.0, 0.5], n_cells=3, x0=np.zeros(1))
    with pytest.raises(ModelMismatchError, match="conditioned on covariate 'ligand'"):
        simulate(model, times=[0.0, 0.5], theta={"omega": 0.0, "dose": 1.0}, n_cells=2,
                 x0=np.zeros(1))  # fmt: skip


@pytest.mark.parametrize(
    ("specs", "edit", "message"),
    [
        (["log10:dose"], lambda d: d.drop_vars("dose"), "no per-cell coordinate 'dose'"),
        (
            ["log10:dose"],
            lambda d: d.assign_coords(dose=("cell", np.r_[0.0, 1, 1, 1, 1, 1])),
            "must be finite and > 0",
        ),
        (
            ["dose"],
            lambda d: d.assign_coords(dose=("cell", np.r_[np.nan, 1, 1, 1, 1, 1])),
            "must be finite",
        ),
        (["log10:ligand"], lambda d: d, "must be numeric"),
    ],
)
def test_bad_data_are_one_line_errors(specs, edit, message):
    with pytest.raises(ModelMismatchError, match=message) as err:
        covariates_from_data(edit(lab()), specs)
    assert "\n" not in str(err.value)


def test_unknown_level_and_bad_specs_are_refused():
    covs = covariates_from_data(lab(), ["onehot:ligand"])
    other = lab(ligand=("TNF", "TNF", "IL1", "LPS", "LPS", "LPS"))
    with pytest.raises(ModelMismatchError, match=r"value\(s\) \['IL1'\] the model was not trained"):
        attach_covariates(covs, other)
    with pytest.raises(ValueError, match="ENCODING:COORD"):
        parse_spec("sqrt:dose")
    with pytest.raises(ValueError, match="'onehot' needs its levels"):
        Covariate("ligand", "onehot")
    with pytest.raises(ValueError, match="repeated levels"):
        Covariate("ligand", "onehot", ("A", "A"))
    with pytest.raises(ValueError, match="duplicated params and covariates"):
        ENDnSDEConfig(species=("y",), params=("dose",), covariates=(Covariate("dose"),))


def test_fit_reads_covariates_and_refuses_data_without_them():
    from cellsde import FitConfig, fit

    ds = lab()
    covs = covariates_from_data(ds, ["log10:dose", "onehot:ligand"])
    model = ENDnSDE(ENDnSDEConfig(species=("y",), hidden=(8,), noise="diagonal",
                                  covariates=covs, time_units="h"), seed=0)  # fmt: skip
    cfg = FitConfig(epochs=2, dt=0.5, progress=False)
    fit(model, ds, config=cfg)
    lo, hi = model.theta_range()
    np.testing.assert_allclose(lo.numpy(), [-1, 0, 0])
    np.testing.assert_allclose(hi.numpy(), [1, 1, 1])
    assert torch.allclose(model.theta_scale, torch.tensor([np.sqrt(2 / 3), 0.5, 0.5]).float())
    with pytest.raises(ModelMismatchError, match="no per-cell coordinate 'ligand'"):
        fit(model, ds.drop_vars("ligand"), config=cfg)


def test_shipped_checkpoints_load_old_and_new():
    data = Path(__file__).resolve().parents[3] / "data"
    old = load_model(data / "nfkb_endnsde.pt")  # written before covariates existed
    assert old.covariates == () and old.unknown_params == old.param_names
    assert "covariates" not in old.config.to_dict()
    lab_model = load_model(data / "guo2024_endnsde_lab.pt")  # item 4 of issue 14
    assert describe(lab_model.covariates) == (
        "log10(dose), ligand (onehot: CpG, LPS, Pam3CSK, PolyIC, TNF)"
    )
    assert lab_model.unknown_params == () and lab_model.config.time_units == "h"
    lo, hi = lab_model.theta_range()  # the trained doses: TNF 0.1 ng/mL .. CpG 1000 nM
    np.testing.assert_allclose([lo[0].item(), hi[0].item()], [-1.0, 3.0], atol=1e-6)
    with pytest.raises(ModelMismatchError, match=r"\['IL1'\] the model was not trained"):
        simulate(lab_model, times=[0.0, 1.0], theta={"dose": 1.0, "ligand": "IL1"}, n_cells=2,
                 x0=np.zeros(1))  # fmt: skip
