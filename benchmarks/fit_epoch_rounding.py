"""Where the float32 loss difference of ``benchmarks/fit_epoch.py`` comes from.

The same problem as fit_epoch.py (NF-kB END-nSDE setting: 52 species + 2 params, MLPs
54 -> 200 -> 200 -> out, general noise with 2 channels, 50 paths per set, 31 times on
[0, 2.5] h, dt = 1/1008 h), drawn once in float64 and rounded to float32, so the float64 run
is a reference for the *same* numbers. Every run uses the same weights and the same Brownian
increments (drawn in float32, widened for float64). Compared, forward only:

- **paths**: max |x_a - x_b| / max |x_b| after 1, 10, 100, 1000 and all Euler steps, for:
  ours (all sets in one batched rollout, the library's Euler step
  ``cellsde.nn.rollout._segment``) vs ``torchsde.sdeint`` per set (float32 and float64);
  ours run per set vs ours batched (float32: only the GEMM batch shape differs); each
  float32 run vs the float64 reference.
- **loss**: tW2 = sum over sets and the 30 times after t0 of W2², for the same pairs; plus
  the loss evaluation alone on the *same* float32 paths: ``cellsde.losses.w2_squared``
  vs POT ``ot.emd2(a, b, ot.dist(P, Q))``, and ``w2_squared`` on float64 copies of the paths.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fit_epoch_rounding.py [--sets 2] [--write-docs]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import sys
from pathlib import Path

import ot
import torch
import torchsde

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _docs import write_section
from fit_epoch import (
    N_PATHS,
    OBS,
    GridBrownian,
    P,
    PaperSDE,
    make_problem,
)

from cellsde.losses import w2_squared
from cellsde.nn.grouped_paths import initial_states
from cellsde.nn.rollout import _segment, step_counts

HEADING = "## END-nSDE fit epoch: float32 loss agreement"
CHECK_STEPS = (1, 10, 100, 1000)


def cast(model, data, dtype):
    """Copies of ``model`` and ``data`` in ``dtype``."""
    m = type(model)(model.config)
    m.load_state_dict(model.state_dict())
    fl = {
        f.name: getattr(data, f.name).to(dtype)
        for f in dataclasses.fields(data)
        if isinstance(getattr(data, f.name), torch.Tensor)
        and getattr(data, f.name).is_floating_point()
    }
    return m.to(dtype), dataclasses.replace(data, **fl)


def ours(model, data, dw, h, marks, sets=None) -> dict[int, torch.Tensor]:
    """The library's Euler step on all (or ``sets``) paths in one batch; states at ``marks``.

    dw (step, path, brownian) -> {step: (path, species)}.
    """
    x = initial_states(data, N_PATHS)  # (set*path, species)
    theta = data.theta.repeat_interleave(N_PATHS, 0)
    if sets is not None:
        rows = torch.cat([torch.arange(s * N_PATHS, (s + 1) * N_PATHS) for s in sets])
        x, theta, dw = x[rows], theta[rows], dw[:, rows]
    out, done = {0: x}, 0
    with torch.no_grad():
        for k in marks:
            x = _segment(model, x, theta, done * h, h, dw[done:k])
            out[k], done = x, k
    return out


def straight(sde, data, dw, h, marks) -> dict[int, torch.Tensor]:
    """torchsde.sdeint per set through the same increments; {step: (set*path, species)}."""
    n = dw.shape[0]
    grid = torch.arange(n + 1, dtype=torch.float64) * h
    ts = grid[[0, *marks]]
    res = []
    with torch.no_grad():
        for s in range(data.obs.shape[0]):
            y0 = torch.cat([data.x0[s], data.theta[s].expand(N_PATHS, P)], 1)  # (path, 54)
            bm = GridBrownian(grid, dw[:, s * N_PATHS : (s + 1) * N_PATHS])
            ys = torchsde.sdeint(sde, y0, ts, method="euler", dt=h, bm=bm)  # (time, path, 54)
            res.append(ys[..., : data.x0.shape[-1]])
    ys = torch.cat(res, 1)
    return {k: ys[i] for i, k in enumerate([0, *marks])}


def loss_ours(paths: dict, data, obs_steps, dtype=None) -> float:
    """Our tW2 (batched exact W2, summed in the paths' dtype or ``dtype``)."""
    g = data.obs.shape[0]
    sim = torch.stack([paths[k] for k in obs_steps], 1)[..., list(OBS)]  # (set*path, time, obs)
    sim = sim.reshape(g, N_PATHS, len(obs_steps), -1).transpose(1, 2)  # (set, time, path, obs)
    obs = data.obs[:, :, 1:].transpose(1, 2)  # (set, time, cell, obs)
    if dtype is not None:
        sim, obs = sim.to(dtype), obs.to(dtype)
    return float(w2_squared(sim, obs).sum())


def loss_pot(paths: dict, data, obs_steps) -> float:
    """POT per (set, time), accumulated as fit_epoch.straight_epoch does."""
    a = torch.full((N_PATHS,), 1.0 / N_PATHS, dtype=data.obs.dtype)
    total = 0.0
    for s in range(data.obs.shape[0]):
        loss = data.obs.new_zeros(())
        for i, k in enumerate(obs_steps):
            p = paths[k][s * N_PATHS : (s + 1) * N_PATHS][:, list(OBS)]
            loss = loss + ot.emd2(a, a, ot.dist(p, data.obs[s, :, i + 1]))
        total += loss.item()
    return total


def paper_sde(model) -> PaperSDE:
    """fit_epoch's augmented-state SDE with ``model``'s weights, built in their dtype."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(next(model.parameters()).dtype)
    try:
        return PaperSDE(model)
    finally:
        torch.set_default_dtype(default)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


def measure(n_sets: int, seed: int, dt_req: float) -> tuple[list, list, dict]:
    torch.set_default_dtype(torch.float64)
    try:
        model64, data64 = make_problem(n_sets, seed)
    finally:
        torch.set_default_dtype(torch.float32)
    counts = step_counts(data64.times, dt_req)
    h = (data64.times[1] - data64.times[0]).item() / counts[0]
    n = sum(counts)
    obs_steps = [int(c) for c in torch.tensor(counts).cumsum(0)]
    marks = sorted({*[k for k in CHECK_STEPS if k < n], *obs_steps})
    gen = torch.Generator().manual_seed(seed + 5)
    dw32 = torch.randn((n, n_sets * N_PATHS, 2), generator=gen) * math.sqrt(h)
    model32, data32 = cast(model64, data64, torch.float32)
    runs = {
        "ours32": ours(model32, data32, dw32, h, marks),
        "torchsde32": straight(paper_sde(model32), data32, dw32, h, marks),
        "ours64": ours(model64, data64, dw32.double(), h, marks),
        "torchsde64": straight(paper_sde(model64), data64, dw32.double(), h, marks),
    }
    per_set = [ours(model32, data32, dw32, h, marks, sets=[s]) for s in range(n_sets)]
    runs["ours32 per set"] = {k: torch.cat([r[k] for r in per_set]) for k in marks}
    pairs = [
        ("ours vs torchsde, float32", "ours32", "torchsde32"),
        ("ours per set vs ours batched, float32", "ours32 per set", "ours32"),
        ("ours float32 vs float64 reference", "ours32", "ours64"),
        ("torchsde float32 vs float64 reference", "torchsde32", "ours64"),
        ("ours vs torchsde, float64", "ours64", "torchsde64"),
    ]
    check = [k for k in CHECK_STEPS if k < n] + [n]
    path_rows = [(label, [rel(runs[a][k], runs[b][k]) for k in check]) for label, a, b in pairs]
    data_of = {k: data64 if k.endswith("64") else data32 for k in runs}
    lo = {k: loss_ours(runs[k], data_of[k], obs_steps) for k in runs}
    lp = {k: loss_pot(runs[k], data_of[k], obs_steps) for k in runs}
    loss_rows = [(label, lo[a], lo[b], abs(lo[a] - lo[b]) / abs(lo[b])) for label, a, b in pairs]
    loss_rows[0] = (
        "ours (our W2) vs torchsde (POT), float32 — fit_epoch.py's check",
        lo["ours32"],
        lp["torchsde32"],
        abs(lo["ours32"] - lp["torchsde32"]) / abs(lp["torchsde32"]),
    )
    l64 = loss_ours(runs["ours32"], data32, obs_steps, dtype=torch.float64)
    loss_rows += [
        ("same float32 paths (ours): our W2 vs POT", lo["ours32"], lp["ours32"],
         abs(lo["ours32"] - lp["ours32"]) / abs(lp["ours32"])),
        ("same float32 paths (ours): our W2 in float32 vs in float64", lo["ours32"], l64,
         abs(lo["ours32"] - l64) / abs(l64)),
        ("same float32 paths (torchsde): our W2 vs POT", lo["torchsde32"], lp["torchsde32"],
         abs(lo["torchsde32"] - lp["torchsde32"]) / abs(lp["torchsde32"])),
    ]  # fmt: skip
    return path_rows, loss_rows, {"check": check, "h": h, "n": n}


def render(path_rows, loss_rows, info, args) -> str:
    check = info["check"]
    head = " | ".join(f"{k} step{'s' if k > 1 else ''}" for k in check)
    lines = [
        f"`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fit_epoch_rounding.py --sets {args.sets}"
        f"{' --write-docs' if args.write_docs else ''}`",
        "",
        f"fit_epoch.py's problem (seed {args.seed}, {args.sets} sets x {N_PATHS} paths, "
        f"dt = {info['h']:.4g} h, {info['n']} steps) drawn in float64 and rounded to float32; "
        "same weights and Brownian increments in every run; forward only. Paths: "
        "max |x_a - x_b| / max |x_b| over all paths and species after k Euler steps.",
        "",
        f"| paths a vs b | {head} |",
        "|---|" + "---|" * len(check),
    ]
    lines += [
        f"| {lab} | " + " | ".join(f"{v:.1e}" for v in vals) + " |" for lab, vals in path_rows
    ]
    lines += [
        "",
        "| loss a vs b (tW2, 30 times x sets) | a | b | rel. diff |",
        "|---|---|---|---|",
    ]
    lines += [f"| {lab} | {a:.8g} | {b:.8g} | {r:.1e} |" for lab, a, b, r in loss_rows]
    lines += [
        "",
        f"torch {torch.__version__}, torchsde {torchsde.__version__}, POT {ot.__version__}, "
        f"{platform.machine()}, {torch.get_num_threads()} thread(s).",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dt", type=float, default=1e-3, help="requested step (h)")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", default="docs/benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    path_rows, loss_rows, info = measure(args.sets, args.seed, args.dt)
    text = render(path_rows, loss_rows, info, args)
    print(text)
    if args.write_docs:
        write_section(HEADING, text + "\n", path=Path(args.docs))


if __name__ == "__main__":
    main()
