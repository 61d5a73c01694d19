"""Batched exact W2² (cellsde.losses) against POT ``ot.emd2`` at the END-nSDE NF-κB setting.

Setting: 96 parameter sets × 30 times × 50 paths per cloud × 2 observed species (float64, CPU).
The peer is the END-nSDE reference code path: one ``ot.emd2(a, b, ot.dist(P, Q))`` per
(set, time) with the torch backend, summed. Both compute the same exact loss; the script checks
the values and gradients agree, then prints a markdown table of median wall times and ratios.

Usage::

    .venv/bin/python benchmarks/w2_loss.py [--sets 96] [--times 30] [--cells 50] [--repeats 3]
                                          [--out docs/benchmarks_w2.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable

import ot
import torch

from cellsde.losses import sliced_w2_squared, w2_squared


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _pot_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    n, m = a.shape[-2], b.shape[-2]
    wa = torch.full((n,), 1 / n, dtype=a.dtype)
    wb = torch.full((m,), 1 / m, dtype=b.dtype)
    total = a.new_zeros(())
    for s in range(a.shape[0]):
        for t in range(a.shape[1]):
            total = total + ot.emd2(wa, wb, ot.dist(a[s, t], b[s, t]))
    return total


def _ours_exact(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return w2_squared(a, b).sum()


def _ours_sliced(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return sliced_w2_squared(a, b, n_projections=64, seed=0).sum()


def _fwd(loss: Callable, a: torch.Tensor, b: torch.Tensor) -> Callable[[], object]:
    def run() -> float:
        with torch.no_grad():
            return float(loss(a, b))

    return run


def _fwd_bwd(loss: Callable, a: torch.Tensor, b: torch.Tensor) -> Callable[[], object]:
    def run() -> None:
        x = a.detach().requires_grad_()
        loss(x, b).backward()

    return run


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", type=int, default=96)
    p.add_argument("--times", type=int, default=30)
    p.add_argument("--cells", type=int, default=50)
    p.add_argument("--dim", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--out", default=None, help="also write the markdown table to this file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    g = torch.Generator().manual_seed(0)
    shape = (args.sets, args.times, args.cells, args.dim)  # (set, time, cell, species)
    a = torch.randn(shape, generator=g, dtype=torch.float64)
    b = torch.randn(shape, generator=g, dtype=torch.float64) * 1.3 + 0.2

    # Same value and gradient as the peer (exact OT, plan held fixed).
    xa, xp = a.clone().requires_grad_(), a.clone().requires_grad_()
    v_ours, v_pot = _ours_exact(xa, b), _pot_loss(xp, b)
    v_ours.backward()
    v_pot.backward()
    dv = abs(float(v_ours.detach()) - float(v_pot.detach()))
    dg = float((xa.grad - xp.grad).abs().max())

    rows = []
    for label, mode in (("forward", _fwd), ("forward+backward", _fwd_bwd)):
        t_pot = _median_time(mode(_pot_loss, a, b), args.repeats)
        t_ours = _median_time(mode(_ours_exact, a, b), args.repeats)
        t_sl = _median_time(mode(_ours_sliced, a, b), args.repeats)
        rows.append((label, t_pot, t_ours, t_sl))

    n_pairs = args.sets * args.times
    lines = [
        f"### Exact W2² loss: {args.sets} sets × {args.times} times × {args.cells} cells × "
        f"{args.dim}-D ({n_pairs} clouds pairs), float64, CPU, {args.threads} thread(s)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"POT {ot.__version__}. Median of {args.repeats} runs. "
        f"|loss_ours − loss_POT| = {dv:.1e}, max |grad diff| = {dg:.1e}.",
        "",
        "| pass | POT emd2 loop (s) | cellsde exact (s) | speed-up | cellsde sliced, 64 proj. (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, t_pot, t_ours, t_sl in rows:
        lines.append(
            f"| {label} | {t_pot:.3f} | {t_ours:.3f} | {t_pot / t_ours:.1f}× | {t_sl:.4f} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        folder = os.path.dirname(os.path.abspath(args.out))
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(table)
        os.replace(tmp, args.out)
    return table


if __name__ == "__main__":
    main()
