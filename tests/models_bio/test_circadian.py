"""Circadian models: Vilar 2002 RHS and propensities vs models.md §1, damped oscillator §2."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models_bio import damped_oscillator, get, vilar2002


def _vilar_rhs(y, k):
    DA, DAp, DR, DRp, MA, MR, A, R, C = y
    return np.array([
        k["thetaA"] * DAp - k["gammaA"] * DA * A,
        k["gammaA"] * DA * A - k["thetaA"] * DAp,
        k["thetaR"] * DRp - k["gammaR"] * DR * A,
        k["gammaR"] * DR * A - k["thetaR"] * DRp,
        k["alphaA"] * DA + k["alphaAp"] * DAp - k["deltaMA"] * MA,
        k["alphaR"] * DR + k["alphaRp"] * DRp - k["deltaMR"] * MR,
        k["betaA"] * MA + k["thetaA"] * DAp + k["thetaR"] * DRp
        - A * (k["gammaA"] * DA + k["gammaR"] * DR + k["gammaC"] * R + k["deltaA"]),
        k["betaR"] * MR - k["gammaC"] * A * R + k["deltaA"] * C - k["deltaR"] * R,
        k["gammaC"] * A * R - k["deltaA"] * C,
    ])  # fmt: skip


def test_vilar_rhs_matches_hand_written_ode():
    net = vilar2002()
    kin = net.kinetics
    rng = np.random.default_rng(0)
    factors = rng.lognormal(0, 0.3, (20, 15))
    p = kin.parameter_vector(n=20) * factors
    x = rng.uniform(0, 1, (20, 9)) * np.array([1, 1, 1, 1, 50, 80, 1500, 1700, 2000])
    got = kin.drift(x, p)
    for c in range(20):
        k = dict(zip(net.parameter_names, p[c]))
        np.testing.assert_allclose(got[c], _vilar_rhs(x[c], k), rtol=1e-12, atol=1e-9)


def test_vilar_propensities_in_table_order():
    net = vilar2002()
    kin = net.kinetics
    n = np.array([[1.0, 0.0, 0.0, 1.0, 12.0, 30.0, 400.0, 250.0, 90.0]])
    p = kin.parameter_vector(n=1)
    k = dict(zip(net.parameter_names, p[0]))
    DA, DAp, DR, DRp, MA, MR, A, R, C = n[0]
    expected = [
        k["gammaA"] * DA * A, k["thetaA"] * DAp, k["gammaR"] * DR * A, k["thetaR"] * DRp,
        k["alphaA"] * DA, k["alphaAp"] * DAp, k["alphaR"] * DR, k["alphaRp"] * DRp,
        k["betaA"] * MA, k["betaR"] * MR, k["gammaC"] * A * R, k["deltaA"] * C,
        k["deltaA"] * A, k["deltaR"] * R, k["deltaMA"] * MA, k["deltaMR"] * MR,
    ]  # fmt: skip
    np.testing.assert_allclose(kin.propensities(n, p)[0], expected, rtol=1e-14)
    assert kin.stoichiometry_is_integer and net.time_units == "h"
    assert net.nominal["deltaR"] == 0.2 and len(net.reactions) == 16


def test_vilar_registry_and_heterogeneity_options():
    assert get("vilar2002").heterogeneity.keys() == vilar2002().heterogeneity.keys()
    assert len(vilar2002().heterogeneity) == 10
    assert vilar2002(heterogeneity="none").heterogeneity == {}
    with pytest.raises(ValueError, match="heterogeneity"):
        vilar2002(heterogeneity="wide")


def test_damped_oscillator_functions():
    a, b, k1, k2 = 0.19, 0.21, 0.3, 0.1
    sde = damped_oscillator(k1=k1, k2=k2)
    x = torch.tensor([[0.4, -1.2], [-0.25, 2.0]], dtype=torch.float64)
    th = torch.tensor([[1.0, -0.5], [-1.0, 0.5]], dtype=torch.float64)
    f = sde.drift(0.0, x, th)
    torch.testing.assert_close(
        f, torch.stack((-a * x[:, 0] - b * x[:, 1], b * x[:, 0] - a * x[:, 1]), 1)
    )
    g = sde.diffusion(0.0, x, th)
    s1 = x[:, 0].abs().sqrt()
    torch.testing.assert_close(
        g, torch.stack(((k1 + k2 * th[:, 0]) * s1, (k1 + k2 * th[:, 1]) * s1), 1)
    )
    own = damped_oscillator(k1=k1, k2=k2, noise_on="own").diffusion(0.0, x, th)
    torch.testing.assert_close(own[:, 1], (k1 + k2 * th[:, 1]) * x[:, 1].abs().sqrt())
    zero = damped_oscillator(k1=0.1, k2=0.1).diffusion(0.0, x, -torch.ones_like(th))
    assert torch.all(zero == 0)
    assert sde.noise_type == "diagonal" and sde.n_brownian == 2 and sde.initial == (0.0, 1.0)
    assert sde.heterogeneity["omega1"].values == (-1.0, -0.5, 0.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="noise_on"):
        damped_oscillator(noise_on="x2")


def test_damped_oscillator_exact_mean_values():
    # models.md §2: E[x](t) = e^{-at} R(bt) x0 from x0 = (0, 1)
    a, b = 0.19, 0.21
    for t, (m1, m2) in {
        0.1: (-0.02060, 0.98096),
        0.5: (-0.09531, 0.90436),
        1.0: (-0.17239, 0.80879),
    }.items():
        assert np.exp(-a * t) * -np.sin(b * t) == pytest.approx(m1, abs=1e-5)
        assert np.exp(-a * t) * np.cos(b * t) == pytest.approx(m2, abs=1e-5)
