"""The SBML Test Suite: cellsde (``read_sbml`` + ``simulate``) and libroadrunner, by feature tag.

Point it at a copy of the suite's ``cases/`` folders (``semantic/NNNNN``, ``stochastic/NNNNN``;
see data/README.md for where to get it). Each case is run by both simulators and judged with
the suite's rules:

* **semantic** (deterministic time courses; ours: ``method="ode"``): a variable passes when
  ``|simulated - expected| <= absolute + relative * |expected|`` at every output time (NaN and
  infinities must match);
* **stochastic** (DSMTS and ``distrib``; ours: ``method="ssa"``, all runs as cells of one
  population): ``n`` runs (10,000 by the suite's protocol); at every time
  ``Z = sqrt(n) (mean - mu) / sigma`` must lie in ``meanRange`` and
  ``Y = sqrt(n / 2) (s^2 / sigma^2 - 1)`` in ``sdRange``. A correct simulator fails ~5 % of
  cases per seed, so a failed case is re-run once with another seed and fails only if both
  runs fail. Where no sd is given (a Cauchy draw, whose "mean" column is its median), the
  expected median must lie between the order statistics ``n/2 + z sqrt(n)/2``, ``z`` at the
  ends of meanRange (a distribution-free test of the median).

A case's outcome is ``pass``, ``fail`` (wrong numbers), ``refused`` (one clean error naming an
unsupported feature: :class:`models_bio.sbml.SBMLError` or :class:`cellsde.CellsdeError`;
libroadrunner: any exception) or ``error`` (any other exception: a bug of ours). *Supported*
cases are those not refused.

    python benchmarks/sbml_test_suite.py ../shared/data/sbml-test-suite --write-docs
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_SUITE = ROOT.parent / "shared" / "data" / "sbml-test-suite"
HEADING = "## SBML Test Suite"
SUPPORT = ROOT / "docs" / "sbml-support.md"
SUPPORT_HEADING = "## Results by tag"
STATUSES = ("pass", "fail", "refused", "error")


@dataclass(frozen=True)
class Case:
    """One suite case: its files, settings and tags."""

    number: str
    kind: str  # "semantic" or "stochastic"
    sbml: Path
    settings: dict[str, str]
    tags: tuple[str, ...]
    expected: dict[str, np.ndarray] = field(repr=False)  # column -> values; "time" included

    @property
    def times(self) -> np.ndarray:
        start = float(self.settings.get("start") or 0.0)
        duration, steps = float(self.settings["duration"]), int(self.settings["steps"])
        return np.linspace(start, start + duration, steps + 1)

    def listed(self, key: str) -> list[str]:
        return [v.strip() for v in self.settings.get(key, "").split(",") if v.strip()]


@dataclass(frozen=True)
class Outcome:
    status: str  # one of STATUSES
    detail: str = ""
    seconds: float = 0.0


def load_case(folder: Path) -> Case | None:
    """The case in ``folder`` (None when it has no time course, e.g. flux balance cases)."""
    n = folder.name
    settings = {}
    for line in (folder / f"{n}-settings.txt").read_text().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            settings[k.strip()] = v.strip()
    header = (folder / f"{n}-model.m").read_text()
    tags: list[str] = []
    for key in ("componentTags", "testTags", "packagesPresent"):
        m = re.search(rf"{key}:[ \t]*(.*)", header)
        tags += [t.strip() for t in (m.group(1).split(",") if m else []) if t.strip()]
    xml = sorted(folder.glob(f"{n}-sbml-l*.xml"))
    text = (folder / f"{n}-results.csv").read_text()
    rows = [r.split(",") for r in text.splitlines() if r.strip()]
    cols = [c.strip() for c in rows[0]]
    data = np.array([[_float(v) for v in r] for r in rows[1:]])
    expected = {"time": data[:, 0], **{c: data[:, j] for j, c in enumerate(cols) if j}}
    kind = folder.parent.name
    return Case(n, kind, xml[-1], settings, tuple(dict.fromkeys(tags)), expected)


def _float(v: str) -> float:
    v = v.strip().lower()
    special = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}
    return special[v] if v in special else float(v)


def cases(suite: Path, kind: str, numbers: Iterable[str] | None = None) -> list[Case]:
    """The cases of ``suite/kind`` (all, or those numbered ``numbers``) in number order."""
    wanted = {f"{int(n):05d}" for n in numbers} if numbers else None
    out = []
    for folder in sorted((suite / kind).iterdir()):
        if wanted is None or folder.name in wanted:
            out.append(load_case(folder))
    return out


# -- judging -----------------------------------------------------------------------------
def semantic_verdict(case: Case, values: dict[str, np.ndarray]) -> Outcome:
    """The suite's rule for deterministic results; ``values``: variable -> (time,)."""
    atol = float(case.settings.get("absolute") or 0)
    rtol = float(case.settings.get("relative") or 0)
    for v in case.listed("variables"):
        exp, got = case.expected[v], np.asarray(values[v], dtype=float)
        same_special = (np.isnan(exp) & np.isnan(got)) | (np.isinf(exp) & (exp == got))
        with np.errstate(invalid="ignore"):  # inf - inf: judged by same_special
            ok = same_special | (np.abs(got - exp) <= atol + rtol * np.abs(exp))
        if not ok.all():
            k = int(np.argmin(ok))
            return Outcome("fail", f"{v} at t={case.times[k]:g}: {got[k]:.6g} vs {exp[k]:.6g}")
    return Outcome("pass")


def stochastic_verdict(case: Case, samples: dict[str, np.ndarray]) -> Outcome:
    """The suite's Z and Y tests; ``samples``: variable -> (run, time)."""
    lo_z, hi_z = _range(case.settings.get("meanRange", "(-3, 3)"))
    lo_y, hi_y = _range(case.settings.get("sdRange", "(-5, 5)"))
    for v in case.listed("variables"):
        x = samples[v]
        n = x.shape[0]
        if f"{v}-sd" not in case.expected:  # Cauchy: the "mean" is the median
            got = _median_verdict(case, v, x, lo_z, hi_z)
            if got.status != "pass":
                return got
            continue
        mu, sigma = case.expected[f"{v}-mean"], case.expected[f"{v}-sd"]
        mean, var = x.mean(0), x.var(0, ddof=1)
        for k in range(x.shape[1]):
            if sigma[k] == 0:
                if abs(mean[k] - mu[k]) > 1e-9 * max(1.0, abs(mu[k])) or var[k] > 1e-12:
                    return Outcome("fail", f"{v} at t={case.times[k]:g}: not {mu[k]} in every run")
                continue
            z = math.sqrt(n) * (mean[k] - mu[k]) / sigma[k]
            y = math.sqrt(n / 2) * (var[k] / sigma[k] ** 2 - 1)
            if not (lo_z < z < hi_z and lo_y < y < hi_y):
                return Outcome("fail", f"{v} at t={case.times[k]:g}: Z={z:.2f}, Y={y:.2f}")
    return Outcome("pass")


def _median_verdict(case: Case, v: str, x: np.ndarray, lo_z: float, hi_z: float) -> Outcome:
    """The expected median must lie between the order statistics ``n/2 + z sqrt(n)/2`` for
    ``z`` at the ends of meanRange (a distribution-free test of the median at that level)."""
    n = x.shape[0]
    s = np.sort(x, axis=0)
    lo = s[max(int(np.floor(n / 2 + lo_z * math.sqrt(n) / 2)), 0)]
    hi = s[min(int(np.ceil(n / 2 + hi_z * math.sqrt(n) / 2)), n - 1)]
    mu = case.expected[f"{v}-mean"]
    bad = ~((lo <= mu) & (mu <= hi))
    if bad.any():
        k = int(np.argmax(bad))
        return Outcome(
            "fail", f"{v} at t={case.times[k]:g}: median {mu[k]} not in [{lo[k]:.3g}, {hi[k]:.3g}]"
        )
    return Outcome("pass")


def _range(text: str) -> tuple[float, float]:
    a, b = (float(v) for v in text.strip("() ").split(","))
    return a, b


# -- the two simulators ------------------------------------------------------------------
def ours(case: Case, *, runs: int = 10_000, seed: int = 0) -> Outcome:
    """Simulate ``case`` with cellsde and judge it."""
    from cellsde import simulate
    from cellsde.errors import CellsdeError
    from models_bio.expressions import namespace
    from models_bio.sbml import SBMLError, read_sbml, sbml_variables

    t0 = time.perf_counter()
    try:
        net = read_sbml(case.sbml)
        variables = sbml_variables(case.sbml)
        names = case.listed("variables")
        conc = set(case.listed("concentration"))
        exprs = []
        for v in names:
            var = variables[v]
            exprs.append(var.concentration if v in conc else var.amount)
        stochastic = case.kind == "stochastic"
        atol = float(case.settings.get("absolute") or 1e-10)
        opts = {} if stochastic else {"rtol": 1e-10, "atol": max(atol * 1e-4, 1e-20)}
        ds = simulate(
            net, times=case.times, n_cells=runs if stochastic else 1,
            method="ssa" if stochastic else "ode", seed=seed, solver_options=opts,
            heterogeneity="default" if stochastic else "none",
        )  # fmt: skip
        x = ds["x"].values  # (cell, time, species)
        p = net.kinetics.parameter_vector(
            {q: ds["theta"].sel(param=q).values for q in ds.coords.get("param", [])} or None,
            x.shape[0],
        )  # (cell, parameter)
        fn = net.compile_expressions(exprs or ["0"])
        t = np.broadcast_to(case.times, x.shape[:2])
        with np.errstate(all="ignore"):
            vals = fn(x, p[:, None, :], t, namespace("numpy"))  # (cell, time, variable)
        vals = np.broadcast_to(vals, (*x.shape[:2], max(len(exprs), 1)))
    except (SBMLError, CellsdeError) as err:
        return Outcome("refused", _one_line(err), time.perf_counter() - t0)
    except Exception as err:  # the runner judges any crash; it must not stop the run
        return Outcome("error", f"{type(err).__name__}: {_one_line(err)}", time.perf_counter() - t0)
    if stochastic:
        got = stochastic_verdict(case, {v: vals[:, :, j] for j, v in enumerate(names)})
    else:
        got = semantic_verdict(case, {v: vals[0, :, j] for j, v in enumerate(names)})
    return Outcome(got.status, got.detail, time.perf_counter() - t0)


def roadrunner(case: Case, *, runs: int = 10_000, seed: int = 0) -> Outcome:
    """Simulate ``case`` with libroadrunner (CVODE, or its Gillespie SSA) and judge it."""
    import roadrunner as rr

    rr.Logger.disableLogging()  # its warnings (e.g. "time is not treated continuously") flood
    t0 = time.perf_counter()
    conc = set(case.listed("concentration"))
    names = case.listed("variables")
    sel = ["time"] + [f"[{v}]" if v in conc else v for v in names]
    try:
        times = case.times
        r = rr.RoadRunner(str(case.sbml))
        if case.kind == "stochastic":
            r.setIntegrator("gillespie")
            r.integrator.variable_step_size = False
            r.integrator.seed = seed
            out = np.empty((runs, len(times), len(names)))
            for i in range(runs):
                r.resetToOrigin()
                out[i] = r.simulate(times[0], times[-1], len(times), sel)[:, 1:]
            got = stochastic_verdict(case, {v: out[:, :, j] for j, v in enumerate(names)})
        else:
            atol = float(case.settings.get("absolute") or 1e-10)
            r.integrator.relative_tolerance = 1e-10
            r.integrator.absolute_tolerance = max(atol * 1e-4, 1e-20)
            res = np.asarray(r.simulate(times[0], times[-1], len(times), sel))
            got = semantic_verdict(case, {v: res[:, j + 1] for j, v in enumerate(names)})
    except Exception as err:  # libroadrunner signals unsupported features by exceptions
        return Outcome("refused", _one_line(err), time.perf_counter() - t0)
    return Outcome(got.status, got.detail, time.perf_counter() - t0)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]


def run(case: Case, simulator: Callable[..., Outcome], runs: int, seed: int) -> Outcome:
    """One case; a failed stochastic case is confirmed with a second seed."""
    out = simulator(case, runs=runs, seed=seed)
    if out.status == "fail" and case.kind == "stochastic":
        again = simulator(case, runs=runs, seed=seed + 1)
        return Outcome(again.status, again.detail, out.seconds + again.seconds)
    return out


# -- report ------------------------------------------------------------------------------
def table(results: dict[str, dict[str, Outcome]], all_cases: list[Case], who: list[str]) -> str:
    """Markdown table by tag: cases, then pass / refused / failed(+errors) per simulator."""
    by_tag: dict[str, list[Case]] = defaultdict(list)
    for c in all_cases:
        for t in c.tags:
            by_tag[t].append(c)
    head = "| tag | cases | " + " | ".join(f"{w} pass | {w} refused | {w} wrong" for w in who)
    lines = [head + " |", "|---|---:|" + "---:|---:|---:|" * len(who)]

    def row(label: str, group: list[Case]) -> str:
        cells = [label, str(len(group))]
        for w in who:
            count = Counter(results[w][c.number].status for c in group)
            cells += [
                str(count["pass"]),
                str(count["refused"]),
                str(count["fail"] + count["error"]),
            ]
        return "| " + " | ".join(cells) + " |"

    lines.append(row("**all**", all_cases))
    for tag in sorted(by_tag, key=lambda t: (-len(by_tag[t]), t)):
        lines.append(row(tag, by_tag[tag]))
    return "\n".join(lines)


def summary(results: dict[str, Outcome], group: list[Case]) -> dict[str, float]:
    """Pass rates: of all cases and of the supported (not refused) ones."""
    count = Counter(results[c.number].status for c in group)
    supported = len(group) - count["refused"]
    return {
        "cases": len(group), **{s: count[s] for s in STATUSES},
        "all": count["pass"] / max(len(group), 1),
        "supported": count["pass"] / max(supported, 1),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", nargs="?", type=Path, default=DEFAULT_SUITE)
    ap.add_argument("--kind", choices=("semantic", "stochastic", "both"), default="both")
    ap.add_argument("--cases", nargs="*", help="case numbers (default: all)")
    ap.add_argument("--runs", type=int, default=10_000, help="runs per stochastic case")
    ap.add_argument("--peer-runs", type=int, help="runs per stochastic case for libroadrunner")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-roadrunner", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="print every case not passed")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    if args.write_docs and args.cases:
        ap.error("--write-docs records whole-suite runs: drop --cases")
    kinds = ("semantic", "stochastic") if args.kind == "both" else (args.kind,)
    who = {"cellsde": ours} | ({} if args.skip_roadrunner else {"libroadrunner": roadrunner})
    for kind in kinds:
        todo = [c for c in cases(args.suite, kind, args.cases) if c is not None]
        results: dict[str, dict[str, Outcome]] = {w: {} for w in who}
        for c in todo:
            for w, sim in who.items():
                runs = args.peer_runs if w != "cellsde" and args.peer_runs else args.runs
                out = results[w][c.number] = run(c, sim, runs, args.seed)
                if args.verbose:
                    note = f": {out.detail}" if out.status != "pass" else ""
                    print(
                        f"{kind} {c.number} {w}: {out.status} ({out.seconds:.1f} s){note}",
                        flush=True,
                    )
        if args.verbose:
            slow = sorted(results["cellsde"].items(), key=lambda kv: -kv[1].seconds)[:5]
            print("slowest (cellsde):", ", ".join(f"{n} {o.seconds:.1f} s" for n, o in slow))
        lines = [f"### {kind.capitalize()} cases", "", _intro(args, kind), ""]
        for w in who:
            s = summary(results[w], todo)
            secs = sum(o.seconds for o in results[w].values())
            lines.append(
                f"- {w}: {s['pass']} of {s['cases']} passed ({s['all']:.1%} of all, "
                f"{s['supported']:.1%} of the {s['cases'] - s['refused']} supported), "
                f"{s['refused']} refused, {s['fail']} wrong, {s['error']} errors; {secs:.0f} s"
            )
        wrong = [
            f"{n} ({o.detail})"
            for n, o in results["cellsde"].items()
            if o.status in ("fail", "error")
        ]
        lines += ["", f"Wrong (cellsde): {'; '.join(wrong) or 'none'}.", ""]
        lines += [table(results, todo, list(who)), ""]
        print("\n".join(lines), flush=True)
        if args.write_docs:  # one part per kind, so the kinds can be run separately
            from _docs import write_subsection

            totals = [line for line in lines if not line.startswith("|")]
            write_subsection(HEADING, "\n".join(totals))
            write_subsection(SUPPORT_HEADING, "\n".join(lines), path=SUPPORT)
    return 0


def _intro(args: argparse.Namespace, kind: str) -> str:
    peer = f" --peer-runs {args.peer_runs}" if args.peer_runs else ""
    runs = f" --runs {args.runs}{peer} --seed {args.seed}" if kind == "stochastic" else ""
    how = (
        "`ssa`, all runs as the cells of one population, beside libroadrunner's Gillespie SSA; "
        "a failure is re-run once with another seed"
        if kind == "stochastic"
        else "`ode`, beside libroadrunner's CVODE"
    )
    return (
        f"`benchmarks/sbml_test_suite.py --kind {kind}{runs}` on the odd-numbered {kind} cases "
        f"of the SBML Test Suite (data/README.md): cellsde `read_sbml` + `simulate` ({how}), "
        "judged by the suite's rules. *refused*: one error naming an unsupported feature; "
        "*wrong*: a wrong result or a crash. The table by tag is in "
        "[SBML support](sbml-support.md)."
    )


if __name__ == "__main__":
    raise SystemExit(main())
