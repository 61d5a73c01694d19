"""Wasserstein losses: exact and sliced squared W2 between point clouds, tW2 over Datasets.

Tensor level (differentiable, batched over leading dims such as (group, time)):
:func:`w2_squared`, :func:`sliced_w2_squared`, and :func:`w2_table`, the one table of W2²
(plain or debiased) between simulated and observed clouds per (group, time) that every loss
and score builds on. Dataset level (evaluation, xarray): :func:`w2_per_time` (group x time
table) and :func:`tw2` (the END-nSDE loss value). Exact solvers without gradient:
:mod:`cellsde.losses.transport`.
"""

from cellsde.losses.dataset_loss import tw2, w2_per_time
from cellsde.losses.table import w2_table
from cellsde.losses.transport import TransportPlan, exact_plan
from cellsde.losses.wasserstein import sliced_w2_squared, w2_squared

__all__ = [
    "TransportPlan",
    "exact_plan",
    "sliced_w2_squared",
    "tw2",
    "w2_per_time",
    "w2_squared",
    "w2_table",
]
