"""benchmarks/endnsde_lab_data.py at tiny size: the split, the peers' numbers, the table."""

from __future__ import annotations

import argparse

import endnsde_lab_data as bench  # benchmarks/ is on sys.path (tests/conftest.py)
import numpy as np
import pytest

# the authors' per-cell fits vs the measured cells on the held-out conditions (issue 14)
AUTHORS_HELD = {"TNF": 0.0239, "LPS": 0.0182, "CpG": 0.0208, "PolyIC": 0.0497, "Pam3CSK": 0.0123}


def test_split_peers_and_table(shared_dir, tmp_path):
    data_path = shared_dir / "data" / "nfkb-guo2024" / "example_data.mat"
    if not data_path.exists():
        pytest.skip(f"{data_path} not found")
    exp, pred = bench.lab_data(data_path, latent=0)
    assert exp.sizes == {"cell": 1140, "time": 97, "species": 1}
    assert exp["time"].attrs["units"] == "h" and exp["time"].values[-1] == 8.0
    held = bench.held_out(exp)
    assert held.sum() == 5 * 60  # one held-out dose per ligand
    assert sorted(set(exp["group"].values[held].tolist())) == [1, 5, 10, 14, 17]
    args = argparse.Namespace(width=8, depth=1, latent=0, autonomous=False, epochs=2, lr=3e-3,
                              dt=1 / 12, debiased=False, weight_decay=0.0, seed=0, eval_seeds=2)  # fmt: skip
    model, record = bench.train_model(exp.isel(cell=np.flatnonzero(~held)), args, 0)
    assert model.param_names[0] == "log10(dose)" and len(model.param_names) == 6
    assert record["epochs"] == 2 and record["cpu_s"] > 0
    rows = bench.score([model, model], exp, pred, args)
    assert len(rows) == 19 and sum(r["held"] for r in rows) == 5
    for r in rows:
        if r["held"]:
            assert r["authors"] == pytest.approx(AUTHORS_HELD[r["ligand"]], abs=5e-5)
        assert 0 < r["floor"] < r["authors"] * 3 and r["endnsde"] > 0
    text = bench.table(rows)
    assert len(text.splitlines()) == 2 + 19 + 2 and "geometric mean, held out" in text
    bench.plot_fans(model, exp, args, tmp_path / "fans")
    assert (tmp_path / "fans.png").stat().st_size > 10_000
