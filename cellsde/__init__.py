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

from cellsde import losses
from cellsde._version import __version__
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
