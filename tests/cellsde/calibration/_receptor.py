"""A small two-phase model and synthetic lab data from a known population (test helper)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from cellsde.datasets import from_arrays
from cellsde.simulation import simulate
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species

TRUTH = {"kact": (2.0, 0.3), "kb": (0.1, 0.3)}  # median, sd of log (nominal: 1.0, 0.05)
DOSES = (1.0, 5.0)
TIMES = np.arange(0.0, 31.0, 1.0)


def receptor(
    stimulus: dict[str, float] | None = None, *, system_size: float = 1.0
) -> ReactionNetwork:
    """Ligand L binds receptor R (made and lost at a steady rate); the complex C drives A."""
    law = [
        ("syn", {}, {"R": 1}, "ksyn"),
        ("deg", {"R": 1}, {}, "kdeg*R"),
        ("bind", {"L": 1, "R": 1}, {"C": 1}, "kon*L*R"),
        ("unbind", {"C": 1}, {"R": 1}, "koff*C"),
        ("act", {}, {"A": 1}, "kact*hill(C, 2, K)"),
        ("basal", {}, {"A": 1}, "kb"),
        ("dec", {"A": 1}, {}, "kdec*A"),
    ]
    params = [
        Parameter("ksyn", 1.0, "1/min"), Parameter("kdeg", 1.0, "1/min"),
        Parameter("kon", 2.0, "1/min"), Parameter("koff", 0.3, "1/min"),
        Parameter("kact", 1.0, "1/min", bounds=(0.1, 20.0)), Parameter("K", 0.5),
        Parameter("kb", 0.05, "1/min", bounds=(0.005, 0.5)), Parameter("kdec", 1.0, "1/min"),
    ]  # fmt: skip
    return ReactionNetwork(
        name="receptor_test",
        species=tuple(Species(s, 0.0) for s in ("L", "R", "C", "A")),
        parameters=tuple(params),
        reactions=tuple(Reaction(n, r, p, rate) for n, r, p, rate in law),
        time_units="min",
        observables={"response": {"A": 1.0}},
        stimulus=dict(stimulus or {}),
        system_size=system_size,
    )


def synthetic(n_cells: int, seed: int, *, noise: float = 0.0) -> xr.Dataset:
    """Measured cells of both doses from the TRUTH population (scipy's ODE path, independent
    of the calibration's solver), with coord ``group`` = dose index."""
    rng = np.random.default_rng(seed)
    blocks, groups = [], []
    for g, dose in enumerate(DOSES):
        theta = {k: m * np.exp(s * rng.standard_normal(n_cells)) for k, (m, s) in TRUTH.items()}
        ds = simulate(receptor({"L": dose}), times=TIMES, theta=theta, method="ode",
                      observables=["response"], solver_options={"rtol": 1e-8, "atol": 1e-10})  # fmt: skip
        x = ds["x"].values + noise * rng.standard_normal(ds["x"].shape)
        blocks.append(x)
        groups.append(np.full(n_cells, g))
    return from_arrays(np.concatenate(blocks), times=TIMES, species=["response"],
                       group=np.concatenate(groups), time_units="min")  # fmt: skip


CONDITIONS = {g: {"L": d} for g, d in enumerate(DOSES)}
