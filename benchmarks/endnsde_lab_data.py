"""An END-nSDE fitted directly on measured NF-kB cells, conditioned on (ligand, log dose).

Data: ``example_data.mat`` of Guo et al. (``read_guo2024``): nuclear NF-kB (uM) of 60
macrophages per condition, 19 conditions (TNF, LPS, CpG, Poly(I:C), Pam3CSK at 3-5 doses),
every 5 min for 0-480 min (Adelaja et al. 2021).

Model: ``ENDnSDE`` with the known covariates ``log10(dose)`` and a one-hot ``ligand``
(:mod:`cellsde.nn.covariates`; no unknown omega: every condition's inputs are known), the
state is the observable itself (1-D), and time is an input (``time_input=True``): a 1-D *autonomous*
SDE cannot rise to a peak and fall back through the same level, so with one observable the
model needs either time or latent dimensions (``--latent``, started at 0; measured as the
alternative). Each path starts from a measured cell's t = 0 value; time in hours; Euler step
``--dt`` (5 min, the frame interval); diagonal noise on the observable.

Split: trained on 14 conditions, the held-out dose per ligand (TNF 1 ng/mL, LPS 10 ng/mL,
CpG 100 nM, Poly(I:C) 33 ug/mL, Pam3CSK 100 ng/mL) is predicted from its covariates alone
(no held-out cell is seen, except its t = 0 values as initial states).

Score, per condition: ``tW2`` = sum over the 96 frames t = 5..480 min of the exact 1-D W2^2
between 60 simulated and the 60 measured cells (:func:`cellsde.evaluate`, the mean over
``--eval-seeds`` noise seeds, each path starting from one measured cell's t = 0 value; mean
± sd over ``--models`` independently seeded fits). Peers in the same table: the authors'
per-cell fits (``source="pred"`` vs ``"exp"``; each fitted to its own measured cell, held-out
conditions included, so not a prediction); for a held-out dose, the measured cells of the
neighbouring trained doses of the ligand copied unchanged (lower / upper: what a lab would
guess without a model); and the sampling floor of 60 vs 60 independent cells
(:func:`cellsde.sampling_floor` on the measured cells: two random halves of 30, halved, mean
over 20 splits).

Usage::

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/endnsde_lab_data.py \
        [../shared/data/nfkb-guo2024/example_data.mat] [--save-model data/guo2024_endnsde_lab.pt] \
        [--model data/guo2024_endnsde_lab.pt (score a saved model, no training)] [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from cellsde import ENDnSDE, ENDnSDEConfig, FitConfig, evaluate, fit, load_model, save_model
from cellsde.datasets import from_arrays, read_guo2024
from cellsde.evaluation import sampling_floor
from cellsde.losses import tw2
from cellsde.nn.covariates import covariates_from_data, describe

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/nfkb-guo2024/example_data.mat"
OBS = "nfkb_nuclear"
HELD = {"TNF": 1.0, "LPS": 10.0, "CpG": 100.0, "PolyIC": 33.0, "Pam3CSK": 100.0}
COVARIATES = ("log10:dose", "onehot:ligand")
HEADING = "## END-nSDE fitted on measured NF-κB cells: held-out doses"
AFTER = "## NF-κB model vs experiment"


def lab_data(path: Path, latent: int) -> tuple[xr.Dataset, xr.Dataset]:
    """(measured, authors' fits), time in h, with ``latent`` extra species (0 at t = 0, else NaN)."""
    both = read_guo2024(path, source="both")
    out = []
    for src in ("exp", "pred"):
        ds = both.isel(cell=np.flatnonzero(both["source"].values == src))
        x = ds["x"].values  # (cell, time, 1) uM
        if latent:
            z = np.full((*x.shape[:2], latent), np.nan)
            z[:, 0] = 0.0
            x = np.concatenate([x, z], -1)
        coords = {k: ds[k].values for k in ("ligand", "dose", "dose_units")}
        new = from_arrays(x, times=ds["time"].values / 60.0, time_units="h",
                          species=[OBS, *(f"z{i}" for i in range(latent))],
                          group=ds["group"].values, cell_coords=coords,
                          attrs={"model": "guo2024", "method": "measured"})  # fmt: skip
        new["x"].attrs["units"] = "µM"
        out.append(new)
    return out[0], out[1]


def held_out(ds: xr.Dataset) -> np.ndarray:
    """Boolean (cell,): the cell belongs to the held-out dose of its ligand."""
    return np.array([HELD[lig] == d for lig, d in zip(ds["ligand"].values, ds["dose"].values)])


def train_model(train: xr.Dataset, args: argparse.Namespace, seed: int) -> tuple[ENDnSDE, dict]:
    """Fit one END-nSDE (weights and noise seeded ``seed``); the model and its record (s)."""
    species = tuple(str(s) for s in train["species"].values)
    config = ENDnSDEConfig(species=species, hidden=(args.width,) * args.depth, activation="elu",
                           noise="diagonal" if not args.latent else "general",
                           n_brownian=1 + args.latent, time_input=not args.autonomous,
                           time_units="h", covariates=covariates_from_data(train, COVARIATES))  # fmt: skip
    model = ENDnSDE(config, seed=seed)
    fc = FitConfig(epochs=args.epochs, lr=args.lr, lr_schedule="cosine", lr_min=args.lr / 20,
                   dt=args.dt, observed=(OBS,), grad_clip=1.0, debiased=args.debiased,
                   weight_decay=args.weight_decay, seed=seed, progress=None)  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    result = fit(model, train, config=fc)
    record = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
              "epochs": args.epochs, "final_loss": float(result.history["train_loss"][-20:].mean()),
              "fit_config": fc.to_json(), "threads": torch.get_num_threads()}  # fmt: skip
    return result.model.eval(), record


def _cells(ds: xr.Dataset, ligand: str, dose: float) -> xr.Dataset:
    pick = (ds["ligand"].values == ligand) & (ds["dose"].values == dose)
    sub = ds.isel(cell=np.flatnonzero(pick))
    return sub.assign_coords(group=("cell", np.zeros(sub.sizes["cell"], dtype=int)))


def score(models: list[ENDnSDE], exp: xr.Dataset, pred: xr.Dataset, args) -> list[dict]:
    """One row per condition: END-nSDE tW2 (mean, sd over the models), the peers, the floor.

    Each model's tW2 is the mean over ``args.eval_seeds`` noise seeds. Peers: the authors'
    per-cell fits; for held-out doses also the measured cells of the neighbouring trained
    doses of the same ligand (lower, upper), as if copied unchanged.
    """
    runs = np.stack([np.mean([evaluate(m, exp, n_paths=60, dt=args.dt, seed=s, observed=(OBS,))
                              ["tw2"].values for s in range(1, args.eval_seeds + 1)], 0)
                     for m in models])  # (model, group)  # fmt: skip
    floors = np.stack([sampling_floor(exp, seed=s, observed=(OBS,))["tw2"].values
                       for s in range(20)]).mean(0) / 2  # fmt: skip
    labels = list(dict.fromkeys(exp["group"].values.tolist()))
    rows = []
    for k, g in enumerate(labels):
        e = exp.isel(cell=np.flatnonzero(exp["group"].values == g))
        p = pred.isel(cell=np.flatnonzero(pred["group"].values == g))
        lig, dose = str(e["ligand"].values[0]), float(e["dose"].values[0])
        row = {"group": int(g), "ligand": lig, "dose": dose,
               "units": str(e["dose_units"].values[0]), "held": HELD[lig] == dose,
               "endnsde": float(runs[:, k].mean()),
               "endnsde_sd": float(runs[:, k].std(ddof=1)) if len(models) > 1 else float("nan"),
               "authors": tw2(p, e, species=[OBS]), "floor": float(floors[k]), "neighbours": ()}  # fmt: skip
        if row["held"]:
            doses = sorted({float(d) for d in exp["dose"].values[exp["ligand"].values == lig]})
            i = doses.index(dose)
            row["neighbours"] = tuple(tw2(_cells(exp, lig, d), _cells(exp, lig, dose),
                                          species=[OBS]) for d in (doses[i - 1], doses[i + 1]))  # fmt: skip
        rows.append(row)
    return rows


def gmean(x) -> float:
    return float(np.exp(np.mean(np.log(np.asarray(x, dtype=float)))))


def table(rows: list[dict]) -> str:
    lines = ["| condition | split | END-nSDE tW2 (± sd over models) | authors' fits tW2 | ratio | "
             "neighbour doses copied: lower / upper | floor 60 vs 60 | END-nSDE / floor |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for r in sorted(rows, key=lambda r: (not r["held"], r["group"])):
        nb = " / ".join(f"{v:.4f}" for v in r["neighbours"]) or "–"
        sd = "–" if np.isnan(r["endnsde_sd"]) else f"{r['endnsde_sd']:.4f}"
        lines.append(
            f"| {r['ligand']} {r['dose']:g} {r['units']} | {'**held out**' if r['held'] else 'train'} "
            f"| {r['endnsde']:.4f} ± {sd} | {r['authors']:.4f} "
            f"| {r['endnsde'] / r['authors']:.2f} | {nb} | {r['floor']:.4f} "
            f"| {r['endnsde'] / r['floor']:.2f} |"
        )
    for label, held in (("held out", True), ("train", False)):
        sel = [r for r in rows if r["held"] == held]
        nb = (" / ".join(f"{gmean([r['neighbours'][i] for r in sel]):.4f}" for i in (0, 1))
              if held else "–")  # fmt: skip
        lines.append(
            f"| geometric mean, {label} | | {gmean([r['endnsde'] for r in sel]):.4f} "
            f"| {gmean([r['authors'] for r in sel]):.4f} "
            f"| {gmean([r['endnsde'] / r['authors'] for r in sel]):.2f} | {nb} "
            f"| {gmean([r['floor'] for r in sel]):.4f} "
            f"| {gmean([r['endnsde'] / r['floor'] for r in sel]):.2f} |"
        )
    return "\n".join(lines)


VARIANTS = (
    "Variants (prototype runs before this script: same data, split and fit options, one model, "
    "3 noise seeds; held-out sum of tW2 over the 5 conditions / training sum over 14): 1-D with "
    "time input, the default, 0.233 / 0.249; trained on the debiased loss 0.231 / 0.256 (twice "
    "the simulation); 2 latent species started at 0, autonomous (no time input), 2 Brownian "
    "channels 0.245 / 0.238; 2 latent species with time input 0.233 / 0.230; width 32 with "
    "weight decay 1e-4 0.247 / 0.285. Every variant sits at the floor on the training conditions "
    "(sum of floors 0.225) and none moves CpG 100 nM (0.095-0.103)."
)

FULL_RUN = (
    "The full run (this script without `--model`: 3 models, seeds 0-2, the shipped model is "
    "seed 0; 1958 s wall, 790 s CPU of training at `nice -n 5`) gave, as mean over the models: "
    "held-out geometric mean tW2 0.0371 = 1.66x the authors' fits (TNF 1 ng/mL 0.84x, LPS 10 "
    "ng/mL 1.87x, CpG 100 nM 5.00x, Poly(I:C) 33 µg/mL 0.97x, Pam3CSK 100 ng/mL 1.67x) and "
    "2.01x the floor; training conditions 1.03x the authors' fits and 1.14x the floor; the sd "
    "over the 3 models was at most 0.0043 per condition. (Not rerun here: the shared machine "
    "was too loaded to retrain 3 models before the deadline.)"
)


def reading(rows: list[dict]) -> str:
    """The table in sentences (computed from ``rows``)."""
    held = sorted((r for r in rows if r["held"]), key=lambda r: r["group"])
    train = [r for r in rows if not r["held"]]
    name = {r["group"]: f"{r['ligand']} {r['dose']:g} {r['units']}" for r in held}
    ratio = {name[r["group"]]: r["endnsde"] / r["authors"] for r in held}
    over = [k for k, v in ratio.items() if v > 3]
    better = [name[r["group"]] for r in held if r["endnsde"] < min(r["neighbours"])]
    worse = [name[r["group"]] for r in held if r["endnsde"] >= min(r["neighbours"])]
    return (
        f"Reading: on the 14 training conditions the END-nSDE is at "
        f"{gmean([r['endnsde'] / r['floor'] for r in train]):.2f}x the 60-vs-60 floor and "
        f"{gmean([r['endnsde'] / r['authors'] for r in train]):.2f}x the authors' per-cell fits "
        f"(geometric means). On the held-out doses, predicted from (ligand, dose) alone, it is "
        f"{gmean(list(ratio.values())):.2f}x the authors' fits (geometric mean; per condition "
        + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items())
        + f"), within 3x on {len(held) - len(over)} of {len(held)}"
        + (f" (not {', '.join(over)})" if over else "")
        + ". Targets (issue #14 item 2's, applied to this model): held-out tW2 <= 3x the "
        f"authors' fits on every held-out condition: {'missed' if over else 'met'}"
        + (f" ({', '.join(f'{k} {ratio[k]:.2f}x' for k in over)})" if over else "")
        + f"; their geometric mean <= 2x: {'met' if gmean(list(ratio.values())) <= 2 else 'missed'}"
        f" ({gmean(list(ratio.values())):.2f}x). The authors' fits are fitted to each held-out "
        "cell itself, so they are not a prediction; a prediction can only be expected down to "
        "the floor column (an estimate). "
        "The better of the two neighbouring trained doses, copied unchanged, scores worse than "
        "the END-nSDE on "
        + (", ".join(better) or "none")
        + " and better on "
        + (", ".join(worse) or "none")
        + ". CpG 100 nM is the hard case: the measured CpG response switches between 33 nM "
        "(peak of the mean trajectory 0.096 µM) and 100 nM (0.156 µM, like 333 nM), which no "
        "interpolation in dose from 33 and 333 nM can know; the END-nSDE predicts a response in "
        "between (fans figure)."
    )


def plot_fans(model: ENDnSDE, exp: xr.Dataset, args, path: Path) -> None:
    """One row per ligand, one panel per dose: measured vs END-nSDE fans (5-95 %, 25-75 %)."""
    import matplotlib.pyplot as plt

    from cellsde.cli.figures import simulate_checkpoint
    from cellsde.plot import cellsde_style, save_figure, trajectory_fan

    sim = simulate_checkpoint(model, exp, dt=args.dt, seed=1)
    ligands = list(HELD)
    with cellsde_style():
        fig, axes = plt.subplots(len(ligands), 5, figsize=(17, 12), sharex=True, sharey="row",
                                 squeeze=False)  # fmt: skip
        for i, lig in enumerate(ligands):
            groups = sorted({(float(d), int(g)) for d, g, li in zip(exp["dose"].values,
                             exp["group"].values, exp["ligand"].values) if li == lig})  # fmt: skip
            for j in range(5):
                ax = axes[i, j]
                if j >= len(groups):
                    ax.axis("off")
                    continue
                dose, g = groups[j]
                trajectory_fan(exp, species=OBS, model=sim, group=g, ax=ax, n_samples=0,
                               labels=("measured", "END-nSDE"))  # fmt: skip
                unit = str(exp["dose_units"].values[exp["group"].values == g][0])
                tag = " (held out)" if HELD[lig] == dose else ""
                ax.set_title(f"{lig} {dose:g} {unit}{tag}", loc="left", fontsize=10,
                             fontweight="bold" if tag else "normal")  # fmt: skip
                if ax.get_legend() is not None and (i, j) != (0, 0):
                    ax.get_legend().remove()
                if j:
                    ax.set_ylabel("")
                if i < len(ligands) - 1:
                    ax.set_xlabel("")
        fig.tight_layout()
        save_figure(fig, path, formats=("png",), dpi=80)
        plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="example_data.mat")
    ap.add_argument("--model", type=Path, help="score this saved model instead of training")
    ap.add_argument("--save-model", type=Path, help="write the fitted model here")
    ap.add_argument("--epochs", type=int, default=1500)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--dt", type=float, default=1 / 12, help="Euler step, h (default 5 min)")
    ap.add_argument("--latent", type=int, default=0, help="latent species beside the observable")
    ap.add_argument("--autonomous", action="store_true", help="no time input")
    ap.add_argument("--debiased", action="store_true", help="train on the debiased tW2")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first model")
    ap.add_argument("--models", type=int, default=3, help="models trained (seeds seed, seed+1...)")
    ap.add_argument("--eval-seeds", type=int, default=5)
    ap.add_argument("--images", type=Path, default=ROOT / "docs/images")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)

    records: list[dict] = []
    if args.model:
        models = [load_model(args.model).eval()]
        args.latent = len(models[0].species) - 1
        fc = json.loads(models[0].metadata["fit_config"])
        args.dt, args.lr, args.seed = float(fc["dt"]), float(fc["lr"]), int(fc["seed"])
        records = [models[0].metadata.get("training", {})]
    exp, pred = lab_data(args.data, args.latent)
    train = exp.isel(cell=np.flatnonzero(~held_out(exp)))
    if not args.model:
        models = []
        for seed in range(args.seed, args.seed + args.models):
            model, record = train_model(train, args, seed)
            models.append(model)
            records.append(record)
        if args.save_model:
            save_model(models[0], args.save_model, metadata={
                "fit_config": records[0]["fit_config"], "training": records[0],
                "data": "example_data.mat (Guo et al.), exp, the 14 training conditions",
                "held_out": HELD, "time": "hours since the stimulus"})  # fmt: skip
    rows = score(models, exp, pred, args)
    text = table(rows)
    print(text)
    cfg = models[0].config
    wall = sum(r.get("wall_s", float("nan")) for r in records)
    cpu = sum(r.get("cpu_s", float("nan")) for r in records)
    how = (f"`ENDnSDE`: state {list(cfg.species)}, covariates {describe(cfg.covariates)}, "
           f"time input {cfg.time_input}, hidden {list(cfg.hidden)} ELU, {cfg.noise} noise; "
           f"{records[0].get('epochs', '?')} full-batch Adam epochs (lr {args.lr:g} cosine, "
           f"grad clip 1), dt = {args.dt * 60:g} min, 60 paths per condition from the measured "
           f"t = 0 values. {len(models)} model(s) (seeds {args.seed}..{args.seed + len(models) - 1}"
           f"), each scored as the mean over {args.eval_seeds} noise seeds; the table gives "
           + ("the mean ± sd over the models" if len(models) > 1 else "that model's score")
           + f". Training of all {len(records)}: {wall:.0f} s wall, {cpu:.0f} s CPU (one torch "
           "thread, on the shared 2-core machine).")  # fmt: skip
    print(how)
    if not args.no_figures:
        plot_fans(models[0], exp, args, args.images / "endnsde_lab_fans")
    if args.write_docs:
        from _docs import write_section

        about = re.sub(r":\w+:`", "`", "\n\n".join(__doc__.split("\n\n")[1:5]))
        mode = f"--model {args.model}" if args.model else "--save-model data/guo2024_endnsde_lab.pt"
        body = "\n\n".join([
            "`OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python benchmarks/endnsde_lab_data.py "
            f"{mode} --write-docs`.", about.replace("``", "`"), how, text, reading(rows),
            *([FULL_RUN] if args.model else []), VARIANTS,
            "![measured vs END-nSDE per condition, first model](images/endnsde_lab_fans.png)",
        ])  # fmt: skip
        write_section(HEADING, body, after=AFTER)


if __name__ == "__main__":
    main()
