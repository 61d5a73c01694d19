import pickle

import pytest
import torch

from cellsde.errors import CheckpointError
from cellsde.nn.checkpoint import load_model, save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from models_bio.sde import SDEProtocol


def make(**kw):
    base = dict(species=("a", "b", "c"), params=("w",), hidden=(8, 8), n_brownian=2)
    base.update(kw)
    return ENDnSDE(ENDnSDEConfig(**base))


def test_shapes_and_protocol():
    m = make()
    assert isinstance(m, SDEProtocol)
    x, th = torch.randn(5, 3), torch.randn(5, 1)
    assert m.drift(0.0, x, th).shape == (5, 3)
    g = m.diffusion(0.0, x, th)
    assert g.shape == (5, 3, 2) and bool((g >= 0).all())
    d = make(noise="diagonal").diffusion(0.0, x, th)
    assert d.shape == (5, 3) and make(noise="diagonal").n_brownian == 3


def test_noise_mask_zeroes_rows_and_time_input():
    m = make(noisy_species=("b",), time_input=True)
    g = m.diffusion(0.3, torch.randn(4, 3), torch.randn(4, 1))
    assert torch.all(g[:, [0, 2]] == 0) and torch.any(g[:, 1] != 0)
    # time input changes the output
    x, th = torch.randn(4, 3), torch.randn(4, 1)
    assert not torch.allclose(m.drift(0.0, x, th), m.drift(5.0, x, th))


def test_standardization_is_exact_reparametrisation():
    m = make()
    x, th = torch.randn(6, 3), torch.randn(6, 1)
    f0 = m.drift(0.0, x, th)
    m.set_standardization(
        x_loc=torch.zeros(3),
        x_scale=torch.full((3,), 2.0),
        theta_loc=torch.zeros(1),
        theta_scale=torch.ones(1),
    )
    # the drift at 2x equals 2 * drift at x of the unscaled network
    assert torch.allclose(m.drift(0.0, 2 * x, th), 2 * f0, atol=1e-6)
    with pytest.raises(ValueError, match="x_scale must be > 0"):
        m.set_standardization(
            x_loc=torch.zeros(3),
            x_scale=torch.zeros(3),
            theta_loc=torch.zeros(1),
            theta_scale=torch.ones(1),
        )


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(species=()), "at least one species"),
        (dict(species=("a", "a")), "duplicated"),
        (dict(activation="gelu2"), "activation"),
        (dict(noise="full"), "noise"),
        (dict(noisy_species=("zz",)), "noisy_species"),
        (dict(positivity="square"), "positivity"),
        (dict(hidden=(0,)), "hidden"),
        (dict(species_units=("uM",)), "species_units"),
    ],
)
def test_config_rejects_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        make(**kw)


def test_checkpoint_round_trip(tmp_path):
    m = make(time_input=True)
    path = save_model(m, tmp_path / "m.pt", metadata={"note": "x"})
    m2 = load_model(path)
    assert m2.config == m.config and m2.metadata["note"] == "x"
    x, th = torch.randn(3, 3), torch.randn(3, 1)
    assert torch.equal(m.drift(0.1, x, th), m2.drift(0.1, x, th))
    assert not list(tmp_path.glob(".*tmp"))  # no temporary left behind


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_checkpoint_refuses_pickled_code_and_foreign_files(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "cellsde-endnsde", "payload": Evil()}, evil)
    with pytest.raises(CheckpointError, match="pickled objects"):
        load_model(evil)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.ones(2)}, other)
    with pytest.raises(CheckpointError, match="not a cellsde-endnsde"):
        load_model(other)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_model(empty)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_model(junk)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError):
        load_model(raw)


def test_checkpoint_detects_mismatched_weights(tmp_path):
    m = make()
    path = save_model(m, tmp_path / "m.pt")
    obj = torch.load(path, weights_only=True)
    obj["state_dict"].pop("drift_net.0.weight")
    torch.save(obj, path)
    with pytest.raises(CheckpointError, match="do not match"):
        load_model(path)


def test_seeded_initialisation_is_reproducible_and_leaves_global_rng():
    cfg = ENDnSDEConfig(species=("a",), hidden=(4,))
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    a, b = ENDnSDE(cfg, seed=5), ENDnSDE(cfg, seed=5)
    assert torch.equal(torch.rand(1), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_fitted_endnsde_is_simulatable_like_any_sde():
    import numpy as np

    import cellsde

    m = ENDnSDE(
        ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=(8,)), seed=0
    )
    ds = cellsde.simulate(
        m,
        times=np.linspace(0, 1, 5),
        theta=np.zeros((6, 2)),
        x0=np.array([0.0, 1.0]),
        seed=3,
        dt=0.05,
    )
    assert ds["x"].shape == (6, 5, 2) and np.isfinite(ds["x"].values).all()
    np.testing.assert_allclose(ds["x"].values[:, 0], [[0.0, 1.0]] * 6)
