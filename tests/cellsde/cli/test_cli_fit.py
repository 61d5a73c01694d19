import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from cellsde.cli.main import main
from cellsde.datasets import save_dataset
from cellsde.nn.checkpoint import load_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nn"))
from helpers_nn import damped_dataset

CONFIG = """
[model]
hidden = [16, 16]
activation = "elu"

[fit]
lr = 0.005
dt = 0.05
checkpoint_every = 2
"""


@pytest.fixture()
def files(tmp_path):
    data = tmp_path / "pop.nc"
    save_dataset(damped_dataset(n_per_group=16), data)
    cfg = tmp_path / "fit.toml"
    cfg.write_text(CONFIG)
    return data, cfg


def _cmd(data, cfg, out, *extra):
    return [
        sys.executable,
        "-m",
        "cellsde.cli.main",
        "fit",
        str(data),
        "--out",
        str(out),
        "--config",
        str(cfg),
        *extra,
    ]


def test_fit_cli_writes_model_and_history(files, tmp_path, capsys):
    data, cfg = files
    out = tmp_path / "m.pt"
    assert main(["fit", str(data), "--out", str(out), "--config", str(cfg), "--epochs", "3",
                 "--valid-groups", "4", "--history", str(tmp_path / "h.nc")]) == 0  # fmt: skip
    model = load_model(out)
    assert model.config.params == ("omega1", "omega2") and model.config.hidden == (16, 16)
    assert (tmp_path / "h.nc").is_file()
    assert "wrote" in capsys.readouterr().out


def test_fit_cli_bad_input_is_one_line(files, tmp_path, capsys):
    data, _ = files
    assert main(["fit", str(data), "--out", str(tmp_path / "m.pt"), "--valid-groups", "99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cellsde: error:") and err.count("\n") == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[fit\n")
    assert main(["fit", str(data), "--out", str(tmp_path / "m.pt"), "--config", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_sigkill_then_resume_equals_uninterrupted_run(files, tmp_path):
    data, cfg = files
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ref = tmp_path / "ref.pt"
    subprocess.run(_cmd(data, cfg, ref, "--epochs", "12"), check=True, env=env, capture_output=True)
    out = tmp_path / "killed.pt"
    state = Path(f"{out}.state")
    proc = subprocess.Popen(_cmd(data, cfg, out, "--epochs", "12"), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 120
    while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.exists(), "no checkpoint was written before the kill"
    assert not out.exists() or proc.returncode == 0
    done = subprocess.run(
        _cmd(data, cfg, out, "--epochs", "12", "--resume"), env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    a, b = load_model(ref).state_dict(), load_model(out).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
