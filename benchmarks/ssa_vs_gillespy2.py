"""Exact SSA and tau-leaping (cellsde) vs GillesPy2's compiled C++ SSACSolver on Vilar 2002.

Both sides read the same SBML file (BIOMD0000000035). Reports wall and CPU time (CPU time
includes GillesPy2's solver subprocess, which matters on a shared machine), GillesPy2's
compile time separately, two-sample Kolmogorov-Smirnov tests of R at several times between
our SSA and GillesPy2, and the relative difference of the population mean of R for
tau-leaping. ``--write-docs`` replaces the section of docs/benchmarks.md.

    python benchmarks/ssa_vs_gillespy2.py --cells 1000 --t-end 200 --write-docs
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SBML = ROOT.parent / "shared" / "data" / "vilar2002" / "BIOMD0000000035.xml"
DOCS = ROOT / "docs" / "benchmarks.md"
HEADING = "## Exact SSA and tau-leaping vs GillesPy2"


def cpu_now() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    w, c = time.perf_counter(), cpu_now()
    out = fn()
    return out, time.perf_counter() - w, cpu_now() - c


def our_model(sbml: Path):
    from models_bio import read_sbml

    return read_sbml(sbml), f"models_bio.read_sbml({sbml.name})"


def best_of(n: int, fn):
    """``fn()`` run ``n`` times: (its last output, the smallest wall and CPU times)."""
    runs = [timed(fn) for _ in range(max(1, n))]
    return runs[-1][0], min(r[1] for r in runs), min(r[2] for r in runs)


def run_gillespy2(
    sbml: Path, times: np.ndarray, cells: int, seed: int, species: tuple, repeat: int = 1
):
    # GillesPy2 builds its C++ solver with SCons; make the venv's scripts visible.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    import gillespy2

    model, _errors = gillespy2.import_SBML(str(sbml))
    model.timespan(times)
    solver, t_compile, c_compile = timed(lambda: gillespy2.SSACSolver(model=model))
    res, t_run, c_run = best_of(
        repeat, lambda: model.run(solver=solver, number_of_trajectories=cells, seed=seed)
    )
    out = np.stack([np.stack([np.asarray(r[s]) for s in species], -1) for r in res])
    return out, t_compile, c_compile, t_run, c_run, gillespy2.__version__


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--t-end", type=float, default=200.0, help="hours")
    ap.add_argument("--save-every", type=float, default=1.0, help="hours")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1,
                    help="time our SSA and GillesPy2's run this often each, keep the fastest")  # fmt: skip
    ap.add_argument("--skip-gillespy2", action="store_true")
    ap.add_argument("--skip-tau", action="store_true")
    ap.add_argument("--tau-cells", type=int, help="cells for tau-leaping (default: --cells)")
    ap.add_argument("--tau-numpy", action="store_true", help="also tau on numpy (slow)")
    ap.add_argument("--tau-t-end", type=float, help="hours for tau-leaping (default: --t-end)")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)

    from cellsde.solvers._backend import numba_installed
    from cellsde.solvers.ssa import ssa
    from cellsde.solvers.tau_leap import tau_leap

    net, source = our_model(SBML)
    kin = net.kinetics
    times = np.arange(0.0, args.t_end + 1e-9, args.save_every)
    p = kin.parameter_vector(None, args.cells)
    x0 = kin.initial_state(p)
    ri = net.species_names.index("R")
    print(f"Vilar 2002 from {source}; {args.cells} cells x {args.t_end:g} h, {len(times)} times")
    kw = {"x0": x0, "params": p, "times": times}
    rows, compiled = [], numba_installed()
    if compiled:  # JIT compile (or cache load) of the kernels, on a tiny run
        tiny = {"x0": x0[:1], "params": p[:1], "times": times[:2]}
        _, w_jit, c_jit = timed(lambda: (ssa(net, seed=0, backend="numba", **tiny),
                                         tau_leap(net, seed=0, backend="numba", **tiny)))  # fmt: skip
        print(f"numba compile/cache load (ssa + tau): wall {w_jit:.1f} s, CPU {c_jit:.1f} s")
        rows.append(("numba compile or cache load (once per process)", w_jit, c_jit))
    ssa_runs = {}
    for backend in ("numba", "numpy") if compiled else ("numpy",):
        n = args.repeat if backend == "numba" or not compiled else 1
        out, w, c = best_of(n, lambda b=backend: ssa(net, seed=args.seed, backend=b, **kw))
        print(f"cellsde ssa ({backend}): wall {w:.1f} s, CPU {c:.1f} s")
        rows.append((f"cellsde `ssa` (exact, {backend})", w, c))
        ssa_runs[backend] = (out, w, c)
    ours, _, c_ssa = next(iter(ssa_runs.values()))
    if len(ssa_runs) == 2:
        same = np.array_equal(ssa_runs["numba"][0], ssa_runs["numpy"][0])
        print(f"numba and numpy SSA outputs identical: {same}")
    late = times >= args.t_end / 10
    notes = []
    if not args.skip_tau:
        n_tau = args.tau_cells or args.cells
        t_tau = min(args.tau_t_end or args.t_end, args.t_end)
        sub = times <= t_tau + 1e-9
        kw_tau = {"x0": x0[:n_tau], "params": p[:n_tau], "times": times[sub]}
        win = (times > times[0])[sub]  # KS and mean at every output time after the start
        scaled = n_tau != args.cells or t_tau != args.t_end
        label = f" on {n_tau} cells x {t_tau:g} h" if scaled else ""
        ssa_cell_h = c_ssa / (args.cells * args.t_end)  # CPU s per cell-hour, first SSA row
        for backend in ("numba", "numpy") if args.tau_numpy and compiled else list(ssa_runs)[:1]:
            tau, w_tau, c_tau = timed(
                lambda b=backend: tau_leap(net, seed=args.seed + 1, backend=b, **kw_tau)
            )
            rel = tau[:, win, ri].mean() / ours[:, sub][:, win, ri].mean() - 1
            ks = [ks_2samp(tau[:, k, ri], ours[:, k, ri]).pvalue for k in np.flatnonzero(win)]
            speed = ssa_cell_h / (c_tau / (n_tau * t_tau))
            print(
                f"cellsde tau_leap ({backend}): wall {w_tau:.1f} s, CPU {c_tau:.1f} s; mean R vs "
                f"SSA {rel:+.2%}; KS p < 0.01 at {sum(q < 0.01 for q in ks)} of {len(ks)} "
                f"times (min p {min(ks):.3g}); SSA / tau CPU per cell-hour {speed:.2f}"
            )
            rows.append((f"cellsde `tau_leap` (eps 0.03, {backend}){label}", w_tau, c_tau))
        notes.append(
            f"Tau-leaping ({n_tau} cells x {t_tau:g} h, seed differs, last backend): population "
            f"mean of R over 0 < t <= {t_tau:g} h differs from our exact SSA "
            f"(all cells, same window) by {rel:+.2%} (target within 2 %: "
            f"{'yes' if abs(rel) < 0.02 else 'NO'}); two-sample KS test of R against the exact "
            f"SSA rejects at 1 % at {sum(q < 0.01 for q in ks)} of {len(ks)} output times (min p "
            f"{min(ks):.3g}; ~1 % expected by chance); CPU per cell-hour: exact SSA "
            f"({next(iter(ssa_runs))}) / tau = {speed:.2f} (target >= 10)."
            + (" Its time is not comparable with the full-size rows." if scaled else "")
        )
    ks_line = ""
    if not args.skip_gillespy2:
        species = net.species_names
        g, t_comp, c_comp, w_g, c_g, ver = run_gillespy2(
            SBML, times, args.cells, args.seed + 7, species, args.repeat
        )
        print(
            f"GillesPy2 {ver} SSACSolver: compile {t_comp:.1f} s; run wall {w_g:.1f} s, CPU {c_g:.1f} s"
        )
        rows.append((f"GillesPy2 {ver} `SSACSolver` (C++), run only", w_g, c_g))
        rows.append(("GillesPy2 compile (once per model)", t_comp, c_comp))
        checks = [t for t in (25, 50, 100, 150, 200) if t <= args.t_end]
        pv = []
        for tt in checks:
            k = int(np.argmin(np.abs(times - tt)))
            pv.append(ks_2samp(ours[:, k, ri], g[:, k, ri]).pvalue)
        ks_line = "KS p-values of R, cellsde SSA vs GillesPy2, at t = " + ", ".join(
            f"{t:g} h: {q:.2f}" for t, q in zip(checks, pv)
        )
        mean_rel = ours[:, late, ri].mean() / g[:, late, ri].mean() - 1
        ks_line += f"; population mean of R, ours vs GillesPy2: {mean_rel:+.2%}."
        print(ks_line)
        ref_w, ref_c = w_g, c_g
        best = next(iter(ssa_runs))
        ratio = c_g / ssa_runs[best][2]
        runs = f"fastest of {args.repeat} runs each" if args.repeat > 1 else "one run each"
        notes.insert(0, f"Exact SSA ({best}) vs GillesPy2 SSACSolver, CPU, {runs}: "
                     f"**{ratio:.2f}x** (target >= 5x: {'yes' if ratio >= 5 else 'NO'}).")  # fmt: skip
    else:
        ref_w = ref_c = float("nan")
    table = [
        "| solver | wall (s) | CPU (s) | GillesPy2 run / this (wall) | (CPU) |",
        "|---|---|---|---|---|",
    ]
    for name, w, c in rows:
        table.append(f"| {name} | {w:.1f} | {c:.1f} | {ref_w / w:.2f} | {ref_c / c:.2f} |")
    print("\n".join(table))
    if args.write_docs:
        write_docs(args, source, table, ks_line, notes)
    return 0


def write_docs(args, source: str, table: list[str], ks_line: str, notes: list[str]) -> None:
    load = os.getloadavg()[0]
    body = [
        f"`benchmarks/ssa_vs_gillespy2.py --cells {args.cells} --t-end {args.t_end:g} "
        f"--save-every {args.save_every:g} --repeat {args.repeat}"
        + (f" --tau-cells {args.tau_cells}" if args.tau_cells else "")
        + (f" --tau-t-end {args.tau_t_end:g}" if args.tau_t_end else "")
        + "`: Vilar 2002 (BIOMD0000000035) read by both sides "
        f"(ours: {source}; GillesPy2: `import_SBML`), nominal parameters, {args.cells} cells "
        f"x {args.t_end:g} h, output every {args.save_every:g} h; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs (load average {load:.1f} at the end). "
        "CPU time counts GillesPy2's solver subprocess; it is the fairer number on a loaded "
        "machine. Ratios > 1 mean cellsde is faster.",
        "",
        *table,
        "",
    ]
    if ks_line:
        body += [ks_line, ""]
    for note in notes:
        body += [note, ""]
    body += [
        "Our SSA (numba backend, the default when numba is installed) runs each cell's events "
        "in a compiled loop that recomputes only the propensities the fired reaction changes; "
        "the numpy backend advances all cells in lockstep (~10 array operations per event "
        "and cell-batch). Both read the same random numbers in the same order and give the same "
        "output for the same seed; for that the numpy backend forms its partial sums in reaction "
        "order (`np.cumsum`, ~4x the cost of the BLAS product it replaced, whose summation "
        "order is the BLAS library's; the numpy backend as a whole ~2x slower). GillesPy2 runs one trajectory after another in C++. "
        "Why the exact SSA stops short of 5x: both sides run the same algorithm compiled "
        "(direct method, dependency graph); ours costs ~40-50 ns per event on Vilar, about 15 %"
        " of it drawing the random numbers that both backends share. Three rewrites of the "
        "event loop were measured slower on Vilar 200 cells x 50 h (kernel 1.1 s): sums in "
        "groups of about sqrt(reactions) kept per cell and updated only where an event changed "
        "them (1.5 s), per-model generated code with the counts and propensities as local "
        "variables, as GillesPy2 generates C++ (1.3 s), and four cells interleaved in one loop "
        "(1.1 s). "
        "Tau-leaping (CGP step selection, critical reactions exact) cannot gain on Vilar: over "
        "40 % of its events move a species the rates read while it has a few copies (promoters, "
        "free R, scarce mRNA) and are fired one at a time, and each step costs the step-size "
        "bookkeeping on top of its events (measured bounds in 'Stochastic "
        "simulation: one table').",
        "",
    ]
    from _docs import write_section

    write_section(HEADING, "\n".join(body))
    print(f"wrote section to {DOCS}")


if __name__ == "__main__":
    raise SystemExit(main())
