"""perforate where a narrow network underfits: a small CNN on MNIST-1D (no download).

Data: MNIST-1D (Greydanus 2020; PyPI ``mnist1d``), generated procedurally by
``mnist1d.data.make_dataset`` from templates in the package (no download at run time):
10 000 sequences of length 40, the package's own 80/20 split. The 2 000 test sequences are
never looked at before the end; the 8 000 others are split once (seeded) into 6 400 training
and 1 600 validation sequences, and validation cross-entropy is the only score any schedule
or checkpoint choice sees.

Networks: ``cnn(c)`` = Conv1d(1, c, 5, stride 2) - ReLU - Conv1d(c, c, 3, stride 2) - ReLU -
Conv1d(c, c, 3, stride 2) - ReLU - Linear(5c, 10). The narrow base has c = 4 (338 parameters)
and cannot fit its training set (about 60 % training accuracy); the wide one c = 32.

Controls per seed, all with the same epoch budget and the same schedule machinery
(:func:`perforate.train`, Adam, minibatch 128, the "pb" schedule: learning rate x 0.1 at a
validation plateau, ``--lr-drops`` drops per neuron phase; a plain network stops after its
drops): wide; narrow; narrow + K dendrite sets from the start trained jointly (``gd``);
narrow grown by Perforated Backpropagation's cascade schedule up to K sets (``cascade``,
correlation-trained candidates, best checkpoint reloaded at each switch); plain CNNs with
the channel count whose parameters / multiply-accumulates are closest to narrow + K sets;
and, with ``--pai-python``, perforatedai's open-source dendrites on the narrow CNN.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/perforate_classification.py \\
        --seeds 0 1 2 3 4 [--pai-python /path/with/perforatedai/python] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from _paired import paired  # noqa: E402

from perforate import (  # noqa: E402
    DendriteConfig,
    PhaseSchedule,
    add_dendrites,
    count_macs,
    count_parameters,
    train,
)

HEADING = "## perforate: classification"
BATCH, LR, PATIENCE, THRESHOLD = 128, 3e-3, 8, 1e-3


def load_data(split_seed: int = 0) -> dict[str, torch.Tensor]:
    """MNIST-1D, 10 000 sequences: train 6 400 / valid 1 600 (seeded) / test 2 000 (fixed)."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = 10_000
    d = make_dataset(args)  # procedural; no download
    x, y = d["x"].astype(np.float32)[:, None], d["y"].astype(np.int64)  # (n, 1, 40)
    perm = np.random.default_rng(split_seed).permutation(len(y))
    tr, va = perm[:6400], perm[6400:]
    t = torch.from_numpy
    return {"xtr": t(x[tr]), "ytr": t(y[tr]), "xva": t(x[va]), "yva": t(y[va]),
            "xte": t(d["x_test"].astype(np.float32)[:, None]), "yte": t(d["y_test"].astype(np.int64))}  # fmt: skip


def cnn(c: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(1, c, 5, 2, 2), nn.ReLU(), nn.Conv1d(c, c, 3, 2, 1), nn.ReLU(),
        nn.Conv1d(c, c, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(5 * c, 10),
    )  # fmt: skip


def closest(count, target: float) -> int:
    return min(range(1, 64), key=lambda c: (abs(count(c) - target), c))


def make_step(d, gen: torch.Generator):
    def step(model, opt) -> None:
        perm = torch.randperm(len(d["ytr"]), generator=gen)
        for i in range(0, len(perm), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(d["xtr"][idx]), d["ytr"][idx]).backward()
            opt.step()

    return step


def scores(model, d) -> dict[str, float]:
    """Cross-entropy and accuracy on each split (the test split only at the very end)."""
    model.eval()
    out = {}
    with torch.no_grad():
        for s in ("tr", "va", "te"):
            logits = model(d[f"x{s}"])
            out[f"ce_{s}"] = float(F.cross_entropy(logits, d[f"y{s}"]))
            out[f"acc_{s}"] = float((logits.argmax(1) == d[f"y{s}"]).float().mean())
    return out


def run(kind: str, c: int, k: int, seed: int, d, a) -> dict:
    """Train one network; ``kind`` plain / gd / cascade; returns its scores and counts."""
    torch.manual_seed(seed)
    net = cnn(c)
    mode = "cascade" if kind == "cascade" else "gd"
    cfg = DendriteConfig(mode=mode, schedule="pb", patience=PATIENCE, threshold=THRESHOLD,
                         max_dendrites=k, max_tries=1, lr_drops=a.lr_drops,
                         candidate_patience=3, candidate_epochs=a.candidate_cap)  # fmt: skip
    gen = torch.Generator().manual_seed(seed)
    add_dendrites(net, cfg, n_sets=k if kind == "gd" else 0, generator=gen)
    start = time.process_time()
    res = train(net, step=make_step(d, gen), schedule=PhaseSchedule.from_config(cfg, n_sets=
                k if kind == "gd" else 0), evaluate=lambda m: scores_va(m, d),
                optimizer_factory=lambda p: torch.optim.Adam(p, lr=LR), max_epochs=a.epochs,
                generator=gen)  # fmt: skip
    return {**scores(net, d), "params": count_parameters(net), "macs": count_macs(net, d["xte"][:1]),
            "sets": res.n_sets, "epochs": len(res.history), "capped": sum(res.candidate_capped),
            "cpu": time.process_time() - start}  # fmt: skip


def scores_va(model, d) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(model(d["xva"]), d["yva"]))


def pai_worker(seed: int, a) -> dict:
    """perforatedai's open-source dendrites on cnn(4): its tracker, ReduceLROnPlateau (its
    recommended scheduler), the same data, batches and epoch budget. One process per seed
    (the tracker is global state)."""
    from perforatedai import globals_perforatedai as GPA
    from perforatedai import utils_perforatedai as UPA

    torch.set_num_threads(1)
    d = load_data()
    for setter, value in [
        ("set_configuration_confirmed", True), ("set_unwrapped_modules_confirmed", True),
        ("set_weight_decay_accepted", True), ("set_modules_to_perforate", [nn.Conv1d, nn.Linear]),
        ("set_testing_dendrite_capacity", False), ("set_dashboard_events_enabled", False),
        ("set_test_saves", False), ("set_pai_saves", False), ("set_silent", True),
        ("set_max_dendrites", a.max_dendrites), ("set_n_epochs_to_switch", PATIENCE),
    ]:  # fmt: skip
        getattr(GPA.pc, setter)(value)
    torch.manual_seed(seed)
    model = UPA.perforate_model(cnn(4), save_name="paibench", maximizing_score=False)
    GPA.pai_tracker.save_graphs = lambda *args, **kw: None  # per-epoch PNGs dominate run time
    GPA.pai_tracker.set_optimizer(torch.optim.Adam)
    GPA.pai_tracker.set_scheduler(torch.optim.lr_scheduler.ReduceLROnPlateau)
    sched = {"mode": "min", "patience": PATIENCE, "factor": 0.1}

    def setup(m):
        return GPA.pai_tracker.setup_optimizer(m, {"params": m.parameters(), "lr": LR}, sched)[0]

    opt, gen = setup(model), torch.Generator().manual_seed(seed)
    step, best, out, switches = make_step(d, gen), float("inf"), {}, []
    start = time.process_time()
    for epoch in range(1, a.epochs + 1):
        model.train()
        step(model, opt)
        v = scores_va(model, d)
        if v < best:  # our checkpoint rule: best validation cross-entropy
            best, out = v, {**scores(model, d), "params": int(UPA.count_params(model))}
        model, restructured, complete = GPA.pai_tracker.add_validation_score(v, model)
        if complete:
            break
        if restructured:
            switches.append(epoch)
            opt = setup(model)
    from importlib.metadata import version

    return {**out, "macs": float("nan"), "sets": -1, "epochs": epoch, "capped": 0,
            "cpu": time.process_time() - start, "switches": switches,
            "version": version("perforatedai")}  # fmt: skip


def run_pai(python: str, seed: int, a) -> dict:
    argv = [python, str(Path(__file__).resolve()), "--pai-worker", str(seed), "--epochs",
            str(a.epochs), "--max-dendrites", str(a.max_dendrites)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:  # perforatedai writes into ./<save_name>/
        out = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, timeout=3600,
                             stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"perforatedai worker failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ms(values) -> str:
    v = [x for x in values if x == x]
    if not v:
        return "–"
    return f"{statistics.mean(v):.2f} ± {statistics.stdev(v) if len(v) > 1 else 0.0:.2f}"


def table(results: dict[str, list[dict]], base: str) -> str:
    rows = ["| network | params | MACs | train CE | train acc % | valid acc % | test acc % | "
            "test acc − narrow (pts, mean [min, max] over seeds) | sets kept | epochs |",
            "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    ref = [r["acc_te"] for r in results[base]]
    for name, runs in results.items():
        diff = [100 * (r["acc_te"] - b) for r, b in zip(runs, ref)]
        sets = "/".join(str(r["sets"]) for r in runs) if runs[0]["sets"] >= 0 else "–"
        rows.append(
            f"| {name} | {statistics.mean(r['params'] for r in runs):.0f} | "
            f"{statistics.mean(r['macs'] for r in runs):.0f} | {ms(r['ce_tr'] for r in runs)} | "
            f"{ms(100 * r['acc_tr'] for r in runs)} | {ms(100 * r['acc_va'] for r in runs)} | "
            f"{ms(100 * r['acc_te'] for r in runs)} | {statistics.mean(diff):+.2f} "
            f"[{min(diff):+.2f}, {max(diff):+.2f}] | {sets} | "
            f"{statistics.mean(r['epochs'] for r in runs):.0f} |"
        )
    return "\n".join(rows)


def reading(results: dict[str, list[dict]]) -> str:
    """Each dendrite network against each plain network, paired by seed (test accuracy %)."""
    dend = [n for n in results if "sets" in n or "perforatedai" in n]
    plain = [n for n in results if n not in dend and not n.startswith("wide")]
    lines = []
    for n in dend:
        acc = [100 * r["acc_te"] for r in results[n]]
        parts = [
            f"{paired(acc, [100 * r['acc_te'] for r in results[p]], lower_is_better=False, fmt='{:+.2f}')} {p}"
            for p in plain
        ]
        lines.append(f"- **{n}** " + "; ".join(parts) + ".")
    return "\n".join(lines)


PAI = "narrow + perforatedai (its dendrites)"


def train_all(a) -> dict[str, list[dict]]:
    """Every network of the plan (and perforatedai's with ``--pai-python``) for every seed."""
    d, k = load_data(), a.max_dendrites
    probe = add_dendrites(cnn(4), DendriteConfig(), n_sets=k)
    c_par = closest(lambda c: count_parameters(cnn(c)), count_parameters(probe))
    c_mac = closest(lambda c: count_macs(cnn(c), d["xte"][:1]), count_macs(probe, d["xte"][:1]))
    plan = {"wide CNN c=32": ("plain", 32, 0), "narrow CNN c=4": ("plain", 4, 0),
            f"narrow + {k} sets, gd (fixed K)": ("gd", 4, k),
            f"narrow + ≤{k} sets, PB cascade": ("cascade", 4, k),
            f"plain c={c_par} (≈ params of narrow + {k})": ("plain", c_par, 0)}  # fmt: skip
    if c_mac != c_par:
        plan[f"plain c={c_mac} (≈ MACs of narrow + {k})"] = ("plain", c_mac, 0)
    results = {}
    for name, (kind, c, kk) in plan.items():
        results[name] = [run(kind, c, kk, s, d, a) for s in a.seeds]
        print(name, ms(100 * r["acc_te"] for r in results[name]), flush=True)
    if a.pai_python:
        results[PAI] = [run_pai(a.pai_python, s, a) for s in a.seeds]
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    counts = {"--epochs": 150, "--max-dendrites": 2, "--lr-drops": 2, "--candidate-cap": 30}
    for flag, default in counts.items():
        ap.add_argument(flag, type=int, default=default)
    ap.add_argument("--pai-python", default=None, help="interpreter with perforatedai installed")
    ap.add_argument("--pai-worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--save", help="also write the per-seed rows as JSON here")
    ap.add_argument("--from-json", nargs="+", help="report saved runs (--save; e.g. one per seed, "
                    "run in parallel, given in the order of --seeds) instead of training")  # fmt: skip
    ap.add_argument("--write-docs", action="store_true")
    a = ap.parse_args()
    if a.pai_worker is not None:
        print(json.dumps(pai_worker(a.pai_worker, a)))
        return
    torch.set_num_threads(1)
    if a.from_json:
        results, wall = {}, 0.0
        for path in a.from_json:
            saved = json.loads(Path(path).read_text())
            for name, rows in saved["results"].items():
                results.setdefault(name, []).extend(rows)
            wall = max(wall, saved["wall"])
    else:
        t0 = time.time()
        results = train_all(a)
        wall = time.time() - t0
    if a.save:
        Path(a.save).write_text(json.dumps({"results": results, "wall": wall}))
    k = a.max_dendrites
    note = "perforatedai: not run (no `--pai-python`)."
    if PAI in results:
        runs = results[PAI]
        note = (f"perforatedai {runs[0]['version']} (open-source dendrites, no Perforated "
                f"Backpropagation), in its own environment; switches at epochs "
                f"{[r['switches'] for r in runs]}; parameters at our checkpoint "
                f"{[r['params'] for r in runs]}.")  # fmt: skip
    cpu = sum(r["cpu"] for runs in results.values() for r in runs)
    text = (f"`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/perforate_classification.py --seeds "
            f"{' '.join(map(str, a.seeds))} --epochs {a.epochs} --max-dendrites {k} --lr-drops "
            f"{a.lr_drops}{' --pai-python PY' if PAI in results else ''} --write-docs`: MNIST-1D "
            f"(10 000 procedurally generated sequences, `mnist1d` from PyPI, no download), "
            f"train 6 400 / valid 1 600 / test 2 000 (untouched until the end); small 1-D CNNs; "
            f"Adam lr {LR:g}, minibatch {BATCH}, at most {a.epochs} epochs for every network "
            f"(dendrite phases included), learning rate x 0.1 at each validation plateau "
            f"({PATIENCE} epochs without {THRESHOLD:g} relative improvement), {a.lr_drops} drops "
            f"per neuron phase; checkpoint = best validation cross-entropy; {len(a.seeds)} seeds "
            f"(weights, batches, dendrites); torch {torch.__version__}, {platform.machine()}, 1 "
            f"thread; CPU {cpu:.0f} s, wall {wall:.0f} s. Train CE/acc: the "
            f"training split at the chosen checkpoint. mean ± sd over seeds.\n\n"
            f"{table(results, 'narrow CNN c=4')}\n\n{note}\n\n"
            f"Paired by seed on test accuracy (beats / loses when the mean difference exceeds two "
            f"standard errors):\n\n{reading(results)}\n")  # fmt: skip
    print(text)
    if a.write_docs:
        from _docs import write_section

        write_section(HEADING, text)


if __name__ == "__main__":
    main()
