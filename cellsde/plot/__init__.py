"""Publication figures for cellsde datasets (matplotlib is imported only when a figure is made).

Every function takes keyword-only options and ``ax=None`` (a new figure when None) and
returns the :class:`matplotlib.figure.Figure`; none calls ``plt.show``. Colours and line
styles follow roles (data / model / baselines / floor, see :mod:`cellsde.plot.style`).

Public names::

    trajectory_fan(data, *, species, model, quantiles, n_samples, group, ax, seed)
    marginals(data, *, species, times, model, group, bins, ax)
    w2_over_time(tables, *, labels, data, species, floor, log, ax)
    theta_recovery(true, estimated, *, std, param, units, ax)
    theta_recovery_panels(true, estimated, *, std, params, units)  every component of θ
    group_panels(data, plot, *, species, model, groups, ...)        one panel per group
    marginal_times(data, *, species, n, group)                      start, first peak, ...
    theta_heatmap(values, *, x_param, y_param, theta, label, log, mark, ax)
    pareto(parameters, w2, *, labels, kinds, w2_units, ax)            (+ pareto_front)
    save_figure(fig, path_stem, *, formats=("png", "pdf"), dpi=300)
    cellsde_style()   PALETTE   LINESTYLES
"""

from cellsde.plot.distributions import marginal_times, marginals
from cellsde.plot.panels import group_panels
from cellsde.plot.recovery import theta_heatmap, theta_recovery, theta_recovery_panels
from cellsde.plot.save import save_figure
from cellsde.plot.style import LINESTYLES, OKABE_ITO, PALETTE, cellsde_style
from cellsde.plot.tradeoff import pareto, pareto_front
from cellsde.plot.trajectories import trajectory_fan
from cellsde.plot.w2 import w2_over_time

__all__ = [
    "LINESTYLES",
    "OKABE_ITO",
    "PALETTE",
    "cellsde_style",
    "group_panels",
    "marginal_times",
    "marginals",
    "pareto",
    "pareto_front",
    "save_figure",
    "theta_heatmap",
    "theta_recovery",
    "theta_recovery_panels",
    "trajectory_fan",
    "w2_over_time",
]
