"""Every command of the README tour runs as written, on small inputs.

The commands are read from the README's first ``bash`` block; sizes are shrunk by the
substitutions below (fewer cells, one epoch, a small network), never by changing what the
command asks for. The Python snippet is run too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from cellsde.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SMALL_FIT = """
[model]
hidden = [8]

[fit]
dt = 0.05
n_paths = 4
"""
# (pattern in the command, replacement): sizes only
SHRINK = [
    ("--cells 1250", "--cells 50"),  # 25 groups x 2 cells
    ("--epochs 300", "--epochs 1"),
    ("--cells 60 --t-end 480", "--cells 2 --t-end 30"),
]
APPEND = {
    "fit": ["--config", "small.toml"],
    "infer": ["--iterations", "2", "--bootstrap", "2", "--starts", "1"],
    "figures": ["--dpi", "30"],
    "calibrate": ["--starts", "1", "--explore", "1", "--iterations", "2", "--bootstrap", "20"],
}


def tour_commands() -> list[str]:
    block = re.search(r"## A short tour.*?```bash\n(.*?)```", README, re.S).group(1)
    joined = block.replace("\\\n", " ")
    return [ln.strip() for ln in joined.splitlines() if ln.strip().startswith("cellsde ")]


def test_the_tour_is_long_enough_to_matter():
    verbs = {shlex.split(c, comments=True)[1] for c in tour_commands()}
    assert {"simulate", "fit", "evaluate", "infer", "figures", "import-csv", "subset",
            "calibrate"} <= verbs  # fmt: skip


def test_every_tour_command_runs(tmp_path, monkeypatch, capsys, shared_dir):
    pytest.importorskip("libsbml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.toml").write_text(SMALL_FIT)
    sbml = shared_dir / "data" / "goldbeter1995" / "BIOMD0000000016.xml"
    for command in tour_commands():
        for old, new in SHRINK:
            command = command.replace(old, new)
        argv = shlex.split(command, comments=True)[1:]
        argv = [str(ROOT / a) if a.startswith("data/") else a for a in argv]
        argv = [str(sbml) if a == "BIOMD0000000016.xml" else a for a in argv]
        argv += APPEND.get(argv[0], [])
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 0, f"{command}\n{err}"
    assert (tmp_path / "model.pt").is_file() and (tmp_path / "theta.nc").is_file()
    assert (tmp_path / "tnf_pop.nc").is_file() and (tmp_path / "tnf_model.nc").is_file()
    assert any((tmp_path / "figs").glob("fan_*.png"))
    assert any((tmp_path / "lab_figs").glob("fan_*.png"))


def test_the_python_snippet_runs():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    code = code.replace("cells_per_group=50", "cells_per_group=2")
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["pop"].sizes["cell"] == 50
