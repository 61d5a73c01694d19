"""NF-kB noise intensities: recovery on held-out simulated omega, and the experimental pipeline.

END-nSDE (Zhang et al. 2025, Fig 9; reference/end-nsde.md §5, §6, §9) in two parts.

**Observable.** Total nuclear NF-kB = free ``NFkBn`` + IkBa-bound ``IkBaNFkBn`` (uM), 1-D,
at the 31 times 0, 5, ..., 150 min (t_size = 31). In the simulated data it is formed from the
two species (``cellsde.infer(..., observables=RECIPE)`` does the same); the Guo 2024
experimental file already holds it (``nfkb_nuclear``, rescaled by the authors to model units,
uM).

**Part 1, recovery.** The amortized omega-inference network (``cellsde.inference``
attention pooling, ``train_amortizer``) is trained on the ground-truth simulations of
``benchmarks/nfkb_sde_data.py`` (Guo 2024 SDE, TNF 100 ng/mL, 11 x 11 grid of
``(omega_ikba, omega_nfkb)`` in [-3.5, -1.5]^2, even paths of the 96 training omega), with a
random group size K in 1..32 per set and epoch. On the 25 held-out omega of §9 pitfall 1
(odd paths), the first K trajectories form one group; the error is the paper's relative error
``(|dw1| + |dw2|) / (|w1| + |w2|)`` averaged over the held-out omega, and per intensity
``|dw_k| / |w_k|``, for K in {1, 2, 4, 8, 16, 32} and several network seeds.

**Part 2, experiment.** The TNF cells of ``../shared/data/nfkb-guo2024`` (conditions 0-2:
0.1, 1, 10 ng/mL, 60 cells each, frames 0-30 = 0-150 min) are ranked by cosine similarity of
their 31-point trajectory to the representative ODE curve
(``../shared/data/end-nsde/representative_ode_nuclear_nfkb.csv``) and cut into consecutive
groups of K (remainder dropped): ``pooled`` (all doses, K = 16, 11 groups) and ``per-dose``
(K = 8 within each dose, 7 groups per dose). Per group, ``cellsde.infer(method="amortized")``
returns omega with its bootstrap uncertainty and an out-of-training-range flag; the END-nSDE
(``data/nfkb_endnsde.pt``) is simulated at the inferred omega from the basal state (the
simulated data's t = 0 state) and compared with the group's K cells by the 1-D tW2 over
t1..t30 (K simulated vs K measured paths, as the paper; mean over ``--draws`` independent
K-path draws, plus the model's own K-vs-K sampling floor at the same omega).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nfkb_experiment.py [--part both] \
        [--model data/nfkb_endnsde.pt] [--seeds 3] [--epochs 4000] [--write-docs]

The ranked experimental groups can also be inferred from the shell (the script writes
``bench-out/nfkb_sde/exp_ranked_pooled.nc`` with times in the END-nSDE's unit, ``basal.nc``
and ``amortizer_exp.pt``, the network with the same times)::

    cellsde infer data/nfkb_endnsde.pt bench-out/nfkb_sde/exp_ranked_pooled.nc --out theta.nc \
        --method amortized --group-size 16 --amortizer bench-out/nfkb_sde/amortizer_exp.pt \
        --observable nfkb_nuclear=NFkBn+IkBaNFkBn --initial-state bench-out/nfkb_sde/basal.nc
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_EXP = SHARED / "data/nfkb-guo2024/example_data.mat"
DEFAULT_REF = SHARED / "data/end-nsde/representative_ode_nuclear_nfkb.csv"
OUT = ROOT / "bench-out" / "nfkb_sde"
OBS = "nfkb_nuclear"
RECIPE = {OBS: {"NFkBn": 1.0, "IkBaNFkBn": 1.0}}
PARAMS = ("omega_ikba", "omega_nfkb")
KS = (1, 2, 4, 8, 16, 32)
TNF_CONDITIONS = (0, 1, 2)
HEAD_REC = "## NF-κB noise intensities: recovery on held-out ω (amortized network)"
HEAD_EXP = "## NF-κB experiment: inferred noise intensities and tW2 per group"
PAPER_TW2 = "0.143–0.236"


def sim_module():
    """``benchmarks/nfkb_sde_data.py`` as a module (the simulated data set)."""
    name = "nfkb_sde_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------- ranking and grouping


def cosine_rank(y: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells ordered by cosine similarity to ``ref``, most similar first.

    Parameters
    ----------
    y : numpy.ndarray, shape (cell, time)
        Raw trajectories (uM).
    ref : numpy.ndarray, shape (time,)
        Reference trajectory on the same times.

    Returns
    -------
    order : numpy.ndarray of int, shape (cell,)
        Cell indices, decreasing similarity (ties keep the input order).
    similarity : numpy.ndarray, shape (cell,)
        Cosine similarity of every cell (input order), in [-1, 1].
    """
    y = np.asarray(y, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if y.ndim != 2 or ref.shape != (y.shape[1],):
        raise ValueError(f"y must be (cell, time) and ref (time,); got {y.shape}, {ref.shape}")
    norm = np.linalg.norm(y, axis=1) * np.linalg.norm(ref)
    sim = (y @ ref) / np.where(norm > 0, norm, np.inf)  # (cell,)
    return np.argsort(-sim, kind="stable"), sim


def consecutive_groups(order: np.ndarray, k: int) -> np.ndarray:
    """Cut ``order`` into consecutive groups of ``k``; the last ``len % k`` cells are dropped.

    Returns
    -------
    numpy.ndarray of int, shape (group, k)
    """
    order = np.asarray(order)
    if k < 1 or k > order.size:
        raise ValueError(f"group size K={k} must be in 1..{order.size} (the number of cells)")
    n = (order.size // k) * k
    return order[:n].reshape(-1, k)


# ---------------------------------------------------------------- data


def nuclear(ds: xr.Dataset) -> np.ndarray:
    """Total nuclear NF-kB (cell, time) in uM of a simulated data set."""
    return sum(w * ds["x"].sel(species=s).values for s, w in RECIPE[OBS].items())


def by_group(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y (set, n, time, 1), theta (set, param), group labels) of a group-major data set."""
    g = ds["group"].values
    labels = np.unique(g)
    n = min(int(np.sum(g == lab)) for lab in labels)
    y = nuclear(ds)
    idx = np.stack([np.flatnonzero(g == lab)[:n] for lab in labels])  # (set, n)
    theta = ds["theta"].sel(param=list(PARAMS)).values[idx[:, 0]]
    return y[idx][..., None], theta, labels


def retimed(net, times: np.ndarray):
    """A copy of the amortizer that expects ``times`` (same weights; a change of time unit)."""
    from dataclasses import replace

    from cellsde.inference.amortized import Amortizer

    out = Amortizer(replace(net.config, times=tuple(float(t) for t in times)))
    out.load_state_dict(net.state_dict())
    return out.eval()


def reference_curve(path: Path, times: np.ndarray) -> np.ndarray:
    """The representative ODE curve (uM) at ``times`` (min)."""
    tab = np.genfromtxt(path, delimiter=",", names=True)
    return np.interp(times, tab["time_min_inferred"], tab["nuclear_nfkb"])


def experimental(path: Path, times: np.ndarray) -> xr.Dataset:
    """TNF cells (conditions 0-2), frames at ``times`` (min), species ``nfkb_nuclear``."""
    from cellsde.datasets.guo2024 import read_guo2024

    ds = read_guo2024(path, source="exp")
    ds = ds.isel(cell=np.flatnonzero(np.isin(ds["group"].values, TNF_CONDITIONS)))
    return ds.sel(time=np.asarray(times, dtype=float))


# ---------------------------------------------------------------- part 1: recovery


def train_net(train: xr.Dataset, *, epochs: int, seed: int, k_max: int = 32, spread: bool = False):
    from cellsde.inference.amortized_train import train_amortizer

    y, theta, _ = by_group(train)
    times = torch.tensor(train["time"].values, dtype=torch.float32)
    return train_amortizer(torch.tensor(y, dtype=torch.float32), torch.tensor(theta, dtype=torch.float32),
                         observed=(OBS,), params=PARAMS, times=times, k_max=min(k_max, y.shape[1]),
                         lo=torch.tensor([-3.5, -3.5]), hi=torch.tensor([-1.5, -1.5]),
                         epochs=epochs, seed=seed, spread_features=spread)  # fmt: skip


def relative_errors(est: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Paper's relative error per omega, averaged; per intensity |dw|/|w|; mean |dw|."""
    d = np.abs(est - true)  # (group, param)
    return {
        "rel": float((d.sum(1) / np.abs(true).sum(1)).mean()),
        "rel_p": (d / np.abs(true)).mean(0),
        "abs_p": d.mean(0),
    }


def recovery(net, test: xr.Dataset, ks: tuple[int, ...]) -> dict[int, dict[str, float]]:
    y, theta, _ = by_group(test)
    out = {}
    with torch.no_grad():
        for k in ks:
            if k > y.shape[1]:
                continue
            est = net(torch.tensor(y[:, :k], dtype=torch.float32)).numpy()
            out[k] = relative_errors(est, theta)
    return out


def recovery_table(per_seed: list[dict[int, dict]], seeds: list[int], n_test: int) -> str:
    ks = sorted(per_seed[0])

    def cell(k, key, j=None):
        v = np.array([r[k][key] if j is None else r[k][key][j] for r in per_seed])
        sd = f" ± {100 * v.std(ddof=1):.1f}" if len(v) > 1 else ""
        return f"{100 * v.mean():.1f}{sd} %"

    rows = "".join(
        f"| {k} | {cell(k, 'rel')} | {cell(k, 'rel_p', 0)} | {cell(k, 'rel_p', 1)} | "
        f"{np.mean([r[k]['abs_p'][0] for r in per_seed]):.3f} | "
        f"{np.mean([r[k]['abs_p'][1] for r in per_seed]):.3f} |\n"
        for k in ks
    )
    return (
        "Relative error = (|Δω1| + |Δω2|) / (|ω1| + |ω2|) per held-out ω (the paper's), per "
        "intensity |Δω_k| / |ω_k|, and the mean absolute error |Δω_k| (log10 units; grid step "
        f"0.2); each entry averages the {n_test} held-out ω; mean ± SD over {len(seeds)} network "
        f"seed(s) {seeds}.\n\n"
        "| K | relative error | ω_IκBα relative | ω_NF-κB relative | ω_IκBα abs. error "
        f"| ω_NF-κB abs. error |\n|---|---|---|---|---|---|\n{rows}"
    )


# ---------------------------------------------------------------- part 2: experiment


def tw2_1d(a: np.ndarray, b: np.ndarray) -> float:
    """Sum over t >= 1 of the exact squared W2 of two equal-size 1-D clouds (cell, time)."""
    if a.shape != b.shape:
        raise ValueError(f"clouds must have the same shape, got {a.shape} and {b.shape}")
    return float(((np.sort(a, 0) - np.sort(b, 0)) ** 2).mean(0)[1:].sum())


def simulate(model, x0: np.ndarray, theta: np.ndarray, times: np.ndarray, *, n: int, dt: float,
             seed: int) -> np.ndarray:  # fmt: skip
    """``n`` END-nSDE paths per row of theta -> nuclear NF-kB (group, n, time)."""
    g = theta.shape[0]
    dtype = next(model.parameters()).dtype
    x = torch.tensor(x0, dtype=dtype).repeat(g * n, 1)
    th = torch.tensor(np.repeat(theta, n, 0), dtype=dtype)
    with torch.no_grad():
        paths = model.sample_paths(x, th, torch.tensor(times, dtype=dtype), dt=dt,
                                   generator=torch.Generator().manual_seed(seed))  # fmt: skip
    sp = list(model.species)
    y = sum(w * paths[..., sp.index(s)] for s, w in RECIPE[OBS].items())  # (path, time)
    return y.double().numpy().reshape(g, n, len(times))


def rank_and_group(exp: xr.Dataset, ref: np.ndarray, *, k: int, per_dose: bool):
    """Ranked data set (cells in group order, leftovers dropped) and per-cell similarity."""
    y = exp["x"].sel(species=OBS).values  # (cell, time)
    _, sim = cosine_rank(y, ref)
    blocks, labels = [], []
    conds = TNF_CONDITIONS if per_dose else (None,)
    for c in conds:
        idx = np.arange(y.shape[0]) if c is None else np.flatnonzero(exp["group"].values == c)
        order, _ = cosine_rank(y[idx], ref)
        groups = consecutive_groups(idx[order], k)  # (group, k) cell indices
        blocks.append(groups)
        labels += [-1 if c is None else c] * groups.shape[0]
    cells = np.concatenate(blocks).reshape(-1)
    ranked = exp.isel(cell=cells).assign_coords(similarity=("cell", sim[cells]))
    # No group coordinate: cellsde.infer(group_size=K) cuts the cells in this order.
    return ranked.drop_vars("group"), np.array(labels)


def run_experiment(model, net, exp, ref, x0, *, k, per_dose, dt, draws, n_boot, seed, w2_iter):
    """Amortized (and optionally tW2-minimising) omega per group, reconstructions and tW2."""
    from cellsde.inference.infer import infer

    ranked, conds = rank_and_group(exp, ref, k=k, per_dose=per_dose)
    times = ranked["time"].values
    common = dict(group_size=k, observables=RECIPE, initial_state=x0, dt=dt, seed=seed)
    res = infer(model, ranked, method="amortized", amortizer=net, n_bootstrap=n_boot,
                n_paths=k, **common)  # fmt: skip
    theta = res["theta"].values  # (group, param), not clipped
    lo, hi = res["train_lo"].values, res["train_hi"].values
    g = theta.shape[0]
    y = ranked["x"].sel(species=OBS).values.reshape(g, k, -1)  # (group, k, time)
    with torch.no_grad():
        z = (torch.tensor(y, dtype=torch.float32) - net.y_loc) / net.y_scale
    z_med = z.abs().flatten(1).median(1).values.numpy()  # (group,)

    def score(th: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sims = simulate(model, x0, th, times, n=k * (draws + 1), dt=dt, seed=s)
        tw = np.array([[tw2_1d(sims[i, d * k : (d + 1) * k], y[i]) for d in range(draws)]
                       for i in range(g)])  # fmt: skip
        fl = np.array([np.mean([tw2_1d(sims[i, d * k : (d + 1) * k], sims[i, draws * k :])
                                for d in range(draws)]) for i in range(g)])  # fmt: skip
        return sims, tw, fl

    # The END-nSDE is simulated at the estimate projected onto its training box (it has never
    # seen omega outside it); the reported estimate stays unclipped and flagged.
    sims, tw2, floor = score(np.clip(theta, lo, hi), seed + 11)
    out = {
        "k": k, "per_dose": per_dose, "res": res, "theta": theta, "tw2": tw2, "floor": floor,
        "sims": sims, "y": y, "times": times, "conds": conds, "z": z_med, "lo": lo, "hi": hi,
        "similarity": ranked["similarity"].values.reshape(g, k).mean(1),
        "doses": ranked["dose"].values.reshape(g, k), "ranked": ranked,
    }  # fmt: skip
    if w2_iter:
        rw = infer(model, ranked, method="w2", n_bootstrap=0, n_starts=4, iterations=w2_iter,
                   **common)  # fmt: skip
        out["theta_w2"] = rw["theta"].values
        out["w2_out"] = rw["out_of_range"].values
        _, out["tw2_w2"], _ = score(out["theta_w2"], seed + 13)
    return out


def experiment_table(run: dict) -> str:
    res = run["res"]
    sd = res["theta_std"].values
    flag = res["out_of_range"].values
    w2 = "theta_w2" in run
    head = (
        "| group | TNF ng/mL | cos. sim. | input median abs. z | amortized ω_IκBα ± SD "
        "| amortized ω_NF-κB ± SD | outside training range | tW2 at amortized ω (clipped) "
        + ("| w2: ω (IκBα, NF-κB) | tW2 at w2 ω " if w2 else "")
        + "| model floor |\n|---" * 1
        + "|---" * (8 + 2 * w2)
        + "|\n"
    )
    rows = []
    for i in range(run["theta"].shape[0]):
        doses = np.unique(run["doses"][i])
        dtxt = "/".join(f"{d:g}" for d in doses) if len(doses) < 3 else "mixed"
        out = ", ".join(p for p, f in zip(("ω_IκBα", "ω_NF-κB"), flag[i]) if f) or "no"
        extra = ""
        if w2:
            tw = run["theta_w2"][i]
            star = "*" if run["w2_out"][i].any() else ""
            extra = f" ({tw[0]:.2f}, {tw[1]:.2f}){star} | {run['tw2_w2'][i].mean():.3f} |"
        rows.append(
            f"| {i + 1} | {dtxt} | {run['similarity'][i]:.3f} | {run['z'][i]:.1f} | "
            f"{run['theta'][i, 0]:.2f} ± {sd[i, 0]:.2f} | {run['theta'][i, 1]:.2f} ± "
            f"{sd[i, 1]:.2f} | {out} | {run['tw2'][i].mean():.3f} |{extra} {run['floor'][i]:.3f} |\n"
        )
    return head + "".join(rows)


def plot(run: dict, path: Path, *, per_min: float = 1.0) -> None:
    import matplotlib.pyplot as plt

    from cellsde.plot import cellsde_style, save_figure

    g = run["theta"].shape[0]
    picks = sorted({0, g // 2, g - 1})
    t = run["times"] / per_min  # minutes
    k = run["k"]
    ranks = np.arange(1, g + 1)
    with cellsde_style():
        fig, axes = plt.subplots(2, 3, figsize=(12, 6.4))
        for ax, i in zip(axes[0], picks):
            for j in range(k):
                ax.plot(t, run["y"][i, j], color="0.3", lw=0.6, alpha=0.6)
                ax.plot(t, run["sims"][i, j], color="#0072B2", lw=0.6, alpha=0.6)
            ax.plot([], [], color="0.3", label="experiment")
            ax.plot([], [], color="#0072B2", label="END-nSDE at amortized ω (clipped)")
            ax.set_title(f"group {i + 1} of {g}: tW2 {run['tw2'][i, 0]:.3f}", fontsize=10)
            ax.set_xlabel("time (min)")
            ax.set_ylabel("nuclear NF-κB (µM)")
        axes[0, 0].legend(fontsize=8)
        ax = axes[1, 0]
        sd = run["res"]["theta_std"].values
        colors = (("ω_IκBα", "#D55E00"), ("ω_NF-κB", "#009E73"))
        for j, (lab, col) in enumerate(colors):
            ax.errorbar(ranks, run["theta"][:, j], yerr=sd[:, j], fmt="o-", color=col, ms=3,
                        capsize=2, label=f"{lab} amortized")  # fmt: skip
            if "theta_w2" in run:
                ax.plot(ranks, run["theta_w2"][:, j], "x--", color=col, ms=4, label=f"{lab} w2")
        ax.axhspan(run["lo"].min(), run["hi"].max(), color="0.9", zorder=0, label="training range")
        ax.set_xlabel("group (decreasing similarity)")
        ax.set_ylabel("inferred log10 noise")
        ax.legend(fontsize=7)
        ax = axes[1, 1]
        ax.plot(ranks, run["tw2"][:, 0], "o-", color="#0072B2", ms=3, label="amortized (draw 1)")
        ax.plot(ranks, run["tw2"].mean(1), "s--", color="#56B4E9", ms=3, label="amortized (mean)")
        if "tw2_w2" in run:
            ax.plot(ranks, run["tw2_w2"].mean(1), "x-", color="#CC79A7", ms=4, label="w2 (mean)")
        ax.plot(ranks, run["floor"], ":", color="0.4", label="model floor (K vs K)")
        ax.axhspan(0.143, 0.236, color="#E69F00", alpha=0.25, label="paper, K = 32")
        ax.set_xlabel("group (decreasing similarity)")
        ax.set_ylabel("tW2 (µM², t1..t30)")
        ax.legend(fontsize=7)
        ax = axes[1, 2]
        ax.plot(ranks, run["similarity"], "o-", color="0.3", ms=3)
        ax.set_xlabel("group (decreasing similarity)")
        ax.set_ylabel("mean cosine similarity to ODE")
        fig.tight_layout()
        save_figure(fig, path.with_suffix(""), formats=("png",), dpi=80)
        plt.close(fig)


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("recovery", "experiment", "both"), default="both")
    ap.add_argument("--model", type=Path, default=ROOT / "data" / "nfkb_endnsde.pt")
    ap.add_argument("--exp", type=Path, default=DEFAULT_EXP)
    ap.add_argument("--ref", type=Path, default=DEFAULT_REF)
    ap.add_argument("--paths", type=int, default=64, help="paths per omega of the simulated set")
    ap.add_argument("--sim-seed", type=int, default=0)
    ap.add_argument("--t-end", type=float, default=150.0)
    ap.add_argument("--groups", help="comma-separated grid indices (small test sets)")
    ap.add_argument("--cache", type=Path, default=OUT)
    ap.add_argument("--out", type=Path, default=OUT, help="where amortizer/ranked data go")
    ap.add_argument("--seeds", type=int, default=3, help="amortizer seeds (recovery)")
    ap.add_argument("--epochs", type=int, default=4000)
    ap.add_argument("--spread-features", action="store_true", help="log-spread head inputs")
    ap.add_argument("--w2-iterations", type=int, default=60, help="0: skip method w2")
    ap.add_argument("--draws", type=int, default=4, help="K-path draws per group for tW2")
    ap.add_argument("--bootstrap", type=int, default=50)
    ap.add_argument("--modes", default="pooled,per-dose")
    ap.add_argument("--images", type=Path, default=ROOT / "docs" / "images")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from cellsde.inference.amortized import save_amortizer

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _docs import write_section

    mod = sim_module()
    groups = [int(v) for v in args.groups.split(",")] if args.groups else None
    ds = mod.load_or_make(n_paths=args.paths, seed=args.sim_seed, t_end=args.t_end,
                          groups=groups, cache_dir=args.cache)  # fmt: skip
    train, test = mod.split(ds)
    times = ds["time"].values
    n_train, n_test = np.unique(train["group"].values).size, np.unique(test["group"].values).size
    print(f"simulated set: {n_train} training omega, {n_test} held out; {times.size} times "
          f"0..{times[-1]:g} min", flush=True)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seeds))
    nets, per_seed, t_train = [], [], []
    for s in seeds:
        t0 = time.perf_counter()
        nets.append(train_net(train, epochs=args.epochs, seed=s, spread=args.spread_features))
        t_train.append(time.perf_counter() - t0)
        per_seed.append(recovery(nets[-1], test, KS))
        print(f"seed {s}: trained in {t_train[-1]:.0f} s; "
              + ", ".join(f"K={k} {100 * r['rel']:.1f} %" for k, r in per_seed[-1].items()),
              flush=True)  # fmt: skip
    save_amortizer(nets[0], args.out / "amortizer.pt")
    load = os.getloadavg()
    env = (f"torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} thread(s); "
           f"load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on {os.cpu_count()} shared cores")  # fmt: skip
    cmd = "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nfkb_experiment.py" + (
        f" --part {args.part} --seeds {args.seeds} --epochs {args.epochs}"
        + (" --spread-features" if args.spread_features else "")
        + " --write-docs`"
    )
    rec_text = (
        f"{cmd}\n\nGround truth: `benchmarks/nfkb_sde_data.py` (Guo 2024 SDE with noise on IκBα "
        f"transcription and NF-κB translocation, TNF 100 ng/mL, {args.paths} paths per ω, seed "
        f"{args.sim_seed}). Network: `cellsde.inference.train_amortizer` (attention pooling, "
        f"embedding 64, FC 64→128→2, Adam 3e-3, wd 1e-4, {args.epochs} full-batch epochs, random "
        f"K in 1..32 per set and epoch{', log-spread head inputs' if args.spread_features else ''}), trained on the {n_train} training ω (even paths, "
        f"{args.paths // 2} per ω) with the observable total nuclear NF-κB = NFkBn + IkBaNFkBn (µM, 1-D), t_size = "
        f"{times.size} (0–{times[-1]:g} min every 5 min); {np.mean(t_train):.0f} s per network. "
        f"Test: the {n_test} held-out ω of §9 pitfall 1 (never seen in training), the first K of "
        f"their odd paths as one group.\n\n{recovery_table(per_seed, seeds, n_test)}\n{env}.\n"
    )
    print("\n" + rec_text, flush=True)
    if args.write_docs and args.part in ("recovery", "both"):
        write_section(HEAD_REC, rec_text, path=args.docs)
    if args.part == "recovery":
        return

    from cellsde.datasets import save_dataset
    from cellsde.nn.checkpoint import load_model

    model = load_model(args.model)
    units = model.time_units
    per_min = {"min": 1.0, "h": 1 / 60, "s": 60.0}.get(units)
    if per_min is None:
        raise SystemExit(f"{args.model}: time units {units!r}; expected 'min', 'h' or 's'")
    fit_cfg = json.loads(model.metadata.get("fit_config", "{}"))
    dt = float(fit_cfg.get("dt", model.metadata.get("dt", 0.0)))  # model time units
    if dt <= 0:
        raise SystemExit(f"{args.model} records no fit step dt in its metadata")
    x0 = ds["x"].isel(cell=0, time=0).sel(species=list(model.species)).values  # (species,)
    save_dataset(ds.isel(cell=[0], time=[0]), args.out / "basal.nc")
    ref = reference_curve(args.ref, times)
    exp = experimental(args.exp, times)  # minutes -> the model's time unit
    t_model = xr.DataArray(times * per_min, dims="time", attrs={"units": units})
    exp = exp.assign_coords(time=t_model).assign_attrs(time_units=units)
    net = retimed(nets[0], times * per_min)
    save_amortizer(net, args.out / "amortizer_exp.pt")
    sections = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        per_dose = mode == "per-dose"
        k = 8 if per_dose else 16
        t0 = time.perf_counter()
        run = run_experiment(model, net, exp, ref, x0, k=k, per_dose=per_dose, dt=dt,
                             draws=args.draws, n_boot=args.bootstrap, seed=1,
                             w2_iter=args.w2_iterations)  # fmt: skip
        wall = time.perf_counter() - t0
        save_dataset(run["ranked"], args.out / f"exp_ranked_{mode}.nc")
        n_out = int(run["res"]["out_of_range"].values.any(1).sum())
        img = args.images / f"nfkb_experiment_{mode}.png"
        img.parent.mkdir(parents=True, exist_ok=True)
        plot(run, img, per_min=per_min)
        tw = run["tw2"].mean(1)
        summary = (
            f"**{mode}** (K = {k}, {run['theta'].shape[0]} groups, "
            f"{run['theta'].shape[0] * k} of {exp.sizes['cell']} cells; {wall:.0f} s): tW2 per "
            f"group (mean over {args.draws} draws) {tw.min():.3f}–{tw.max():.3f}, median "
            f"{np.median(tw):.3f}; model floor {run['floor'].min():.3f}–{run['floor'].max():.3f}; "
            f"{n_out} of {run['theta'].shape[0]} group(s) with an amortized ω outside the training "
            f"range [-3.5, -1.5]"
            + (
                f"; at the w2 estimate tW2 {run['tw2_w2'].mean(1).min():.3f}–"
                f"{run['tw2_w2'].mean(1).max():.3f}, median {np.median(run['tw2_w2'].mean(1)):.3f}"
                if "tw2_w2" in run
                else ""
            )
            + ".\n\n"
            f"{experiment_table(run)}\n![{mode}](images/{img.name})\n"
        )
        print(summary, flush=True)
        sections.append(summary)
    exp_text = (
        f"{cmd}\n\n" + EXP_INTRO.format(paper=PAPER_TW2, dt=f"{dt:g} {units}", draws=args.draws,
                                        boot=args.bootstrap) + "\n" + "\n".join(sections)
        + "\n" + env + ".\n"
    )  # fmt: skip
    if args.write_docs:
        write_section(HEAD_EXP, exp_text, path=args.docs)


EXP_INTRO = """\
**Observable and units.** Both sides compare total nuclear NF-κB = free NFkBn + IκBα-bound
IkBaNFkBn in µM: the simulations (and the END-nSDE) carry the two species and the observable is
their sum (`observables={{"nfkb_nuclear": {{"NFkBn": 1, "IkBaNFkBn": 1}}}}` in `cellsde.infer`);
the Guo 2024 file holds the measured nuclear NF-κB already rescaled by its authors to model
units (µM, inferred from the file: the 10 ng/mL population mean peaks at 0.106, the model basal
level is 0.022). No further rescaling is done. Frames 0–30 (0–150 min, 5 min) of the TNF
conditions 0–2 (0.1, 1, 10 ng/mL, 60 cells each). Ranking: cosine similarity of each cell's
raw 31-point trajectory to the representative ODE curve of the authors (scale-invariant: groups
differ in shape, not amplitude). Inference: `cellsde.infer(method="amortized", group_size=K)`
with the network of the recovery section (seed 0), bootstrap over the group's cells
({boot} resamples) for the SD, `out_of_range` flag from the END-nSDE's training range (not
clipped). "input median abs. z": median over the group's K x 31 inputs of |y − mean| / SD,
with the mean and SD of the network's training simulations per time; it measures how far the
group lies outside the data the network was trained on. Reconstruction: the END-nSDE
`data/nfkb_endnsde.pt` simulated from the simulated data's basal state (dt = {dt}, its fit
step; data times converted to its unit) at the amortized ω **projected onto the training box
[-3.5, -1.5]²** (the END-nSDE has never seen other ω; the table reports the unclipped estimate
and its flag); tW2 = Σ over t1..t30 of the exact 1-D squared W2 between the group's K cells and
K simulated paths (the paper's protocol), averaged over {draws} independent K-path draws; the
model floor is the same quantity between two independent K-path samples of the END-nSDE at the
same ω. Column "w2": `cellsde.infer(method="w2")`, ω minimising tW2 through the END-nSDE
(4 starts, Adam, box widened by 25 % of the range on each side; * = outside the training range,
no bootstrap), scored like the amortized one with fresh noise.

**Dose mismatch.** The simulated training data (and hence the END-nSDE and the network) are at
TNF 100 ng/mL, the dose the authors' code hard-coded; the experimental cells got 0.1–10 ng/mL.
Lower doses give smaller, later and more variable first peaks, which the network can only
express through the two noise intensities, and the END-nSDE cannot reproduce the lower
amplitude at any ω in its range: the misfit below includes this dose effect, and groups with
more low-dose cells are expected to score worse. The paper's Fig 9 reports tW2 {paper} per group
at K = 32 on 1054 cells of its own (non-public) rescaled data; with K = 16 or 8 the K-vs-K
sampling floor is larger than at K = 32, so the numbers are comparable only in order of
magnitude.
"""


if __name__ == "__main__":
    main()
