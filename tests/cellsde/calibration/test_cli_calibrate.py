"""`cellsde calibrate` from the shell: an SBML model, SIGKILL then --resume, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cellsde.calibration import open_population
from cellsde.cli.main import main
from cellsde.datasets import save_dataset

libsbml = pytest.importorskip("libsbml")

REACTIONS = [  # name, reactants, products, formula
    ("syn", {}, {"R": 1}, "ksyn"),
    ("deg", {"R": 1}, {}, "kdeg*R"),
    ("bind", {"L": 1, "R": 1}, {"C": 1}, "kon*L*R"),
    ("unbind", {"C": 1}, {"R": 1}, "koff*C"),
    ("act", {}, {"A": 1}, "kact*C^2/(C^2 + K^2)"),
    ("basal", {}, {"A": 1}, "kb"),
    ("dec", {"A": 1}, {}, "kdec*A"),
]
PARAMS = {
    "ksyn": 1.0,
    "kdeg": 1.0,
    "kon": 2.0,
    "koff": 0.3,
    "kact": 1.0,
    "K": 0.5,
    "kb": 0.05,
    "kdec": 1.0,
}


def _sbml(path: Path) -> Path:
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("receptor_sbml")
    m.setTimeUnits("second")
    c = m.createCompartment()
    c.setId("cell"), c.setSize(1.0), c.setConstant(True)
    for s in ("L", "R", "C", "A"):
        sp = m.createSpecies()
        sp.setId(s), sp.setCompartment("cell"), sp.setInitialConcentration(0.0)
        sp.setHasOnlySubstanceUnits(False), sp.setBoundaryCondition(False), sp.setConstant(False)
    for k, v in PARAMS.items():
        p = m.createParameter()
        p.setId(k), p.setValue(v), p.setConstant(True)
    for name, reac, prod, formula in REACTIONS:
        r = m.createReaction()
        r.setId(name), r.setReversible(False)
        for side, add in ((reac, r.createReactant), (prod, r.createProduct)):
            for s, n in side.items():
                ref = add()
                ref.setSpecies(s), ref.setStoichiometry(n), ref.setConstant(True)
        for s in {"L", "R", "C", "A"} - set(reac) - set(prod):
            if s in formula:
                r.createModifier().setSpecies(s)
        law = r.createKineticLaw()
        law.setMath(libsbml.parseL3Formula(f"({formula})*cell"))
    libsbml.writeSBMLToFile(doc, str(path))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory, lab_data):
    d = tmp_path_factory.mktemp("cli")
    data = lab_data.isel(cell=slice(0, 120, 6))  # 10 cells per dose
    data["time"].attrs["units"] = "s"  # the SBML model's time units
    data.attrs["time_units"] = "s"
    save_dataset(data, d / "lab.nc")
    return _sbml(d / "model.xml"), d / "lab.nc", d


ARGS = ["--free", "kact:0.1:20", "kb:0.005:0.5", "--observable", "A", "--condition", "0:L=1",
        "--condition", "1:L=5", "--starts", "2", "--explore", "3", "--iterations", "9",
        "--bootstrap", "20", "--no-progress"]  # fmt: skip


def _iterations(path: Path) -> int:
    try:
        return len(torch.load(path, weights_only=True)["history"])
    except (FileNotFoundError, RuntimeError, EOFError, KeyError):  # not yet, or mid-rename
        return 0


def test_sigkill_then_resume_gives_the_uninterrupted_result(files, capsys) -> None:
    model, data, d = files
    assert main(["calibrate", str(model), str(data), "--out", str(d / "full.nc"), *ARGS]) == 0
    ckpt = d / "state.pt"
    cmd = [sys.executable, "-m", "cellsde.cli.main", "calibrate", str(model), str(data),
           "--out", str(d / "killed.nc"), "--checkpoint", str(ckpt), *ARGS]  # fmt: skip
    proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.getcwd()})
    deadline = time.time() + 300
    while _iterations(ckpt) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # in the middle of the search (12 iterations in all)
    proc.wait()
    assert 4 <= _iterations(ckpt) < 12 and not (d / "killed.nc").exists()
    args = ["calibrate", str(model), str(data), "--out", str(d / "resumed.nc"),
            "--checkpoint", str(ckpt), "--resume", *ARGS]  # fmt: skip
    assert main(args) == 0
    full, resumed = open_population(d / "full.nc"), open_population(d / "resumed.nc")
    for name in ("median", "spread", "median_interval", "tw2"):
        np.testing.assert_array_equal(full[name].values, resumed[name].values)
    capsys.readouterr()
    assert main(["info", str(ckpt)]) == 0  # the state says where the search stands
    out = capsys.readouterr().out
    assert "state of `cellsde calibrate`" in out and "stage done" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--free", "nope"], "not parameters of model"),
        (["--free", "kact:5:1"], "below upper"),
        (["--free", "kact", "--out", "x.csv"], "is not .nc or .h5"),
        (["--free", "kact", "--out", "nowhere/x.nc"], "does not exist"),
        (["--free", "kact", "--scale", "big"], "'fit' or a number"),
        (["--free", "kact", "--condition", "0L=1"], "GROUP:SPECIES=VALUE"),
        (["--free", "kact", "--resume"], "--checkpoint"),
        (["--free", "kact", "--method", "gillespie"], "method must be one of"),
        (["--free", "kact", "--method", "cle", "--optimizer", "adam"], "optimizer='cmaes'"),
        (["--free", "kact", "--method", "cle", "--redraw"], "redraw=True is for the gradient"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(files, capsys, extra, message) -> None:
    model, data, d = files
    out = d / "bad.nc"
    args = ["calibrate", str(model), str(data), "--out", str(out), "--condition", "0:L=1",
            "--condition", "1:L=5", "--no-progress", *extra]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_simulate_from_a_population_file(files, capsys) -> None:
    model, data, d = files
    if not (d / "full.nc").exists():
        assert main(["calibrate", str(model), str(data), "--out", str(d / "full.nc"), *ARGS]) == 0
    out = d / "drawn.nc"
    assert main(["simulate", str(model), "--population", str(d / "full.nc"), "--cells", "8",
                 "--t-end", "10", "--save-every", "1", "--out", str(out)]) == 0  # fmt: skip
    from cellsde.datasets import open_dataset

    ds = open_dataset(out)
    assert [str(s) for s in ds["species"].values] == ["response"] and ds.sizes["cell"] == 8
    capsys.readouterr()
    assert main(["simulate", "vilar2002", "--population", str(d / "full.nc"), "--cells", "2",
                 "--t-end", "1", "--out", str(d / "bad.nc")]) == 2  # fmt: skip
    assert "population of model" in capsys.readouterr().err
    assert main(["simulate", "damped_oscillator", "--population", str(d / "full.nc"), "--cells",
                 "2", "--t-end", "1", "--out", str(d / "bad.nc")]) == 2  # fmt: skip
    assert "needs a reaction-network model" in capsys.readouterr().err
    assert not (d / "bad.nc").exists()
