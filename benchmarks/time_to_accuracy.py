"""END-nSDE time to accuracy: the paper's settings vs faster settings cellsde allows.

Damped oscillator (the data of ``benchmarks/reproduce_endnsde.py --preset damped``, seed 0):
20 training ω x 50 paths, 11 times on [0, 1], 5 held-out interior ω. Each *setting* is one
``cellsde.fit`` of an END-nSDE, run in chunks of ``--every`` epochs (``resume=True`` from a
checkpoint, which continues exactly), and after each chunk the model is scored on the held-out
ω with ``cellsde.evaluate`` (fixed seed, 50 paths per ω, evaluation step ``--eval-dt``, fine by
default so the score is the model's accuracy, not the step's). The training wall time is the
fit's own epoch-loop time (``history.wall_time``), so evaluation and data preparation are not
counted. Checkpoints of (epoch, training time, held-out tW2) go to ``bench-out/tta-<setting>.json``
after every chunk, so a crash loses nothing; rerunning a setting resumes it.

Settings:

- ``paper``: preset ``damped_oscillator`` exactly (4->100->100->100 ELU, general noise with 2
  channels, abs; Adam lr 2e-3, weight decay 5e-3, dt 1e-3, 500 full-batch epochs, no input
  standardisation, segment checkpointing as in the preset).
- the fast settings (``SETTINGS``): same architecture, data and loss, with what the method
  allows: a coarser Euler step (the data are observed every 0.1, so dt 0.02 or 0.05 still
  puts several steps between observations), input standardisation, a larger learning rate,
  no segment recomputation (the coarse rollout fits in memory).

The target is the paper run's held-out tW2 at its last epoch; for each fast setting the table
gives the training time at the first checkpoint whose held-out tW2 is at or below the target,
and the ratio to the paper run's training time.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/time_to_accuracy.py run --setting paper
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/time_to_accuracy.py run --setting dt0.02-std
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/time_to_accuracy.py report [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from cellsde.evaluation import evaluate
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.training import fit, preset, preset_model_options

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section
from reproduce_endnsde import GRID, HELD_OUT, PARAMS, SPECIES, damped_data

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out"
HEADING = "## END-nSDE time to accuracy"
K1, K2 = 0.3, 0.1
# name -> (model overrides, fit overrides, evaluate every N epochs (0: see schedule))
PAPER = "paper"
SETTINGS: dict[str, tuple[dict, dict, int]] = {
    PAPER: ({}, {}, 10),
    "dt0.02-std": ({}, {"dt": 0.02, "standardize": True, "checkpoint_segments": False}, 0),
    "dt0.02-std-lr5e-3": (
        {},
        {"dt": 0.02, "standardize": True, "checkpoint_segments": False, "lr": 5e-3},
        0,
    ),
    "dt0.05-std-lr5e-3": (
        {},
        {"dt": 0.05, "standardize": True, "checkpoint_segments": False, "lr": 5e-3},
        0,
    ),
    "dt0.02-nostd": ({}, {"dt": 0.02, "checkpoint_segments": False}, 0),
}


def schedule(every: int, epochs: int) -> list[int]:
    """Evaluation epochs: every ``every`` epochs (0: 5, 10, ..., 30, 40, ..., 100, 125, ...)."""
    if every:
        return list(range(every, epochs + 1, every))
    dense = [*range(5, 31, 5), *range(40, 101, 10)]
    return [e for e in dense if e <= epochs] + list(range(125, epochs + 1, 25))


def data(seed: int):
    """Training data (20 ω) and held-out test data (5 ω), as reproduce_endnsde builds them."""
    train_om = [(a, b) for a in GRID for b in GRID if (a, b) not in HELD_OUT]
    train = damped_data(train_om, n_paths=50, seed=1000 + seed, k1=K1, k2=K2)
    test = damped_data(list(HELD_OUT), n_paths=50, seed=2000 + seed, k1=K1, k2=K2)
    return train, test


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def run(name: str, *, epochs: int, eval_dt: float, seed: int) -> dict:
    """Train setting ``name`` in chunks, scoring the held-out ω after each chunk."""
    model_over, fit_over, every = SETTINGS[name]
    train, test = data(seed)
    opts = {**preset_model_options("damped_oscillator"), **model_over}
    model = ENDnSDE(ENDnSDEConfig(SPECIES, PARAMS, **opts), seed=seed)
    ckpt = OUT / f"tta-{name}.pt"
    log_path = OUT / f"tta-{name}.json"
    base = preset("damped_oscillator", seed=seed, progress=False, **fit_over)
    base = base.replace(checkpoint_path=str(ckpt), resume=True, checkpoint_every=10_000)
    record = {"setting": name, "model": opts, "fit": json.loads(base.to_json()),
              "eval_dt": eval_dt, "seed": seed, "checkpoints": []}  # fmt: skip
    if log_path.exists() and ckpt.exists():
        old = json.loads(log_path.read_text())
        if old["eval_dt"] == eval_dt and old["seed"] == seed:
            record["checkpoints"] = old["checkpoints"]
    done = {c["epoch"] for c in record["checkpoints"]}
    stops = [e for e in schedule(every, epochs) if e not in done]
    if epochs not in done and (not stops or stops[-1] != epochs):
        stops.append(epochs)
    cpu = record["checkpoints"][-1].get("train_cpu_s", 0.0) if record["checkpoints"] else 0.0
    for stop in stops:
        c0 = time.process_time()
        res = fit(model, train, config=base.replace(epochs=stop))
        cpu += time.process_time() - c0
        hist = res.history
        score = evaluate(res.model, test, n_paths=50, dt=eval_dt, seed=4000 + seed)
        entry = {
            "epoch": stop,
            "train_time_s": float(hist.wall_time.values[-1]),
            "tw2": float(score.tw2_total),
            "train_loss": float(hist.train_loss.values[-1]),
            "train_cpu_s": cpu,  # process CPU time of the fit calls (setup included)
        }
        record["checkpoints"].append(entry)
        record["checkpoints"].sort(key=lambda c: c["epoch"])
        _write_json(log_path, record)
        print(f"{name} epoch {stop}: held-out tW2 {entry['tw2']:.4f} "
              f"(train {entry['train_time_s']:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
    return record


def first_reach(checkpoints: list[dict], target: float) -> dict | None:
    """The first checkpoint with held-out tW2 <= target (None if never)."""
    for c in checkpoints:
        if c["tw2"] <= target:
            return c
    return None


def stays_below(checkpoints: list[dict], target: float) -> dict | None:
    """The first checkpoint from which every later one is <= target (None if the last is not)."""
    hit = None
    for c in checkpoints:
        hit = (hit or c) if c["tw2"] <= target else None
    return hit


def _t(c: dict | None, key: str) -> str:
    return "–" if c is None or key not in c else f"{c[key]:.0f}"


def _ratio(a: dict, b: dict | None, key: str) -> str:
    if b is None or key not in a or key not in b:
        return "–"
    return f"{a[key] / b[key]:.1f}x"


def report(*, eval_dt: float, paper_epochs: int = 500) -> str:
    records = {}
    for name in SETTINGS:
        path = OUT / f"tta-{name}.json"
        if path.exists():
            records[name] = json.loads(path.read_text())
    if PAPER not in records:
        raise SystemExit("no paper-settings run yet: run `time_to_accuracy.py run --setting paper`")
    paper = records[PAPER]["checkpoints"]
    last = paper[-1]
    target = last["tw2"]
    per_epoch = last["train_time_s"] / last["epoch"]
    if last["epoch"] >= paper_epochs:
        target_text = (
            f"Target = the paper run's held-out tW2 at its last epoch ({last['epoch']}): "
            f"**{target:.4f}**, after {last['train_time_s']:.0f} s of training."
        )
    else:
        target_text = (
            f"**The paper run did not finish**: it was stopped at epoch {last['epoch']} of "
            f"{paper_epochs} ({per_epoch:.0f} s per epoch here; {paper_epochs} epochs would "
            f"take about {paper_epochs * per_epoch / 3600:.1f} h). Target = its held-out tW2 "
            f"at epoch {last['epoch']}: **{target:.4f}**, after {last['train_time_s']:.0f} s "
            "of training; the speed-ups below are against that partial run, not against the "
            "500-epoch model."
        )
    lines = [
        "### Damped oscillator, seed 0",
        "",
        "Data as in the damped-oscillator reproduction (20 training ω x 50 paths, 11 times on "
        "[0, 1]; 5 held-out ω). Every run: the preset architecture (4->100->100->100 ELU, "
        "general noise, 2 channels, abs), full-batch Adam (weight decay 5e-3), tW2 summed over "
        "ω, seed 0. Held-out tW2: `cellsde.evaluate`, 50 paths per held-out ω against 50 test "
        f"paths, seed 4000, evaluation step dt = {eval_dt:g} for every run (the model's "
        "accuracy, not its training step's). Training time: the fit's epoch-loop wall time "
        "(`history.wall_time`; evaluation excluded), one thread on a shared, loaded 2-core "
        "host; CPU: process CPU time of the fit calls (less sensitive to the load).",
        "",
        target_text,
        "",
        "| setting | dt | lr | standardise | epochs run | wall s / epoch | best tW2 (epoch) | "
        "first epoch <= target | ... and stays | wall to target (s) | CPU to target (s) | "
        "speed-up, wall | speed-up, CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, rec in records.items():
        cps, cfg = rec["checkpoints"], rec["fit"]
        end = cps[-1]
        hit = first_reach(cps, target) if name != PAPER else last
        stay = stays_below(cps, target) if name != PAPER else last
        best = min(cps, key=lambda c: c["tw2"])
        lines.append(
            f"| {name} | {cfg['dt']:g} | {cfg['lr']:g} | {'yes' if cfg['standardize'] else 'no'} "
            f"| {end['epoch']} | {end['train_time_s'] / end['epoch']:.2f} | "
            f"{best['tw2']:.4f} ({best['epoch']}) | {hit['epoch'] if hit else 'never'} | "
            f"{stay['epoch'] if stay else '–'} | {_t(hit, 'train_time_s')} | "
            f"{_t(hit, 'train_cpu_s')} | {_ratio(last, hit, 'train_time_s')} | "
            f"{_ratio(last, hit, 'train_cpu_s')} |"
        )
    lines += [
        "",
        "Checkpoints of every run (epoch: held-out tW2):",
        "",
    ]
    for name, rec in records.items():
        pts = ", ".join(f"{c['epoch']}: {c['tw2']:.3f}" for c in rec["checkpoints"])
        lines.append(f"- {name}: {pts}")
    lines += [
        "",
        f"Machine: {platform.machine()}, torch {torch.__version__}, 1 thread. Commands: "
        "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/time_to_accuracy.py run --setting "
        "NAME [--epochs N]` for each setting (checkpoints in `bench-out/tta-NAME.json`; a "
        "rerun resumes), then `... time_to_accuracy.py report --write-docs`.",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train one setting, logging held-out tW2 vs training time")
    r.add_argument("--setting", choices=tuple(SETTINGS), required=True)
    r.add_argument("--epochs", type=int, default=500)
    r.add_argument("--seed", type=int, default=0)
    for p in (r, sub.add_parser("report", help="table from bench-out/tta-*.json")):
        p.add_argument("--eval-dt", type=float, default=1e-3)
    sub.choices["report"].add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    np.seterr(all="ignore")
    if args.cmd == "run":
        run(args.setting, epochs=args.epochs, eval_dt=args.eval_dt, seed=args.seed)
        return 0
    text = report(eval_dt=args.eval_dt)
    print(text)
    if args.write_docs:
        write_section(HEADING, text, after="## END-nSDE fit epoch: float32 loss agreement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
