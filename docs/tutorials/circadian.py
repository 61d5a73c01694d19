"""Tutorial: the circadian clock — a heterogeneous Vilar 2002 population and an END-nSDE fit.

Part 1 simulates the Vilar-Kueh-Barkai-Leibler activator-repressor oscillator for a population
whose cells differ in their rate constants (extrinsic noise, drawn from the model's declared
heterogeneity), once deterministically (ODE) and once with intrinsic noise (exact SSA), and
compares the oscillation periods.

Part 2 fits an END-nSDE to the paper's damped-oscillator benchmark: populations on a 5 x 5 grid
of noise parameters omega, five interior grid points held out, scored against the sampling
floor (truth vs truth).

Run from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python docs/tutorials/circadian.py [--out DIR]

``CELLSDE_TUTORIAL_SMALL=1`` runs a reduced version (fewer cells, shorter runs, few epochs)
that finishes in well under a minute; the numbers then only show that the pipeline works.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

import cellsde
import models_bio as mb
from cellsde.datasets import save_dataset
from cellsde.evaluation import evaluate, sampling_floor
from cellsde.nn.checkpoint import save_model
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.training import fit, preset, preset_model_options

SMALL = os.environ.get("CELLSDE_TUTORIAL_SMALL", "") not in ("", "0")


def period(t: np.ndarray, y: np.ndarray) -> float:
    """Mean time between upward crossings of the trajectory's mean (NaN if < 2 crossings)."""
    s = y - y.mean()
    up = np.flatnonzero((s[:-1] < 0) & (s[1:] >= 0))
    return float(np.diff(t[up]).mean()) if up.size >= 2 else float("nan")


# --8<-- [start:vilar]
def vilar_population(out: Path) -> None:
    t_end, n_ode, n_ssa = (60.0, 8, 3) if SMALL else (200.0, 200, 50)
    times = np.arange(0.0, t_end + 0.5, 0.5)  # h
    # Extrinsic noise: every cell draws its own rate constants from the model's declared
    # heterogeneity (deltaR ~ LogUniform[0.1, 0.3] /h, log-normal factors on nine others).
    ode = cellsde.simulate("vilar2002", times=times, n_cells=n_ode, method="ode", seed=1)
    # Intrinsic noise on top: the exact SSA, same parameter distribution, whole molecules.
    ssa = cellsde.simulate("vilar2002", times=times, n_cells=n_ssa, method="ssa", seed=2)
    for name, ds in (("ODE", ode), ("SSA", ssa)):
        r = ds["x"].sel(species="R").values  # (cell, time), molecules
        keep = times > 20.0  # skip the transient
        periods = np.array([period(times[keep], cell[keep]) for cell in r])
        print(f"{name}: {ds.sizes['cell']} cells, R period median "
              f"{np.nanmedian(periods):.1f} h (IQR {np.nanpercentile(periods, 25):.1f}-"
              f"{np.nanpercentile(periods, 75):.1f} h), deltaR range "
              f"{float(ds['theta'].sel(param='deltaR').min()):.2f}-"
              f"{float(ds['theta'].sel(param='deltaR').max()):.2f} /h")  # fmt: skip
    save_dataset(ssa, out / "vilar_ssa.nc")  # netCDF, schema-validated


# --8<-- [end:vilar]


# --8<-- [start:damped]
HELD_OUT = {(-0.5, -0.5), (-0.5, 0.5), (0.0, 0.0), (0.5, -0.5), (0.5, 0.5)}


def damped_fit(out: Path) -> None:
    truth = mb.damped_oscillator(k1=0.3, k2=0.1)  # an SDEModel: drift and diffusion in torch
    n, epochs = (20, 5) if SMALL else (50, 200)
    times = np.linspace(0.0, 1.0, 11)  # dimensionless
    # One group per grid point omega = (omega1, omega2) in {-1, -0.5, 0, 0.5, 1}^2.
    data = cellsde.simulate(truth, times=times, cells_per_group=n, seed=0, dt=1e-3)
    omega = data["theta"].values  # (cell, param)
    held = np.array([tuple(w) in HELD_OUT for w in omega])  # (cell,)
    train, test = data.isel(cell=~held), data.isel(cell=held)

    options = preset_model_options("damped_oscillator")  # the authors' architecture
    model = ENDnSDE(ENDnSDEConfig(("x1", "x2"), ("omega1", "omega2"), **options), seed=0)
    config = preset("damped_oscillator", epochs=epochs, dt=2e-2, n_paths=n, standardize=True)
    result = fit(model, train, config=config)
    print(f"END-nSDE: {epochs} epochs, final training tW2 "
          f"{float(result.history['train_loss'][-1]):.4f}")  # fmt: skip

    # Held-out omegas: rollout from the observed initial states, exact W2 per time.
    score = evaluate(result.model, test, n_paths=n, dt=2e-2, seed=1, true_model=truth)
    # the true SDE scored exactly like the model (n paths against the same data cells)
    floor = sampling_floor(truth, test, n_paths=n, dt=1e-3, seed=2, against="data")
    print(f"held-out tW2 {float(score['tw2_total']):.4f} vs sampling floor "
          f"{float(floor['tw2_total']):.4f}; relative drift error "
          f"{float(score['drift_error_total']):.3f}")  # fmt: skip
    save_model(result.model, out / "damped_endnsde.pt")


# --8<-- [end:damped]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(tempfile.gettempdir()) / "cellsde-tutorials" / "circadian"
    ap.add_argument("--out", type=Path, default=default, help="output folder")
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    vilar_population(args.out)
    damped_fit(args.out)
    print(f"files written to {args.out}")


if __name__ == "__main__":
    main()
