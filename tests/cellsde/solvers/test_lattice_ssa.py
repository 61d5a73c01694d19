"""Exact lattice SSA for RPA–ssDNA against the oracles of reference models.md §3."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from cellsde.solvers.lattice_ssa import LatticeResult, simulate_lattice
from cellsde.solvers.lattice_state import LatticeState
from models_bio.rpa_dna import (
    equilibrium_coverage,
    finite_lattice_equilibrium,
    rpa_dna,
    rsa_coverage,
)


def _assert_valid_lattice(modes: np.ndarray, L: int, periodic: bool) -> None:
    """No overlaps, footprints 20/30 only, inside the lattice for free ends."""
    for row in modes:
        occ = np.zeros(L, int)
        for s in np.flatnonzero(row):
            f = int(row[s])
            assert f in (20, 30)
            assert periodic or s + f <= L
            occ[(s + np.arange(f)) % L] += 1
        assert occ.max(initial=0) <= 1


@pytest.mark.parametrize("boundary", ["free", "periodic"])
@pytest.mark.parametrize("L", [20, 25, 30, 35, 61, 250])
def test_incremental_state_matches_rebuild(L, boundary):
    """Random event sequences (all classes, several cells per call) keep every array exact."""
    rng = np.random.default_rng(L)
    st = LatticeState(6, L, boundary == "periodic", block=8)
    ops = (st.bind, st.unbind, st.extend, st.shrink)
    for step in range(400):
        counts = np.stack([st.binding_starts(), st.count["n20"], st.count["ext"], st.count["n30"]])
        # bias towards binding so long lattices fill up
        cls = np.array([rng.choice(np.flatnonzero(counts[:, c]), p=None) for c in range(6)])
        cls = np.where((rng.random(6) < 0.4) & (counts[0] > 0), 0, cls)
        for c, op in enumerate(ops):
            cells = np.flatnonzero(cls == c)
            if cells.size:
                op(cells, rng.integers(counts[c, cells]))
        if step % 50 == 49:
            assert st.check_invariants() == []
    _assert_valid_lattice(st.modes(), L, boundary == "periodic")


def test_result_shape_and_invariants():
    m = rpa_dna(400, k_minus1=0.5)
    times = np.linspace(0.0, 3.0, 31)
    r = simulate_lattice(m, times=times, n_cells=7, seed=3)
    assert isinstance(r, LatticeResult)
    assert r.x.shape == (7, 31, 5) and r.observables == ("n20", "n30", "c20", "c30", "c_empty")
    assert r.rates.shape == (7, 4) and r.n_events.shape == (7,) and r.final_modes.shape == (7, 400)
    assert (r.x[:, 0, :2] == 0).all() and (r.x[:, 0, 4] == 1).all()  # empty at t = 0
    assert (r.x[..., :2] >= 0).all() and (r.x[..., 4] >= 0).all() and (r.x[..., 2:4] <= 1).all()
    np.testing.assert_allclose(r.x[..., 2] + r.x[..., 3] + r.x[..., 4], 1.0)
    _assert_valid_lattice(r.final_modes, 400, False)
    np.testing.assert_array_equal((r.final_modes == 20).sum(1), r.x[:, -1, 0])
    np.testing.assert_array_equal((r.final_modes == 30).sum(1), r.x[:, -1, 1])
    assert (r.n_events > 0).all() and r.seed == 3


def test_same_seed_same_output_and_periodic_invariants():
    m = rpa_dna(300, "periodic")
    kw = {"times": np.linspace(0, 5, 11), "n_cells": 5}
    r1, r2 = simulate_lattice(m, seed=11, **kw), simulate_lattice(m, seed=11, **kw)
    np.testing.assert_array_equal(r1.x, r2.x)
    np.testing.assert_array_equal(r1.final_modes, r2.final_modes)
    assert not np.array_equal(r1.x, simulate_lattice(m, seed=12, **kw).x)
    _assert_valid_lattice(r1.final_modes, 300, True)


def test_generator_seed_and_progress_bar():
    m = rpa_dna(100)
    kw = {"times": [0.5, 1.0], "n_cells": 3}
    r1 = simulate_lattice(m, seed=np.random.default_rng(5), progress=True, **kw)
    r2 = simulate_lattice(m, seed=np.random.default_rng(5), **kw)
    np.testing.assert_array_equal(r1.x, r2.x)
    assert r1.seed is None


def test_heterogeneous_rates_per_cell():
    m = rpa_dna(200, k_minus1=1.0)
    k1 = np.array([0.0, 1.0, 1.0])
    km2 = np.array([1.0, 1.0, 0.0])
    r = simulate_lattice(m, times=[0.5, 20.0], n_cells=3, seed=0, rates={"k1": k1, "k_minus2": km2})
    assert (r.x[0, :, :2] == 0).all() and r.n_events[0] == 0  # no binding at all
    np.testing.assert_allclose(r.rates[:, 0], k1)
    assert r.x[2, -1, 1] >= r.x[1, -1, 1]  # no shrinking: 30-mers pile up


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"n_cells": 0}, ValueError),
        ({"n_cells": 2, "times": [1.0, 0.5]}, ValueError),
        ({"n_cells": 2, "times": [-1.0]}, ValueError),
        ({"n_cells": 2, "times": []}, ValueError),
        ({"n_cells": 2, "rates": {"k1": np.ones(3)}}, ValueError),
        ({"n_cells": 2, "rates": {"k2": -1.0}}, ValueError),
        ({"n_cells": 2, "rates": {"kon": 1.0}}, ValueError),
    ],
)
def test_bad_inputs(kwargs, exc):
    kwargs = {"times": [1.0], **kwargs}
    with pytest.raises(exc):
        simulate_lattice(rpa_dna(100), seed=0, **kwargs)
    with pytest.raises(TypeError):
        simulate_lattice("rpa_dna", times=[1.0], n_cells=1, seed=0)
    with pytest.raises(TypeError, match="seed"):
        simulate_lattice(rpa_dna(100), times=[1.0], n_cells=1, seed=None)


def test_two_state_chain_free_ends():
    """20 <= L <= 29: Free ⇄ Bound with k_on = k1 (L-19); exact transient and event rate."""
    L, k1, km1 = 25, 0.1, 0.5
    kon = k1 * (L - 19)
    times = np.linspace(0, 8, 17)
    r = simulate_lattice(rpa_dna(L, k1=k1, k_minus1=km1), times=times, n_cells=6000, seed=5)
    assert (r.x[..., 1] == 0).all()  # cannot extend
    p_bound = kon / (kon + km1) * (1 - np.exp(-(kon + km1) * times))
    np.testing.assert_allclose(r.x[..., 0].mean(0), p_bound, atol=4 * 0.5 / np.sqrt(6000))
    # dwell means 1/k_on (free) and 1/k_minus1 (bound): events per unit time at stationarity
    long = simulate_lattice(
        rpa_dna(L, k1=k1, k_minus1=km1), times=[10.0, 210.0], n_cells=200, seed=6
    )
    stat_rate = 2 * kon * km1 / (kon + km1)
    rate = long.n_events.mean() / 210.0  # includes a short transient; error ~1 %
    assert rate == pytest.approx(stat_rate, rel=0.04)


def test_single_protein_worked_case_L35():
    """L = 35, k1 = 1, k-1 = 0.5, k2 = 2, k-2 = 1: P(free) 0.017544, E[n20] 0.561404, E[n30] 0.421053."""
    m = rpa_dna(35, k1=1.0, k_minus1=0.5, k2=2.0, k_minus2=1.0)
    r = simulate_lattice(m, times=np.linspace(20, 420, 401), n_cells=240, seed=8)  # se ≈ 0.003
    n20, n30 = r.x[..., 0].mean(), r.x[..., 1].mean()
    assert (r.x[..., 0] + r.x[..., 1]).max() <= 1
    assert n20 == pytest.approx(0.561404, abs=0.015)
    assert n30 == pytest.approx(0.421053, abs=0.015)
    assert 1 - n20 - n30 == pytest.approx(0.017544, abs=0.004)


def test_periodic_ring_single_protein():
    """30 <= L <= 39 ring: weights ∝ (1, L a, L b); MFPT Free → B30 = 1/k_on + (1 + k-1/k_on)/k2."""
    L, k1, km1, k2, km2 = 33, 0.02, 0.5, 0.4, 0.05  # slow k-2: B30 visits outlast the grid step
    a, b, kon = k1 / km1, (k1 / km1) * k2 / km2, k1 * L
    m = rpa_dna(L, "periodic", k1=k1, k_minus1=km1, k2=k2, k_minus2=km2)
    r = simulate_lattice(m, times=np.linspace(50, 850, 801), n_cells=40, seed=9)
    w = np.array([1, L * a, L * b]) / (1 + L * a + L * b)
    n20, n30 = r.x[..., 0].mean(), r.x[..., 1].mean()
    assert (r.x[..., 0] + r.x[..., 1]).max() <= 1
    np.testing.assert_allclose([1 - n20 - n30, n20, n30], w, atol=0.03)
    dt = 0.05
    times = np.arange(0, 50, dt)
    fp = simulate_lattice(m, times=times, n_cells=2500, seed=10)
    visited = (fp.x[..., 1] > 0).any(axis=1)
    assert visited.mean() > 0.99
    first = times[(fp.x[visited, :, 1] > 0).argmax(axis=1)] - dt / 2
    mfpt = 1 / kon + (1 + km1 / kon) / k2
    assert first.mean() == pytest.approx(mfpt, abs=4 * first.std() / np.sqrt(first.size))


def test_rsa_jamming_and_early_curve():
    """k-1 = k2 = 0: 20-mer RSA; θ(1) = 0.7489 and jamming 0.7585 ± 0.005 for L = 5000."""
    m = rpa_dna(5000, k1=1.0, k_minus1=0.0, k2=0.0)
    times = np.array([0.02, 0.1, 1.0, 200.0])
    r = simulate_lattice(m, times=times, n_cells=200, seed=4)  # per-cell sd ≈ 0.013
    cov = r.x[..., 2].mean(0)
    assert (r.x[..., 1] == 0).all()
    np.testing.assert_allclose(cov[:3], rsa_coverage(times[:3]), atol=0.005)
    assert cov[-1] == pytest.approx(0.7585, abs=0.005)
    _assert_valid_lattice(r.final_modes[:3], 5000, False)
    # jammed: no gap of >= 20 free sites left
    occ = np.zeros(5000, bool)
    for s in np.flatnonzero(r.final_modes[0]):
        occ[s : s + 20] = True
    runs = np.diff(np.flatnonzero(np.diff(np.r_[True, occ, True].astype(int)) != 0))[::2]
    assert runs.max(initial=0) < 20


def _exact_transient(L, k, times, periodic):
    """E[n20](t), E[n30](t) from the full generator of the CTMC (all configurations reachable
    from empty, enumerated by an independent occupancy-set implementation); shape (time, 2)."""
    k1, km1, k2, km2 = k

    def sites(s, f):
        return {(s + i) % L for i in range(f)}

    def moves(state):
        occ = set().union(*(sites(s, f) for s, f in state)) if state else set()
        starts = range(L) if periodic else range(L - 19)
        for s in starts:
            if not sites(s, 20) & occ:
                yield state | {(s, 20)}, k1
        for s, f in state:
            rest = state - {(s, f)}
            if f == 20:
                yield rest, km1
                if (periodic or s + 30 <= L) and not sites(s + 20, 10) & occ:
                    yield rest | {(s, 30)}, k2
            else:
                yield rest | {(s, 20)}, km2

    index, queue = {frozenset(): 0}, [frozenset()]
    edges = []
    while queue:
        st = queue.pop()
        for nxt, rate in moves(st):
            if nxt not in index:
                index[nxt] = len(index)
                queue.append(nxt)
            edges.append((index[st], index[nxt], rate))
    q = np.zeros((len(index), len(index)))
    for i, j, rate in edges:
        q[i, j] += rate
    q -= np.diag(q.sum(1))
    counts = np.zeros((len(index), 2))
    for st, i in index.items():
        counts[i] = [sum(f == 20 for _, f in st), sum(f == 30 for _, f in st)]
    return np.array([expm(q * t)[0] @ counts for t in times])


@pytest.mark.parametrize(("L", "boundary"), [(50, "free"), (48, "periodic")])
def test_transient_matches_exact_generator(L, boundary):
    """Means of n20, n30 at several times equal the exact CTMC transient (within 4.5 se)."""
    k, times = (1.0, 0.3, 0.7, 0.4), np.array([0.02, 0.1, 0.3, 1.0, 3.0])
    exact = _exact_transient(L, k, times, boundary == "periodic")
    m = rpa_dna(L, boundary, k1=k[0], k_minus1=k[1], k2=k[2], k_minus2=k[3])
    x = simulate_lattice(m, times=times, n_cells=8000, seed=2).x[..., :2]  # (cell, time, 2)
    se = x.std(0) / np.sqrt(x.shape[0]) + 1e-9
    assert (np.abs(x.mean(0) - exact) < 4.5 * se).all(), (x.mean(0), exact)


@pytest.mark.slow
def test_equilibrium_free_ends_finite_lattice():
    """Free ends L = 600, a = b = 10: exact E[n20] = 20.77, E[n30] = 2.62 (c20 .6923, c30 .1310)."""
    exact = finite_lattice_equilibrium(600, 10.0, 10.0)
    r = simulate_lattice(rpa_dna(600), times=np.arange(500.0, 3000.0, 1.0), n_cells=16, seed=21)
    np.testing.assert_allclose(r.x[..., 2].mean(), exact.c20, atol=0.01)
    np.testing.assert_allclose(r.x[..., 3].mean(), exact.c30, atol=0.01)
    np.testing.assert_allclose(r.x[..., 0].mean(), exact.n20, atol=0.3)
    np.testing.assert_allclose(r.x[..., 1].mean(), exact.n30, atol=0.2)


@pytest.mark.slow
def test_equilibrium_periodic_tile_equation():
    """Periodic L = 600, a = b = 10: c20 0.6945, c30 0.1336 ± 0.01 (2500 t.u. after 500 burn-in)."""
    eq = equilibrium_coverage(10.0, 10.0)
    r = simulate_lattice(
        rpa_dna(600, "periodic"), times=np.arange(500.0, 3000.0, 1.0), n_cells=16, seed=22
    )
    per_cell = r.x[..., 2:].mean(axis=1)  # (cell, 3) time averages
    np.testing.assert_allclose(per_cell.mean(0), [eq.c20, eq.c30, eq.c_empty], atol=0.01)
    assert np.abs(per_cell[:, 0] - eq.c20).max() < 0.04  # per-cell sd ≈ 0.008
