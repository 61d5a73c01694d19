"""Guo 2024 NF-kB with END-nSDE-style intrinsic noise (our construction): drift, diffusion, limits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

import models_bio
from models_bio.heterogeneity import Grid
from models_bio.nfkb.guo2024 import guo2024
from models_bio.nfkb.noise import OMEGA_GRID, guo2024_basal_state, guo2024_sde
from models_bio.sde import SDEModel, SDEProtocol


@pytest.fixture(scope="module")
def model() -> SDEModel:
    return guo2024_sde()  # TNF 100 ng/mL; basal state cached for the session


@pytest.fixture(scope="module")
def network():
    return guo2024(ligand="TNF", dose=100.0, heterogeneity="none")


def test_model_metadata(model):
    assert isinstance(model, SDEProtocol)
    assert model.name == "guo2024_sde" and model.time_units == "min"
    assert model.noise_type == "general" and model.n_brownian == 2
    assert model.param_names == ("omega_ikba", "omega_nfkb")
    assert len(model.species) == 52 and model.species[9] == "NFkBn"
    assert OMEGA_GRID == tuple(np.round(np.linspace(-3.5, -1.5, 11), 10))
    assert model.heterogeneity["omega_ikba"] == Grid(OMEGA_GRID)
    assert model.heterogeneity["omega_nfkb"] == Grid(OMEGA_GRID)
    assert models_bio.get("guo2024_sde").name == "guo2024_sde"


def test_initial_state_is_basal_with_tnf(model):
    basal = guo2024_basal_state()
    x0 = np.asarray(model.initial)
    i_tnf = model.species.index("TNF")
    assert x0[i_tnf] == pytest.approx(100 / 5200, rel=1e-12)
    np.testing.assert_array_equal(np.delete(x0, i_tnf), np.delete(basal, i_tnf))
    assert x0[model.species.index("NFkBn")] == pytest.approx(0.0219, rel=0.02)


def test_drift_is_the_ode_drift(model, network):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 0.1, (4, 52))  # (cell, species)
    theta = torch.full((4, 2), -2.0, dtype=torch.float64)
    f = model.drift(0.0, torch.as_tensor(x), theta).numpy()
    want = network.kinetics.drift(x, network.kinetics.parameter_vector(n=4))
    np.testing.assert_allclose(f, want, rtol=1e-10, atol=1e-14)


def test_diffusion_shape_values_and_signs(model, network):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 0.1, (5, 52))
    x[0] = -x[0]  # negative states (an EM step can overshoot) must stay finite
    theta = torch.as_tensor(rng.uniform(-3, -1, (5, 2)))
    g = model.diffusion(0.0, torch.as_tensor(x), theta).numpy()  # (cell, species, brownian)
    assert g.shape == (5, 52, 2) and np.all(np.isfinite(g))
    sp = model.species
    it, ic, inn = sp.index("IkBat"), sp.index("NFkB"), sp.index("NFkBn")
    others = np.ones(52, dtype=bool)
    others[[it, ic, inn]] = False
    assert np.all(g[:, others, :] == 0)
    assert np.all(g[:, it, 1] == 0) and np.all(g[:, [ic, inn], 0] == 0)
    assert np.all(g[:, it, 0] >= 0) and np.all(g[:, inn, 1] >= 0) and np.all(g[:, ic, 1] <= 0)
    # molecules conserved by translocation noise: dNFkB + dNFkBn / 3.5 = 0
    np.testing.assert_allclose(g[:, ic, 1] + g[:, inn, 1] / 3.5, 0.0, atol=1e-18)
    # values: sigma * sqrt(summed rates), rates at max(x, 0)
    kin = network.kinetics
    v = kin.rates(np.clip(x, 0, None), kin.parameter_vector(n=5))
    names = [r.name for r in network.reactions]
    r = {k: v[:, names.index(f"r{k}")] for k in (5, 6, 10, 12)}
    s = 10.0 ** theta.numpy()
    np.testing.assert_allclose(g[:, it, 0], s[:, 0] * np.sqrt(r[5] + r[6]), rtol=1e-10)
    want = s[:, 1] * 3.5 * np.sqrt(r[10] + r[12] / 3.5**2)
    np.testing.assert_allclose(g[:, inn, 1], want, rtol=1e-10)


def test_zero_noise_limit_reproduces_the_ode(model, network):
    """omega -> -inf: Euler-Maruyama on the SDE equals the ODE (here to EM's O(dt) error)."""
    x0 = np.asarray(model.initial)
    t_end, dt = 6.0, 0.005
    x = torch.as_tensor(x0).expand(2, -1).clone()  # (cell, species)
    theta = torch.full((2, 2), -30.0, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    biggest = 0.0
    for _ in range(round(t_end / dt)):
        dw = torch.randn(2, 2, generator=gen, dtype=torch.float64) * dt**0.5
        noise = torch.einsum("csb,cb->cs", model.diffusion(0.0, x, theta), dw)
        biggest = max(biggest, float(noise.abs().max()))
        x = x + model.drift(0.0, x, theta) * dt + noise
    assert biggest < 1e-25
    kin = network.kinetics
    p = kin.parameter_vector()
    sol = solve_ivp(
        lambda t, y: kin.drift(y[None, :], p)[0],
        (0.0, t_end),
        x0,
        method="BDF",
        rtol=1e-8,
        atol=1e-11,
    )
    sp = model.species
    nuc = [sp.index("NFkBn"), sp.index("IkBaNFkBn")]
    want = sol.y[nuc, -1].sum()
    got = x[:, nuc].sum(-1).numpy()
    assert want > 0.05  # on the rise to the first peak
    np.testing.assert_allclose(got, want, rtol=0.01)
    assert torch.equal(x[0], x[1])


def test_cell_params_set_each_cells_drift_and_leave_the_noise(model, network):
    """Per-cell kinetic parameters (a calibrated population's cells) replace the nominal ones."""
    names = ("NFkB_total", "p35", "p40")
    cell = guo2024_sde(cell_params=names)
    assert cell.param_names == ("omega_ikba", "omega_nfkb", *names)
    rng = np.random.default_rng(2)
    x = rng.uniform(0.0, 0.1, (3, 52))  # (cell, species)
    p = network.kinetics.parameter_vector(n=3)  # (cell, parameter)
    cols = [network.parameter_names.index(n) for n in names]
    p[:, cols] *= rng.uniform(0.5, 2.0, (3, len(names)))  # a different value in every cell
    theta = torch.as_tensor(np.column_stack([np.full((3, 2), -2.0), p[:, cols]]))
    f = cell.drift(0.0, torch.as_tensor(x), theta).numpy()
    np.testing.assert_allclose(f, network.kinetics.drift(x, p), rtol=1e-10, atol=1e-14)
    assert not np.allclose(f, model.drift(0.0, torch.as_tensor(x), theta[:, :2]).numpy())
    g_cell = cell.diffusion(0.0, torch.as_tensor(x), theta)
    g_nominal = model.diffusion(0.0, torch.as_tensor(x), theta[:, :2])
    torch.testing.assert_close(g_cell, g_nominal)  # the noisy rates' constants stay nominal


@pytest.mark.parametrize("names", [("not_a_parameter",), ("p10",), ("p35", "p35")])
def test_cell_params_refuse_unknown_noisy_or_repeated_names(names):
    with pytest.raises(ValueError, match="cell_params"):
        guo2024_sde(cell_params=names)
