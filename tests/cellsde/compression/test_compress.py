import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cellsde.compression import (
    KINDS,
    build_candidate,
    compress,
    equal_macs_width,
    equal_width,
    model_macs,
    plain_macs,
    plain_parameters,
)
from cellsde.compression import core as compression_core
from cellsde.errors import ModelMismatchError
from cellsde.nn.checkpoint import load_model, save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.training.config import FitConfig
from cellsde.training.fit import fit
from perforate import DendriteConfig, count_parameters, dendritic_layers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

CFG = FitConfig(epochs=5, lr=1e-2, dt=0.1, progress=False, standardize=True)
SPECIES, PARAMS = ("x1", "x2"), ("omega1", "omega2")


@pytest.fixture(scope="module")
def data():
    train = damped_dataset(n_per_group=10, grid=(-1.0, 1.0), n_times=4)
    valid = damped_dataset(n_per_group=10, grid=(0.0,), seed=5, n_times=4)
    return train, valid


@pytest.fixture(scope="module")
def wide(data):
    cfg = ENDnSDEConfig(SPECIES, PARAMS, hidden=(12, 12), activation="elu")
    model = ENDnSDE(cfg, seed=0)
    fit(model, data[0], valid=data[1], config=CFG)
    return model


def linear_count(i, o, k):
    """Parameters of Linear(i, o) with k dendrite sets (perforate's formula)."""
    return (k + 1) * (i * o + o) + k * o + o * k * (k - 1) // 2


def test_parameter_counts_add_up_with_dendrites(wide):
    for k in (0, 1, 2):
        net = build_candidate(wide, 3, n_sets=k, dendrites=DendriteConfig(), seed=1)
        # drift 4-3-3-2, diffusion 4-3-3-4 (general noise, 2 Brownian channels)
        shapes = [(4, 3), (3, 3), (3, 2), (4, 3), (3, 3), (3, 4)]
        assert count_parameters(net) == sum(linear_count(i, o, k) for i, o in shapes)
        assert len(dendritic_layers(net)) == 6
    assert plain_parameters(wide.config, 3) == count_parameters(build_candidate(wide, 3))
    assert plain_parameters(wide.config, 12) == count_parameters(wide)
    target = count_parameters(build_candidate(wide, 3, n_sets=2, dendrites=DendriteConfig()))
    w = equal_width(wide.config, target)
    gaps = [abs(plain_parameters(wide.config, v) - target) for v in (w - 1, w, w + 1)]
    assert gaps[1] == min(gaps)


def test_candidate_copies_standardization_and_keeps_the_architecture(wide):
    net = build_candidate(wide, 5, seed=2)
    assert net.config.hidden == (5, 5) and net.config.activation == "elu"
    assert torch.equal(net.x_scale, wide.x_scale) and torch.equal(net.theta_lo, wide.theta_lo)


@pytest.mark.parametrize("mode", ["gd", "cascade"])
def test_model_with_dendrites_saves_and_loads(wide, tmp_path, mode):
    net = build_candidate(wide, 4, n_sets=2, dendrites=DendriteConfig(mode=mode), seed=3)
    with torch.no_grad():  # non-zero output weights so the dendrites matter
        for _, layer in dendritic_layers(net):
            for s in layer.sets:
                s.v.normal_()
    path = save_model(net, tmp_path / "small.pt", metadata={"note": "x"})
    back = load_model(path)
    assert [m.n_sets for _, m in dendritic_layers(back)] == [2] * 6
    assert dendritic_layers(back)[0][1].config.mode == mode
    assert count_parameters(back) == count_parameters(net)
    x, theta = torch.randn(7, 2), torch.randn(7, 2)
    for a, b in zip(net(0.0, x, theta), back(0.0, x, theta)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    times = torch.linspace(0, 1, 5)
    p1 = net.sample_paths(x, theta, times, dt=0.1, generator=torch.Generator().manual_seed(0))
    p2 = back.sample_paths(x, theta, times, dt=0.1, generator=torch.Generator().manual_seed(0))
    assert torch.equal(p1, p2)
    frozen = [p.requires_grad for _, m in dendritic_layers(back) for p in m.sets[0].parameters()]
    assert (False in frozen) == (mode == "cascade")


def test_plain_model_keeps_format_version_1(wide, tmp_path):
    path = save_model(wide, tmp_path / "wide.pt")
    obj = torch.load(path, weights_only=True)
    assert obj["version"] == 1 and "dendrites" not in obj
    assert not dendritic_layers(load_model(path))


def check_table(result, wide_params, col="valid_tw2"):
    table = result.table
    assert set(table["kind"]) == set(KINDS)
    assert list(table.columns) == ["candidate", "kind", "width", "K", "K_max", "params", "macs",
                                   "train_tw2", "valid_tw2", "test_tw2", "seconds", "capped"]  # fmt: skip
    assert table[["train_tw2", col]].notna().all().all() and (table["params"] > 0).all()
    wide_tw2 = float(table.loc[table["kind"] == "wide", col].iloc[0])
    limit = wide_tw2 * (1 + result.tolerance)
    assert f"{limit:.6g}" in result.rule and ("test groups" in result.rule) == (col == "test_tw2")
    row = table.set_index("candidate").loc[result.best]
    if result.compressed:
        assert row[col] <= limit and row["params"] < wide_params
        ok = table[(table[col] <= limit) & (table["kind"] != "wide")]
        assert row["params"] == ok["params"].min()
    else:
        assert result.best == "wide"
        smaller = table[(table["kind"] != "wide") & (table["params"] < wide_params)]
        assert (smaller[col] > limit).all()


def test_compress_gd_returns_all_kinds_and_a_best_within_tolerance(data, wide):
    rows = []
    result = compress(wide, data[0], valid=data[1], widths=[2, 4], max_dendrites=1,
                      config=CFG, tolerance=0.05, callback=rows.append)  # fmt: skip
    assert len(rows) == len(result.table) == 1 + 2 + 2 * 3
    check_table(result, count_parameters(wide))
    assert result.table["test_tw2"].isna().all()
    dend = result.table[result.table["kind"] == "dendrites"]
    assert (dend["K"] == 1).all()
    for _, r in dend.iterrows():  # the controls' parameters / MACs are the closest available
        eq = result.table[result.table["candidate"].str.endswith(f"(={r['candidate']})")]
        assert int(eq["width"].iloc[0]) == equal_width(wide.config, int(r["params"]))
        eq = result.table[result.table["candidate"].str.endswith(f"(=macs {r['candidate']})")]
        assert int(eq["width"].iloc[0]) == equal_macs_width(wide.config, int(r["macs"]))
    generous = compress(wide, data[0], valid=data[1], widths=[2], max_dendrites=1,
                        config=CFG, tolerance=1e6)  # fmt: skip
    assert generous.compressed and generous.best == "w2"
    assert isinstance(generous.best_model, ENDnSDE) and generous.best_model is not wide


def test_compress_reports_none_within_tolerance(data, wide, monkeypatch):
    real = compression_core._score
    monkeypatch.setattr(
        compression_core,
        "_score",
        lambda m, d, *a: (0.0 if d is not None else float("nan")) if m is wide else real(m, d, *a),
    )
    result = compress(wide, data[0], valid=data[1], widths=[2], max_dendrites=1, config=CFG)
    assert not result.compressed and result.best == "wide" and result.best_model is wide
    check_table(result, count_parameters(wide))


def test_compress_cascade_grows_dendrites_and_picks_on_the_test_split(data, wide):
    dcfg = DendriteConfig(patience=1, threshold=0.5, candidate_epochs=2, max_tries=2)
    test = damped_dataset(n_per_group=10, grid=(0.5,), seed=9, n_times=4)
    result = compress(wide, data[0], valid=data[1], test=test, widths=[3], max_dendrites=1,
                      mode="cascade", config=CFG.replace(epochs=6), dendrites=dcfg,
                      tolerance=1e6)  # fmt: skip
    check_table(result, count_parameters(wide), col="test_tw2")
    assert result.mode == "cascade" and result.best == "w3"
    assert (result.table["capped"] >= 0).all()


def test_macs_of_plain_and_dendrite_networks(wide):
    for w in (2, 5):
        assert model_macs(build_candidate(wide, w)) == plain_macs(wide.config, w)
    net = build_candidate(wide, 3, n_sets=2, dendrites=DendriteConfig())
    # drift 4-3-3-2, diffusion 4-3-3-4: 3 x the weights plus 2 + 1 per output unit and set pair
    shapes = [(4, 3), (3, 3), (3, 2), (4, 3), (3, 3), (3, 4)]
    assert model_macs(net) == sum(3 * i * o + o * (2 + 1) for i, o in shapes)
    assert all(not m.config.detach_input for _, m in dendritic_layers(net))


@pytest.mark.parametrize(
    "kw, error, match",
    [
        (dict(widths=[]), ValueError, "widths must be a non-empty"),
        (dict(widths=[0, 4]), ValueError, "widths must be integers >= 1"),
        (dict(max_dendrites=-1), ValueError, "max_dendrites must be an integer >= 0"),
        (dict(mode="adam"), ValueError, "mode must be one of"),
        (dict(tolerance=-0.1), ValueError, "tolerance must be"),
    ],
)
def test_bad_inputs_are_one_line_errors(data, wide, kw, error, match):
    args = {"valid": data[1], "widths": [2], "max_dendrites": 1, "config": CFG, **kw}
    with pytest.raises(error, match=match) as info:
        compress(wide, data[0], **args)
    assert "\n" not in str(info.value)


def test_model_data_mismatch_is_reported_before_training(data, wide):
    other = ENDnSDE(ENDnSDEConfig(("x1", "y"), PARAMS, hidden=(4,)))
    with pytest.raises(ModelMismatchError, match="species") as info:
        compress(other, data[0], valid=data[1], widths=[2], config=CFG)
    assert "\n" not in str(info.value)
    with pytest.raises(ModelMismatchError):
        compress(wide, data[0], valid=data[1].drop_vars("theta"), widths=[2], config=CFG)
    with pytest.raises(TypeError, match="fitted ENDnSDE"):
        compress(torch.nn.Linear(2, 2), data[0], valid=data[1], widths=[2], config=CFG)
    assert np.isfinite(float(wide.x_scale[0]))
