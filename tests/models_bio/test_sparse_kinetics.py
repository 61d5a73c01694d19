"""Species-major drift, sparse Jacobian and parameter derivatives against Kinetics and differences."""

from __future__ import annotations

import numpy as np
import pytest

import models_bio
from models_bio.nfkb.guo2024 import DEFAULT_HETEROGENEOUS
from models_bio.sparse_kinetics import SparseKinetics

FREE = ("p54", "p58", "NFkB_total", "p9n2", "p65n2", "p6n2")


@pytest.fixture(scope="module")
def guo():
    net = models_bio.get("guo2024", ligand="TNF")
    rng = np.random.default_rng(3)
    n = 5
    p = net.kinetics.parameter_vector(None, n)
    for q in (*DEFAULT_HETEROGENEOUS, "p9n2"):
        p[:, net.parameter_names.index(q)] *= np.exp(0.3 * rng.standard_normal(n))
    x = rng.uniform(0.001, 0.1, (n, len(net.species)))
    return net, x, p


def _dense_fd(net, x, p, c):
    f = net.kinetics.drift
    out = np.zeros((x.shape[1], x.shape[1]))
    for k in range(x.shape[1]):
        h = 1e-7 * max(abs(x[c, k]), 1e-3)
        up, down = x[c : c + 1].copy(), x[c : c + 1].copy()
        up[0, k] += h
        down[0, k] -= h
        out[:, k] = (f(up, p[c : c + 1]) - f(down, p[c : c + 1]))[0] / (2 * h)
    return out


def test_drift_equals_kinetics_drift(guo) -> None:
    net, x, p = guo
    sk = SparseKinetics(net, params=FREE)
    np.testing.assert_allclose(
        sk.drift(x.T.copy(), p.T.copy(), 0.0), net.kinetics.drift(x, p).T, rtol=1e-12, atol=1e-18
    )


def test_jacobian_matches_differences_and_pattern_is_complete(guo) -> None:
    net, x, p = guo
    sk = SparseKinetics(net, params=FREE)
    jac = sk.jacobian(x.T.copy(), p.T.copy(), 0.0)
    for c in range(x.shape[0]):
        dense = np.zeros((len(net.species),) * 2)
        dense[sk.pattern] = jac[:, c]
        fd = _dense_fd(net, x, p, c)
        np.testing.assert_allclose(dense, fd, rtol=1e-5, atol=1e-9 * np.abs(fd).max())
        assert np.all(fd[dense == 0.0] == 0.0)


def test_parameter_products_match_differences_and_each_other(guo) -> None:
    net, x, p = guo
    sk = SparseKinetics(net, params=FREE)
    X, P = x.T.copy(), p.T.copy()
    w = np.random.default_rng(0).standard_normal(X.shape)
    vjp = sk.vjp_params(X, P, 0.0, w)  # (param, cell)
    for q, name in enumerate(FREE):
        k = net.parameter_names.index(name)
        h = 1e-6 * P[k]
        up, down = P.copy(), P.copy()
        up[k] += h
        down[k] -= h
        fd = np.einsum("sc,sc->c", (sk.drift(X, up, 0.0) - sk.drift(X, down, 0.0)) / (2 * h), w)
        np.testing.assert_allclose(vjp[q], fd, rtol=1e-4, atol=1e-12)  # differences of powers
    v = np.random.default_rng(1).standard_normal((len(FREE), X.shape[1], 3))
    jvp = sk.jvp_params(X, P, 0.0, v)
    np.testing.assert_allclose(
        np.einsum("scd,sc->cd", jvp, w), np.einsum("qc,qcd->cd", vjp, v), rtol=1e-10
    )


def test_transposed_product_is_the_adjoint_of_the_product(guo) -> None:
    net, x, p = guo
    sk = SparseKinetics(net)
    jac = sk.jacobian(x.T.copy(), p.T.copy(), 0.0)
    rng = np.random.default_rng(2)
    u, w = rng.standard_normal((2, len(net.species), x.shape[0]))
    lhs = np.einsum("sc,sc->c", sk.matvec(jac, u), w)
    rhs = np.einsum("sc,sc->c", u, sk.rmatvec(jac, w))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


def test_hold_and_fixed(guo) -> None:
    net, x, p = guo
    fixed = {q: v for q, v in net.nominal.items() if q not in DEFAULT_HETEROGENEOUS and q != "p9n2"}
    held = SparseKinetics(net, hold=("TNF",), fixed=fixed)
    f = held.drift(x.T.copy(), p.T.copy(), 0.0)
    assert np.all(f[net.species_names.index("TNF")] == 0.0)
    free = SparseKinetics(net, hold=("TNF",))
    np.testing.assert_allclose(f, free.drift(x.T.copy(), p.T.copy(), 0.0), rtol=1e-12)


def test_bad_inputs_are_named(guo) -> None:
    net = guo[0]
    with pytest.raises(KeyError, match="unknown parameter"):
        SparseKinetics(net, params=("nope",))
    with pytest.raises(KeyError, match="unknown species"):
        SparseKinetics(net, hold=("nope",))
    with pytest.raises(ValueError, match="both free and fixed"):
        SparseKinetics(net, params=("p54",), fixed={"p54": 1.0})
