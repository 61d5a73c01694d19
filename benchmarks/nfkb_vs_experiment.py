"""The Guo 2024 NF-kB model (cellsde, heterogeneous ODE) against measured single-cell TNF responses.

Data: ``example_data.mat`` of Guo et al. (Hoffmann lab; ``read_guo2024``): 60 macrophages per
TNF dose (0.1, 1, 10 ng/mL), nuclear NF-kB every 5 min for 0-480 min, rescaled by the authors
to model units (uM), together with the authors' own per-cell model fits (``source="pred"``).

Model: :func:`models_bio.nfkb.guo2024.guo2024` at nominal parameters with extrinsic
heterogeneity (``"default"`` log-normal, sigma_ln = 0.3; optionally ``"logitnormal"``, the
source's scheme with logit-scale sigma = 0.5 and no fitted Monolix values), as many cells as the
experiment, ODE method, two-phase protocol (each cell's basal steady state, then TNF at t = 0).
The same virtual cells (same seed and theta) are stimulated at all three doses, so phase 1 is
computed once per scheme. Phase 1 follows ``cellsde.solvers.ode.steady_state`` (chunks of
4000 min until every species >= 8e-7 uM changes < 0.05 %); a drawn cell that is still moving
after 15 chunks (the logit-normal scheme draws a few with a sustained *basal* oscillation) is
reported and replaced by the next draw, so each population has ``--cells`` resting cells. Observable: total nuclear NF-kB = NFkBn + IkBaNFkBn, no fitting, no
rescaling.

Measures, per dose and population (experiment, authors' fits, cellsde model):

* ``base``: median over cells of x(t = 0);
* ``mean peak`` / ``at``: maximum of the population mean over 0-480 min and its time;
* first peak per cell (rule: the maximum of the cell's trajectory over 0-``--peak-window`` min,
  default 120, on the 5-min grid): median peak time [5 %, 95 %] and median height, and the
  cell-to-cell spread of the height as the 5-95 % range;
* ``late/peak``: population mean over 240-480 min divided by the mean's first-peak maximum
  (damping: 1 = no decay);
* ``late``: population mean over 240-480 min (uM);
* ``trough / 2nd peak``: of the population mean, the minimum within 120 min after its first
  peak and the maximum within 150 min after that trough (``-`` when it does not rise by
  >= 0.005 uM): the damped second wave. Per-cell second peaks are not counted: in the
  measured traces frame-to-frame noise makes any per-cell local-maximum rule fire in almost
  every cell;
* ``tW2``: time-decoupled squared W2 (1-D, exact, per dose) against the experiment over
  t = 5 ... 480 min (96 times, ``cellsde.losses.tw2``), and ``RMS W2`` = sqrt(tW2 / 96) in uM;
  the row ``exp half vs half`` gives the finite-sample floor (30 vs 30 measured cells).

Figures (``--images``, default ``docs/images``): ``nfkb_fans.png`` (mean and 5-95 % band per dose)
and ``nfkb_peaks.png`` (histograms of first-peak time and height).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nfkb_vs_experiment.py \
        [../shared/data/nfkb-guo2024/example_data.mat] [--cells 60] \
        [--schemes default,logitnormal] [--images docs/images | --no-figures]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import xarray as xr

from cellsde.datasets import from_arrays
from cellsde.datasets.guo2024 import read_guo2024
from cellsde.losses import tw2
from cellsde.simulation import sample_theta
from cellsde.solvers.ode import ode
from models_bio.nfkb.guo2024 import dose_to_uM, guo2024

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/nfkb-guo2024/example_data.mat"
SPECIES = "nfkb_nuclear"
LATE = (240.0, 480.0)  # minutes, window of the damping ratio


def experiment(path: Path) -> tuple[xr.Dataset, xr.Dataset, dict[int, float]]:
    """TNF cells of the file: (measured, authors' fits, {group: dose ng/mL})."""
    both = read_guo2024(path, source="both")
    tnf = both.isel(cell=np.flatnonzero(both["ligand"].values == "TNF"))
    exp = tnf.isel(cell=np.flatnonzero(tnf["source"].values == "exp"))
    pred = tnf.isel(cell=np.flatnonzero(tnf["source"].values == "pred"))
    doses = {int(g): float(d) for g, d in zip(exp["group"].values, exp["dose"].values)}
    return exp, pred, dict(sorted(doses.items()))


def basal_states(
    net, x0: np.ndarray, p: np.ndarray, *, max_chunks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1 per cell (the rule of ``steady_state``): (state (cell, species), converged (cell,)).

    Unlike :func:`cellsde.solvers.ode.steady_state` this does not raise for cells still moving
    after ``max_chunks`` chunks of 4000 min; it flags them (e.g. a sustained basal oscillation).
    """
    x, moving = x0.copy(), np.arange(x0.shape[0])
    for _ in range(max_chunks):
        if moving.size == 0:
            break
        end = ode(net, x0=x[moving], params=p[moving], times=np.array([0.0, 4000.0]),
                  method="BDF", hold=("TNF",), events=False)[:, -1]  # fmt: skip
        big = np.abs(end) >= 8e-7
        change = np.abs(end - x[moving]) / np.where(big, np.abs(end), 1.0)
        done = np.all(~big | (change < 5e-4), axis=1)
        x[moving] = end
        moving = moving[~done]
    ok = np.ones(x.shape[0], dtype=bool)
    ok[moving] = False
    return x, ok


def simulate_doses(
    scheme: str, doses: dict[int, float], *, n_cells: int, times: np.ndarray, seed: int
) -> tuple[xr.Dataset, int]:
    """The same ``n_cells`` virtual cells at every dose; group labels = the experiment's.

    Cells are drawn in order; a cell without a basal steady state after 15 chunks (60,000 min)
    is skipped and replaced by the next draw. Returns (dataset, number of cells skipped).
    """
    net = guo2024(ligand="TNF", heterogeneity=scheme)
    n_draw = n_cells + max(2, n_cells // 4)
    theta, cols, _ = sample_theta(net, n_cells=n_draw, seed=seed)  # (cell, param)
    kin = net.kinetics
    p = kin.parameter_vector({q: theta[:, j] for j, q in enumerate(cols)}, n_draw)
    x0 = kin.initial_state(p)  # (cell, species)
    tnf = net.species_names.index("TNF")
    x0[:, tnf] = 0.0
    basal, ok = np.empty_like(x0), np.zeros(n_draw, dtype=bool)
    done = 0
    while ok.sum() < n_cells and done < n_draw:  # phase 1, once for all doses
        take = np.arange(done, min(n_draw, done + n_cells - int(ok.sum())))
        basal[take], ok[take] = basal_states(net, x0[take], p[take], max_chunks=15)
        done = take[-1] + 1
    keep = np.flatnonzero(ok)[:n_cells]
    if keep.size < n_cells:
        raise RuntimeError(f"only {keep.size} of {n_draw} drawn cells reached a steady state")
    skipped = int(np.sum(~ok[:done]))
    basal, p = basal[keep], p[keep]
    w = np.zeros(len(net.species_names))  # (species,) observable weights
    for s, c in net.observables[SPECIES].items():
        w[net.species_names.index(s)] = c
    blocks, groups = [], []
    for g, dose in doses.items():
        start = basal.copy()
        start[:, tnf] = dose_to_uM("TNF", dose)
        x = ode(net, x0=start, params=p, times=times, method="BDF")  # (cell, time, species)
        blocks.append(x @ w)  # (cell, time)
        groups += [g] * n_cells
    ds = from_arrays(
        np.concatenate(blocks)[:, :, None],
        times=times,
        species=[SPECIES],
        group=np.asarray(groups),
        time_units="min",
        attrs={"model": "guo2024", "method": "ode", "seed": seed},
        cell_coords={"dose": np.repeat(list(doses.values()), n_cells)},
    )
    return ds, skipped


def traces(ds: xr.Dataset, group: int) -> np.ndarray:
    """(cell, time) nuclear NF-kB of one group."""
    sel = np.flatnonzero(ds["group"].values == group)
    return ds["x"].sel(species=SPECIES).values[sel]


def first_peaks(x: np.ndarray, t: np.ndarray, window: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell first peak: (time, height) of the maximum over ``t <= window``."""
    inside = t <= window
    k = np.argmax(x[:, inside], axis=1)  # (cell,)
    return t[inside][k], x[np.arange(x.shape[0]), k]


def mean_waves(mean: np.ndarray, t: np.ndarray, window: float) -> tuple[float, float, float]:
    """Population mean: (trough, second-peak height, second-peak time); NaN when no 2nd wave.

    Trough = minimum within 120 min after the mean's first peak (max over ``t <= window``);
    second peak = maximum within 150 min after the trough, counted only if it exceeds the
    trough by >= 0.005 uM and is not at the window's end.
    """
    ip = int(np.argmax(np.where(t <= window, mean, -np.inf)))
    seg = np.flatnonzero((t > t[ip]) & (t <= t[ip] + 120.0))
    it = int(seg[np.argmin(mean[seg])])
    seg2 = np.flatnonzero((t > t[it]) & (t <= t[it] + 150.0))
    i2 = int(seg2[np.argmax(mean[seg2])])
    if mean[i2] - mean[it] < 0.005 or i2 == seg2[-1]:
        return float(mean[it]), float("nan"), float("nan")
    return float(mean[it]), float(mean[i2]), float(t[i2])


def features(x: np.ndarray, t: np.ndarray, window: float) -> dict[str, float]:
    mean = x.mean(0)  # (time,)
    tp, hp = first_peaks(x, t, window)
    first = mean[t <= window].max()
    late = mean[(t >= LATE[0]) & (t <= LATE[1])].mean()
    waves = mean_waves(mean, t, window)
    return {
        "base": float(np.median(x[:, 0])),
        "mean_peak": float(mean.max()),
        "mean_peak_t": float(t[np.argmax(mean)]),
        "tp_med": float(np.median(tp)),
        "tp_lo": float(np.quantile(tp, 0.05, method="nearest")),
        "tp_hi": float(np.quantile(tp, 0.95, method="nearest")),
        "hp_med": float(np.median(hp)),
        "hp_lo": float(np.quantile(hp, 0.05, method="nearest")),
        "hp_hi": float(np.quantile(hp, 0.95, method="nearest")),
        "late": float(late),
        "late_ratio": float(late / first),
        "trough": waves[0],
        "second": waves[1],
        "second_t": waves[2],
    }


def score(sim: xr.Dataset, exp: xr.Dataset, group: int) -> tuple[float, float]:
    """(tW2 over t > 0, RMS W2 in uM) of one dose."""
    pick = {
        name: ds.isel(cell=np.flatnonzero(ds["group"].values == group))
        for name, ds in (("sim", sim), ("exp", exp))
    }
    val = tw2(pick["sim"], pick["exp"], species=[SPECIES])
    n_t = exp.sizes["time"] - 1
    return val, float(np.sqrt(val / n_t))


def plot_fans(pops: dict[str, xr.Dataset], doses: dict[int, float], path: Path) -> None:
    import matplotlib.pyplot as plt

    from cellsde.plot import cellsde_style, save_figure

    styles = {
        "experiment": {"color": "black", "ls": "-", "band": "0.75"},
        "authors' fits": {"color": "#E69F00", "ls": ":", "band": None},
    }
    model_colors = ["#0072B2", "#009E73"]
    with cellsde_style():
        fig, axes = plt.subplots(1, len(doses), figsize=(4.6 * len(doses), 3.8), sharey=True)
        for ax, (g, dose) in zip(np.atleast_1d(axes), doses.items()):
            k = 0
            for name, ds in pops.items():
                st = styles.get(name)
                if st is None:
                    st = {"color": model_colors[k % 2], "ls": "--", "band": model_colors[k % 2]}
                    k += 1
                x = traces(ds, g)
                t = ds["time"].values
                if st["band"] is not None and (name == "experiment" or k == 1):
                    lo, hi = np.quantile(x, [0.05, 0.95], axis=0)
                    alpha = 0.5 if name == "experiment" else 0.25
                    ax.fill_between(t, lo, hi, color=st["band"], alpha=alpha, lw=0,
                                    label=f"{name} 5-95 %")  # fmt: skip
                ax.plot(t, x.mean(0), color=st["color"], ls=st["ls"], lw=1.8,
                        label=f"{name} mean")  # fmt: skip
            ax.set_title(f"TNF {dose:g} ng/mL", loc="left")
            ax.set_xlabel("time after TNF (min)")
            ax.set_xticks(np.arange(0, 481, 120))
        np.atleast_1d(axes)[0].set_ylabel("nuclear NF-κB (µM)")
        handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncols=min(len(labels), 4),
                   bbox_to_anchor=(0.5, -0.02))  # fmt: skip
        fig.tight_layout(rect=(0, 0.12, 1, 1))
        save_figure(fig, path, formats=("png",), dpi=150)
        plt.close(fig)


def plot_peaks(pops: dict[str, xr.Dataset], doses: dict[int, float], window: float, path: Path):
    import matplotlib.pyplot as plt

    from cellsde.plot import cellsde_style, save_figure

    colors = ["black", "#E69F00", "#0072B2", "#009E73"]
    with cellsde_style():
        fig, axes = plt.subplots(2, len(doses), figsize=(4.6 * len(doses), 6.2), squeeze=False)
        for j, (g, dose) in enumerate(doses.items()):
            feats = {}
            for name, ds in pops.items():
                feats[name] = first_peaks(traces(ds, g), ds["time"].values, window)
            bins_t = np.arange(-2.5, window + 5, 5.0)
            hi = max(float(f[1].max()) for f in feats.values())
            bins_h = np.linspace(0.0, hi * 1.05, 25)
            for i, bins in ((0, bins_t), (1, bins_h)):
                ax = axes[i, j]
                for c, (name, f) in zip(colors, feats.items()):
                    ax.hist(f[i], bins=bins, histtype="step", color=c, lw=1.6, label=name)
                ax.set_xlabel("first-peak time (min)" if i == 0 else "first-peak height (µM)")
                if j == 0:
                    ax.set_ylabel("cells")
            axes[0, j].set_title(f"TNF {dose:g} ng/mL", loc="left")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncols=len(labels),
                   bbox_to_anchor=(0.5, -0.01))  # fmt: skip
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        save_figure(fig, path, formats=("png",), dpi=150)
        plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA, help="example_data.mat")
    ap.add_argument("--cells", type=int, default=60, help="model cells per dose")
    ap.add_argument("--schemes", default="default,logitnormal", help="heterogeneity schemes")
    ap.add_argument("--peak-window", type=float, default=120.0, help="first-peak window, min")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--images", type=Path, default=Path("docs/images"))
    ap.add_argument("--no-figures", action="store_true")
    args = ap.parse_args()

    exp, pred, doses = experiment(args.data)
    times = np.asarray(exp["time"].values, dtype=float)  # 0, 5, ..., 480 min
    pops: dict[str, xr.Dataset] = {"experiment": exp, "authors' fits": pred}
    for scheme in [s.strip() for s in args.schemes.split(",") if s.strip()]:
        w, c = time.perf_counter(), time.process_time()
        pops[f"cellsde {scheme}"], skipped = simulate_doses(
            scheme, doses, n_cells=args.cells, times=times, seed=args.seed
        )
        print(f"simulated {scheme}: {args.cells} cells x {len(doses)} doses in "
              f"{time.perf_counter() - w:.0f} s wall, {time.process_time() - c:.0f} s CPU; "
              f"{skipped} drawn cell(s) had no basal steady state and were replaced")  # fmt: skip

    rng = np.random.default_rng(args.seed)
    perm = {g: rng.permutation(np.flatnonzero(exp["group"].values == g)) for g in doses}
    half_a = exp.isel(cell=np.concatenate([v[: v.size // 2] for v in perm.values()]))
    half_b = exp.isel(cell=np.concatenate([v[v.size // 2 :] for v in perm.values()]))

    n_exp = {g: int(np.sum(exp["group"].values == g)) for g in doses}
    print(
        f"\nTNF, nuclear NF-kB (NFkBn + IkBaNFkBn, uM), {n_exp} measured cells per dose; first "
        f"peak = max over 0-{args.peak_window:g} min; tW2 over t = 5..480 min (96 times)"
    )
    print(
        "| TNF ng/mL | population | base | mean peak (at min) | peak time median [5-95 %] "
        "| peak height median [5-95 %] | trough / 2nd peak (at min) | late (late/peak) | tW2 vs exp | RMS W2 µM |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for g, dose in doses.items():
        for name, ds in pops.items():
            f = features(traces(ds, g), times, args.peak_window)
            sec = "-" if np.isnan(f["second"]) else f"{f['second']:.3f} ({f['second_t']:.0f})"
            if name == "experiment":
                val, rms = score(half_a, half_b, g)
                w2 = f"{val:.4f}* | {rms:.4f}*"
            else:
                val, rms = score(ds, exp, g)
                w2 = f"{val:.4f} | {rms:.4f}"
            print(
                f"| {dose:g} | {name} | {f['base']:.4f} | {f['mean_peak']:.3f} "
                f"({f['mean_peak_t']:.0f}) | {f['tp_med']:.0f} [{f['tp_lo']:.0f}-{f['tp_hi']:.0f}] "
                f"| {f['hp_med']:.3f} [{f['hp_lo']:.3f}-{f['hp_hi']:.3f}] | "
                f"{f['trough']:.3f} / {sec} | {f['late']:.3f} ({f['late_ratio']:.2f}) | {w2} |"
            )
    print("\n* experiment row: tW2 between two random halves of the measured cells (30 vs 30), "
          "the finite-sample floor")  # fmt: skip
    if not args.no_figures:
        args.images.mkdir(parents=True, exist_ok=True)
        plot_fans(pops, doses, args.images / "nfkb_fans")
        plot_peaks(pops, doses, args.peak_window, args.images / "nfkb_peaks")
        print(f"figures: {args.images / 'nfkb_fans.png'}, {args.images / 'nfkb_peaks.png'}")


if __name__ == "__main__":
    main()
