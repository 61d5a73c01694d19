"""Building the networks ``compress`` compares: narrow END-nSDEs, with or without dendrites.

A candidate keeps the wide model's species, parameters, activation, noise form and depth;
only the hidden width changes (every hidden layer of the drift and the diffusion network
gets width ``w``). Dendrites (:mod:`perforate`) wrap every ``nn.Linear`` of both networks,
with ``detach_input=False``: an END-nSDE is unrolled in time, so the dendrites must keep
their share of the state derivative for the rollout's gradient to be exact.

The plain controls match a dendrite network in parameters (:func:`equal_width`) or in
multiply-accumulates per drift + diffusion evaluation (:func:`equal_macs_width`).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import torch

from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from perforate import DendriteConfig, add_dendrites, count_macs

# Buffers copied from the wide model so a candidate starts with the same input scaling.
STANDARDIZATION = ("x_loc", "x_scale", "theta_loc", "theta_scale", "theta_lo", "theta_hi")


def narrow_config(config: ENDnSDEConfig, width: int) -> ENDnSDEConfig:
    """``config`` with every hidden layer (drift and diffusion) of width ``width``."""
    diff = config.diffusion_hidden
    return replace(
        config,
        hidden=(int(width),) * len(config.hidden),
        diffusion_hidden=None if diff is None else (int(width),) * len(diff),
    )


def _sizes(config: ENDnSDEConfig, width: int) -> list[list[int]]:
    """Layer sizes of the drift and the diffusion network of ``narrow_config(config, width)``."""
    c = narrow_config(config, width)
    d, p = len(c.species), len(c.params)
    n_in = d + p + int(c.time_input)
    out = d * (c.n_brownian if c.noise == "general" else 1)
    return [[n_in, *c.hidden, d], [n_in, *(c.diffusion_hidden or c.hidden), out]]


def plain_parameters(config: ENDnSDEConfig, width: int) -> int:
    """Parameter count of the plain (dendrite-free) END-nSDE ``narrow_config(config, width)``."""
    return sum(a * b + b for sizes in _sizes(config, width) for a, b in itertools.pairwise(sizes))


def plain_macs(config: ENDnSDEConfig, width: int) -> int:
    """Multiply-accumulates of one drift + diffusion evaluation of the plain network."""
    return sum(a * b for sizes in _sizes(config, width) for a, b in itertools.pairwise(sizes))


def model_macs(model: ENDnSDE) -> int:
    """Multiply-accumulates of one drift + diffusion evaluation (one state; dendrites counted,
    :func:`perforate.count_macs`)."""
    ref = next(model.parameters())
    z = torch.zeros(1, _sizes(model.config, 1)[0][0], dtype=ref.dtype, device=ref.device)
    return count_macs(model.drift_net, z) + count_macs(model.diffusion_net, z)


def _closest(count, target: int) -> int:
    """Width whose ``count(width)`` is closest to ``target`` (ties: the smaller width)."""
    w = 1
    while count(w + 1) <= target:
        w += 1
    return w if target - count(w) <= count(w + 1) - target else w + 1


def equal_width(config: ENDnSDEConfig, n_parameters: int) -> int:
    """Hidden width whose plain network has the parameter count closest to ``n_parameters``.

    Ties go to the smaller width.
    """
    return _closest(lambda w: plain_parameters(config, w), int(n_parameters))


def equal_macs_width(config: ENDnSDEConfig, macs: int) -> int:
    """Hidden width whose plain network costs the multiply-accumulates closest to ``macs``."""
    return _closest(lambda w: plain_macs(config, w), int(macs))


def build_candidate(
    wide: ENDnSDE,
    width: int,
    *,
    n_sets: int = 0,
    dendrites: DendriteConfig | None = None,
    seed: int = 0,
) -> ENDnSDE:
    """A fresh narrow END-nSDE shaped like ``wide``, optionally with ``n_sets`` dendrite sets.

    Parameters
    ----------
    wide : ENDnSDE
        The model being compressed; its standardisation buffers and theta range are copied.
    width : int
        Hidden width of every hidden layer.
    n_sets : int
        Dendrite sets added right away to every ``nn.Linear`` of the drift and diffusion
        networks (0: none, the model is plain). New sets have zero output weight.
    dendrites : DendriteConfig, optional
        Mode/activation/init scale of the dendrites; needed to wrap layers even with
        ``n_sets=0`` (cascade training grows the sets). ``detach_input`` is set False
        (exact gradients through the rollout; see the module docstring).
    seed : int
        Seed of the weight and dendrite initialisation.
    """
    model = ENDnSDE(narrow_config(wide.config, width), seed=seed)
    with torch.no_grad():
        for name in STANDARDIZATION:
            getattr(model, name).copy_(getattr(wide, name).detach().cpu())
    if dendrites is not None:
        gen = torch.Generator().manual_seed(seed + 7919)
        add_dendrites(model, replace(dendrites, detach_input=False), n_sets=n_sets, generator=gen)
    return model
