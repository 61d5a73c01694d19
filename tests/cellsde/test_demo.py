"""A reduced demo runs end to end and its report states what the library computes."""

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cellsde.cli.main import main
from cellsde.demo import DemoConfig, run_demo


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    lines = []
    run_demo(out, config=DemoConfig.small(), progress=False, log=lines.append)
    return out, lines


def test_demo_writes_every_file(demo_dir):
    out, lines = demo_dir
    for name in ("population.nc", "model.pt", "evaluation.nc", "theta.nc", "report.md",
                 "population_fan.png", "w2_over_time.png", "theta_recovery.png", "compression.csv",
                 "model_small.pt", "compression_pareto.png"):  # fmt: skip
        assert (out / name).is_file(), name
    assert not (out / "fit.state").exists()
    assert any(line.startswith("report: wrote") for line in lines)


def test_report_numbers_match_the_saved_results(demo_dir):
    out, _ = demo_dir
    text = (out / "report.md").read_text()
    ev = xr.load_dataset(out / "evaluation.nc")
    theta = xr.load_dataset(out / "theta.nc")
    held = re.search(r"held-out tW2 per group \(END-nSDE\) \| ([0-9.e+-]+)", text).group(1)
    assert float(held) == pytest.approx(float(ev["tw2"].mean()), rel=1e-3)
    drift = re.search(r"relative drift error \| ([0-9.e+-]+)", text).group(1)
    assert float(drift) == pytest.approx(float(ev["drift_error_total"]), rel=1e-3)
    rows = re.findall(r"\| (\d+) \| \(([-0-9.]+), ([-0-9.]+)\) \| \(([-0-9.]+), ([-0-9.]+)\)",
                      text)  # fmt: skip
    assert [int(r[0]) for r in rows] == theta["source_group"].values.tolist()  # data's labels
    est = np.array([[float(r[3]), float(r[4])] for r in rows])
    np.testing.assert_allclose(est, theta["theta"].values, atol=0.006)
    table = pd.read_csv(out / "compression.csv")
    for r in table.itertuples():
        row = re.search(
            rf"\| {re.escape(r.candidate)} \| {r.kind} \| .* \| {r.params} \| ([0-9.e+-]+) \|", text
        )
        assert row is not None and float(row.group(1)) == pytest.approx(r.valid_tw2, rel=1e-3)


def test_rerun_reuses_finished_stages_and_fresh_recomputes(demo_dir, capsys):
    out, _ = demo_dir
    assert main(["demo", "--out", str(out), "--small"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("up to date (reused)") == 8
