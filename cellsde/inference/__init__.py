"""Heterogeneity inference: theta per group of cells, with its uncertainty.

The front door is :func:`cellsde.infer` (defined in :mod:`cellsde.inference.infer`); it runs
the steps ``prepare`` -> ``estimators`` -> ``uncertainty`` -> ``result``. The building blocks
for one's own pipelines::

    Amortizer, AmortizerConfig, save_amortizer, load_amortizer   the amortised network
    simulate_training_sets(model, *, x0, lo, hi, times, readout, ...) -> (y, theta)
    train_amortizer(y, theta, *, observed, params, times, ...)  -> Amortizer
    minimise_tw2(model, data, *, lo, hi, starts, ...)           batched tW2 search over theta
    resample_cells(data, *, n_boot, generator)                  bootstrap of a group's cells
    parametric_interval(model, data, theta_hat, estimate, ...)  calibrated (parametric) interval
    assign_groups(ds, *, group_size)                            which cells share theta
"""

from cellsde.inference.amortized import Amortizer, AmortizerConfig, load_amortizer, save_amortizer
from cellsde.inference.amortized_train import simulate_training_sets, train_amortizer
from cellsde.inference.bootstrap import resample_cells
from cellsde.inference.groups import assign_groups
from cellsde.inference.parametric import ParametricInterval, parametric_interval
from cellsde.inference.w2_search import minimise_tw2

__all__ = [
    "Amortizer",
    "AmortizerConfig",
    "ParametricInterval",
    "assign_groups",
    "load_amortizer",
    "minimise_tw2",
    "parametric_interval",
    "resample_cells",
    "save_amortizer",
    "simulate_training_sets",
    "train_amortizer",
]
