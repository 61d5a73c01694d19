"""Compressing a damped-oscillator END-nSDE with dendrites (issue #7 items 3-4).

Data: the circadian damped oscillator (k1 = 0.3, k2 = 0.1; ``models_bio.damped_oscillator``)
simulated by Euler–Maruyama (dt 1e-3) for ω on the 5 x 5 grid {-1, -0.5, 0, 0.5, 1}², 50
cells per ω, 11 times on [0, 1], x0 = (0, 1); five interior ω are held out (validation:
early stopping and the reported held-out tW2, summed over the 5 groups).

Networks (per seed): the wide END-nSDE (paper size: 3 hidden layers of 100, ELU, general
noise with 2 Brownian channels), narrow networks of each width in ``--widths``, narrow
networks with K = 1..``--max-dendrites`` dendrite sets on every Linear of drift and diffusion
(``--mode gd cascade``, both by default: fixed K with joint backprop, and the perforate phase
schedule), and for each
of those a plain network with the closest parameter count. Every network is trained from
scratch on the same data with the same tW2 loss, optimiser and epoch budget
(:func:`cellsde.compression.compress`; nothing is distilled).

The default run is scaled down to fit ~8-10 minutes on a shared 2-core CPU: 40 epochs, Euler
step 0.05, lr 5e-3, validation every 5 epochs. The paper's budget::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/compress_endnsde.py --full --seeds 0 1 2 \\
        --widths 8 16 32 --max-dendrites 2

(500 epochs, dt 1e-3, lr 2e-3, weight decay 5e-3; hours on a CPU). ``--write-docs`` writes
the table into docs/benchmarks.md (section "Compressing END-nSDE networks with dendrites")
and the Pareto plot into docs/images/.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

import models_bio as mb
from cellsde.compression import compress
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.nn.rollout import rollout
from cellsde.training import fit, preset, preset_model_options
from perforate import DendriteConfig

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Compressing END-nSDE networks with dendrites"
GRID = (-1.0, -0.5, 0.0, 0.5, 1.0)
HELD_OUT = ((-0.5, -0.5), (-0.5, 0.5), (0.0, 0.0), (0.5, -0.5), (0.5, 0.5))
SPECIES, PARAMS = ("x1", "x2"), ("omega1", "omega2")
SCALED = {"epochs": 40, "dt": 5e-2, "lr": 5e-3, "valid_every": 5}
FULL = {"epochs": 500, "dt": 1e-3}
INTRO = f"""{HEADING}

Can a narrow END-nSDE with dendrites (perforate) replace the wide one? Each run of
`benchmarks/compress_endnsde.py --write-docs` writes (or replaces) its own subsection below;
see the script's docstring for the protocol. NF-κB END-nSDE compression is not wired: no
fitted NF-κB END-nSDE (nor its training data in the cellsde format) exists in the project yet.
Full-size study (the paper's 500 epochs at dt 1e-3; hours on this CPU):
`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/compress_endnsde.py --full --seeds 0 1 2 --widths 8 16 32 --max-dendrites 2 --write-docs`.
"""
MODE_TEXT = {
    "gd": "`[gd]`: exactly K sets from the start, trained jointly by backprop with `cellsde.fit`",
    "cascade": "`[cascade]`: the perforate phase schedule (plateau = {patience} epochs without "
    "{threshold:g} relative improvement, one retry) grows up to K correlation-trained sets inside "
    "the same epoch budget, validated every epoch",
}


def damped_data(omegas, *, n_cells: int, seed: int) -> xr.Dataset:
    """Damped-oscillator populations, one group of ``n_cells`` per ω (Euler–Maruyama, dt 1e-3)."""
    om = np.asarray(omegas, dtype=float)  # (group, param)
    theta = torch.tensor(np.repeat(om, n_cells, 0), dtype=torch.float64)  # (cell, param)
    times = torch.linspace(0, 1, 11, dtype=torch.float64)
    x0 = torch.tensor([[0.0, 1.0]], dtype=torch.float64).repeat(len(theta), 1)  # (cell, species)
    with torch.no_grad():
        paths = rollout(mb.damped_oscillator(k1=0.3, k2=0.1), x0, theta, times, dt=1e-3,
                        generator=torch.Generator().manual_seed(seed))  # fmt: skip
    labels = [f"({a:+.1f},{b:+.1f})" for a, b in om]
    return xr.Dataset(
        {"x": (("cell", "time", "species"), paths.numpy()),
         "theta": (("cell", "param"), theta.numpy())},
        coords={"time": xr.DataArray(times.numpy(), dims="time", attrs={"units": "dimensionless"}),
                "species": list(SPECIES), "param": list(PARAMS),
                "group": ("cell", np.repeat(labels, n_cells))},
        attrs={"time_units": "dimensionless", "seed": seed, "model": "damped_oscillator"},
    )  # fmt: skip


def budget(args: argparse.Namespace) -> dict:
    """Fit options of this run: the paper's (``--full``) or the scaled-down ones."""
    out = dict(FULL if args.full else SCALED)
    if args.epochs is not None:
        out["epochs"] = args.epochs
    return out


def schedule(args: argparse.Namespace) -> dict:
    """Cascade plateau settings: perforate's defaults at full size, quicker when scaled down."""
    return {"patience": 5, "threshold": 1e-3} if args.full else {"patience": 3, "threshold": 1e-2}


def run_seed(seed: int, args: argparse.Namespace) -> tuple[pd.DataFrame, list[str]]:
    """Fit the wide model, then compress it (each mode); the table and chosen networks."""
    train_om = [(a, b) for a in GRID for b in GRID if (a, b) not in HELD_OUT]
    train = damped_data(train_om, n_cells=args.cells, seed=1000 + seed)
    valid = damped_data(HELD_OUT, n_cells=args.cells, seed=2000 + seed)
    opts = {**preset_model_options("damped_oscillator"), "hidden": tuple(args.wide)}
    config = preset("damped_oscillator", **budget(args), seed=seed, standardize=True,
                    progress=False)  # fmt: skip
    wide = ENDnSDE(ENDnSDEConfig(SPECIES, PARAMS, **opts), seed=seed)
    start = time.perf_counter()
    fit(wide, train, valid=valid, config=config)
    wide_seconds = time.perf_counter() - start
    print(f"seed {seed}: wide {args.wide} fitted in {wide_seconds:.0f} s", flush=True)
    tables, bests = [], []
    for mode in args.mode:
        result = compress(
            wide, train, valid=valid, widths=args.widths, max_dendrites=args.max_dendrites,
            mode=mode, tolerance=args.tolerance, config=config, seed=seed,
            dendrites=DendriteConfig(**schedule(args)),
            callback=lambda r: print(f"  {r['candidate']:<18} params {r['params']:>6}  "
                                     f"tW2 {r['valid_tw2']:.4g}  {r['seconds']:.0f} s", flush=True),
        )  # fmt: skip
        table = result.table.copy()
        names = dict(zip(table["candidate"], table["candidate"]))
        if len(args.mode) > 1:  # tag the mode-dependent rows: "w4+K1 [gd]", "w7 (=w4+K1 [gd])"
            for _, r in table.iterrows():
                if r["kind"] == "dendrites":
                    names[r["candidate"]] = f"{r['candidate']} [{mode}]"
                elif r["kind"] == "plain-equal":
                    names[r["candidate"]] = f"{r['candidate'][:-1]} [{mode}])"
        for _, r in table[table["kind"] == "plain-equal"].iterrows():
            # the control's width can differ between seeds (cascade keeps 0..K sets): name it
            # by the network it controls so seeds pair up, e.g. "plain (=w4+K1 [gd])"
            name = names[r["candidate"]]
            names[r["candidate"]] = "plain " + name[name.index("(=") :]
        table["candidate"] = table["candidate"].map(names)
        if tables:  # wide and narrow rows are identical across modes (same seeds)
            table = table[table["kind"].isin(("dendrites", "plain-equal"))]
        tables.append(table)
        bests.append(names[result.best])
        print(f"  best ({mode}, tolerance {args.tolerance:g}): {names[result.best]}", flush=True)
    table = pd.concat(tables, ignore_index=True)
    table.loc[table["kind"] == "wide", "seconds"] = wide_seconds
    return table.assign(seed=seed, best=table["candidate"].isin(bests)), bests


def summarize(tables: pd.DataFrame) -> pd.DataFrame:
    """Mean/sd over seeds per candidate, relative to the wide model of the same seed."""
    wide = tables[tables["kind"] == "wide"].set_index("seed")["valid_tw2"]
    t = tables.assign(rel=tables["valid_tw2"] / tables["seed"].map(wide))
    g = t.groupby(["candidate", "kind"], sort=False)
    out = g.agg(width=("width", lambda w: "/".join(str(int(v)) for v in w)), K=("K", lambda k: "/".join(str(int(v)) for v in k)),
                params=("params", "mean"), tw2_mean=("valid_tw2", "mean"),
                tw2_sd=("valid_tw2", "std"), rel_mean=("rel", "mean"),
                seconds=("seconds", "mean"), chosen=("best", "sum")).reset_index()  # fmt: skip
    return out


def markdown(summary: pd.DataFrame, wide_params: int) -> str:
    lines = ["| network | kind | width (per seed) | parameters | params / wide | held-out tW2 (mean ± sd) | "
             "tW2 / wide | sets kept | s / fit | chosen |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for _, r in summary.iterrows():
        lines.append(
            f"| {r['candidate']} | {r['kind']} | {r['width']} | {r['params']:.0f} | "
            f"{r['params'] / wide_params:.3f} | {r['tw2_mean']:.4f} ± {r['tw2_sd']:.4f} | "
            f"{r['rel_mean']:.2f} | {r['K']} | {r['seconds']:.0f} | {int(r['chosen'])} |"
        )
    return "\n".join(lines)


def verdict(summary: pd.DataFrame) -> str:
    """Does each dendrite network beat its equal-parameter plain control (mean tW2)?"""
    plain = summary[summary["kind"] == "plain-equal"]
    parts, wins, clear, n = [], 0, 0, 0
    for _, r in summary[summary["kind"] == "dendrites"].iterrows():
        ctrl = plain[plain["candidate"].str.endswith(f"(={r['candidate']})")].iloc[0]
        if set(r["K"].split("/")) == {"0"}:  # no set kept: same architecture as the control
            parts.append(f"{r['candidate']}: no set kept at the best checkpoint (same "
                         "architecture as the control, trained by the schedule)")  # fmt: skip
            continue
        n += 1
        wins += int(r["tw2_mean"] < ctrl["tw2_mean"])
        sd = max(np.nan_to_num(r["tw2_sd"]), np.nan_to_num(ctrl["tw2_sd"]))
        clear += int(r["tw2_mean"] < ctrl["tw2_mean"] - sd)
        parts.append(f"{r['candidate']} {r['tw2_mean']:.4f} vs {ctrl['candidate']} "
                     f"{ctrl['tw2_mean']:.4f}")  # fmt: skip
    return (
        f"dendrites had a lower mean held-out tW2 than the equal-parameter plain network in "
        f"{wins} of {n} pairs with dendrites kept ({clear} by more than one sd): "
        + "; ".join(parts)
    )


def plot_summary(summary: pd.DataFrame, stem: Path) -> Path:
    """Pareto plot of the mean held-out tW2; repeated networks are drawn once.

    Left out: plain-equal controls whose width is one of the narrow widths (the same trained
    network, reused) and dendrite networks that kept no set in any seed.
    """
    from cellsde.plot import pareto, save_figure

    narrow = {int(w.split("/")[0]) for w in summary.loc[summary["kind"] == "narrow", "width"]}
    widths = summary["width"].map(lambda w: {int(v) for v in str(w).split("/")})
    same = (summary["kind"] == "plain-equal") & widths.map(lambda w: w <= narrow)
    empty = (summary["kind"] == "dendrites") & summary["K"].map(
        lambda k: set(k.split("/")) == {"0"}
    )
    s = summary[~same & ~empty]
    fig = pareto(s["params"], s["tw2_mean"], labels=s["candidate"], kinds=s["kind"],
                 w2_units="(species units)²")  # fmt: skip
    return save_figure(fig, stem, formats=("png",), dpi=150)[0]


def write_docs(label: str, text: str) -> None:
    """Write ``text`` as subsection ``### label`` of this benchmark's section (others kept)."""
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    found = re.search(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", doc, re.S | re.M)
    section = found.group(0) if found and "\n### " in found.group(0) else INTRO
    body = f"### {label}\n\n{text.strip()}\n\n"
    sub = re.compile(rf"^### {re.escape(label)}\n.*?(?=^### |\Z)", re.S | re.M)
    if sub.search(section):
        section = sub.sub(lambda _: body, section)
    else:
        section = section.rstrip() + "\n\n" + body
    if found:
        doc = doc[: found.start()] + section + doc[found.end() :]
    else:
        doc = doc.rstrip() + "\n\n" + section
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc.rstrip() + "\n")
    os.replace(tmp, path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--widths", type=int, nargs="+", default=[4, 8])
    p.add_argument("--max-dendrites", type=int, default=2)
    p.add_argument("--mode", choices=("gd", "cascade"), nargs="+", default=["gd", "cascade"])
    p.add_argument("--wide", type=int, nargs="+", default=[100, 100, 100])
    p.add_argument("--cells", type=int, default=50)
    p.add_argument("--tolerance", type=float, default=0.05)
    p.add_argument("--full", action="store_true", help="the paper's epochs and dt")
    p.add_argument("--epochs", type=int, help="override the epoch budget (smoke tests)")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    start, cpu = time.perf_counter(), time.process_time()
    runs = [run_seed(s, args) for s in args.seeds]
    tables = pd.concat([t for t, _ in runs], ignore_index=True)
    chosen = "; ".join(
        f"seed {s}: " + ", ".join(f"{m} {b}" for m, b in zip(args.mode, bests))
        for s, (_, bests) in zip(args.seeds, runs)
    )
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    summary = summarize(tables)
    wide_params = int(summary.loc[summary["kind"] == "wide", "params"].iloc[0])
    table = markdown(summary, wide_params)
    budget_ = budget(args)
    said = verdict(summary)
    print(table, "\n", said, f"\nwall {wall:.0f} s, CPU {cpu:.0f} s", sep="")
    if not args.write_docs:
        return
    label = (f"{budget_['epochs']} epochs, widths {' '.join(map(str, args.widths))}, "
             f"K ≤ {args.max_dendrites}, {' + '.join(args.mode)}, {len(args.seeds)} seeds"
             + ("" if args.wide == [100, 100, 100] else f", wide {'x'.join(map(str, args.wide))}"))  # fmt: skip
    slug = re.sub(r"[^0-9a-z]+", "_", label.lower().replace("≤", "le")).strip("_")
    stem = ROOT / "docs" / "images" / f"compress_endnsde_{slug}"
    plot_summary(summary, stem)
    wide_txt = "x".join(str(w) for w in args.wide)
    cmd = " ".join(["benchmarks/compress_endnsde.py", "--seeds", *map(str, args.seeds), "--widths",
                    *map(str, args.widths), "--max-dendrites", str(args.max_dendrites), "--mode",
                    *args.mode, *(["--full"] if args.full else []),
                    *(["--epochs", str(args.epochs)] if args.epochs else []),
                    *([] if args.wide == [100, 100, 100] else ["--wide", *map(str, args.wide)]),
                    *([] if args.cells == 50 else ["--cells", str(args.cells)]),
                    "--write-docs"])  # fmt: skip
    modes = "; ".join(MODE_TEXT[m].format(**schedule(args)) for m in args.mode)
    size = (
        "paper size" if args.wide == [100, 100, 100] else "scaled down from the paper's 100x100x100"
    )
    text = f"""`OMP_NUM_THREADS=1 .venv/bin/python {cmd}`: damped oscillator (k1 = 0.3, k2 = 0.1), ω on the
5 × 5 grid, {args.cells} cells per ω, 11 times on [0, 1]; 5 interior ω held out. Wide END-nSDE
{wide_txt} ELU ({size}), general noise, 2 Brownian channels. Every network — wide, narrow,
narrow + dendrites ({modes}), and
the plain network of equal parameter count — is trained from scratch on the same data with the
same tW2 loss and budget ({budget_["epochs"]} epochs, dt {budget_["dt"]:g}, lr {budget_.get("lr", 2e-3):g},
weight decay 5e-3, 50 simulated paths per ω, best validation checkpoint); {"the paper's budget" if args.full else "**scaled down** from the paper's 500 epochs at dt 1e-3 to fit ~10 minutes on a shared 2-core CPU"}.
Held-out tW2 = squared W2 summed over times t > 0 and the 5 held-out groups (`cellsde.evaluate`,
one noise seed for all networks); "tW2 / wide" is averaged per seed; "chosen" counts seeds in
which `compress` picked the network (smallest within {args.tolerance:.0%} of the wide model;
per seed and mode: {chosen}).
Seeds {", ".join(map(str, args.seeds))}; torch {torch.__version__}, {platform.machine()}, 1 thread; wall {wall:.0f} s, CPU {cpu:.0f} s.

{table}

![Pareto plot: parameters vs held-out tW2, mean over seeds](images/{stem.name}.png)

The plot leaves out repeated networks (plain controls equal to a narrow network) and
dendrite networks that kept no set.

Reading (this run): {said}.
"""
    write_docs(label, text)
    print(f"wrote {ROOT / 'docs' / 'benchmarks.md'} and {stem}.png")


if __name__ == "__main__":
    main()
