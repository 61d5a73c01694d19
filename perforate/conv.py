"""``DendriticConv``: an ``nn.Conv1d`` / ``nn.Conv2d`` plus K dendrite sets, one per channel.

A dendrite of output channel ``n`` is a kernel of the base kernel's shape, with the base
layer's stride, padding, dilation and groups, followed by ``sigma``; its cascade weights
``u`` and output weight ``v`` are per channel (shared over positions)::

    a_{k,n} = conv(x, D_{k,n}) + c_{k,n} + sum_{j<k} u_{k,j,n} h_{j,n}      (per position)
    y_n     = conv(x, W_n) + b_n + sum_k v_{k,n} sigma(a_{k,n})

Parameters with ``K`` sets: ``(K+1)(|W| + o) + K o + o K (K-1) / 2``, ``|W|`` the number of
base kernel weights, as for :class:`perforate.DendriticLinear`. A new set has ``v = 0``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from perforate.config import DendriteConfig
from perforate.layer import DendriticLayer


class DendriticConv(DendriticLayer):
    """A ``Conv1d`` or ``Conv2d`` with ``K`` dendrite sets; input (N, C_in, *spatial).

    Parameters
    ----------
    base : nn.Conv1d or nn.Conv2d
        The wrapped layer (with a bias and ``padding_mode="zeros"``); kept as ``self.base``.
    config : DendriteConfig, optional
    n_sets : int
    generator : torch.Generator, optional
        As for :class:`perforate.DendriticLinear`.

    Notes
    -----
    In the correlation phase every position of every sample is one sample of the
    covariance between a channel's candidate and that channel's error.
    """

    BASES = (nn.Conv1d, nn.Conv2d)
    unit_dim = 1

    def __init__(
        self,
        base: nn.Module,
        config: DendriteConfig | None = None,
        *,
        n_sets: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        if isinstance(base, nn.Conv1d | nn.Conv2d) and base.padding_mode != "zeros":
            raise ValueError(
                f"DendriticConv supports padding_mode='zeros' only, got {base.padding_mode!r}; "
                "pad the input explicitly (e.g. nn.ReflectionPad1d) before the convolution"
            )
        super().__init__(base, config, n_sets=n_sets, generator=generator)

    def _op(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        b = self.base
        conv = F.conv1d if isinstance(b, nn.Conv1d) else F.conv2d
        return conv(x, weight, bias, b.stride, b.padding, b.dilation, b.groups)
