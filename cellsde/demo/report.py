"""``report.md`` of ``cellsde demo``: the numbers the stages computed, with the figures inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cellsde._version import __version__
from cellsde.datasets.atomic import atomic_write_text
from cellsde.demo.config import HELD_OUT, DemoConfig


def _fmt(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def report_text(cfg: DemoConfig, n: dict[str, Any]) -> str:
    """The Markdown report for the numbers ``n`` (what the stages returned)."""
    lines = [
        "# cellsde demo report",
        "",
        f"cellsde {__version__}; seed {cfg.seed}. Every number below was computed by this run; "
        "rerun `cellsde demo --out DIR --fresh` to recompute it.",
        "",
    ]
    if n.get("tracks_cells"):
        lines += [
            "## 1. Lab tracks imported from CSV",
            "",
            f"`data/example_tracks.csv` (ragged, gappy, jittered tracks) became {n['tracks_cells']} cells "
            f"x {n['tracks_times']} frames; {100 * n['tracks_nan_fraction']:.1f} % of the entries are "
            "NaN (not observed). Import report:",
            "",
            *[f"    {line}" for line in n.get("tracks_report", [])],
            "",
            "![tracks](tracks_fan.png)",
            "",
        ]
    if n.get("nfkb_cells"):
        lines += [
            "## 2. Experimental NF-kB, TNF 10 ng/mL (Adelaja et al. 2021, via Guo et al. 2024)",
            "",
            f"{n['nfkb_cells']} cells; population mean of nuclear NF-kB peaks at "
            f"{_fmt(n['nfkb_peak_uM'])} uM at {_fmt(n['nfkb_peak_min'])} min.",
            "",
            "![nfkb](nfkb_tnf_fan.png)",
            "",
            "Marginal densities at the start, the first peak, the trough after it and the end "
            "(kernel densities, bounded at 0 only when no value is negative; these background-"
            "subtracted measurements dip slightly below 0):",
            "",
            "![nfkb marginals](nfkb_tnf_marginals.png)",
            "",
        ]
    lines += [
        "## 3. A heterogeneous population (END-nSDE circadian benchmark)",
        "",
        f"Damped oscillator, noise (k1 + k2 omega) sqrt|x1| with k1 = 0.3, k2 = 0.1; "
        f"{n['population_groups']} groups of omega on a 5 x 5 grid, {n['population_cells']} cells, "
        "Euler-Maruyama dt = 1e-3. One panel per omega group (never pooled): the five "
        "held-out groups and two corners of the grid.",
        "",
        "![population](population_fan.png)",
        "",
        "## 4. END-nSDE fit",
        "",
        f"Drift and diffusion MLPs {list(cfg.hidden)} (ELU) on [x, omega], trained on "
        f"{n['population_groups'] - len(HELD_OUT)} groups for {n['fit_epochs']} epochs "
        f"(tW2 loss {_fmt(n['fit_loss_first'])} -> {_fmt(n['fit_loss_last'])}).",
        "",
        "## 5. Held-out groups",
        "",
        "| quantity | value |",
        "| --- | --- |",
        f"| held-out tW2 per group (END-nSDE) | {_fmt(n['heldout_tw2'])} |",
        f"| sampling floor (true SDE scored like the model, same sizes) | {_fmt(n['floor_tw2'])} |",
        f"| relative drift error | {_fmt(n['drift_error'])} |",
        f"| relative sigma sigma^T error | {_fmt(n['diffusion_error'])} |",
        "",
        "![w2](w2_over_time.png)",
        "",
        "## 6. Inferring omega of the held-out groups",
        "",
        f"tW2 minimisation through the fitted SDE, bootstrap over cells. Mean absolute error "
        f"{_fmt(n['infer_mae'])}; {100 * n['infer_coverage_2sd']:.0f} % of the estimates lie within "
        "2 bootstrap SD of the truth.",
        "",
        "| group | true omega | estimate | bootstrap SD |",
        "| --- | --- | --- | --- |",
    ]
    # the data's group labels (a demo.json from before they were recorded: 0..n-1)
    labels = n.get("infer_labels") or list(range(len(n["infer_true"])))
    for g, t, e, s in zip(labels, n["infer_true"], n["infer_estimates"], n["infer_std"]):
        lines.append(
            f"| {g} | ({t[0]:.2f}, {t[1]:.2f}) | ({e[0]:.2f}, {e[1]:.2f}) | ({s[0]:.2f}, {s[1]:.2f}) |"
        )
    lines += ["", "![recovery](theta_recovery.png)", ""]
    if n.get("compress_rows"):
        lines += [
            "## 7. Compressing the networks with dendrites",
            "",
            "Each candidate is refit with the same loss and epoch budget and scored on the held-out "
            "groups (tW2 summed over groups). Parameters count dendrites.",
            "",
            "| candidate | kind | width | dendrite sets | parameters | held-out tW2 |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in n["compress_rows"]:
            lines.append(
                f"| {r['candidate']} | {r['kind']} | {r['width']} | {r['K']} | {r['params']} | "
                f"{_fmt(float(r['valid_tw2']))} |"
            )
        verdict = (
            f"chosen: {n['compress_best']} (within 5 % of the wide model)"
            if n["compressed"]
            else "no smaller network came within 5 % of the wide model; the wide model is kept"
        )
        lines += ["", verdict + ".", "", "![pareto](compression_pareto.png)", ""]
    return "\n".join(lines)


def write_report(root: Path, cfg: DemoConfig, numbers: dict[str, Any]) -> Path:
    """Write ``report.md`` into ``root`` atomically."""
    return atomic_write_text(root / "report.md", report_text(cfg, numbers))
