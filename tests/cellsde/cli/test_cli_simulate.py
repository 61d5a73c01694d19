"""`cellsde simulate` and `cellsde models`: files written, one-line errors, exit status 2."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.cli.main import main
from cellsde.cli.simulate import parse_params, time_grid
from cellsde.datasets import open_dataset
from cellsde.datasets import schema as S
from cellsde.errors import CellsdeError


def test_models_lists_parameters_units_and_heterogeneity(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "vilar2002" in out and "damped_oscillator" in out
    assert "deltaR = 0.2 1/h" in out and "LogUniform" in out
    assert "species: DA, DAp, DR, DRp, MA, MR, A, R, C" in out
    assert main(["models", "nope"]) == 2
    assert "unknown model(s) nope" in capsys.readouterr().err


def test_simulate_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "pop.nc"
    argv = ["simulate", "vilar2002", "--cells", "3", "--t-end", "5", "--save-every", "1",
            "--seed", "4", "--out", str(out), "--param", "deltaR=0.1"]  # fmt: skip
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    ds = open_dataset(out)
    assert ds[S.X].shape == (3, 6, 9) and ds.attrs[S.ATTR_SEED] == 4
    np.testing.assert_allclose(ds[S.TIME].values, np.arange(6.0))


def test_simulate_sde_without_heterogeneity(tmp_path):
    out = tmp_path / "osc.nc"
    argv = ["simulate", "damped_oscillator", "--cells", "4", "--t-end", "1", "--save-every",
            "0.5", "--out", str(out), "--heterogeneity", "none", "--dt", "0.01"]  # fmt: skip
    assert main(argv) == 0
    ds = open_dataset(out)
    assert ds.attrs[S.ATTR_METHOD] == "sde" and S.THETA not in ds


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "nope=1"], "unknown parameter(s) ['nope']"),
        (["--param", "deltaR"], "expected NAME=VALUE"),
        (["--param", "deltaR=abc"], "is not a number"),
        (["--cells", "0"], "--cells must be >= 1"),
        (["--method", "sde"], "does not apply"),
    ],
)
def test_bad_input_one_line_exit_2_no_file(tmp_path, capsys, extra, message):
    out = tmp_path / "bad.nc"
    argv = ["simulate", "vilar2002", "--t-end", "2", "--cells", "2", "--out", str(out), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_unknown_model_and_missing_sbml(tmp_path, capsys):
    assert main(["simulate", "vilar", "--t-end", "1", "--out", str(tmp_path / "a.nc")]) == 2
    assert "available models: damped_oscillator" in capsys.readouterr().err
    missing = str(tmp_path / "none.xml")
    assert main(["simulate", missing, "--t-end", "1", "--out", str(tmp_path / "a.nc")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_helpers():
    np.testing.assert_allclose(time_grid(1.0, 0.3), [0, 0.3, 0.6, 0.9, 1.0])
    np.testing.assert_allclose(time_grid(1.0, 0.25), [0, 0.25, 0.5, 0.75, 1.0])
    assert time_grid(10.0, None).size == 101
    with pytest.raises(CellsdeError):
        time_grid(-1.0, None)
    assert parse_params(["a=1", " b = 2.5"]) == {"a": 1.0, "b": 2.5}
