"""Heterogeneity inference: recovery of theta on held-out simulated groups vs group size K.

Like END-nSDE Fig 9A (Zhang et al. 2025): for K in {1, 2, 4, 8, 16, 32}, each held-out
parameter set contributes its first K trajectories as one group; ``cellsde.infer`` estimates
theta with ``method="w2"`` (tW2 minimisation through the SDE) and ``method="amortized"`` (the
attention network, trained once on simulations of the same model and reused for every K).

System (a): the damped oscillator (``models_bio.damped_oscillator``), with the true model
wrapped as a population model (``cellsde.nn.mechanistic.MechanisticSDE``), omega in [-1, 1]^2.
omega can be 0, so the headline error is the per-parameter absolute error
``mean over groups and params of |omega_hat - omega|`` and that divided by the range width (2);
the paper's relative error ``(|d1| + |d2|) / (|w1| + |w2|)`` is also given, pooled over groups
(sum of numerators / sum of denominators) so a group near omega = 0 cannot dominate.

Information floor. The data are K cells x 11 times. omega enters only the noise amplitude
``c_i = k1 + k2 omega_i``; the best any estimator can do is set by the K * (T - 1) Euler
increments per component: a scale estimate from n Gaussian residuals has relative sd
``1 / sqrt(2 n)``, so ``sd(omega_hat_i) >= c_i / (k2 sqrt(2 K (T - 1)))`` and the mean absolute
error >= 0.798 times that (column "floor"). Column "oracle" is an estimator that knows the
model: the Gaussian quasi-likelihood of the increments (residual of the exact linear mean
``x_{j+1} - expm(A dt) x_j``, variance ``c_i^2 * dt * (|x1_j| + |x1_{j+1}|) / 2``), calibrated once
on 8000 cells at omega = 0, clipped to the range. It reaches the floor, so the floor is the
information limit of these data, not a weakness of one method.

Column "w2 debiased" is ``infer(..., method="w2", debiased=True)`` with max(64, 4K) paths: the
size-matched debiased tW2, which removes most of the plain loss's bias towards low noise.

Coverage. At K = 32 the amortized estimate is also run with ``uncertainty="parametric"`` and
``uncertainty="cells"`` (100 replicates) and the share of (group, param) whose true omega lies
in ``theta_lo``..``theta_hi`` (nominal 95 %) is reported.

System (b): NF-kB ``guo2024_sde`` is not run by default: its drift is stiff (explicit
Euler-Maruyama needs dt <= 0.005 min, 30 000 steps per 150 min path); ``--nfkb-cost`` measures
a short rollout and prints the extrapolated cost instead.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/infer_recovery.py [--full] [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from _docs import write_section
from scipy.linalg import expm

import models_bio as mb
from cellsde.inference.amortized_train import simulate_training_sets, train_amortizer
from cellsde.inference.infer import infer
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.nn.mechanistic import MechanisticSDE
from cellsde.nn.rollout import rollout
from cellsde.training import fit, preset, preset_model_options

HEADING = "## Heterogeneity inference: recovery vs group size"
KS = (1, 2, 4, 8, 16, 32)


def held_out(
    sde: mb.SDEModel, omega: np.ndarray, *, k: int, times: torch.Tensor, dt: float, seed: int
) -> xr.Dataset:
    """``k`` cells per held-out omega (group), simulated with the true model."""
    g = omega.shape[0]
    theta = torch.tensor(np.repeat(omega, k, 0), dtype=torch.float32)  # (cell, param)
    x0 = torch.tensor(sde.initial, dtype=torch.float32).repeat(g * k, 1)  # (cell, species)
    with torch.no_grad():
        x = rollout(sde, x0, theta, times, dt=dt, generator=torch.Generator().manual_seed(seed))
    return xr.Dataset(
        {"x": (("cell", "time", "species"), x.numpy().astype(float))},
        coords={
            "time": xr.DataArray(times.numpy(), dims="time", attrs={"units": sde.time_units}),
            "species": list(sde.species),
            "group": ("cell", np.repeat(np.arange(g), k)),
        },
        attrs={"time_units": sde.time_units, "seed": seed},
    )


def first_k(ds: xr.Dataset, k: int) -> xr.Dataset:
    """The first ``k`` cells of every group."""
    grp = ds["group"].values
    keep = np.concatenate([np.flatnonzero(grp == g)[:k] for g in np.unique(grp)])
    return ds.isel(cell=keep)


def errors(est: np.ndarray, true: np.ndarray, width: np.ndarray) -> dict[str, float]:
    d = np.abs(est - true)  # (group, param)
    return {
        "abs": float(d.mean()),
        "abs_range": float((d / width).mean()),
        "rel_pooled": float(d.sum() / np.abs(true).sum()),
        "abs_p": d.mean(0),
    }


def increment_scale(x: np.ndarray, times: np.ndarray, *, a: float, b: float) -> np.ndarray:
    """Quasi-likelihood estimate of ``c_i^2`` from Euler increments.

    Parameters
    ----------
    x : numpy.ndarray, shape (group, cell, time, 2)
    times : numpy.ndarray, shape (time,)

    Returns
    -------
    numpy.ndarray, shape (group, 2)
        ``mean over cells and intervals of r_i^2 / v`` with ``r = x_{j+1} - expm(A dt) x_j`` and
        ``v = dt (|x1_j| + |x1_{j+1}|) / 2``.
    """
    drift = np.array([[-a, -b], [b, -a]])
    ratios = []
    for j in range(len(times) - 1):
        d = float(times[j + 1] - times[j])
        r = x[:, :, j + 1] - x[:, :, j] @ expm(drift * d).T  # (group, cell, 2)
        v = d * (np.abs(x[:, :, j, 0]) + np.abs(x[:, :, j + 1, 0])) / 2  # (group, cell)
        ratios.append(r**2 / np.maximum(v, 1e-12)[..., None])
    return np.stack(ratios, 2).mean((1, 2))


def oracle(sde: mb.SDEModel, *, times: torch.Tensor, dt: float, seed: int):
    """The increment quasi-likelihood estimator of omega, calibrated on 8000 cells at omega = 0."""
    c = sde.constants
    t = times.numpy()
    cal = held_out(sde, np.zeros((4, 2)), k=2000, times=times, dt=dt, seed=seed)
    beta = c["k1"] ** 2 / increment_scale(
        cal["x"].values.reshape(4, 2000, len(t), 2), t, a=c["a"], b=c["b"]
    ).mean(0)

    def estimate(ds: xr.Dataset, k: int) -> np.ndarray:
        x = ds["x"].values.reshape(-1, k, len(t), 2)
        c2 = increment_scale(x, t, a=c["a"], b=c["b"]) * beta
        return np.clip((np.sqrt(c2) - c["k1"]) / c["k2"], -1, 1)

    return estimate


def floor(omega: np.ndarray, sde: mb.SDEModel, *, k: int, n_intervals: int) -> float:
    """Mean absolute error of an efficient estimator from K * n_intervals increments."""
    c = sde.constants
    sd = (c["k1"] + c["k2"] * omega) / (c["k2"] * np.sqrt(2 * k * n_intervals))
    return float(0.798 * sd.mean())


def nfkb_cost(paths: int, steps: int) -> str:
    sde = mb.guo2024_sde()
    x0 = torch.tensor(sde.initial, dtype=torch.float32).repeat(paths, 1)
    th = torch.full((paths, 2), -1.5)
    dt = 0.005
    t0 = time.perf_counter()
    with torch.no_grad():
        rollout(sde, x0, th, torch.tensor([0.0, steps * dt]), dt=dt,
                generator=torch.Generator().manual_seed(0))  # fmt: skip
    per_step = (time.perf_counter() - t0) / steps
    full = per_step * 150 / dt
    return (
        f"guo2024_sde, {paths} paths, dt = {dt} min: {per_step * 1e3:.1f} ms per Euler step "
        f"(no gradient), so one 150-min simulation of {paths} paths takes ~{full:.0f} s; "
        f"amortizer training data (512 sets x 32 paths) ~{full * 512 * 32 / paths / 60:.0f} min, "
        f"and tW2 search (gradient, 120 iterations) far more."
    )


def fitted_endnsde(
    sde: mb.SDEModel, *, times: torch.Tensor, epochs: int, dt: float, seed: int
) -> ENDnSDE:
    """END-nSDE fitted (quickly) on the 25 training omega of the grid, 50 paths each."""
    grid = (-1.0, -0.5, 0.0, 0.5, 1.0)
    om = np.array([(a, b) for a in grid for b in grid])
    train = held_out(sde, om, k=50, times=times, dt=dt / 4, seed=seed)
    theta = np.repeat(om, 50, 0)
    train = train.assign(theta=(("cell", "param"), theta)).assign_coords(
        param=list(sde.param_names)
    )
    opts = preset_model_options("damped_oscillator")
    model = ENDnSDE(
        ENDnSDEConfig(species=tuple(sde.species), params=tuple(sde.param_names), **opts), seed=seed
    )
    config = preset(
        "damped_oscillator", epochs=epochs, dt=dt, seed=seed, progress=False, standardize=True
    )
    return fit(model, train, config=config).model


def recovery(
    model, data, omega, width, *, lo, hi, times, species, args, settings, sde
) -> tuple[list, dict, float, dict]:
    """Errors per K for both methods; wall times; amortizer training time."""
    iters, starts, n_sets, epochs, n_paths = settings
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(args.seed + 2)  # one stream: sets, then subsets
    y, theta = simulate_training_sets(model, x0=torch.tensor([[0.0, 1.0]]), lo=lo.float(),
                                      hi=hi.float(), times=times, readout=torch.eye(2),
                                      n_sets=n_sets, k=max(KS), dt=args.dt, generator=gen)  # fmt: skip
    net = train_amortizer(y, theta, observed=species, params=model.param_names, times=times,
                          lo=lo.float(), hi=hi.float(), k_max=max(KS), epochs=epochs,
                          generator=gen, seed=args.seed + 2)  # fmt: skip
    t_train = time.perf_counter() - t0
    rows, timing = [], {"w2": 0.0, "amortized": 0.0, "w2_debiased": 0.0}
    orc = oracle(sde, times=times, dt=args.dt / 4, seed=args.seed + 99)
    for k in KS:
        sub = first_k(data, k)
        row = {"K": k}
        row["oracle"] = errors(orc(sub, k), omega, width)
        row["floor"] = floor(omega, sde, k=k, n_intervals=len(times) - 1)
        for method in ("w2", "amortized", "w2_debiased"):
            t1 = time.perf_counter()
            res = infer(
                model,
                sub,
                method="amortized" if method == "amortized" else "w2",
                debiased=method == "w2_debiased",
                seed=args.seed + 3,
                n_paths=max(n_paths, 4 * k) if method == "w2_debiased" else n_paths,
                dt=args.dt,
                n_starts=starts,
                iterations=iters,
                n_bootstrap=0,
                bounds=None,
                amortizer=net if method == "amortized" else None,
            )
            timing[method] += time.perf_counter() - t1
            row[method] = errors(res["theta"].values, omega, width)
        rows.append(row)
        print(
            f"K={k:2d}  w2 abs {row['w2']['abs']:.3f}  w2 debiased {row['w2_debiased']['abs']:.3f}"
            f"  amortized abs {row['amortized']['abs']:.3f}"
            f"  oracle {row['oracle']['abs']:.3f}  floor {row['floor']:.3f}",
            flush=True,
        )
    coverage = {}
    for how in ("parametric", "cells"):
        res = infer(model, first_k(data, max(KS)), method="amortized", amortizer=net, dt=args.dt,
                    seed=args.seed + 5, uncertainty=how, n_bootstrap=100, level=0.95)  # fmt: skip
        inside = (omega >= res["theta_lo"].values) & (omega <= res["theta_hi"].values)
        half = float((res["theta_hi"] - res["theta_lo"]).mean()) / 2
        coverage[how] = (float(inside.mean()), float(inside.all(1).mean()), half)
        print(f"coverage {how}: {inside.mean():.2f} (half-width {half:.3f})", flush=True)
    return rows, timing, t_train, coverage


def table(rows: list) -> str:
    head = (
        "| K | w2: abs err | w2: abs / range | w2: rel (pooled) | amortized: abs err "
        "| amortized: abs / range | amortized: rel (pooled) | w2 debiased: abs err "
        "| oracle: abs err | floor: abs err |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['K']} | "
        + " | ".join(
            f"{r[m]['abs']:.3f} | {100 * r[m]['abs_range']:.1f} % | {100 * r[m]['rel_pooled']:.1f} %"
            for m in ("w2", "amortized")
        )
        + f" | {r['w2_debiased']['abs']:.3f} | {r['oracle']['abs']:.3f} | {r['floor']:.3f} |\n"
        for r in rows
    )
    per_param = "Per-parameter abs error at K = 32: " + ", ".join(
        f"{m} (ω1 {rows[-1][m]['abs_p'][0]:.3f}, ω2 {rows[-1][m]['abs_p'][1]:.3f})"
        for m in ("w2", "w2_debiased", "amortized")
    )
    return head + body + "\n" + per_param + ".\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="more groups, starts and iterations")
    ap.add_argument("--groups", type=int, default=None, help="held-out omega sets")
    ap.add_argument("--k1", type=float, default=0.3)
    ap.add_argument("--k2", type=float, default=0.1)
    ap.add_argument("--t-end", type=float, default=1.0)
    ap.add_argument("--n-times", type=int, default=11)
    ap.add_argument("--dt", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--endnsde-epochs",
        type=int,
        default=0,
        help="also fit an END-nSDE (this many epochs) and infer with it; 0 = skip",
    )
    ap.add_argument("--skip-true", action="store_true", help="only the fitted END-nSDE")
    ap.add_argument("--nfkb-cost", action="store_true", help="time a short NF-kB rollout")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", default="docs/benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    n_groups = args.groups or (25 if args.full else 12)
    iters, starts = (120, 4) if args.full else (60, 2)
    n_sets, epochs = (512, 1500) if args.full else (256, 800)
    settings = (iters, starts, n_sets, epochs, 64)

    sde = mb.damped_oscillator(k1=args.k1, k2=args.k2)
    truth = MechanisticSDE(sde)
    lo, hi = truth.theta_range()
    rng = np.random.default_rng(args.seed)
    omega = rng.uniform(lo.numpy(), hi.numpy(), size=(n_groups, 2))  # held out: off the grid
    times = torch.linspace(0.0, args.t_end, args.n_times)
    data = held_out(sde, omega, k=max(KS), times=times, dt=args.dt / 4, seed=args.seed + 1)
    width = (hi - lo).numpy()
    models = [] if args.skip_true else [("true model (`MechanisticSDE`)", truth, 0.0)]
    if args.endnsde_epochs:
        t0 = time.perf_counter()
        fitted = fitted_endnsde(
            sde, times=times, epochs=args.endnsde_epochs, dt=args.dt, seed=args.seed + 4
        )
        models.append(
            (f"END-nSDE fitted {args.endnsde_epochs} epochs", fitted, time.perf_counter() - t0)
        )

    sections = []
    for label, model, t_fit in models:
        print(label, flush=True)
        rows, timing, t_train, coverage = recovery(
            model,
            data,
            omega,
            width,
            lo=lo,
            hi=hi,
            times=times,
            species=tuple(sde.species),
            args=args,
            settings=settings,
            sde=sde,
        )
        fit_note = f"; END-nSDE fit {t_fit:.0f} s" if t_fit else ""
        sections.append(
            f"**Population model: {label}.** Wall time: w2 {timing['w2']:.0f} s, w2 debiased "
            f"{timing['w2_debiased']:.0f} s, amortized "
            f"{timing['amortized']:.1f} s (+ {t_train:.0f} s training){fit_note}.\n\n{table(rows)}"
            + "\nCoverage of the true ω by the nominal 95 % interval at K = 32 (amortized, 100 "
            "replicates): "
            + "; ".join(
                f'`uncertainty="{h}"` {100 * c[0]:.0f} % of (group, param), {100 * c[1]:.0f} % of '
                f"groups (both params), mean half-width {c[2]:.3f}"
                for h, c in coverage.items()
            )
            + ".\n"
        )

    load = os.getloadavg()
    fit_desc = (
        f" The fitted END-nSDE: preset `damped_oscillator` (MLPs 4→100→100→100→out, ELU, general "
        f"noise, Adam 2e-3, wd 5e-3), {args.endnsde_epochs} epochs at dt = {args.dt}, "
        f"standardised inputs, trained on the 25 grid ω × 50 paths (seed {args.seed + 4}); "
        f"inference searches in its training range [-1, 1]²."
        if args.endnsde_epochs
        else ""
    )
    setting = (
        f"Damped oscillator (k1 = {args.k1}, k2 = {args.k2}; noise (k1 + k2 ω_i)·sqrt|x1|); "
        f"{n_groups} held-out ω drawn uniformly in [-1, 1]² "
        f"(seed {args.seed}, off the training grid), 32 cells each, {args.n_times} times on "
        f"[0, {args.t_end}]; data simulated at dt = {args.dt / 4}, inference at dt = {args.dt}. "
        f"Group of size K = the first K cells of each held-out ω. `w2`: {starts} starts x "
        f"{iters} Adam iterations, 64 simulated paths per group; `w2 debiased`: the same with "
        f"`debiased=True` and max(64, 4K) paths (R = max(2, paths // K) clouds of K). `amortized`: one "
        f"network per population model trained on {n_sets} sets x 32 paths, {epochs} epochs, "
        f"reused for every K. No bootstrap. Errors: mean over groups and both params of "
        f"|ω̂ − ω| (absolute, since ω can be 0), the same / range width 2, and the paper's "
        f"relative error Σ(|Δω1| + |Δω2|) / Σ(|ω1| + |ω2|) pooled over groups.{fit_desc}"
    )
    env = (
        f"torch {torch.__version__}, {platform.machine()}, "
        f"{torch.get_num_threads()} thread(s); machine load (1/5/15 min) "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on {os.cpu_count()} cores (shared)."
    )
    nfkb = nfkb_cost(2048, 200) if args.nfkb_cost else ""
    text = setting + "\n\n" + "\n".join(sections) + "\n" + env
    print("\n" + text + "\n" + nfkb)
    if args.write_docs:
        cmd = "`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/infer_recovery.py"
        cmd += (
            (" --full" if args.full else "")
            + (f" --endnsde-epochs {args.endnsde_epochs}" if args.endnsde_epochs else "")
            + (" --skip-true" if args.skip_true else "")
            + " --nfkb-cost --write-docs`"
        )
        write_section(
            HEADING,
            path=Path(args.docs),
            body=f"{cmd}\n\n{text}\n\n**NF-κB (system b): not run.** {nfkb}\n",
        )


if __name__ == "__main__":
    main()
