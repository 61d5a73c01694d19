"""Scoring fitted population models: W2 tables, coefficient errors, sampling floors.

Public names::

    evaluate(model, data, *, n_paths, dt, seed, true_model, observed) -> Dataset
    sampling_floor(truth, data, *, n_paths, dt, seed) -> Dataset      truth vs truth
    teacher_forced_w2(model, data) -> Dataset                        the paper's baseline protocol
    noise_covariance(sde, t, x, theta) -> (path, species, species)
"""

from cellsde.evaluation.coefficients import noise_covariance
from cellsde.evaluation.floor import sampling_floor
from cellsde.evaluation.scores import evaluate
from cellsde.evaluation.teacher_forced import teacher_forced_w2

__all__ = ["evaluate", "noise_covariance", "sampling_floor", "teacher_forced_w2"]
