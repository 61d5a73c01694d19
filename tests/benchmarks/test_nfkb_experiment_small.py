"""benchmarks/nfkb_experiment.py: ranking, grouping and the 1-D tW2 against oracles."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "nfkb_experiment.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("nfkb_experiment", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nfkb_experiment"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_cosine_rank_is_scale_invariant_and_puts_the_reference_shape_first(bench):
    rng = np.random.default_rng(0)
    ref = np.sin(np.linspace(0, 3, 31)) + 1.5
    y = rng.normal(size=(12, 31)) + 1.0
    y[5] = 7.3 * ref  # the reference's shape at another amplitude
    order, sim = bench.cosine_rank(y, ref)
    assert order[0] == 5 and sim[5] == pytest.approx(1.0)
    expect = y @ ref / (np.linalg.norm(y, axis=1) * np.linalg.norm(ref))
    np.testing.assert_allclose(sim, expect)
    assert np.all(np.diff(sim[order]) <= 0)  # most similar first
    scaled = y * rng.uniform(0.01, 100, size=(12, 1))  # per-cell amplitudes change nothing
    order2, sim2 = bench.cosine_rank(scaled, 3 * ref)
    np.testing.assert_array_equal(order, order2)
    np.testing.assert_allclose(sim, sim2)
    with pytest.raises(ValueError, match="ref"):
        bench.cosine_rank(y, ref[:5])


def test_consecutive_groups_drop_the_remainder(bench):
    order = np.array([9, 3, 0, 7, 1, 8, 2, 5, 4, 6])
    g = bench.consecutive_groups(order, 3)
    np.testing.assert_array_equal(g, [[9, 3, 0], [7, 1, 8], [2, 5, 4]])  # cell 6 dropped
    assert bench.consecutive_groups(order, 10).shape == (1, 10)
    with pytest.raises(ValueError, match=r"1\.\.10"):
        bench.consecutive_groups(order, 11)


def test_tw2_1d_is_the_optimal_assignment_summed_after_t0(bench):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    brute = sum(
        min(np.mean((a[:, t] - b[list(p), t]) ** 2) for p in itertools.permutations(range(5)))
        for t in range(1, 4)
    )
    assert bench.tw2_1d(a, b) == pytest.approx(brute)
    b2 = b.copy()
    b2[:, 0] += 100.0  # the initial time is not scored
    assert bench.tw2_1d(a, b2) == pytest.approx(brute)


def test_rank_and_group_pooled_and_per_dose(bench):
    rng = np.random.default_rng(2)
    t = np.arange(7) * 5.0
    ref = np.exp(-((t - 10) ** 2) / 50)
    n = 30
    x = np.abs(
        rng.normal(size=(n, 7, 1)) * 0.05 + ref[None, :, None] * rng.uniform(0, 2, (n, 1, 1))
    )
    exp = xr.Dataset(
        {"x": (("cell", "time", "species"), x)},
        coords={"time": t, "species": ["nfkb_nuclear"], "group": ("cell", np.repeat([0, 1, 2], 10)),
                "dose": ("cell", np.repeat([0.1, 1.0, 10.0], 10))},
    )  # fmt: skip
    ranked, labels = bench.rank_and_group(exp, ref, k=4, per_dose=False)
    assert ranked.sizes["cell"] == 28 and "group" not in ranked.coords  # 2 cells dropped
    assert np.all(np.diff(ranked["similarity"].values) <= 1e-15)
    ranked, labels = bench.rank_and_group(exp, ref, k=4, per_dose=True)
    assert ranked.sizes["cell"] == 24 and list(labels) == [0, 0, 1, 1, 2, 2]
    doses = ranked["dose"].values.reshape(6, 4)
    assert np.all(doses == doses[:, :1])  # every group holds one dose
    sim = ranked["similarity"].values.reshape(3, 8)
    assert np.all(np.diff(sim, axis=1) <= 1e-15)  # ranked within each dose


def test_experimental_cells_and_reference_match_the_stated_sanity_values(bench, shared_dir):
    mat = shared_dir / "data" / "nfkb-guo2024" / "example_data.mat"
    ref_csv = shared_dir / "data" / "end-nsde" / "representative_ode_nuclear_nfkb.csv"
    if not mat.exists() or not ref_csv.exists():
        pytest.skip("shared data not found")
    times = np.arange(31) * 5.0
    exp = bench.experimental(mat, times)
    assert exp.sizes["cell"] == 180 and exp.sizes["time"] == 31
    assert set(np.unique(exp["dose"].values)) == {0.1, 1.0, 10.0}
    hi = exp["x"].isel(cell=np.flatnonzero(exp["group"].values == 2)).sel(species="nfkb_nuclear")
    mean = hi.mean("cell").values
    assert mean.max() == pytest.approx(0.106, abs=0.002) and times[mean.argmax()] == 20.0
    ref = bench.reference_curve(ref_csv, times)
    assert ref[0] == pytest.approx(0.0223, abs=1e-4) and ref[3] == pytest.approx(0.2456, abs=1e-4)
