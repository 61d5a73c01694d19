"""One END-nSDE fit epoch: straightforward torchsde + POT per parameter set vs our batched epoch.

Setting (NF-kB END-nSDE, Zhang et al. 2025): 52 species + 2 parameters, drift and diffusion
MLPs 54 -> 200 -> 200 -> out with ReLU, general noise with 2 Brownian channels (noisy species
5, 8, 9), 50 paths per parameter set, 31 observation times on [0, 2.5] h, loss on the 2-D
cloud of species 4 and 9, summed over the 30 times after t0 and over sets. The paper trains
on 96 sets; here ``--sets`` (default 4) sets are run and the time is reported per set.

- **straightforward** (the authors' code path): per parameter set, ``torchsde.sdeint`` (Itô,
  general noise, Euler, fixed ``dt``) on the augmented state ``y = [x, omega]`` (MLP outputs
  of size 54 and 54 x 2, omega rows masked to 0), then ``ot.emd2(a, b, ot.dist(P, Q))`` per
  time, then backward (per set, gradients accumulate; equal to one backward of the sum).
- **ours**: :func:`cellsde.training.objective.model_w2` (all sets' paths in one rollout of
  ``sets x 50`` paths, batched exact W2) + :func:`tw2_loss` + backward.

Both use the same step grid: ``dt`` is rounded down so a whole number of steps fills each
5-min observation interval (``rollout``'s rule; torchsde then hits the observation times
exactly instead of interpolating). The observation times are float64 in both dtypes: with
float32 times the gaps differ by up to an ulp of t, so our per-interval step and torchsde's
single ``dt`` drift apart (and ``step_counts`` used to add an 85th step to half of the
intervals), which was the float32 loss difference of 3e-5 first reported here. Timings of the straightforward path use torchsde's own
``BrownianInterval``, as the authors' code does.

Equality check: our ENDnSDE's weights are copied into the augmented-state MLPs (the 52 state
rows; the masked omega rows are extra). Our rollout's Brownian increments are regenerated
from the same seed (same draws, same order: one ``randn((steps, paths, 2))`` per interval,
times ``sqrt(h)``); torchsde gets them through a ``BaseBrownian`` that returns
``W(tb) - W(ta)`` of the piecewise-linear path through the cumulative sums (exactly the
increment when a step matches a grid step). Loss values and gradients are compared.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fit_epoch.py [--sets 4] [--write-docs]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import time
from pathlib import Path

import ot
import torch
import torchsde
from _docs import write_section
from torch import nn

from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig, mlp
from cellsde.nn.rollout import step_counts
from cellsde.nn.training_data import GroupedData
from cellsde.training.objective import model_w2, tw2_loss

HEADING = "## END-nSDE fit epoch: speed"
D, P, M, N_PATHS, N_TIMES, T_END = 52, 2, 2, 50, 31, 2.5
OBS = (4, 9)
NOISY = (5, 8, 9)
HIDDEN = (200, 200)


class PaperSDE(nn.Module):
    """The authors' form: state ``y = [x, omega]``, masked drift, ``|MLP|`` general diffusion."""

    noise_type = "general"
    sde_type = "ito"

    def __init__(self, ours: ENDnSDE) -> None:
        super().__init__()
        self.f_net = mlp([D + P, *HIDDEN, D + P], "relu")
        self.g_net = mlp([D + P, *HIDDEN, (D + P) * M], "relu")
        with torch.no_grad():
            for mine, theirs in ((self.f_net, ours.drift_net), (self.g_net, ours.diffusion_net)):
                for a, b in zip(mine, theirs, strict=True):
                    if isinstance(a, nn.Linear):
                        a.weight.zero_()
                        a.bias.zero_()
                        a.weight[: b.weight.shape[0]].copy_(b.weight)
                        a.bias[: b.bias.shape[0]].copy_(b.bias)
        mask_f = torch.zeros(D + P)
        mask_f[:D] = 1.0
        mask_g = torch.zeros(D + P, M)
        mask_g[list(NOISY)] = 1.0
        self.register_buffer("mask_f", mask_f)
        self.register_buffer("mask_g", mask_g)

    def f(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.f_net(y) * self.mask_f  # (path, 54)

    def g(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.g_net(y).abs().view(y.shape[0], D + P, M) * self.mask_g  # (path, 54, 2)


class GridBrownian(torchsde.BaseBrownian):
    """Brownian path through given increments on a time grid, linear in between."""

    def __init__(self, grid: torch.Tensor, dw: torch.Tensor) -> None:
        # grid (step + 1,) float64; dw (step, path, brownian)
        self.grid = grid
        self.w = torch.cat([dw.new_zeros(1, *dw.shape[1:]).double(), dw.double().cumsum(0)])
        self._dtype, self._shape = dw.dtype, tuple(dw.shape[1:])

    def _at(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float64).clamp(self.grid[0], self.grid[-1])
        k = int(torch.searchsorted(self.grid, t, right=True).clamp(1, len(self.grid) - 1)) - 1
        frac = (t - self.grid[k]) / (self.grid[k + 1] - self.grid[k])
        return self.w[k] + frac * (self.w[k + 1] - self.w[k])

    def __call__(self, ta, tb=None, return_U=False, return_A=False):
        return (self._at(tb) - self._at(ta)).to(self._dtype)

    def __repr__(self) -> str:
        return f"GridBrownian(steps={len(self.grid) - 1})"

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return torch.device("cpu")

    @property
    def shape(self):
        return self._shape

    @property
    def levy_area_approximation(self):
        return "none"


def make_problem(n_sets: int, seed: int) -> tuple[ENDnSDE, GroupedData]:
    names = tuple(f"s{i}" for i in range(D))
    cfg = ENDnSDEConfig(species=names, params=("omega1", "omega2"), hidden=HIDDEN,
                        activation="relu", noise="general", n_brownian=M,
                        noisy_species=tuple(names[i] for i in NOISY), time_units="h")  # fmt: skip
    model = ENDnSDE(cfg, seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    # float64 times in both dtypes: torchsde's fixed step and our per-interval step then tile
    # the same grid (float32 times are off by up to an ulp of t, so the gaps differ).
    times = torch.linspace(0.0, T_END, N_TIMES, dtype=torch.float64)
    x0 = torch.rand((n_sets, N_PATHS, D), generator=g)  # (set, cell, species)
    theta = -1.0 + 0.5 * torch.rand((n_sets, P), generator=g)  # log10 noise intensities
    obs = x0[:, :, None, list(OBS)] + 0.2 * torch.randn(
        (n_sets, N_PATHS, N_TIMES, len(OBS)), generator=g
    ).cumsum(2)  # (set, cell, time, observed): some spreading clouds
    readout = torch.zeros(D, len(OBS))
    readout[list(OBS), range(len(OBS))] = 1.0
    data = GroupedData(obs=obs, mask=torch.ones(obs.shape[:3], dtype=torch.bool), x0=x0,
                       n0=torch.full((n_sets,), N_PATHS), theta=theta, times=times,
                       labels=tuple(range(n_sets)), readout=readout, fingerprint="")  # fmt: skip
    return model, data


def ours_epoch(model: ENDnSDE, data: GroupedData, dt: float, seed: int) -> float:
    model.zero_grad(set_to_none=True)
    gen = torch.Generator().manual_seed(seed)
    w2, observed = model_w2(model, data, n_paths=N_PATHS, dt=dt, generator=gen)
    loss = tw2_loss(w2, observed, reduce_groups="sum")
    loss.backward()
    return loss.item()


def increments(data: GroupedData, dt: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The rollout's Brownian increments (same generator calls) and its step grid."""
    gen = torch.Generator().manual_seed(seed)
    tt = data.times.tolist()
    paths = data.obs.shape[0] * N_PATHS
    dws, grid = [], [0.0]
    for i, n in enumerate(step_counts(data.times, dt)):
        h = (tt[i + 1] - tt[i]) / n
        dws.append(torch.randn((n, paths, M), generator=gen) * math.sqrt(h))
        grid += [tt[i] + (k + 1) * h for k in range(n)]
    return torch.cat(dws), torch.tensor(grid, dtype=torch.float64)


def straight_epoch(sde: PaperSDE, data: GroupedData, dt: float, bms=None) -> float:
    """Per set: torchsde.sdeint + POT emd2 per time, backward; returns the summed loss."""
    sde.zero_grad(set_to_none=True)
    a = torch.full((N_PATHS,), 1.0 / N_PATHS)
    ts = data.times.double()  # float64 times: the steps land on the grid without slivers
    total = 0.0
    for s in range(data.obs.shape[0]):
        y0 = torch.cat([data.x0[s], data.theta[s].expand(N_PATHS, P)], 1)  # (path, 54)
        ys = torchsde.sdeint(sde, y0, ts, method="euler", dt=dt,
                             bm=None if bms is None else bms[s])  # fmt: skip  # (time, path, 54)
        loss = ys.new_zeros(())
        for t in range(1, N_TIMES):
            loss = loss + ot.emd2(a, a, ot.dist(ys[t][:, list(OBS)], data.obs[s, :, t]))
        loss.backward()
        total += loss.item()
    return total


def equality(n_sets: int, dt: float, seed: int, dtype: torch.dtype) -> tuple[float, ...]:
    """Same weights, same increments: (loss ours, loss straightforward, rel diff, grad diff)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model, data = make_problem(n_sets, seed)
        sde = PaperSDE(model)
        l_ours = ours_epoch(model, data, dt, seed=seed + 5)
        g_ours = [p.grad.clone() for p in model.parameters()]
        dw, grid = increments(data, dt, seed=seed + 5)
        bms = [GridBrownian(grid, dw[:, s * N_PATHS : (s + 1) * N_PATHS]) for s in range(n_sets)]
        l_ref = straight_epoch(sde, data, dt, bms)
    finally:
        torch.set_default_dtype(default)
    g_ref = [p.grad for net in (sde.f_net, sde.g_net) for p in net.parameters()]
    g_ref = [gr[: go.shape[0]] for gr, go in zip(g_ref, g_ours, strict=True)]
    gdiff = max(
        float((a - b).abs().max() / b.abs().max()) for a, b in zip(g_ref, g_ours, strict=True)
    )
    return l_ours, l_ref, abs(l_ours - l_ref) / abs(l_ref), gdiff


def gemm_rate(n: int = 1024, repeats: int = 5) -> float:
    x, y = torch.randn(n, n), torch.randn(n, n)
    x @ y
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        x @ y
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def floor_flops(paths: int, steps: int) -> float:
    """Forward + backward (3x forward) multiply-adds x 2 of both MLPs, all paths and steps."""
    sizes_f, sizes_g = [D + P, *HIDDEN, D], [D + P, *HIDDEN, D * M]
    macs = sum(a * b for s in (sizes_f, sizes_g) for a, b in itertools.pairwise(s))
    return 3 * 2 * macs * paths * steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", type=int, default=4)
    ap.add_argument("--check-sets", type=int, default=2, help="sets in the equality check")
    ap.add_argument("--dts", type=float, nargs="+", default=[1e-3, 1e-2], help="hours")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs", default="docs/benchmarks.md")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    rate = gemm_rate()
    print(f"float32 GEMM (1024^3, {torch.get_num_threads()} thread): {rate / 1e9:.1f} GFLOP/s")
    rows, checks = [], []
    for dt_req in args.dts:
        model, data = make_problem(args.sets, args.seed)
        steps = sum(step_counts(data.times, dt_req))
        dt = (data.times[1] - data.times[0]).item() / step_counts(data.times, dt_req)[0]
        sde = PaperSDE(model)
        for dtype in (torch.float32, torch.float64):
            checks.append((dt, str(dtype).removeprefix("torch."),
                           *equality(args.check_sets, dt, args.seed, dtype)))  # fmt: skip
            print(f"dt={dt:.3g} {checks[-1][1]}: loss ours {checks[-1][2]:.7g} torchsde+POT "
                  f"{checks[-1][3]:.7g} rel diff {checks[-1][4]:.2e}; max grad diff / max|grad| "
                  f"{checks[-1][5]:.2e}", flush=True)  # fmt: skip
        # timing: all sets, torchsde with its own BrownianInterval (as the authors' code)
        t0 = time.perf_counter()
        straight_epoch(sde, data, dt)
        t_ref = (time.perf_counter() - t0) / args.sets
        t0 = time.perf_counter()
        ours_epoch(model, data, dt, seed=args.seed + 6)
        t_ours = (time.perf_counter() - t0) / args.sets
        flop = floor_flops(N_PATHS, steps)  # per set
        rows.append((dt, steps, t_ref, t_ours, flop / rate))
        print(f"dt={dt:.3g} h ({steps} steps): straightforward {t_ref:.2f} s/set, ours "
              f"{t_ours:.2f} s/set, ratio {t_ref / t_ours:.1f}x, floor {flop / rate:.3f} s/set",
              flush=True)  # fmt: skip
    load = os.getloadavg()
    table = (
        "| dt (h) | Euler steps | straightforward (s/set) | ours (s/set) | speed-up | "
        "FLOP floor (s/set) | ours / floor | straightforward / floor |\n"
        "|---|---|---|---|---|---|---|---|\n"
        + "".join(
            f"| {dt:.4g} | {st} | {tr:.2f} | {to:.2f} | {tr / to:.1f}x | {fl:.3f} | "
            f"{to / fl:.1f} | {tr / fl:.1f} |\n"
            for dt, st, tr, to, fl in rows
        )
    )
    check_table = (
        "| dt (h) | dtype | loss ours | loss torchsde + POT | rel. diff | max grad diff / max abs grad |\n"
        "|---|---|---|---|---|---|\n"
        + "".join(
            f"| {dt:.4g} | {ty} | {a:.7g} | {b:.7g} | {r:.1e} | {g:.1e} |\n"
            for dt, ty, a, b, r, g in checks
        )
    )
    env = (
        f"{args.sets} parameter sets timed (the paper has 96: multiply s/set by 96 for an epoch; "
        f"ours is batched, so its per-set time at 96 sets may differ), 1 epoch each after "
        f"nothing but the equality check as warm-up; float32 GEMM rate {rate / 1e9:.1f} GFLOP/s "
        f"(1024³ matmul, best of 5); FLOP floor = 6 x multiply-adds of both MLPs "
        f"(forward + backward ≈ 3 x forward) x {N_PATHS} paths x steps, at that rate. "
        f"torch {torch.__version__}, torchsde {torchsde.__version__}, POT {ot.__version__}, "
        f"{platform.machine()}, {torch.get_num_threads()} thread(s); machine load (1/5/15 min) "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on {os.cpu_count()} cores (shared, so "
        f"timings are noisy and pessimistic)."
    )
    print("\n" + table + "\n" + check_table + "\n" + env)
    if args.write_docs:
        cmd = f"`OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fit_epoch.py --sets {args.sets} --write-docs`"
        intro = (
            "NF-κB END-nSDE setting: 52 species + 2 parameters, MLPs 54→200→200→out (ReLU), "
            "general noise with 2 Brownian channels, 50 paths per set, 31 times on [0, 2.5] h, "
            "loss Σ_sets Σ_{t>t0} W2² on species (4, 9). *Straightforward*: per set "
            "`torchsde.sdeint` (Itô, general, Euler) on y = [x, ω] + `ot.emd2` per time + "
            "backward (the authors' code path). *Ours*: `model_w2` on all sets in one rollout "
            "+ batched exact W2 + backward. dt is rounded down so whole steps fill each 5-min "
            "interval (dt = 1e-3 h → 1/1008 h, 2520 steps), the same grid for both."
        )
        check = (
            "Same loss check (same weights copied into the augmented-state MLPs; our rollout's "
            "Brownian increments regenerated from its seed and fed to torchsde through a "
            f"piecewise-linear `BaseBrownian`; {args.check_sets} sets; observation times in "
            "float64 so that both step on the same grid), in float32 (the timed dtype) and "
            "float64 (rounding is the only difference left; see the float32 section below):"
        )
        write_section(HEADING, path=Path(args.docs), body=
                      f"{cmd}\n\n{intro}\n\n{table}\n{check}\n\n{check_table}\n{env}\n")  # fmt: skip


if __name__ == "__main__":
    main()
