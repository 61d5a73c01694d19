"""Basal steady states with conservation laws, and their exact sensitivities."""

from __future__ import annotations

import numpy as np
import pytest

import models_bio
from cellsde.errors import CellsdeError
from cellsde.solvers.basal import invariants, steady_state, steady_state_jvp, steady_state_vjp
from cellsde.solvers.esdirk import System
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species
from models_bio.nfkb.guo2024 import DEFAULT_HETEROGENEOUS
from models_bio.nfkb.steady import phase1_steady_state
from models_bio.sparse_kinetics import SparseKinetics


def cycle() -> ReactionNetwork:
    """A <-> B with total T conserved, and a product P of B that decays; S is a stimulus that
    would consume B but is held at 0, so its complex BS never forms."""
    return ReactionNetwork(
        name="cycle",
        species=(Species("A", "T"), Species("B"), Species("P"), Species("S"), Species("BS")),
        parameters=(
            Parameter("T", 2.0),
            Parameter("kf", 3.0),
            Parameter("kr", 1.0),
            Parameter("kp", 0.5),
            Parameter("kd", 0.25),
            Parameter("kon", 1.0),
        ),
        reactions=(
            Reaction("f", {"A": 1}, {"B": 1}, "kf*A"),
            Reaction("r", {"B": 1}, {"A": 1}, "kr*B"),
            Reaction("p", {}, {"P": 1}, "kp*B"),
            Reaction("d", {"P": 1}, {}, "kd*P"),
            Reaction("bind", {"B": 1, "S": 1}, {"BS": 1}, "kon*B*S"),
        ),
        time_units="s",
    )


FREE = ("T", "kf", "kp")


def _setup(n=3, seed=0):
    net = cycle()
    rng = np.random.default_rng(seed)
    p = net.kinetics.parameter_vector(None, n).T * np.exp(
        0.3 * rng.standard_normal((6, 1)) * [[1]] * np.ones((6, n))
    )
    system = System(SparseKinetics(net, params=FREE, hold=("S",)))
    x0 = net.kinetics.initial_state(p.T).T
    init = np.array([0, -1, -1, -1, -1])  # A's initial value is the free parameter T
    return net, system, x0, p, init


def test_steady_state_is_analytic_on_the_invariant_manifold() -> None:
    _net, system, x0, p, _ = _setup()
    basal = steady_state(system, x0, p)
    t, kf, kr, kp, kd = p[0], p[1], p[2], p[3], p[4]
    b = t * kf / (kf + kr)
    np.testing.assert_allclose(basal.x[1], b, rtol=1e-10)
    np.testing.assert_allclose(basal.x[0], t - b, rtol=1e-10)
    np.testing.assert_allclose(basal.x[2], kp * b / kd, rtol=1e-10)
    assert basal.stable.all()
    # A + B, S and BS (never formed: S is held at 0) are the invariants
    assert invariants(system, x0, p).shape[0] == 3


def test_sensitivities_match_finite_differences() -> None:
    net, system, x0, p, init = _setup()
    basal = steady_state(system, x0, p)
    w = np.random.default_rng(1).standard_normal(x0.shape)
    vjp = steady_state_vjp(system, basal.x, p, w, init, basal.invariants)
    jvp = steady_state_jvp(system, basal, p, init)  # (species, cell, param)
    np.testing.assert_allclose(np.einsum("scq,sc->qc", jvp, w), vjp, rtol=1e-9)
    for q, name in enumerate(FREE):
        k = net.parameter_names.index(name)
        h = 1e-6 * p[k]
        up, down = p.copy(), p.copy()
        up[k] += h
        down[k] -= h
        xs = [steady_state(system, net.kinetics.initial_state(v.T).T, v).x for v in (up, down)]
        fd = np.einsum("sc,sc->c", (xs[0] - xs[1]) / (2 * h), w)
        np.testing.assert_allclose(vjp[q], fd, rtol=1e-6)


def test_guo2024_basal_matches_the_source_rule_and_warm_start() -> None:
    net = models_bio.get("guo2024", ligand="TNF")
    rng = np.random.default_rng(0)
    p = net.kinetics.parameter_vector(None, 3)
    for q in DEFAULT_HETEROGENEOUS:
        p[:, net.parameter_names.index(q)] *= np.exp(0.3 * rng.standard_normal(3))
    ref = phase1_steady_state(net, p)  # (cell, species), the source's chunked integration
    system = System(SparseKinetics(net, hold=("TNF",)))
    x0 = net.kinetics.initial_state(p).T
    x0[net.species_names.index("TNF")] = 0.0
    basal = steady_state(system, x0, p.T.copy())
    nuclear = [net.species_names.index(s) for s in ("NFkBn", "IkBaNFkBn")]
    np.testing.assert_allclose(basal.x[nuclear], ref.T[nuclear], rtol=1e-4)
    again = steady_state(system, x0, p.T.copy(), guess=basal.x)
    np.testing.assert_allclose(again.x, basal.x, rtol=1e-10, atol=1e-16)


def test_no_steady_state_is_reported() -> None:
    net = ReactionNetwork(
        name="growth", species=(Species("A", 1.0),), parameters=(Parameter("k", 1.0),),
        reactions=(Reaction("g", {}, {"A": 1}, "k"),), time_units="s",
    )  # fmt: skip
    system = System(SparseKinetics(net))
    with pytest.raises(CellsdeError, match="steady state"):
        steady_state(system, np.ones((1, 2)), np.ones((1, 2)), chunk=10.0, max_chunks=2)
