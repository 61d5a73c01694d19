"""RPA–ssDNA model definition and its exact analytic helpers (reference models.md §3)."""

from __future__ import annotations

import ast
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

import models_bio.rpa_dna as rpa_mod
from models_bio.heterogeneity import Distribution, LogNormal
from models_bio.rpa_dna import (
    LatticeModel,
    LogUniformFactor,
    equilibrium_coverage,
    finite_lattice_equilibrium,
    rpa_dna,
    rsa_coverage,
)


def test_defaults_and_parameters():
    m = rpa_dna()
    assert isinstance(m, LatticeModel)
    assert (m.name, m.length, m.boundary, m.footprints) == ("rpa_dna", 1000, "free", (20, 30))
    assert m.parameter_names == ("k1", "k_minus1", "k2", "k_minus2")
    np.testing.assert_allclose(m.nominal_values, [1.0, 0.1, 1.0, 1.0])
    assert set(m.parameter_units) == set(m.parameter_names)
    assert m.observables == ("n20", "n30", "c20", "c30", "c_empty")
    assert m.observed == ("c20", "c30")
    assert m.time_units == "dimensionless"
    assert m.binding_constants == (10.0, 10.0)
    assert m.heterogeneity == {"k_minus2": LogUniformFactor(0.3, 3.0)}
    m2 = rpa_dna(600, "periodic", k_minus2=2.0)
    assert m2.nominal["k_minus2"] == 2.0 and m2.boundary == "periodic"
    with pytest.raises(TypeError):
        m2.nominal["k1"] = 3.0  # read-only mapping
    assert m2 == rpa_dna(600, "periodic", k_minus2=2.0) and m2 != m
    assert len({m, m2, rpa_dna()}) == 2  # hashable, equal models hash equal


def test_loguniform_factor_sampling():
    f = LogUniformFactor(0.3, 3.0)
    v = f.sample(np.random.default_rng(0), 20000, 2.0)
    assert isinstance(f, Distribution) and f.bounds(2.0) == (0.6, 6.0)
    assert v.shape == (20000,) and v.min() >= 0.6 and v.max() <= 6.0
    np.testing.assert_allclose(
        np.log(v / 2.0).mean(), 0.5 * (math.log(0.3) + math.log(3.0)), atol=0.02
    )
    with pytest.raises(ValueError):
        LogUniformFactor(0.0, 2.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"length": 19}, "shorter than one 20-nt"),
        ({"length": 600, "k1": -1.0}, "k1 must be finite and >= 0"),
        ({"length": 600, "k_minus2": float("nan")}, "k_minus2"),
        ({"length": 600, "boundary": "open"}, "boundary"),
        ({"length": 600, "k3": 1.0}, "unknown rate"),
        ({"length": 600, "observed": ("c40",)}, "observed"),
        ({"length": 600, "heterogeneity": {"kon": LogUniformFactor(1, 2)}}, "unknown parameters"),
    ],
)
def test_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        rpa_dna(**kwargs)
    assert "\n" not in str(info.value)


def test_type_errors_and_shared_distributions():
    with pytest.raises(TypeError):
        rpa_dna(600.5)
    with pytest.raises(TypeError, match="Distribution"):
        rpa_dna(600, heterogeneity={"k1": ("loguniform", 0.3, 3.0)})
    m = rpa_dna(600, heterogeneity={"k1": LogNormal(cv=0.2), "k2": LogUniformFactor(0.5, 2)})
    assert set(m.heterogeneity) == {"k1", "k2"}


def test_models_bio_never_imports_cellsde():
    tree = ast.parse(Path(rpa_mod.__file__).read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] == "cellsde"]


@pytest.mark.parametrize(
    ("a", "b", "s", "c20", "c30", "c_empty"),
    [(10, 10, 0.814355, 0.6945, 0.1336, 0.1719), (100, 0, 0.742265, 0.8741, 0.0, 0.1259)],
)
def test_equilibrium_coverage_table(a, b, s, c20, c30, c_empty):
    eq = equilibrium_coverage(a, b)
    assert eq.s == pytest.approx(s, abs=1e-6)
    assert eq.s + a * eq.s**20 + b * eq.s**30 == pytest.approx(1.0, abs=1e-13)
    np.testing.assert_allclose([eq.c20, eq.c30, eq.c_empty], [c20, c30, c_empty], atol=1e-4)
    assert eq.c20 + eq.c30 + eq.c_empty == pytest.approx(1.0)


def test_equilibrium_coverage_edges():
    assert equilibrium_coverage(0, 0) == (1.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        equilibrium_coverage(-1, 0)


@pytest.mark.parametrize(
    ("L", "a", "b", "n20", "n30", "c20", "c30"),
    [
        (600, 10, 10, 20.77, 2.62, 0.6923, 0.1310),
        (600, 100, 0, 26.12, 0.0, 0.8707, 0.0),
        (5000, 10, 10, None, None, 0.6942, 0.1333),
        (5000, 100, 0, None, None, 0.8737, 0.0),
    ],
)
def test_finite_lattice_table(L, a, b, n20, n30, c20, c30):
    eq = finite_lattice_equilibrium(L, a, b)
    if n20 is not None:
        np.testing.assert_allclose([eq.n20, eq.n30], [n20, n30], atol=0.005)
    np.testing.assert_allclose([eq.c20, eq.c30], [c20, c30], atol=1e-4)


def test_finite_lattice_single_protein_formula():
    # L = 35: one protein, 16 starts of which 6 can extend (reference worked case)
    a, b = 1 / 0.5, (1 / 0.5) * 2 / 1
    eq = finite_lattice_equilibrium(35, a, b)
    np.testing.assert_allclose([eq.n20, eq.n30], [0.561404, 0.421053], atol=1e-6)
    assert 1 - eq.n20 - eq.n30 == pytest.approx(0.017544, abs=1e-6)


def _enumerate(L, a, b):
    """Brute force E[n20], E[n30] under π ∝ a^n20 b^n30 over all free-ends configurations."""
    z = e20 = e30 = 0.0
    stack = [(0, 0, 0)]  # (next free site, n20, n30)
    while stack:
        p, n20, n30 = stack.pop()
        w = a**n20 * b**n30
        z, e20, e30 = z + w, e20 + n20 * w, e30 + n30 * w  # configuration with nothing after p
        for s, f in itertools.product(range(p, L), (20, 30)):
            if s + f <= L:
                stack.append((s + f, n20 + (f == 20), n30 + (f == 30)))
    return e20 / z, e30 / z


@pytest.mark.parametrize("L", [25, 45, 62])
def test_finite_lattice_matches_enumeration(L):
    a, b = 1.7, 2.3
    eq = finite_lattice_equilibrium(L, a, b)
    np.testing.assert_allclose([eq.n20, eq.n30], _enumerate(L, a, b), rtol=1e-12)


def test_finite_lattice_large_constants_do_not_overflow():
    eq = finite_lattice_equilibrium(3000, 1e6, 1e8)
    assert np.isfinite([eq.n20, eq.n30]).all() and 0 < eq.c_empty < 1


def test_rsa_coverage_values():
    th = rsa_coverage(np.array([1.0, 5.0, np.inf]))
    np.testing.assert_allclose(th, [0.7489, 0.7584, 0.75850], atol=1e-4)
    assert rsa_coverage(np.inf, footprint=2) == pytest.approx(1 - math.exp(-2), abs=1e-10)
    assert rsa_coverage(np.inf, footprint=1) == pytest.approx(1.0, abs=1e-10)
    assert rsa_coverage(1e-6) == pytest.approx(20e-6, rel=1e-3)  # early: θ ≈ 20 k1 t
    assert rsa_coverage(np.zeros((2, 3))).shape == (2, 3)
    with pytest.raises(ValueError):
        rsa_coverage(-1.0)
