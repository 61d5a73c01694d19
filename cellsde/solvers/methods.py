"""The simulation methods: one read-only table from a method's name to how it is run.

Like ``scipy.integrate.solve_ivp``'s ``METHODS`` and :mod:`models_bio.registry`, the method
names are written here once; :func:`cellsde.simulate`, the ``cellsde simulate`` CLI and the
checks read them from :data:`METHODS`. Each method applies to one kind of model:

========  ===============  ==========================================================
kind      model class      methods
========  ===============  ==========================================================
network   ReactionNetwork  ode (default), ssa, tau, cle
sde       SDEModel / any   sde (default)
          SDEProtocol
lattice   LatticeModel     lattice-ssa (default; ``"ssa"`` selects it too)
========  ===============  ==========================================================

A solver is imported only when its method runs (``Method.load``), so the table costs nothing
to read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cellsde.errors import CellsdeError

KINDS = ("network", "sde", "lattice")


@dataclass(frozen=True)
class Method:
    """How one method is run.

    Attributes
    ----------
    name : str
        The name users pass as ``method=`` (and that datasets record in ``attrs["method"]``).
    kind : {"network", "sde", "lattice"}
        The kind of model it applies to.
    solver : str
        ``"module:function"`` of the solver in :mod:`cellsde.solvers`, called as
        ``solver(model, **inputs)``.
    takes : tuple of str
        Which of ``seed``, ``dt`` (a fixed step, default ``min(diff(times)) / 100``) and
        ``device`` (torch) the solver takes.
    counts : bool
        Simulates whole molecules: needs integer stoichiometry, and the initial state is
        rounded to whole molecules.
    default : bool
        The method of its kind when none is asked for.
    also : tuple of str
        Other names that select it for its kind (``"ssa"`` on a lattice model).
    """

    name: str
    kind: str
    solver: str
    takes: tuple[str, ...]
    counts: bool = False
    default: bool = False
    also: tuple[str, ...] = ()

    def load(self) -> Callable[..., Any]:
        """The solver function (imported on first use)."""
        module, _, name = self.solver.partition(":")
        return getattr(importlib.import_module(f"cellsde.solvers.{module}"), name)


# fmt: off
_TABLE = (
    Method("ode", "network", "ode:ode", ("seed",), default=True),
    Method("ssa", "network", "ssa:ssa", ("seed", "device"), counts=True),
    Method("tau", "network", "tau_leap:tau_leap", ("seed", "device"), counts=True),
    Method("cle", "network", "cle:cle", ("seed", "dt", "device")),
    Method("sde", "sde", "euler_maruyama:euler_maruyama", ("seed", "dt", "device"), default=True),
    Method("lattice-ssa", "lattice", "lattice_ssa:simulate_lattice", ("seed",), default=True,
           also=("ssa",)),
)
# fmt: on
METHODS: MappingProxyType[str, Method] = MappingProxyType({m.name: m for m in _TABLE})
"""Method name -> :class:`Method`, read-only: ode, ssa, tau, cle (networks), sde, lattice-ssa."""


def choose_method(kind: str, name: str | None, *, model_label: str) -> Method:
    """The method ``name`` for a model of ``kind``, or the kind's default when ``name`` is None.

    Parameters
    ----------
    kind : {"network", "sde", "lattice"}
        The model's kind.
    name : str or None
        A key of :data:`METHODS`, or another name a method of this kind accepts (``also``).
    model_label : str
        The model's class name, for the message.

    Raises
    ------
    CellsdeError
        (a ``ValueError``) for an unknown name, or one that does not apply to this kind; the
        message lists the names that do.
    """
    mine = [m for m in METHODS.values() if m.kind == kind]
    if name is None:
        return next(m for m in mine if m.default)
    for m in mine:
        if name == m.name or name in m.also:
            return m
    if name not in METHODS:
        raise CellsdeError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
    raise CellsdeError(
        f"method {name!r} does not apply to a {model_label}; use one of "
        + ", ".join(m.name for m in mine)
    )
