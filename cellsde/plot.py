"""Publication figures: ``from cellsde.plot import trajectory_fan, save_figure, ...``.

The implementation lives in :mod:`cellsde.plotting` (one module per figure family); this
module re-exports its public names. Importing it does not import matplotlib.
"""

from cellsde.plotting import (
    LINESTYLES,
    OKABE_ITO,
    PALETTE,
    cellsde_style,
    marginals,
    pareto,
    pareto_front,
    save_figure,
    theta_heatmap,
    theta_recovery,
    trajectory_fan,
    w2_over_time,
)

__all__ = [
    "LINESTYLES",
    "OKABE_ITO",
    "PALETTE",
    "cellsde_style",
    "marginals",
    "pareto",
    "pareto_front",
    "save_figure",
    "theta_heatmap",
    "theta_recovery",
    "trajectory_fan",
    "w2_over_time",
]
