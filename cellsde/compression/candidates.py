"""Building the networks ``compress`` compares: narrow END-nSDEs, with or without dendrites.

A candidate keeps the wide model's species, parameters, activation, noise form and depth;
only the hidden width changes (every hidden layer of the drift and the diffusion network
gets width ``w``). Dendrites (:mod:`perforate`) wrap every ``nn.Linear`` of both networks.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import torch

from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from perforate import DendriteConfig, add_dendrites

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


def plain_parameters(config: ENDnSDEConfig, width: int) -> int:
    """Parameter count of the plain (dendrite-free) END-nSDE ``narrow_config(config, width)``."""
    c = narrow_config(config, width)
    d, p = len(c.species), len(c.params)
    n_in = d + p + int(c.time_input)
    out = d * (c.n_brownian if c.noise == "general" else 1)
    total = 0
    for sizes in ([n_in, *c.hidden, d], [n_in, *(c.diffusion_hidden or c.hidden), out]):
        total += sum(a * b + b for a, b in itertools.pairwise(sizes))
    return total


def equal_width(config: ENDnSDEConfig, n_parameters: int) -> int:
    """Hidden width whose plain network has the parameter count closest to ``n_parameters``.

    Ties go to the smaller width.
    """
    w = 1
    while plain_parameters(config, w + 1) <= n_parameters:
        w += 1
    below, above = plain_parameters(config, w), plain_parameters(config, w + 1)
    return w if n_parameters - below <= above - n_parameters else w + 1


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
        ``n_sets=0`` (cascade training grows the sets).
    seed : int
        Seed of the weight and dendrite initialisation.
    """
    model = ENDnSDE(narrow_config(wide.config, width), seed=seed)
    with torch.no_grad():
        for name in STANDARDIZATION:
            getattr(model, name).copy_(getattr(wide, name).detach().cpu())
    if dendrites is not None:
        gen = torch.Generator().manual_seed(seed + 7919)
        add_dendrites(model, dendrites, n_sets=n_sets, generator=gen)
    return model
