"""The stages of ``cellsde demo`` (see :mod:`cellsde.demo.run`).

Each stage is ``stage(root, cfg, numbers, *, guo, progress) -> (files, new_numbers)``: it
reads what earlier stages wrote in ``root``, writes its own files (atomically) and returns
their names relative to ``root`` and the numbers it computed for the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cellsde.demo.config import EXAMPLE_TRACKS, HELD_OUT, K1, K2, DemoConfig, held_out_mask
from cellsde.demo.report import write_report


def _figure(fig: Any, root: Path, stem: str) -> str:
    from cellsde.plot import save_figure

    save_figure(fig, root / stem, formats=("png",), dpi=150)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f"{stem}.png"


def stage_tracks(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    from cellsde.datasets import import_csv, import_report, save_dataset
    from cellsde.plot import group_panels, trajectory_fan

    if not EXAMPLE_TRACKS.is_file():
        return [], {"tracks_cells": None}
    ds = import_csv(EXAMPLE_TRACKS, cell_col="track_id", time_col="time_min", time_units="min",
                    value_units="a.u.", species=["nfkb_nuc", "nfkb_cyt"],
                    group_col="condition")  # fmt: skip
    save_dataset(ds, root / "tracks.nc")
    fig = group_panels(ds, trajectory_fan, species="nfkb_nuc", ncols=2, panel_size=(3.6, 2.6))
    rep = import_report(ds)
    return ["tracks.nc", _figure(fig, root, "tracks_fan")], {
        "tracks_cells": int(ds.sizes["cell"]),
        "tracks_times": int(ds.sizes["time"]),
        "tracks_nan_fraction": float(np.isnan(ds["x"].values).mean()),
        "tracks_report": rep.lines(),
    }


def stage_nfkb(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    from cellsde.datasets import read_guo2024, save_dataset
    from cellsde.plot import marginal_times, marginals, trajectory_fan

    if guo is None:
        return [], {"nfkb_cells": None}
    ds = read_guo2024(guo)
    tnf = ds.isel(
        cell=np.flatnonzero((ds["ligand"].values == "TNF") & np.isclose(ds["dose"].values, 10.0))
    )
    save_dataset(tnf, root / "nfkb_tnf.nc")
    mean = np.nanmean(tnf["x"].values[:, :, 0], axis=0)
    fig = trajectory_fan(tnf, species="nfkb_nuclear")
    times = marginal_times(tnf, species="nfkb_nuclear")  # start, first peak, trough, end
    dens = marginals(tnf, species="nfkb_nuclear", times=times)
    return [
        "nfkb_tnf.nc",
        _figure(fig, root, "nfkb_tnf_fan"),
        _figure(dens, root, "nfkb_tnf_marginals"),
    ], {
        "nfkb_cells": int(tnf.sizes["cell"]),
        "nfkb_peak_uM": float(mean.max()),
        "nfkb_peak_min": float(tnf["time"].values[int(mean.argmax())]),
    }


def stage_population(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    import models_bio
    from cellsde.datasets import save_dataset
    from cellsde.plot import group_panels, trajectory_fan
    from cellsde.simulation import simulate

    model = models_bio.damped_oscillator(k1=K1, k2=K2)
    times = np.linspace(0.0, 1.0, 11)
    ds = simulate(model, times=times, cells_per_group=cfg.cells_per_group, seed=cfg.seed, dt=1e-3)
    save_dataset(ds, root / "population.nc")
    fig = group_panels(ds, trajectory_fan, species="x1", groups=[*HELD_OUT, 0, 24],
                       n_samples=3)  # fmt: skip
    return ["population.nc", _figure(fig, root, "population_fan")], {
        "population_cells": int(ds.sizes["cell"]),
        "population_groups": int(np.unique(ds["group"].values).size),
    }


def _split(root: Path):
    from cellsde.datasets import open_dataset

    ds = open_dataset(root / "population.nc")
    held = held_out_mask(ds["group"].values)
    return ds.isel(cell=np.flatnonzero(~held)), ds.isel(cell=np.flatnonzero(held))


def stage_fit(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    from cellsde.datasets.io import write_table
    from cellsde.errors import CheckpointError
    from cellsde.nn.checkpoint import save_model
    from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
    from cellsde.training import FitConfig, fit

    train, _ = _split(root)
    model = ENDnSDE(ENDnSDEConfig(species=("x1", "x2"), params=("omega1", "omega2"), hidden=cfg.hidden,
                                  activation="elu", noise="diagonal", time_units="dimensionless"),
                    seed=cfg.seed)  # fmt: skip
    config = FitConfig(epochs=cfg.epochs, lr=5e-3, weight_decay=1e-4, dt=cfg.dt, standardize=True,
                       seed=cfg.seed, progress=progress, checkpoint_path=str(root / "fit.state"),
                       checkpoint_every=25, resume=True)  # fmt: skip
    try:  # a demo killed mid-fit resumes where it stopped
        result = fit(model, train, config=config)
    except CheckpointError:  # a training state left by a demo of other settings
        (root / "fit.state").unlink()
        result = fit(model, train, config=config)
    save_model(result.model, root / "model.pt", metadata={"fit_config": config.to_json()})
    (root / "fit.state").unlink(missing_ok=True)  # only needed while the fit runs
    write_table(result.history, root / "history.nc")
    loss = result.history["train_loss"].values
    return ["model.pt", "history.nc"], {"fit_epochs": int(loss.size), "fit_loss_first": float(loss[0]),
                                        "fit_loss_last": float(loss[-1])}  # fmt: skip


def stage_evaluate(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    import models_bio
    from cellsde.baselines import MechanisticSDE
    from cellsde.datasets.io import write_table
    from cellsde.evaluation import evaluate, sampling_floor
    from cellsde.nn.checkpoint import load_model
    from cellsde.plot import w2_over_time

    _, held = _split(root)
    model = load_model(root / "model.pt")
    truth = models_bio.damped_oscillator(k1=K1, k2=K2)
    res = evaluate(model, held, dt=cfg.dt, seed=cfg.seed + 1, true_model=truth)
    # the truth scored exactly like the model (same paths, same data cells): size-matched
    floor = sampling_floor(MechanisticSDE(truth), held, n_paths=int(res.attrs["n_paths"]),
                           dt=cfg.dt, seed=cfg.seed + 2, against="data")  # fmt: skip
    write_table(res, root / "evaluation.nc")
    fig = w2_over_time({"END-nSDE": res}, floor=floor, data=held)  # the data's units
    fig.axes[0].set_title(f"held-out groups {', '.join(map(str, HELD_OUT))}: W2 to the data "
                          "(mean over groups)", loc="left", fontsize=9)  # fmt: skip
    return ["evaluation.nc", _figure(fig, root, "w2_over_time")], {
        "heldout_tw2": float(res["tw2"].mean()),
        "floor_tw2": float(floor["tw2"].mean()),
        "drift_error": float(res["drift_error_total"]),
        "diffusion_error": float(res["diffusion_error_total"]),
    }


def stage_infer(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    from cellsde.datasets.io import write_table
    from cellsde.inference.infer import infer
    from cellsde.nn.checkpoint import load_model
    from cellsde.plot import theta_recovery_panels

    _, held = _split(root)
    model = load_model(root / "model.pt")
    res = infer(model, held.drop_vars("theta"), method="w2", seed=cfg.seed, iterations=cfg.infer_iterations,
                n_bootstrap=cfg.n_bootstrap, n_starts=3)  # fmt: skip
    write_table(res, root / "theta.nc")
    first = [np.flatnonzero(res["cell_group"].values == g)[0] for g in res["group"].values]
    true = held["theta"].values[first]  # (group, param)
    gp = ("group", "param")
    fig = theta_recovery_panels(
        xr.DataArray(true, dims=gp, coords={"param": res["param"].values}),
        res["theta"], std=res["theta_std"], units={"omega1": "dimensionless",
                                                   "omega2": "dimensionless"},
    )  # fmt: skip
    err = np.abs(res["theta"].values - true)
    return ["theta.nc", _figure(fig, root, "theta_recovery")], {
        "infer_groups": int(res.sizes["group"]),
        "infer_labels": res["source_group"].values.tolist(),  # the data's group labels
        "infer_mae": float(err.mean()),
        "infer_coverage_2sd": float(np.mean(err <= 2 * res["theta_std"].values)),
        "infer_true": true.tolist(),
        "infer_estimates": res["theta"].values.tolist(),
        "infer_std": res["theta_std"].values.tolist(),
    }


def stage_compress(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    from cellsde.compression import compress
    from cellsde.datasets.atomic import atomic_path
    from cellsde.datasets.units import value_units
    from cellsde.nn.checkpoint import load_model, save_model
    from cellsde.plot import pareto
    from cellsde.plot.style import squared_units
    from cellsde.training.config import FitConfig

    train, held = _split(root)
    wide = load_model(root / "model.pt")
    config = FitConfig(epochs=cfg.compress_epochs, lr=5e-3, weight_decay=1e-4, dt=cfg.dt, seed=cfg.seed,
                       progress=False)  # fmt: skip
    res = compress(wide, train, valid=held, widths=(cfg.compress_width,), max_dendrites=1, mode="gd",
                   tolerance=0.05, config=config, seed=cfg.seed)  # fmt: skip
    table = res.table
    with atomic_path(root / "compression.csv") as tmp:
        table.to_csv(tmp, index=False)
    save_model(res.best_model, root / "model_small.pt")
    fig = pareto(table["params"].to_numpy(), table["valid_tw2"].to_numpy(),
                 labels=table["candidate"].tolist(), kinds=table["kind"].tolist(),
                 w2_units=squared_units(value_units(held)))  # fmt: skip
    rows = [
        {"candidate": str(r.candidate), "kind": str(r.kind), "width": int(r.width), "K": int(r.K),
         "params": int(r.params), "valid_tw2": float(r.valid_tw2)}
        for r in table.itertuples()
    ]  # fmt: skip
    return ["compression.csv", "model_small.pt", _figure(fig, root, "compression_pareto")], {
        "compress_rows": rows,
        "compress_best": res.best,
        "compressed": bool(res.compressed),
    }


def stage_report(
    root: Path, cfg: DemoConfig, numbers: dict, *, guo, progress
) -> tuple[list[str], dict]:
    write_report(root, cfg, numbers)
    return ["report.md"], {}


STAGES = (
    ("tracks", stage_tracks),
    ("nfkb", stage_nfkb),
    ("population", stage_population),
    ("fit", stage_fit),
    ("evaluate", stage_evaluate),
    ("infer", stage_infer),
    ("compress", stage_compress),
    ("report", stage_report),
)
