"""cellsde: heterogeneous cell populations, END-nSDE fitting, heterogeneity inference.

The front door, one verb per task::

    simulate(model, *, times, ...)            -> Dataset  (SSA, tau, CLE, ODE, SDE, lattice SSA)
    import_csv(path, *, cell_col, time_col)   -> Dataset  (lab time-lapse tracks)
    fit(model, train, *, valid, config)       -> FitResult (END-nSDE, tW2 loss)
    evaluate(model, data, ...)                -> Dataset  (per-time W2, coefficient errors)
    infer(model, data, *, method, ...)        -> Dataset  (theta per group, uncertainty)
    compress(model, train, *, valid, widths)  -> CompressionResult (narrow nets + dendrites)
    sweep(fn, grid, *, client)                -> Dataset  (a grid of fits/simulations, dask)

Submodules: ``cellsde.datasets`` (schema, files), ``cellsde.losses`` (W2), ``cellsde.solvers``,
``cellsde.nn`` (ENDnSDE, checkpoints), ``cellsde.baselines``, ``cellsde.plot``.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from cellsde._version import __version__

# Public name -> module that defines it. Imported on first use (PEP 562), so that
# `cellsde info` or `cellsde --help` start without torch; add a public verb with one line.
_LAZY = {
    "CompressionResult": "cellsde.compression",
    "ENDnSDE": "cellsde.nn.endnsde",
    "ENDnSDEConfig": "cellsde.nn.endnsde",
    "FitConfig": "cellsde.training",
    "FitResult": "cellsde.training",
    "compress": "cellsde.compression",
    "evaluate": "cellsde.evaluation",
    "fit": "cellsde.training",
    "from_arrays": "cellsde.datasets",
    "import_csv": "cellsde.datasets",
    "infer": "cellsde.inference.infer",
    "load_model": "cellsde.nn.checkpoint",
    "open_dataset": "cellsde.datasets",
    "preset": "cellsde.training",
    "read_guo2024": "cellsde.datasets",
    "sample_theta": "cellsde.simulation",
    "sampling_floor": "cellsde.evaluation",
    "save_dataset": "cellsde.datasets",
    "save_model": "cellsde.nn.checkpoint",
    "simulate": "cellsde.simulation",
    "sweep": "cellsde.distributed.sweep",
    "validate_dataset": "cellsde.datasets",
}
_SUBMODULES = ("losses",)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = import_module(f"cellsde.{name}")
    else:
        raise AttributeError(f"module 'cellsde' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # static checkers and IDEs see the names as plain imports
    from cellsde import losses
    from cellsde.compression import CompressionResult, compress
    from cellsde.datasets import (
        from_arrays,
        import_csv,
        open_dataset,
        read_guo2024,
        save_dataset,
        validate_dataset,
    )
    from cellsde.distributed.sweep import sweep
    from cellsde.evaluation import evaluate, sampling_floor
    from cellsde.inference.infer import infer
    from cellsde.nn.checkpoint import load_model, save_model
    from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
    from cellsde.simulation import sample_theta, simulate
    from cellsde.training import FitConfig, FitResult, fit, preset

__all__ = [
    "CompressionResult",
    "ENDnSDE",
    "ENDnSDEConfig",
    "FitConfig",
    "FitResult",
    "__version__",
    "compress",
    "evaluate",
    "fit",
    "from_arrays",
    "import_csv",
    "infer",
    "load_model",
    "losses",
    "open_dataset",
    "preset",
    "read_guo2024",
    "sample_theta",
    "sampling_floor",
    "save_dataset",
    "save_model",
    "simulate",
    "sweep",
    "validate_dataset",
]
