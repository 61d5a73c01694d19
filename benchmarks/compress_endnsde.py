"""Dendrites on an END-nSDE that is not at its sampling floor: RPA–ssDNA (issue #17).

Data (per seed): the RPA–ssDNA lattice CTMC (L = 1000 nt, exact SSA; ``rpa_data`` of
``benchmarks/reproduce_endnsde.py``), ω = k−2 on 31 log-spaced values in [0.3, 3], 50 cells
per ω, observed c20 and c30 at 41 times on [0, 2]. Split by ω: 6 test ω (every 5th from the
4th, the reproduction's held-out set; untouched until the end), 6 validation ω (every 5th
from the 2nd; the only score any schedule or checkpoint sees), 19 training ω. The sampling
floor is the tW2 between two independent SSA samples of the test ω.

Networks, every one refit on the data from scratch by the same driver
(:func:`cellsde.training.cascade.fit_cascade`: perforate's "pb" schedule over cellsde's
``train_step``; learning rate x 0.1 at a validation plateau, ``--lr-drops`` drops per neuron
phase, same epoch budget, best validation checkpoint): the wide END-nSDE (paper: 100 x 100
ReLU, general noise, 1 Brownian channel); the narrow base; narrow + K dendrite sets from the
start, trained jointly (``gd``); narrow grown by Perforated Backpropagation's cascade schedule
up to K sets (exact rollout gradients, correlation-trained candidates with cached inputs);
plain networks of the width with the closest parameter count / multiply-accumulates; and the
widest plain network with at most 10 % of the wide model's parameters (the project goal).

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/compress_endnsde.py --seeds 0 1 2 3 4 \\
        [--epochs 100] [--width 12] [--max-dendrites 2] [--write-docs]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _paired import paired  # noqa: E402

from cellsde.compression import (  # noqa: E402
    build_candidate,
    equal_macs_width,
    equal_width,
    model_macs,
    plain_parameters,
)
from cellsde.evaluation import evaluate  # noqa: E402
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig  # noqa: E402
from cellsde.nn.standardized import standardize  # noqa: E402
from cellsde.training import preset, preset_model_options  # noqa: E402
from cellsde.training.cascade import fit_cascade  # noqa: E402
from perforate import DendriteConfig, count_parameters  # noqa: E402

HEADING = "## Compressing END-nSDE networks with dendrites"
PATIENCE, THRESHOLD = 5, 1e-3


def reproduction():
    """benchmarks/reproduce_endnsde.py, imported by path (RPA data, omegas, floor)."""
    spec = importlib.util.spec_from_file_location("reproduce_endnsde", ROOT / "benchmarks" /
                                                  "reproduce_endnsde.py")  # fmt: skip
    mod = importlib.util.module_from_spec(spec)
    sys.modules["reproduce_endnsde"] = mod
    spec.loader.exec_module(mod)
    return mod


def splits(rep, seed: int):
    om = rep.RPA_OMEGAS
    test_om, valid_om = om[3::5], om[1::5]
    train_om = [w for w in om if w not in test_om and w not in valid_om]
    train = rep.rpa_data(train_om, n_paths=50, seed=1000 + seed)
    valid = rep.rpa_data(valid_om, n_paths=50, seed=2000 + seed)
    test = rep.rpa_data(test_om, n_paths=50, seed=3000 + seed)
    floor = rep._tw2_total(rep.rpa_data(test_om, n_paths=50, seed=4000 + seed), test)
    return train, valid, test, floor


def plan(template: ENDnSDE, width: int, k: int) -> dict[str, tuple[str, int, int]]:
    """name -> (mode, width, sets): the networks of one seed."""
    cfg = template.config
    probe = build_candidate(template, width, n_sets=k, dendrites=DendriteConfig())
    goal = max(w for w in range(1, 200) if plain_parameters(cfg, w) <= 0.1 * count_parameters(template))  # fmt: skip
    out = {f"wide w{max(cfg.hidden)}": ("plain", max(cfg.hidden), 0),
           f"narrow w{width}": ("plain", width, 0),
           f"w{width} + {k} sets, gd (fixed K)": ("gd", width, k),
           f"w{width} + ≤{k} sets, PB cascade": ("cascade", width, k)}  # fmt: skip
    w_par = equal_width(cfg, count_parameters(probe))
    w_mac = equal_macs_width(cfg, model_macs(probe))
    out[f"plain w{w_par} (≈ params of w{width}+{k})"] = ("plain", w_par, 0)
    if w_mac != w_par:
        out[f"plain w{w_mac} (≈ MACs of w{width}+{k})"] = ("plain", w_mac, 0)
    out[f"plain w{goal} (≤ 10 % of wide)"] = ("plain", goal, 0)
    return out


def train_one(template, mode, width, k, data, config, a, seed) -> dict:
    train, valid, test, _ = data
    dcfg = DendriteConfig(mode="cascade" if mode == "cascade" else "gd", schedule="pb",
                          patience=PATIENCE, threshold=THRESHOLD, max_dendrites=k,
                          lr_drops=a.lr_drops, candidate_patience=3, candidate_epochs=a.candidate_cap,
                          candidate_steps=a.candidate_steps, detach_input=False)  # fmt: skip
    net = build_candidate(template, width, n_sets=k if mode == "gd" else 0, dendrites=dcfg,
                          seed=seed)  # fmt: skip
    start = time.process_time()
    res = fit_cascade(net, train, valid, config, dcfg, seed=seed)
    row = {"params": count_parameters(net), "macs": model_macs(net), "sets": res.n_sets,
           "epochs": len(res.history), "capped": sum(res.candidate_capped),
           "cpu": time.process_time() - start}  # fmt: skip
    for name, ds in (("train", train), ("valid", valid), ("test", test)):
        table = evaluate(net, ds, n_paths=50, dt=config.dt, seed=5000 + seed,
                         observed=("c20", "c30"))  # fmt: skip
        row[name] = float(table["tw2_total"])
    return row


def ms(v, fmt="{:.3f}") -> str:
    v = list(v)
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    return f"{fmt.format(statistics.mean(v))} ± {fmt.format(sd)}"


def report(results, floors, wide_name, a, wall, cpu) -> str:
    wide = results[wide_name]
    wp = statistics.mean(r["params"] for r in wide)
    lines = ["| network | params | params / wide | MACs | sets kept | train tW2 | valid tW2 | "
             "test tW2 | test / wide | test / floor | meets goal (seeds) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, runs in results.items():
        rel = [r["test"] / w["test"] for r, w in zip(runs, wide)]
        goal = sum(r["params"] <= 0.1 * wp and q <= 1.05 for r, q in zip(runs, rel))
        lines.append(
            f"| {name} | {statistics.mean(r['params'] for r in runs):.0f} | "
            f"{statistics.mean(r['params'] for r in runs) / wp:.3f} | "
            f"{statistics.mean(r['macs'] for r in runs):.0f} | "
            f"{'/'.join(str(r['sets']) for r in runs)} | {ms(r['train'] for r in runs)} | "
            f"{ms(r['valid'] for r in runs)} | {ms(r['test'] for r in runs)} | "
            f"{statistics.mean(rel):.2f} | "
            f"{statistics.mean(r['test'] / f for r, f in zip(runs, floors)):.2f} | {goal}/{len(runs)} |"
        )
    lines.append(f"| sampling floor (truth vs truth, test ω) | – | – | – | – | – | – | "
                 f"{ms(floors)} | {statistics.mean(f / w['test'] for f, w in zip(floors, wide)):.2f}"
                 f" | 1.00 | – |")  # fmt: skip
    dend = [n for n in results if "sets" in n]
    plain = [n for n in results if n not in dend and n != wide_name]
    reading = [f"- **{n}** " + "; ".join(f"{paired([r['test'] for r in results[n]], [r['test'] for r in results[p]], lower_is_better=True)} {p}"
                                         for p in plain) + "." for n in dend]  # fmt: skip
    head = (f"`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/compress_endnsde.py --seeds "
            f"{' '.join(map(str, a.seeds))} --epochs {a.epochs} --dt {a.dt:g} --width {a.width} "
            f"--max-dendrites {a.max_dendrites} --lr-drops {a.lr_drops} --write-docs`: RPA–ssDNA "
            f"lattice (exact SSA, L = 1000 nt), ω = k−2 on 31 log-spaced values in [0.3, 3], 50 "
            f"cells per ω, c20 and c30 at 41 times on [0, 2]; 19 training ω, 6 validation ω "
            f"(schedule and checkpoints), 6 test ω (untouched until the end; the reproduction's "
            f"held-out set). Every network refit from scratch by `fit_cascade` (tW2 averaged over "
            f"ω, Adam lr 2e-3, weight decay 5e-3, grad clip 1, {a.epochs} epochs at most — "
            f"dendrite phases included —, dt {a.dt:g}, 50 simulated paths per ω, learning rate "
            f"x 0.1 at a validation plateau of {PATIENCE} epochs, {a.lr_drops} drops per neuron "
            f"phase, best validation checkpoint). tW2 = squared W2 summed over times t > 0 and the "
            f"ω of the split (`cellsde.evaluate`, one noise seed per seed). mean ± sd over "
            f"{len(a.seeds)} seeds (data, weights, noise); ratios are averaged per seed. Goal: "
            f"≤ 10 % of the wide model's parameters and test tW2 ≤ 1.05 x the wide model's. "
            f"torch {torch.__version__}, {platform.machine()}, 1 thread; CPU {cpu:.0f} s, wall "
            f"{wall:.0f} s.")  # fmt: skip
    return (f"{head}\n\n" + "\n".join(lines) + "\n\n![Parameters vs test tW2, floor drawn]"
            "(images/compress_endnsde_rpa.png)\n\nPaired by seed on test tW2 (lower is better; "
            "beats / loses when the mean difference exceeds two standard errors):\n\n"
            + "\n".join(reading) + "\n")  # fmt: skip


def figure(results, floors, wide_name, path: Path) -> None:
    from cellsde.plot import pareto, save_figure

    names = list(results)
    params = [statistics.mean(r["params"] for r in results[n]) for n in names]
    test = [statistics.mean(r["test"] for r in results[n]) for n in names]
    kinds = ["wide" if n == wide_name else "dendrites" if "sets" in n else "plain" for n in names]
    fig = pareto(params, test, labels=names, kinds=kinds, w2_units="(coverage)²")
    ax = fig.axes[0]
    ax.set_yscale("log")  # narrow networks sit an order of magnitude above the wide one
    floor, wide = statistics.mean(floors), test[names.index(wide_name)]
    ax.axhline(floor, color="0.4", ls=":", lw=1)
    ax.annotate("sampling floor (mean over seeds)", (min(params), floor), fontsize=7,
                xytext=(2, 3), textcoords="offset points")  # fmt: skip
    # the project goal: the lower-left box (<= 10 % of the wide parameters, <= 1.05 x its tW2)
    goal_p = 0.1 * params[names.index(wide_name)]
    ax.plot([min(params) * 0.8, goal_p, goal_p], [1.05 * wide, 1.05 * wide, floor * 0.8],
            color="0.6", lw=0.8)  # fmt: skip
    ax.annotate("goal", (goal_p, 1.05 * wide), fontsize=7, xytext=(-18, 3),
                textcoords="offset points")  # fmt: skip
    save_figure(fig, path.with_suffix(""), formats=("png",), dpi=150)


def run_all(a) -> tuple[dict[str, list[dict]], list[float], float, float]:
    """Train every network of every seed; per-network rows, floors, wall and CPU seconds."""
    rep = reproduction()
    t0, cpu0 = time.time(), time.process_time()
    results: dict[str, list[dict]] = {}
    floors = []
    for seed in a.seeds:
        data = splits(rep, seed)
        floors.append(data[3])
        opts = {**preset_model_options("rpa"), "hidden": tuple(a.wide)}
        template = ENDnSDE(ENDnSDEConfig(("c20", "c30"), ("k_minus2",), **opts), seed=seed)
        standardize(template, data[0])
        config = preset("rpa", epochs=a.epochs, dt=a.dt, n_paths=50, seed=seed, standardize=True,
                        checkpoint_segments=False, progress=False)  # fmt: skip
        nets = plan(template, a.width, a.max_dendrites)
        for name, (mode, width, k) in nets.items():
            row = train_one(template, mode, width, k, data, config, a, seed)
            results.setdefault(name, []).append(row)
            print(f"seed {seed} {name}: test {row['test']:.4f} (floor {data[3]:.4f}) params "
                  f"{row['params']} sets {row['sets']} cpu {row['cpu']:.0f} s", flush=True)  # fmt: skip
    return results, floors, time.time() - t0, time.process_time() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--dt", type=float, default=0.05)
    counts = {"--epochs": 100, "--width": 12, "--max-dendrites": 2, "--lr-drops": 2,
              "--candidate-cap": 20, "--candidate-steps": 20}  # fmt: skip
    for flag, default in counts.items():
        ap.add_argument(flag, type=int, default=default)
    ap.add_argument("--wide", type=int, nargs="+", default=[100, 100])
    ap.add_argument("--save", help="also write the per-seed rows as JSON here")
    ap.add_argument("--from-json", nargs="+", help="report saved runs (--save; e.g. one per seed, "
                    "run in parallel) instead of training")  # fmt: skip
    ap.add_argument("--write-docs", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.from_json:
        results, floors, wall, cpu = {}, [], 0.0, 0.0
        for path in a.from_json:  # in the order given: seeds as listed in --seeds
            saved = json.loads(Path(path).read_text())
            for name, rows in saved["results"].items():
                results.setdefault(name, []).extend(rows)
            floors += saved["floors"]
            wall, cpu = max(wall, saved["wall"]), cpu + saved["cpu"]
    else:
        results, floors, wall, cpu = run_all(a)
    wide_name = next(iter(results))
    text = report(results, floors, wide_name, a, wall, cpu)
    print(text)
    if a.save:
        saved = {"results": results, "floors": floors, "wall": wall, "cpu": cpu}
        Path(a.save).write_text(json.dumps(saved))
    if a.write_docs:
        from _docs import write_subsection

        figure(results, floors, wide_name, ROOT / "docs" / "images" / "compress_endnsde_rpa.png")
        write_subsection(
            HEADING, f"### RPA–ssDNA: dendrites where the wide model is not at its floor\n\n{text}"
        )


if __name__ == "__main__":
    main()
