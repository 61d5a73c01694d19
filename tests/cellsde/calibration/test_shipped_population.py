"""The shipped Guo 2024 population (data/guo2024_adelaja_population.nc) reads and simulates."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import models_bio
from cellsde.calibration import open_population, simulate_population
from cellsde.datasets import validate_dataset

PATH = Path(__file__).resolve().parents[3] / "data" / "guo2024_adelaja_population.nc"


def test_shipped_population_reads_and_draws_cells_as_measured() -> None:
    pop = open_population(PATH, model="guo2024")
    assert pop.sizes["param"] == 23 and pop.attrs["measured"] == "nfkb_nuclear"
    median = pop["median"].to_series()
    assert 0.04 <= median["NFkB_total"] <= 0.3  # within the source's range
    net = models_bio.guo2024(ligand="TNF", dose=1.0, dose_units="ng/mL")
    ds = simulate_population(net, pop, times=np.arange(0.0, 31.0, 5.0), n_cells=3, seed=0)
    validate_dataset(ds)
    assert [str(s) for s in ds["species"].values] == ["nfkb_nuclear"]
    assert np.all(np.isfinite(ds["x"].values))
