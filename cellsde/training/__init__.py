"""Training population models: the ``fit`` verb, its options and state, the objective.

Public names::

    fit(model, train, *, valid, config) -> FitResult(model, history, best_epoch, config)
    FitConfig(...)                        frozen options; preset(name, **overrides)
    preset_model_options(name)            the paper's architecture per system

Inside, one :func:`~cellsde.training.step.prepare` and one
:func:`~cellsde.training.step.train_step` serve :func:`fit` and the compress cascade
(:func:`~cellsde.training.cascade.fit_cascade`); the loss is
:mod:`cellsde.training.objective`, the resumable state :mod:`cellsde.training.state`.
"""

from cellsde.training.config import PRESETS, FitConfig, preset, preset_model_options
from cellsde.training.fit import FitResult, fit

__all__ = ["PRESETS", "FitConfig", "FitResult", "fit", "preset", "preset_model_options"]
