"""Peak memory is estimated before long work and too much is refused, naming the option."""

from __future__ import annotations

from helpers_cli import one_line_error

from cellsde.cli.main import main


def test_fit_with_a_tiny_step_is_refused_before_any_work(lab, tmp_path, capsys):
    toml = tmp_path / "fit.toml"
    toml.write_text("[fit]\ndt = 1e-9\n")  # 1e9 Euler steps per path
    out = tmp_path / "m.pt"
    assert main(["fit", str(lab["data.nc"]), "--out", str(out), "--config", str(toml)]) == 2
    err = one_line_error(capsys)
    assert "would need about" in err and "raise dt" in err
    assert not out.exists() and not (tmp_path / "m.pt.state").exists()


def test_infer_with_a_tiny_step_is_refused(lab, tmp_path, capsys):
    out = tmp_path / "t.nc"
    assert main(["infer", str(lab["model.pt"]), str(lab["bare.nc"]), "--out", str(out),
                 "--dt", "1e-10"]) == 2  # fmt: skip
    assert "--dt" in one_line_error(capsys)
    assert not out.exists()


def test_simulate_too_many_cells_is_refused(tmp_path, capsys):
    out = tmp_path / "p.nc"
    assert main(["simulate", "vilar2002", "--cells", "100000000", "--t-end", "100",
                 "--save-every", "0.01", "--out", str(out)]) == 2  # fmt: skip
    assert "--chunk-cells" in one_line_error(capsys)
    assert not out.exists()


def test_verbose_prints_the_estimate(lab, tmp_path, capsys):
    assert main(["evaluate", str(lab["model.pt"]), str(lab["data.nc"]), "--n-paths", "4"]) == 0
    assert "estimated peak memory" not in capsys.readouterr().err
    out = tmp_path / "t.nc"
    assert main(["infer", str(lab["model.pt"]), str(lab["bare.nc"]), "--out", str(out),
                 "--iterations", "2", "--starts", "1", "--bootstrap", "0", "--verbose"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "infer: estimated peak memory" in err and "free" in err
    (tmp_path / "f.toml").write_text("[model]\nhidden = [4]\n[fit]\ndt = 0.1\n")
    assert main(["fit", str(lab["data.nc"]), "--out", str(tmp_path / "m.pt"), "--epochs", "1",
                 "--config", str(tmp_path / "f.toml"), "-v"]) == 0  # fmt: skip
    assert "fit: estimated peak memory" in capsys.readouterr().err
    assert main(["simulate", "vilar2002", "--cells", "2", "--t-end", "1", "--out",
                 str(tmp_path / "v.nc"), "-v"]) == 0  # fmt: skip
    assert "simulate: estimated peak memory" in capsys.readouterr().err
