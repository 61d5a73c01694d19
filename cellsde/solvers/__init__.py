"""Solvers: one module per method, all vectorised over cells, and the one table of methods.

:data:`METHODS` maps each method name (``ode``, ``ssa``, ``tau``, ``cle``, ``sde``,
``lattice-ssa``) to its solver and what it takes (:mod:`cellsde.solvers.methods`).
``ode``/``steady_state`` (scipy, stacked cells), ``cle`` (chemical Langevin, torch),
``euler_maruyama`` (any SDEProtocol, torch); ``ssa``, ``tau_leap`` and ``simulate_lattice``
are imported on first use from their modules.
"""

from __future__ import annotations

import importlib
from typing import Any

from cellsde.solvers.cle import cle
from cellsde.solvers.euler_maruyama import euler_maruyama
from cellsde.solvers.methods import METHODS, Method, choose_method
from cellsde.solvers.ode import ode, steady_state

_LAZY = {
    "ssa": "cellsde.solvers.ssa",
    "tau_leap": "cellsde.solvers.tau_leap",
    "simulate_lattice": "cellsde.solvers.lattice_ssa",
}

__all__ = [
    "METHODS",
    "Method",
    "choose_method",
    "cle",
    "euler_maruyama",
    "ode",
    "simulate_lattice",
    "ssa",
    "steady_state",
    "tau_leap",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cellsde.solvers' has no attribute {name!r}")
