"""``count_macs``: multiply-accumulates of one forward pass, dendrites counted.

Equal parameter count is one honest control for a network with dendrites; equal compute is
the other (a convolution's parameters and its cost scale differently with the channels).
This counts the multiply-accumulates (MACs) of the weighted layers in one forward pass:

* ``nn.Linear(i, o)``: ``i o`` per input row;
* ``nn.Conv1d`` / ``nn.Conv2d``: ``(C_in / groups) |kernel|`` per output element;
* a dendritic layer with ``K`` sets: ``(K + 1)`` times its base layer's MACs (each set is one
  more application of a kernel of the base's shape) plus ``K + K (K - 1) / 2`` per output
  element (the ``v`` and ``u`` products).

Biases, activations (including the dendrites' sigmoids) and other layers are not counted.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from perforate.layer import DendriticLayer


def _base_macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    per = module.in_channels // module.groups * math.prod(module.kernel_size)
    return out.numel() * per


def count_macs(model: nn.Module, *inputs: Any) -> int:
    """Multiply-accumulates of ``model(*inputs)`` (see the module docstring).

    Parameters
    ----------
    model : nn.Module
        Any model; pending cascade candidates are not counted (they never enter the output).
    *inputs
        Arguments of one forward call (their batch size counts: pass one sample for a
        per-sample figure).

    Returns
    -------
    int
    """
    counted = (nn.Linear, nn.Conv1d, nn.Conv2d)
    inside = {id(m.base) for m in model.modules() if isinstance(m, DendriticLayer)}
    total = [0]

    def plain(module: nn.Module, _args: Any, out: torch.Tensor) -> None:
        if id(module) not in inside:
            total[0] += _base_macs(module, out)

    def dendritic(module: DendriticLayer, _args: Any, out: torch.Tensor) -> None:
        k = module.n_sets
        total[0] += (k + 1) * _base_macs(module.base, out) + out.numel() * (k + k * (k - 1) // 2)

    handles = []
    for m in model.modules():
        if isinstance(m, DendriticLayer):
            handles.append(m.register_forward_hook(dendritic))
        elif isinstance(m, counted):
            handles.append(m.register_forward_hook(plain))
    if not handles:
        raise ValueError(
            "count_macs: model has no nn.Linear, nn.Conv1d, nn.Conv2d or dendritic layer"
        )
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]
