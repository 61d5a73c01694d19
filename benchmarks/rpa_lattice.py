"""Events per second of the vectorised RPA–ssDNA lattice SSA against a naive per-cell peer.

Peer: a straightforward scalar Python Gillespie SSA, one cell at a time, that keeps the sorted
list of bound proteins and recomputes gaps, allowed starts and extendable 20-mers by a pass over
the proteins at every event (what one writes first). Both run the same model (free ends,
nominal rates k1 = 1, k-1 = 0.1, k2 = k-2 = 1) from empty ssDNA; the table also reports the mean
coverages at the last time so the two can be compared.

Usage::

    .venv/bin/python benchmarks/rpa_lattice.py [--cells 1000] [--length 5000] [--t-end 2]
"""

from __future__ import annotations

import argparse
import bisect
import math
import random
import time

import numpy as np

from cellsde.solvers.lattice_ssa import simulate_lattice
from models_bio.rpa_dna import rpa_dna


def naive_cell(
    L: int, rates: dict[str, float], t_end: float, rng: random.Random
) -> tuple[int, int, int]:
    """One free-ends cell to ``t_end``; returns (n20, n30, events). O(proteins) Python per event."""
    k1, km1, k2, km2 = rates["k1"], rates["k_minus1"], rates["k2"], rates["k_minus2"]
    starts: list[int] = []  # sorted protein starts
    mode: dict[int, int] = {}
    t, events = 0.0, 0
    while True:
        ends = [s + mode[s] for s in starts]
        gaps = []  # (gap start, length)
        prev = 0
        for s, e in zip(starts, ends):
            gaps.append((prev, s - prev))
            prev = e
        gaps.append((prev, L - prev))
        n_bind = sum(max(0, g - 19) for _, g in gaps)
        p20 = [s for s in starts if mode[s] == 20]
        p30 = [s for s in starts if mode[s] == 30]
        nxt = {s: (starts[i + 1] if i + 1 < len(starts) else L) for i, s in enumerate(starts)}
        pext = [s for s in p20 if nxt[s] - (s + 20) >= 10]
        props = [k1 * n_bind, km1 * len(p20), k2 * len(pext), km2 * len(p30)]
        a0 = sum(props)
        if a0 <= 0:
            break
        t += rng.expovariate(a0)
        if t > t_end:
            break
        events += 1
        r = rng.random() * a0
        if r < props[0]:
            k = rng.randrange(n_bind)
            for x, g in gaps:
                if k < max(0, g - 19):
                    s = x + k
                    bisect.insort(starts, s)
                    mode[s] = 20
                    break
                k -= max(0, g - 19)
        elif r < props[0] + props[1]:
            s = rng.choice(p20)
            starts.remove(s)
            del mode[s]
        elif r < props[0] + props[1] + props[2]:
            mode[rng.choice(pext)] = 30
        else:
            mode[rng.choice(p30)] = 20
    n20 = sum(1 for s in starts if mode[s] == 20)
    return n20, len(starts) - n20, events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--length", type=int, default=5000)
    ap.add_argument("--t-end", type=float, default=2.0)
    ap.add_argument("--naive-cells", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model = rpa_dna(args.length)
    times = np.linspace(0.0, args.t_end, 361)

    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate_lattice(model, times=times, n_cells=args.cells, seed=args.seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fast = ("cellsde lattice_ssa (vectorised)", args.cells, int(res.n_events.sum()), wall, cpu)
    fast += (res.x[:, -1, 2].mean(), res.x[:, -1, 3].mean())

    rng = random.Random(args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    out = [
        naive_cell(args.length, dict(model.nominal), args.t_end, rng)
        for _ in range(args.naive_cells)
    ]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    naive = (
        "naive per-cell Python SSA (peer)",
        args.naive_cells,
        sum(o[2] for o in out),
        wall,
        cpu,
    )
    naive += tuple(np.mean([f * o[i] / args.length for o in out]) for i, f in ((0, 20), (1, 30)))

    print(
        f"RPA–ssDNA lattice SSA: L = {args.length} nt, free ends, t in [0, {args.t_end}], 361 saved times"
    )
    print("| method | cells | events | wall s | CPU s | events/CPU s | c20(t_end) | c30(t_end) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, n, e, w, c, a, b in (fast, naive):
        print(f"| {name} | {n} | {e} | {w:.2f} | {c:.2f} | {e / c:,.0f} | {a:.4f} | {b:.4f} |")
    ratio = (fast[2] / fast[4]) / (naive[2] / naive[4])
    est = naive[4] / args.naive_cells * args.cells
    print(f"\nspeed-up (events per CPU second, same run): {ratio:.0f}x")
    print(
        f"the peer would need ~{math.ceil(est)} CPU s for {args.cells} cells ({fast[4]:.1f} s here)"
    )


if __name__ == "__main__":
    main()
