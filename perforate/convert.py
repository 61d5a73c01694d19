"""Dendrites in and out of any torch model: ``add_dendrites``, ``add_dendrite_set``,
``remove_dendrites`` (drop or fuse), counting."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from perforate.config import DendriteConfig
from perforate.conv import DendriticConv
from perforate.layer import DendriticLayer, DendriticLinear

# Wrappable module types (exact types: subclasses may compute something else) -> wrapper.
WRAPPERS: dict[type[nn.Module], type[DendriticLayer]] = {
    nn.Linear: DendriticLinear,
    nn.Conv1d: DendriticConv,
    nn.Conv2d: DendriticConv,
}
SUPPORTED = "nn.Linear, nn.Conv1d or nn.Conv2d"


def dendritic_layers(model: nn.Module) -> list[tuple[str, DendriticLayer]]:
    """All dendritic layers of ``model`` as ``(qualified name, module)`` pairs."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, DendriticLayer)]


def _problem(m: nn.Module) -> str | None:
    """Why ``m`` (of a supported type) cannot be wrapped, or None."""
    if m.bias is None:
        return f"{type(m).__name__} without bias"
    if getattr(m, "padding_mode", "zeros") != "zeros":
        return f"padding_mode={m.padding_mode!r}"
    return None


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
            elif isinstance(m, DendriticLayer) or name in inside:
                bad.append(f"{name!r} (already part of a dendritic layer)")
            elif type(m) not in WRAPPERS:
                bad.append(f"{name!r} (is {type(m).__name__}, not {SUPPORTED})")
            elif _problem(m):
                bad.append(f"{name!r} ({_problem(m)})")
        if bad:
            raise ValueError(
                "add_dendrites cannot wrap: "
                + ", ".join(bad)
                + f". Choose names of {SUPPORTED} layers with a bias (zero padding) from "
                "model.named_modules()."
            )
        return list(dict.fromkeys(config.layers))
    names = []
    for name, m in modules.items():
        if type(m) not in WRAPPERS or name in inside:
            continue
        if config.layers is not None and not config.layers(name, m):
            continue
        if _problem(m):
            raise ValueError(
                f"add_dendrites cannot wrap {name or '<root>'!r}: {_problem(m)}. Exclude it "
                "with DendriteConfig.layers or rebuild it with bias=True and zero padding."
            )
        names.append(name)
    if not names:
        raise ValueError(
            f"add_dendrites found no {SUPPORTED} layer to wrap (DendriteConfig.layers selected "
            "none)"
        )
    return names


def add_dendrites(
    model: nn.Module,
    config: DendriteConfig | None = None,
    *,
    n_sets: int = 0,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Replace the chosen layers of ``model`` by dendritic layers in place.

    ``nn.Linear`` becomes :class:`~perforate.DendriticLinear`, ``nn.Conv1d`` and ``nn.Conv2d``
    become :class:`~perforate.DendriticConv` (one dendrite per output channel).

    Parameters
    ----------
    model : nn.Module
        Any model. If ``model`` itself is a supported layer the wrapper is returned instead.
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
        Naming every module that cannot be wrapped (missing name, unsupported type, no bias,
        non-zero padding mode, already wrapped), or when nothing is selected.
    """
    config = DendriteConfig() if config is None else config
    if not isinstance(config, DendriteConfig):
        raise TypeError(f"config must be a DendriteConfig, got {type(config).__name__}")
    if int(n_sets) < 0:
        raise ValueError(f"n_sets must be >= 0, got {n_sets}")
    names = _select(model, config)
    if names == [""]:
        return WRAPPERS[type(model)](model, config, n_sets=n_sets, generator=generator)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        layer = parent.get_submodule(child)
        wrapped = WRAPPERS[type(layer)](layer, config, n_sets=n_sets, generator=generator)
        setattr(parent, child, wrapped)
    return model


def add_dendrite_set(model: nn.Module, *, generator: torch.Generator | None = None) -> int:
    """Add one new dendrite set (``v`` = 0) to every dendritic layer of ``model``.

    Returns
    -------
    int
        Number of layers that received a set. The model's outputs are unchanged.
    """
    layers = dendritic_layers(model)
    if not layers:
        raise ValueError("model has no dendritic layer; call add_dendrites(model) first")
    for _, layer in layers:
        layer.add_set(generator=generator)
    return len(layers)


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters, dendrite sets counted, pending cascade candidates not.

    For ``Linear(i, o)`` with ``K`` sets this is ``(K+1)(i o + o) + K o + o K (K-1) / 2``
    (for a convolution ``i o`` is the number of kernel weights).
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


def _constant_shift(layer: DendriticLayer) -> tuple[Tensor, list[int]]:
    """What the layer's dendrites add when that is a constant: (shift (o,), sets that are not).

    A dendrite ``h_{k,n}`` is input-independent when its input weights ``D_{k,n}`` are zero
    and every earlier dendrite it reads through a non-zero ``u_{k,n,j}`` is input-independent.
    """
    with torch.no_grad():
        shift = torch.zeros_like(layer.base.bias)  # (o,)
        constant: list[Tensor] = []  # per set, (o,) bool
        values: list[Tensor] = []  # per set, (o,) value of h where constant
        bad: list[int] = []
        for k, s in enumerate(layer.sets):
            c = (s.weight.flatten(1) == 0).all(1)
            a = s.bias.clone()
            for j in range(k):
                c = c & ((s.u[:, j] == 0) | constant[j])
                a = a + s.u[:, j] * values[j]
            h = torch.sigmoid(a) if layer.config.activation == "sigmoid" else torch.tanh(a)
            constant.append(c)
            values.append(h)
            if bool(((s.v != 0) & ~c).any()):
                bad.append(k)
            shift += torch.where(c, s.v * h, torch.zeros_like(h))
    return shift, bad


def remove_dendrites(model: nn.Module, *, fuse: bool = True) -> nn.Module:
    """Turn every dendritic layer of ``model`` back into its plain layer, in place.

    The pair of :func:`add_dendrites`, like ``torch.nn.utils.parametrize``'s
    ``remove_parametrizations``: each wrapper is replaced by its ``base`` layer (the same
    ``nn.Linear`` object ``add_dendrites`` wrapped), so the parameter count is the plain one
    again; pending cascade candidates are dropped (they never enter the output).

    What is exact. A dendrite is nonlinear in the layer input ``x``
    (``h = sigma(D x + c + sum_j u_j h_j)``), so no ``nn.Linear`` can compute one that
    depends on ``x``. With ``fuse=True`` only what a ``Linear`` can hold is kept:

    - a dendrite with output weight ``v = 0`` adds nothing and is dropped: freshly added sets
      (``v = 0``) are removed with the function unchanged, bit for bit;
    - a dendrite that does not depend on ``x`` (``D = 0``, and only such dendrites feeding it
      through ``u``) is the constant ``v * h``, added to the bias (equal up to rounding);
    - any other dendrite with ``v != 0`` cannot be fused: ``ValueError`` names the layers and
      sets, and the model is left unchanged.

    ``fuse=False`` drops the dendrites whatever they compute: the layer keeps only
    ``base(x) = W x + b`` and the function changes by the dendrites' contribution.

    Parameters
    ----------
    model : nn.Module
        A model passed through :func:`add_dendrites`. If ``model`` itself is a
        dendritic layer its base layer is returned instead.
    fuse : bool
        Keep what the dendrites compute (exactly, or refuse); False drops them.

    Returns
    -------
    nn.Module
        ``model`` without dendritic layers.

    Raises
    ------
    TypeError
        ``fuse`` is not a bool.
    ValueError
        ``model`` has no dendritic layer; or ``fuse=True`` and a dendrite with non-zero
        output weight depends on the input.
    """
    if not isinstance(fuse, bool):
        raise TypeError(f"fuse must be True or False, got {fuse!r}")
    layers = dendritic_layers(model)
    if not layers:
        raise ValueError("remove_dendrites: model has no dendritic layer (nothing to remove)")
    shifts = {}
    if fuse:  # check every layer before changing any: no half-converted model
        bad = []
        for name, layer in layers:
            shifts[name], sets = _constant_shift(layer)
            if sets:
                bad.append(f"{name or '<root>'!r} (sets {sets})")
        if bad:
            raise ValueError(
                "remove_dendrites cannot fuse dendrites that depend on the input (non-zero "
                f"input and output weights) into the base layer: {', '.join(bad)}. A dendrite is "
                "nonlinear in its input; keep the dendritic layers, or pass fuse=False to "
                "drop the dendrites (the function changes)"
            )
    for name, layer in layers:
        linear = layer.base
        if fuse:
            with torch.no_grad():
                linear.bias.add_(shifts[name])
        layer.discard_candidate()
        if not name:
            return linear
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, linear)
    return model
