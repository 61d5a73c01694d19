"""Stacked stiff ODE integration of many Guo 2024 NF-kB cells against a per-cell ``solve_ivp`` loop.

Both sides integrate phase 2 (8 h after TNF 10 ng/mL, output every 5 min) of the same
heterogeneous cells (default log-normal scheme, seeded) from the same per-cell basal steady
states (phase 1, computed once with :func:`cellsde.solvers.ode.steady_state` and not timed).

* **vectorised**: :func:`cellsde.solvers.ode.ode` with all cells in one stacked system
  (``cell * species`` unknowns, block-diagonal Jacobian: sparse for BDF, banded for LSODA).
* **loop (peer)**: the same call on one cell at a time, i.e. one ``scipy.integrate.solve_ivp``
  (or one TR-BDF2 integration) per cell with the same right-hand side, the same finite-difference Jacobian and the same
  per-cell tolerances. Only the batching differs. With ``--loop-cells`` < ``--cells`` the loop
  runs on the first cells only and its per-cell time is extrapolated (the table says so).

The speed-up is the ratio of CPU seconds per cell (``time.process_time``; the shared machine's
load inflates wall time, so wall seconds are shown but not used for the ratio). The accuracy
column is the largest relative difference ``|vec - loop| / |loop|`` of total nuclear NF-kB
(NFkBn + IkBaNFkBn) over the loop cells and all output times, and over all species at or above
1e-6 uM.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/guo_ode_batch.py [--cells 200] [--loop-cells 10]
        [--methods BDF,LSODA,TRBDF2] [--rtol 1e-6] [--atol 1e-9] [--seed 0]

The last two columns give each side's largest relative error of nuclear NF-kB against a
tight per-cell reference (BDF, rtol 1e-10, atol 1e-14) on the loop cells.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cellsde.simulation import sample_theta
from cellsde.solvers.ode import ode, steady_state
from models_bio.nfkb.guo2024 import guo2024


def _timed(fn, *args, **kwargs):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w, time.process_time() - c


def _loop(net, xs: np.ndarray, p: np.ndarray, method: str, opts: dict) -> np.ndarray:
    """One ``ode`` call per cell (the peer; TRBDF2 ignores ``batch_size``, so no shortcut)."""
    return np.concatenate(
        [
            ode(net, x0=xs[i : i + 1], params=p[i : i + 1], method=method, **opts)
            for i in range(len(xs))
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=200, help="cells integrated vectorised")
    ap.add_argument("--loop-cells", type=int, default=10, help="cells run in the per-cell loop")
    ap.add_argument("--methods", default="BDF,LSODA,TRBDF2", help="comma-separated scipy methods")
    ap.add_argument("--t-end", type=float, default=480.0, help="minutes after TNF")
    ap.add_argument("--dose", type=float, default=10.0, help="TNF, ng/mL")
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=None,
                    help="cells per stacked system on the vectorised side (default: all)")  # fmt: skip
    args = ap.parse_args()
    if not 1 <= args.loop_cells <= args.cells:
        ap.error("need 1 <= --loop-cells <= --cells")

    net = guo2024(ligand="TNF", dose=args.dose)
    theta, cols, _ = sample_theta(net, n_cells=args.cells, seed=args.seed)  # (cell, param)
    kin = net.kinetics
    p = kin.parameter_vector({q: theta[:, j] for j, q in enumerate(cols)}, args.cells)
    x0 = kin.initial_state(p)  # (cell, species)
    tnf = net.species_names.index("TNF")
    x0[:, tnf] = 0.0
    xs, w1, c1 = _timed(steady_state, net, x0=x0, params=p, hold=("TNF",))
    xs[:, tnf] = net.stimulus["TNF"]
    times = np.arange(0.0, args.t_end + 1e-9, 5.0)
    obs = [net.species_names.index(s) for s in ("NFkBn", "IkBaNFkBn")]
    print(
        f"Guo 2024 NF-kB, TNF {args.dose:g} ng/mL, {args.cells} heterogeneous cells (seed "
        f"{args.seed}), 0-{args.t_end:g} min, {times.size} outputs, rtol {args.rtol:g}, "
        f"atol {args.atol:g} uM"
    )
    print(f"phase 1 (basal steady state, vectorised BDF, not timed below): {w1:.1f} s wall, "
          f"{c1:.1f} s CPU\n")  # fmt: skip
    rows = []
    opts = {"times": times, "rtol": args.rtol, "atol": args.atol}
    m = args.loop_cells
    # accuracy of both sides against a tight per-cell reference (BDF, rtol 1e-10): "equal
    # accuracy" is then a measured statement, not an assumption
    ref = ode(net, x0=xs[:m], params=p[:m], method="BDF", batch_size=1, times=times,
              rtol=1e-10, atol=1e-14)[..., obs].sum(-1)  # fmt: skip

    def error(x):  # largest relative error of nuclear NF-kB over the loop cells and times
        return float(np.max(np.abs(x[:m][..., obs].sum(-1) - ref) / np.abs(ref)))

    for method in [s.strip() for s in args.methods.split(",") if s.strip()]:
        vec, wv, cv = _timed(ode, net, x0=xs, params=p, method=method,
                             batch_size=args.batch_size, **opts)  # fmt: skip
        loop, wl, cl = _timed(_loop, net, xs[:m], p[:m], method, opts)  # (cell, time, species)
        a, b = vec[:m][..., obs].sum(-1), loop[..., obs].sum(-1)  # (cell, time)
        rel_obs = float(np.max(np.abs(a - b) / np.abs(b)))
        big = np.abs(loop) >= 1e-6
        rel_all = float(np.max(np.abs(vec[:m] - loop)[big] / np.abs(loop[big])))
        per_vec, per_loop = cv / args.cells, cl / m
        rows.append(
            (method, wv, cv, per_vec, wl, cl, per_loop, per_loop / per_vec, rel_obs, rel_all,
             error(vec), error(loop))
        )  # fmt: skip
        print(f"  {method}: done", flush=True)
    extrap = " (extrapolated from the loop cells)" if m < args.cells else ""
    print(f"\nvectorised: {args.cells} cells in one stacked system; loop: {m} cells, one "
          f"solve_ivp each{extrap}")  # fmt: skip
    print(
        "| method | vectorised wall s | vectorised CPU s | CPU s / cell | loop wall s | loop CPU s "
        f"| CPU s / cell | loop CPU for {args.cells} cells | speed-up (CPU / cell) "
        "| max rel. diff nuclear NF-kB | max rel. diff all species "
        "| error vs reference: vectorised | loop |"
    )
    print(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for method, wv, cv, pv, wl, cl, pl, ratio, ro, ra, ev, el in rows:
        print(
            f"| {method} | {wv:.1f} | {cv:.1f} | {pv:.3f} | {wl:.1f} | {cl:.1f} | {pl:.3f} | "
            f"{pl * args.cells:.0f} | {ratio:.1f}x | {ro:.1e} | {ra:.1e} | {ev:.1e} | {el:.1e} |"
        )
    if len(rows) > 1:
        best_vec = min(rows, key=lambda r: r[3])
        best_loop = min(rows, key=lambda r: r[6])
        print(
            f"\nbest vectorised ({best_vec[0]}, {best_vec[3]:.3f} CPU s/cell, error "
            f"{best_vec[10]:.1e}) vs best loop ({best_loop[0]}, {best_loop[6]:.3f} CPU s/cell, "
            f"error {best_loop[11]:.1e}): {best_loop[6] / best_vec[3]:.1f}x"
        )


if __name__ == "__main__":
    main()
