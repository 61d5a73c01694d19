"""Calibrate a mechanistic model's cell population to lab time-lapse data.

Public names::

    calibrate(model, data, *, free, observation, conditions, config) -> Calibration
    CalibrationConfig, FreeParameter, ObservationModel, Condition
    open_population(path, *, model) -> Dataset       a population file written by calibrate
    sample_cells(population, n_cells, *, seed) -> {param: values}
    simulate_population(model, population, *, times, n_cells, seed) -> Dataset (as measured)
    write_population(population, path)

See :func:`calibrate` for the method and :mod:`cellsde.calibration.uncertainty` for the
intervals.
"""

from cellsde.calibration.calibrate import Calibration, calibrate, write_population
from cellsde.calibration.draw import sample_cells, simulate_population
from cellsde.calibration.result import open_population
from cellsde.calibration.spec import (
    CalibrationConfig,
    Condition,
    FreeParameter,
    ObservationModel,
)

__all__ = [
    "Calibration",
    "CalibrationConfig",
    "Condition",
    "FreeParameter",
    "ObservationModel",
    "calibrate",
    "open_population",
    "sample_cells",
    "simulate_population",
    "write_population",
]
