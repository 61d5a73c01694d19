"""Put dendrites into any torch model: ``add_dendrites``, ``add_dendrite_set``, counting."""

from __future__ import annotations

import torch
from torch import nn

from perforate.config import DendriteConfig
from perforate.layer import DendriticLinear


def dendritic_layers(model: nn.Module) -> list[tuple[str, DendriticLinear]]:
    """All ``DendriticLinear`` modules of ``model`` as ``(qualified name, module)`` pairs."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, DendriticLinear)]


def _select(model: nn.Module, config: DendriteConfig) -> list[str]:
    """Names of the modules to wrap; raises naming every module that cannot be wrapped."""
    inside = {
        f"{n}.{sub}" if n else sub
        for n, m in dendritic_layers(model)
        for sub, _ in m.named_modules()
        if sub
    }
    modules = dict(model.named_modules())
    if isinstance(config.layers, tuple):
        bad = []
        for name in config.layers:
            m = modules.get(name)
            if m is None:
                bad.append(f"{name!r} (no such module)")
            elif isinstance(m, DendriticLinear) or name in inside:
                bad.append(f"{name!r} (already part of a DendriticLinear)")
            elif type(m) is not nn.Linear:
                bad.append(f"{name!r} (is {type(m).__name__}, not nn.Linear)")
            elif m.bias is None:
                bad.append(f"{name!r} (nn.Linear without bias)")
        if bad:
            raise ValueError(
                "add_dendrites cannot wrap: "
                + ", ".join(bad)
                + ". Choose names of nn.Linear layers with a bias from model.named_modules()."
            )
        return list(dict.fromkeys(config.layers))
    names = []
    for name, m in modules.items():
        if type(m) is not nn.Linear or name in inside:
            continue
        if config.layers is not None and not config.layers(name, m):
            continue
        if m.bias is None:
            raise ValueError(
                f"add_dendrites cannot wrap {name or '<root>'!r}: nn.Linear without bias. "
                "Exclude it with DendriteConfig.layers or rebuild it with bias=True."
            )
        names.append(name)
    if not names:
        raise ValueError(
            "add_dendrites found no nn.Linear layer to wrap (DendriteConfig.layers selected none)"
        )
    return names


def add_dendrites(
    model: nn.Module,
    config: DendriteConfig | None = None,
    *,
    n_sets: int = 0,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Replace the chosen ``nn.Linear`` layers of ``model`` by ``DendriticLinear`` in place.

    Parameters
    ----------
    model : nn.Module
        Any model. If ``model`` itself is an ``nn.Linear`` the wrapper is returned instead.
    config : DendriteConfig, optional
        Which layers (``config.layers``), mode, activation and init scale.
    n_sets : int
        Dendrite sets to create in each wrapped layer right away. Not needed to load a
        trained model: ``load_state_dict`` creates the sets the state dict holds.
    generator : torch.Generator, optional
        Randomness of the initial sets.

    Returns
    -------
    nn.Module
        ``model`` (modified in place; the wrapped layers keep their weights as ``base``).
        The function of the model is unchanged (new sets have ``v`` = 0).

    Raises
    ------
    ValueError
        Naming every module that cannot be wrapped (missing name, not an ``nn.Linear``,
        no bias, already wrapped), or when nothing is selected.
    """
    config = DendriteConfig() if config is None else config
    if not isinstance(config, DendriteConfig):
        raise TypeError(f"config must be a DendriteConfig, got {type(config).__name__}")
    if int(n_sets) < 0:
        raise ValueError(f"n_sets must be >= 0, got {n_sets}")
    names = _select(model, config)
    if names == [""]:
        return DendriticLinear(model, config, n_sets=n_sets, generator=generator)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        wrapped = DendriticLinear(
            parent.get_submodule(child), config, n_sets=n_sets, generator=generator
        )
        setattr(parent, child, wrapped)
    return model


def add_dendrite_set(model: nn.Module, *, generator: torch.Generator | None = None) -> int:
    """Add one new dendrite set (``v`` = 0) to every ``DendriticLinear`` of ``model``.

    Returns
    -------
    int
        Number of layers that received a set. The model's outputs are unchanged.
    """
    layers = dendritic_layers(model)
    if not layers:
        raise ValueError("model has no DendriticLinear layer; call add_dendrites(model) first")
    for _, layer in layers:
        layer.add_set(generator=generator)
    return len(layers)


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters, dendrite sets counted, pending cascade candidates not.

    For ``Linear(i, o)`` with ``K`` sets this is ``(K+1)(i o + o) + K o + o K (K-1) / 2``.
    """
    skip = {
        id(p)
        for _, m in dendritic_layers(model)
        if m.candidate is not None
        for p in m.candidate.parameters()
    }
    return sum(
        p.numel()
        for p in model.parameters()
        if id(p) not in skip and (p.requires_grad or not trainable_only)
    )
