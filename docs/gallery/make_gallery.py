"""Make the figure gallery: one PNG per figure type of :mod:`cellsde.plot`.

Run from the repository root::

    .venv/bin/python docs/gallery/make_gallery.py [--out docs/gallery/images]

The populations are simulated here with a few lines of numpy (Euler–Maruyama for a noisy
damped oscillator whose frequency ``omega`` varies between cells, 10% of observations
dropped at random), so the gallery depends on nothing but the plotting and loss code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from cellsde.datasets import from_arrays
from cellsde.losses import w2_per_time
from cellsde.plot import (
    group_panels,
    marginal_times,
    marginals,
    pareto,
    save_figure,
    theta_heatmap,
    theta_recovery_panels,
    trajectory_fan,
    w2_over_time,
)

TIMES = np.linspace(0.0, 20.0, 41)  # h
OMEGAS = (0.6, 0.9, 1.2)  # rad/h, one group per value


def oscillators(omega, *, damping=0.08, noise=0.12, seed=0, missing=0.0):
    """Noisy damped oscillators: x (cell, time, 2) in µM for per-cell frequencies ``omega``."""
    rng = np.random.default_rng(seed)
    omega = np.asarray(omega, dtype=float)
    n = omega.size
    steps_per = 20
    h = (TIMES[1] - TIMES[0]) / steps_per
    a = 1.0 + 0.1 * rng.standard_normal(n)  # µM
    b = np.zeros(n)
    out = np.empty((n, TIMES.size, 2))
    out[:, 0] = np.stack([a, b], 1)
    for k in range(1, TIMES.size):
        for _ in range(steps_per):
            da = (omega * b - damping * a) * h + noise * np.sqrt(h) * rng.standard_normal(n)
            db = (-omega * a - damping * b) * h + noise * np.sqrt(h) * rng.standard_normal(n)
            a, b = a + da, b + db
        out[:, k] = np.stack([a, b], 1)
    out += 2.0  # keep concentrations positive
    if missing:
        out[rng.random(out.shape[:2]) < missing] = np.nan
    return out


def w2_1d(a, b, n=64):
    """Squared W2 between two 1-D samples (NaN dropped) through their quantile functions."""
    q = (np.arange(n) + 0.5) / n
    return float(
        np.mean((np.quantile(a[np.isfinite(a)], q) - np.quantile(b[np.isfinite(b)], q)) ** 2)
    )


def population(x, omega, group, *, model, seed):
    ds = from_arrays(
        x, times=TIMES, species=["A", "B"], theta=np.asarray(omega)[:, None], params=["omega"],
        group=group, time_units="h", attrs={"model": model, "method": "sde", "seed": seed},
    )  # fmt: skip
    ds["x"].attrs["units"] = "µM"
    ds["theta"].attrs["units"] = "rad/h"
    return ds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "images"))
    out = Path(parser.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # small exact OT problems: threads only add overhead
    rng = np.random.default_rng(1)
    group = np.repeat(np.arange(len(OMEGAS)), 100)
    omega = np.asarray(OMEGAS)[group] * np.exp(0.05 * rng.standard_normal(group.size))
    data = population(oscillators(omega, seed=2, missing=0.1), omega, group, model="truth", seed=2)
    fitted = population(oscillators(omega * 1.02, noise=0.13, seed=3), omega, group,
                        model="END-nSDE", seed=3)  # fmt: skip
    lstm = population(oscillators(omega * 1.1, noise=0.2, seed=4), omega, group,
                      model="LSTM", seed=4)  # fmt: skip
    node = population(oscillators(omega * 0.95, noise=0.0, seed=5), omega, group,
                      model="neural ODE", seed=5)  # fmt: skip
    written = []

    fig = trajectory_fan(data, species="A", model=fitted, group=1)
    written += save_figure(fig, out / "trajectory_fan", formats=("png",), dpi=150)

    # one panel per omega group: a fan over all cells would pool three frequencies
    fig = group_panels(data, trajectory_fan, species="A", model=fitted, n_samples=2, ncols=3)
    written += save_figure(fig, out / "group_panels", formats=("png",), dpi=150)

    times = marginal_times(data, species="A", group=1)  # start, first trough, peak after it, end
    fig = marginals(data, species="A", times=times, model=fitted, group=1)
    written += save_figure(fig, out / "marginals", formats=("png",), dpi=150)

    tables = {name: w2_per_time(ds, data) for name, ds in
              (("END-nSDE", fitted), ("LSTM", lstm), ("neural ODE", node))}  # fmt: skip
    fig = w2_over_time(tables, data=data)
    written += save_figure(fig, out / "w2_over_time", formats=("png",), dpi=150)

    # heterogeneity inference: per-group estimates of both components with uncertainty
    import xarray as xr

    gp = ("group", "param")
    true = np.stack([np.linspace(0.5, 1.5, 12), np.linspace(0.02, 0.3, 12)[::-1]], 1)
    est = true * (1 + 0.05 * rng.standard_normal(true.shape))
    std = true * (0.03 + 0.03 * rng.random(true.shape))
    coords = {"param": ["omega", "damping"]}
    fig = theta_recovery_panels(
        xr.DataArray(true, dims=gp, coords=coords), xr.DataArray(est, dims=gp, coords=coords),
        std=xr.DataArray(std, dims=gp, coords=coords), units={"omega": "rad/h", "damping": "1/h"},
    )  # fmt: skip
    written += save_figure(fig, out / "theta_recovery", formats=("png",), dpi=150)

    # W2 to the data over a grid of (omega, damping) of a candidate model
    om, dm = np.linspace(0.5, 1.3, 7), np.array([0.02, 0.04, 0.08, 0.16, 0.32])
    ref = data["x"].values[group == 1, :, 0]  # (cell, time) species A
    grid = np.empty((dm.size, om.size))
    for i, d in enumerate(dm):
        for j, w in enumerate(om):
            sim = oscillators(np.full(100, w), damping=d, seed=10 + i * om.size + j)[:, :, 0]
            grid[i, j] = np.mean([w2_1d(sim[:, k], ref[:, k]) for k in range(1, TIMES.size)])
    values = xr.DataArray(
        grid, dims=("damping", "omega"), coords={"damping": dm, "omega": om},
        name="mean squared W2 of A", attrs={"units": "µM²"},
    )  # fmt: skip
    values["damping"].attrs["units"] = "1/h"
    values["omega"].attrs["units"] = "rad/h"
    fig = theta_heatmap(values, x_param="omega", y_param="damping", mark="min", log=True)
    written += save_figure(fig, out / "theta_heatmap", formats=("png",), dpi=150)

    # dendrite compression: illustrative numbers (parameter count vs held-out tW2)
    params = [40_600, 10_400, 2_700, 740, 2_950, 900, 3_300, 1_150]
    w2 = [0.021, 0.024, 0.041, 0.090, 0.026, 0.047, 0.025, 0.038]
    labels = ["200x200", "100x100", "50x50", "25x25", "50x50 +1d", "25x25 +1d", "50x50 +2d",
              "25x25 +2d"]  # fmt: skip
    kinds = ["wide"] * 4 + ["narrow + dendrites"] * 4
    fig = pareto(params, w2, labels=labels, kinds=kinds, w2_units="µM²")
    written += save_figure(fig, out / "pareto", formats=("png",), dpi=150)

    for path in written:
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
