"""benchmarks/stochastic_table.py at tiny size: the gene model it writes, its runners, accuracy."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "stochastic_table.py"


@pytest.fixture(scope="module")
def bench():
    pytest.importorskip("libsbml")
    spec = importlib.util.spec_from_file_location("stochastic_table", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["stochastic_table"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_gene_model_sbml_reads_and_sits_at_its_steady_state(bench, tmp_path):
    """Every side reads the written file; P stays at k_m k_p / (d_m d_p) = 50 000 on average."""
    sbml = bench.write_gene_sbml(tmp_path / "gene.xml")
    times = np.linspace(0.0, 1.0, 5)
    out, species = bench.run_ours(sbml, times, 20, 0, "ssa")
    p = out[..., species.index("P")]  # (cell, time)
    g = bench.GENE
    steady = g["k_m"] * g["k_p"] / (g["d_m"] * g["d_p"])
    assert abs(p[:, -1].mean() / steady - 1) < 0.02
    tau, _ = bench.run_ours(sbml, times, 20, 1, "tau")
    assert abs(tau[:, -1, species.index("P")].mean() / steady - 1) < 0.02
    pytest.importorskip("roadrunner")
    rr, rr_species = bench.run_roadrunner(sbml, times, 3, 0)
    assert (
        rr.shape == (3, 5, 2) and abs(rr[:, -1, rr_species.index("P")].mean() / steady - 1) < 0.03
    )


def test_accuracy_compares_means_and_distributions(bench):
    rng = np.random.default_rng(0)
    ref = rng.poisson(100.0, (400, 6)).astype(float)
    late = np.array([False, True, True, True, True, True])
    rel, pv = bench.accuracy(rng.poisson(100.0, (400, 6)).astype(float), ref, late)
    assert abs(rel) < 0.01 and pv > 0.01
    rel, pv = bench.accuracy(rng.poisson(120.0, (400, 3)).astype(float), ref, late)  # shorter run
    assert 0.15 < rel < 0.25 and pv < 1e-6


def test_leap_bound_matches_the_rule_by_hand_on_the_gene_model_and_is_low_on_vilar(
    bench, tmp_path, shared_dir
):
    """Gene model at steady state (M ~ 100, P ~ 50 000): nothing is critical and M limits the
    leap, tau1 = (eps M)^2 / (k_m + d_m M) = 0.045 h, so a leap covers a0 tau1 with
    a0 = k_m + d_m M + k_p M + d_p P = 10 200 per hour: ~459 events. On Vilar the reactions
    that move low-copy species (promoters, free R, mRNA) are fired one at a time: even a free
    leap could not gain 3x."""
    import types

    args = types.SimpleNamespace(t_end={"gene": 5.0, "vilar": 30.0}, cells=16, seed=0)
    sbml = bench.write_gene_sbml(tmp_path / "gene.xml")
    lines, res = bench.leap_bound("gene", sbml, args)
    g = bench.GENE
    by_hand = (g["k_m"] * 2 + g["k_p"] * 100 + g["d_p"] * 50_000) * (0.03 * 100) ** 2 / 200
    assert abs(res["median"] / by_hand - 1) < 0.1
    assert res["critical"] == 0 and res["exact"] == 0 and res["limit"] == "M 100%"
    assert res["cgp"] > 100 and lines[0].startswith("| gene |")
    _, vil = bench.leap_bound("vilar", shared_dir / "data/vilar2002/BIOMD0000000035.xml", args)
    # a third or more of Vilar's events are in critical reactions: no leap scheme gains 3x
    assert vil["critical"] > 0.3 and vil["cgp"] < 3 and vil["hybrid"] < 3
