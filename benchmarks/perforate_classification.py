"""perforate on a standard classification task: scikit-learn's bundled digits (no download).

Compares, over several seeds and the same epoch budget (Adam, minibatch 64, checkpoint
selected by validation cross-entropy, test accuracy reported at that checkpoint):

* wide MLP 64-128-10, narrow MLP 64-8-10;
* narrow + dendrites (``perforate``, modes ``gd`` and ``cascade``, up to ``--max-dendrites``);
* a plain MLP with the parameter count of narrow + dendrites (the honest control);
* optionally the ``perforatedai`` package (its open-source dendrites) on the narrow MLP:
  used when importable, or run with another interpreter given by ``--pai-python``.

Usage::

    .venv/bin/python benchmarks/perforate_classification.py [--seeds 5] [--epochs 100]
        [--pai-python /tmp/pai/bin/python] [--write-docs]
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perforate import (  # noqa: E402
    DendriteConfig,
    PhaseSchedule,
    add_dendrites,
    count_parameters,
    train,
)

HEADING = "## perforate: classification"
BATCH, LR = 64, 1e-2
PATIENCE, THRESHOLD = 5, 5e-3


def load_data() -> dict[str, torch.Tensor]:
    """Digits 8x8 (1797 samples) scaled to [0, 1]; stratified 60/20/20 split, fixed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)  # (sample, 64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    xtr, xva, ytr, yva = train_test_split(xtr, ytr, test_size=0.25, random_state=0, stratify=ytr)
    t = torch.from_numpy
    return {
        "xtr": t(xtr), "ytr": t(ytr), "xva": t(xva), "yva": t(yva), "xte": t(xte), "yte": t(yte),
    }  # fmt: skip


def mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(64, hidden), nn.Tanh(), nn.Linear(hidden, 10))


def make_step(d, gen: torch.Generator):
    def step(model, opt) -> None:
        perm = torch.randperm(len(d["xtr"]), generator=gen)
        for i in range(0, len(perm), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(d["xtr"][idx]), d["ytr"][idx]).backward()
            opt.step()

    return step


def val_loss(model, d) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(model(d["xva"]), d["yva"]))


def test_acc(model, d) -> float:
    with torch.no_grad():
        return float((model(d["xte"]).argmax(1) == d["yte"]).float().mean())


def run_plain(hidden: int, seed: int, d, epochs: int) -> dict:
    torch.manual_seed(seed)
    model, gen = mlp(hidden), torch.Generator().manual_seed(seed)
    opt, step = torch.optim.Adam(model.parameters(), lr=LR), make_step(d, gen)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        model.train()
        step(model, opt)
        model.eval()
        v = val_loss(model, d)
        if v < best:
            best, best_state = v, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return {"acc": test_acc(model, d), "params": count_parameters(model), "sets": 0}


def run_dendrites(mode: str, seed: int, d, epochs: int, max_dendrites: int) -> dict:
    torch.manual_seed(seed)
    cfg = DendriteConfig(
        mode=mode,
        patience=PATIENCE,
        threshold=THRESHOLD,
        max_dendrites=max_dendrites,
        max_tries=1,
        candidate_lr=1e-2,
        candidate_patience=3,
        candidate_epochs=10,
    )
    model = add_dendrites(mlp(8), cfg)
    gen = torch.Generator().manual_seed(seed)
    res = train(
        model,
        step=make_step(d, gen),
        evaluate=lambda m: val_loss(m, d),
        schedule=PhaseSchedule.from_config(cfg),
        optimizer_factory=lambda p: torch.optim.Adam(p, lr=LR),
        max_epochs=epochs,
        generator=gen,
    )
    return {"acc": test_acc(model, d), "params": count_parameters(model), "sets": res.n_sets}


def pai_worker(seed: int, epochs: int, max_dendrites: int) -> dict:
    """One perforatedai run (global tracker state: one process per seed)."""
    from perforatedai import globals_perforatedai as GPA
    from perforatedai import utils_perforatedai as UPA

    torch.set_num_threads(1)
    d = load_data()
    pc = GPA.pc
    for setter, value in [
        ("set_configuration_confirmed", True),  # otherwise it asks interactively
        ("set_unwrapped_modules_confirmed", True),
        ("set_weight_decay_accepted", True),
        ("set_modules_to_perforate", [nn.Linear]),
        ("set_testing_dendrite_capacity", False),
        ("set_dashboard_events_enabled", False),
        ("set_test_saves", False),
        ("set_pai_saves", False),
        ("set_silent", True),
        ("set_max_dendrites", max_dendrites),
        ("set_n_epochs_to_switch", PATIENCE),
    ]:
        getattr(pc, setter)(value)
    torch.manual_seed(seed)
    model = UPA.perforate_model(mlp(8), save_name="paibench", maximizing_score=False)
    GPA.pai_tracker.save_graphs = lambda *a, **k: None  # per-epoch PNGs dominate run time
    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.StepLR)
    sched_args = {"step_size": 10**9, "gamma": 1.0}
    opt, _ = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": LR}, sched_args)  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    step = make_step(d, gen)
    best, acc, params, n_epochs, best_epoch = float("inf"), float("nan"), 0, 0, 0
    for n_epochs in range(1, epochs + 1):
        model.train()
        step(model, opt)
        model.eval()
        v = val_loss(model, d)
        if v < best:  # test accuracy at the best-validation checkpoint
            best, acc, best_epoch = v, test_acc(model, d), n_epochs
            params = int(UPA.count_params(model))
        model, restructured, complete = GPA.pai_tracker.add_validation_score(v, model)
        if complete:
            break
        if restructured:
            opt, _ = GPA.pai_tracker.setup_optimizer(model, {"params": model.parameters(), "lr": LR}, sched_args)  # fmt: skip
    from importlib.metadata import version as dist_version

    version = dist_version("perforatedai")
    final = int(UPA.count_params(model))
    return {
        "acc": acc, "params": params, "sets": -1, "epochs": n_epochs, "version": version,
        "best_epoch": best_epoch, "final_params": final,
    }  # fmt: skip


def run_pai(python: str, seed: int, epochs: int, max_dendrites: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # perforatedai writes into ./<save_name>/
        out = subprocess.run(
            [python, str(Path(__file__).resolve()), "--pai-worker", str(seed),
             "--epochs", str(epochs), "--max-dendrites", str(max_dendrites)],
            cwd=tmp, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"perforatedai worker failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt_table(rows: list[dict], wide_acc: float, wide_params: float) -> str:
    lines = [
        "| model | test accuracy (mean ± sd) | parameters | params / wide | acc − wide (pts) | dendrite sets |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        accs, params = r["accs"], r["params"]
        m, s = statistics.mean(accs), statistics.stdev(accs) if len(accs) > 1 else 0.0
        p = statistics.mean(params)
        sets = "–" if r["sets"] is None else "/".join(str(k) for k in r["sets"])
        lines.append(
            f"| {r['name']} | {100 * m:.2f} ± {100 * s:.2f} % | {p:.0f} | {p / wide_params:.3f} "
            f"| {100 * (m - wide_acc):+.2f} | {sets} |"
        )
    return "\n".join(lines)


def write_docs(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find(HEADING)
    if start >= 0:  # replace our section up to the next level-2 heading
        nxt = old.find("\n## ", start + len(HEADING))
        old = old[:start].rstrip("\n") + ("\n\n" + old[nxt + 1 :] if nxt >= 0 else "")
    new = old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(new)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--max-dendrites", type=int, default=2)
    ap.add_argument("--pai-python", default=None, help="interpreter with perforatedai installed")
    ap.add_argument("--pai-worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--write-docs", action="store_true")
    a = ap.parse_args()
    if a.pai_worker is not None:
        print(json.dumps(pai_worker(a.pai_worker, a.epochs, a.max_dendrites)))
        return
    torch.set_num_threads(1)
    d = load_data()
    seeds = list(range(a.seeds))
    t0 = time.time()
    results: dict[str, list[dict]] = {}
    results["wide MLP 64-128-10"] = [run_plain(128, s, d, a.epochs) for s in seeds]
    results["narrow MLP 64-8-10"] = [run_plain(8, s, d, a.epochs) for s in seeds]
    for mode in ("gd", "cascade"):
        results[f"narrow + dendrites ({mode})"] = [
            run_dendrites(mode, s, d, a.epochs, a.max_dendrites) for s in seeds
        ]
    dend = [r["params"] for m in ("gd", "cascade") for r in results[f"narrow + dendrites ({m})"]]
    hidden = max(1, round((statistics.mean(dend) - 10) / 75))  # 64h + h + 10h + 10
    results[f"plain MLP 64-{hidden}-10 (equal params)"] = [
        run_plain(hidden, s, d, a.epochs) for s in seeds
    ]
    pai_note = ""
    pai_python = a.pai_python
    if pai_python is None and importlib.util.find_spec("perforatedai") is not None:
        pai_python = sys.executable
    if pai_python is not None:
        runs = [run_pai(pai_python, s, a.epochs, a.max_dendrites) for s in seeds]
        for r in runs:
            r["sets"] = None
        results["narrow + perforatedai (its dendrites)"] = runs
        pai_note = (
            f"perforatedai {runs[0]['version']} ran in `{pai_python}` (its own torch), "
            "non-interactively, with `set_configuration_confirmed(True)` and graph saving "
            f"patched out; per seed: epochs used {[r['epochs'] for r in runs]}, best-validation "
            f"epoch {[r['best_epoch'] for r in runs]}, parameters there "
            f"{[r['params'] for r in runs]} (`UPA.count_params`) and at the end "
            f"{[r['final_params'] for r in runs]}. The open-source "
            "package builds dendrites *without* Perforated Backpropagation (gradient-trained), "
            "so it is comparable with our `gd` mode."
        )
    else:
        pai_note = (
            "perforatedai not included: not importable here and no `--pai-python` given "
            "(it installs torch of its own; use a separate venv)."
        )
    wall = time.time() - t0
    cpu = sum(
        resource.getrusage(w).ru_utime for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    wide = results["wide MLP 64-128-10"]
    wide_acc = statistics.mean(r["acc"] for r in wide)
    wide_params = statistics.mean(r["params"] for r in wide)
    rows = []
    for name, runs in results.items():
        sets = [r["sets"] for r in runs] if name.startswith("narrow + dendrites") else None
        rows.append({"name": name, "accs": [r["acc"] for r in runs],
                     "params": [r["params"] for r in runs], "sets": sets})  # fmt: skip
    table = fmt_table(rows, wide_acc, wide_params)
    text = "\n".join([
        HEADING, "",
        f"`benchmarks/perforate_classification.py --seeds {a.seeds} --epochs {a.epochs} "
        f"--max-dendrites {a.max_dendrites}`: scikit-learn digits (1797 8×8 images, fixed "
        "stratified 60/20/20 split), Adam lr 1e-2, minibatch 64, the same epoch budget for "
        "every model (dendrite phases included), test accuracy at the best validation "
        f"cross-entropy checkpoint; {len(seeds)} seeds; plateau = {PATIENCE} epochs without "
        f"{THRESHOLD:g} relative improvement (perforatedai: n_epochs_to_switch={PATIENCE}); "
        f"torch {torch.__version__}, 1 thread; "
        f"CPU time {cpu:.0f} s, wall time {wall:.0f} s (shared 2-core machine, load "
        f"{os.getloadavg()[0]:.0f}). Dendrite sets column: sets kept per seed.",
        "", table, "", pai_note, "",
    ])  # fmt: skip
    print(text)
    if a.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
