"""Model registry: names -> constructors.

``get(name, **options)`` builds a model; ``available()`` lists the names. The table is a
read-only mapping fixed at import time (no registration side effects).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

# name -> "module:function"; modules are imported lazily so a missing optional model never
# breaks the others.
_CONSTRUCTORS = MappingProxyType(
    {
        "vilar2002": "models_bio.circadian:vilar2002",
        "damped_oscillator": "models_bio.circadian:damped_oscillator",
        "guo2024": "models_bio.nfkb.guo2024:guo2024",
        "guo2024_sde": "models_bio.nfkb.noise:guo2024_sde",
        "krishna2006": "models_bio.nfkb.krishna:krishna2006",
        "rpa_dna": "models_bio.rpa_dna:rpa_dna",
    }
)


def available() -> tuple[str, ...]:
    """Names of the registered models, sorted."""
    return tuple(sorted(_CONSTRUCTORS))


def constructor(name: str) -> Callable[..., Any]:
    """The constructor function of model ``name``."""
    if not isinstance(name, str) or name not in _CONSTRUCTORS:
        raise KeyError(f"unknown model {name!r}; available models: {', '.join(available())}")
    module, func = _CONSTRUCTORS[name].split(":")
    return getattr(importlib.import_module(module), func)


def get(name: str, **options: Any) -> Any:
    """Build the registered model ``name`` with keyword ``options``.

    Raises
    ------
    KeyError
        If ``name`` is not registered; the message lists the available models.
    """
    return constructor(name)(**options)
