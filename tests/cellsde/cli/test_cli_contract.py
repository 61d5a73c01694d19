"""The error contract of the command line: outputs checked first, one line per mistake, no
traceback, nothing left behind, Ctrl-C kept short, progress on long verbs, a light start."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers_cli import hours_dataset, one_line_error

from cellsde.cli.main import main
from cellsde.datasets import save_dataset

ROOT = Path(__file__).resolve().parents[3]


def test_outputs_are_checked_before_any_work(tmp_path, capsys):
    absent = str(tmp_path / "absent.pt")  # never opened: the output name fails first
    cases = [
        (["infer", absent, absent, "--out", str(tmp_path / "t.csv")], "suffix '.csv'"),
        (["evaluate", absent, absent, "--out", str(tmp_path / "t.zarr")], "suffix '.zarr'"),
        (["fit", absent, "--out", str(tmp_path / "m.nc")], "suffix '.nc'"),
        (["compress", absent, absent, "--out", str(tmp_path / "s.pt"), "--valid-groups", "1",
          "--table", str(tmp_path / "t.csv")], "--table"),
        (["subset", absent, "--where", "group=1", "--out", str(tmp_path / "x.csv")], "suffix"),
    ]  # fmt: skip
    for argv, words in cases:
        assert main(argv) == 2
        assert words in one_line_error(capsys)


def test_fit_and_simulate_agree_on_missing_folders(lab, tmp_path, capsys):
    missing = tmp_path / "nowhere" / "x"
    assert main(["fit", str(lab["data.nc"]), "--out", f"{missing}.pt"]) == 2
    a = one_line_error(capsys)
    assert main(["simulate", "vilar2002", "--cells", "2", "--t-end", "1", "--out",
                 f"{missing}.nc"]) == 2  # fmt: skip
    b = one_line_error(capsys)
    assert "does not exist; create it first" in a and "does not exist; create it first" in b
    assert not (tmp_path / "nowhere").exists()


def test_figures_out_must_be_a_folder_and_is_left_clean_on_error(lab, tmp_path, capsys):
    (tmp_path / "taken.png").write_text("x")
    for out in (tmp_path / "fig.png", tmp_path / "taken.png"):
        assert main(["figures", str(lab["data.nc"]), "--out", str(out)]) == 2
        assert "folder" in one_line_error(capsys)
    assert not (tmp_path / "fig.png").exists()
    out = tmp_path / "figs"  # the second figure fails (no time 99): nothing stays
    assert main(["figures", str(lab["data.nc"]), "--out", str(out), "--times", "0", "99"]) == 2
    one_line_error(capsys)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".figs")]


def test_unknown_preset_and_toml_keys_are_one_line(lab, tmp_path, capsys):
    base = ["fit", str(lab["data.nc"]), "--out", str(tmp_path / "m.pt")]
    assert main([*base, "--preset", "damped_osc"]) == 2
    assert "did you mean 'damped_oscillator'" in one_line_error(capsys)
    for text, words in (("[fit]\nepoch = 3\n", "did you mean 'epochs'"),
                        ("[model]\nhiden = [4]\n", "did you mean 'hidden'"),
                        ("[fit]\nlr_schedule = 'wavy'\n", "[fit]"),
                        ("[fit]\nepochs = 'many'\n", "[fit]")):  # fmt: skip
        (tmp_path / "f.toml").write_text(text)
        assert main([*base, "--config", str(tmp_path / "f.toml")]) == 2
        assert words in one_line_error(capsys)
    assert not (tmp_path / "m.pt").exists()


def test_usage_errors_are_one_line(capsys):
    assert main(["simulate", "vilar2002"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--t-end" in err and "--help" in err


def test_ctrl_c_in_any_verb_is_one_line(monkeypatch, capsys):
    import cellsde.cli.models as verb

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(verb, "run", interrupted)
    assert main(["models"]) == 130
    assert capsys.readouterr().err == "cellsde: interrupted (models)\n"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_fit_keeps_the_last_epoch(tmp_path):
    ds = hours_dataset(8)
    save_dataset(ds, tmp_path / "d.nc")
    (tmp_path / "f.toml").write_text("[model]\nhidden = [16, 16]\n[fit]\ndt = 0.01\n")
    out, state = tmp_path / "m.pt", tmp_path / "m.pt.state"
    cmd = [sys.executable, "-m", "cellsde.cli.main", "fit", str(tmp_path / "d.nc"), "--out",
           str(out), "--config", str(tmp_path / "f.toml"), "--epochs", "100000"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # a shell's background job (`make test &`, some CI runners) ignores SIGINT, and children
    # inherit that: give the fit the default disposition a terminal's foreground job has
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)  # fmt: skip
    deadline = time.monotonic() + 120
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "--resume" in err and "Traceback" not in err
    assert state.is_file() and not out.exists()


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, so that progress bars show (tqdm's disable=None)."""

    def isatty(self) -> bool:
        return True


def test_long_verbs_show_progress_on_a_terminal(lab, tmp_path, monkeypatch):
    # set in the test itself: pytest's capture would replace a stderr set by a fixture
    monkeypatch.setattr(sys, "stderr", terminal := Terminal())
    assert main(["infer", str(lab["model.pt"]), str(lab["bare.nc"]), "--out",
                 str(tmp_path / "t.nc"), "--iterations", "3", "--starts", "1", "--bootstrap",
                 "0"]) == 0  # fmt: skip
    assert main(["simulate", "vilar2002", "--cells", "4", "--t-end", "1", "--chunk-cells", "2",
                 "--out", str(tmp_path / "v.nc")]) == 0  # fmt: skip
    text = terminal.getvalue()
    assert "infer: W2 search" in text and "chunks" in text


def test_compress_shows_progress_and_keeps_units_and_conditions(lab, tmp_path, monkeypatch):
    from cellsde.nn.checkpoint import load_model

    monkeypatch.setattr(sys, "stderr", terminal := Terminal())
    out = tmp_path / "s.pt"
    assert main(["compress", str(lab["model.pt"]), str(lab["data.nc"]), "--out", str(out),
                 "--widths", "2", "--max-dendrites", "1", "--valid-groups", "3", "--epochs",
                 "1", "--tolerance", "1000"]) == 0  # fmt: skip
    # one tick per candidate: the wide model, width 2 with K = 0 and 1, and the two plain
    # controls (equal parameters, equal FLOPs)
    assert "compress: 5network" in terminal.getvalue()
    wide, small = load_model(lab["model.pt"]).metadata, load_model(out).metadata
    assert small["units"] == wide["units"] and small["conditions"] == wide["conditions"]


def test_infer_prints_the_datas_group_labels(lab, tmp_path, capsys):
    ds = hours_dataset().drop_vars("theta")
    labels = np.array(["ctrl", "TNF", "LPS", "CpG"])[ds["group"].values]
    save_dataset(ds.assign_coords(group=("cell", labels)), tmp_path / "named.nc")
    assert main(["infer", str(lab["model.pt"]), str(tmp_path / "named.nc"), "--out",
                 str(tmp_path / "t.nc"), "--iterations", "2", "--starts", "1", "--bootstrap",
                 "0"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert all(f"group {g}:" in out for g in ("ctrl", "TNF", "LPS", "CpG"))


def test_models_reads_an_sbml_file(shared_dir, capsys):
    pytest.importorskip("libsbml")
    xml = shared_dir / "data" / "goldbeter1995" / "BIOMD0000000016.xml"
    assert main(["models", str(xml)]) == 0
    out = capsys.readouterr().out
    assert "species: M, P0, P1, P2, Pn" in out and "time in h" in out


@pytest.mark.parametrize("argv", [["--help"], ["info", "{data}"], ["import-csv", "--help"]])
def test_light_verbs_start_without_torch(lab, argv):
    argv = [a.format(data=lab["data.nc"]) for a in argv]
    code = ("import sys\nfrom cellsde.cli.main import main\nrc = main(sys.argv[1:])\n"
            "assert 'torch' not in sys.modules, 'torch imported'\nsys.exit(rc)")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
