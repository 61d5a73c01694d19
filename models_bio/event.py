"""A discontinuous change of a reaction network's state (SBML events), as a definition.

Solvers apply events; :class:`~models_bio.network.ReactionNetwork` holds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from models_bio.expressions import Expression


@dataclass(frozen=True)
class Event:
    """A discontinuous change applied when ``trigger`` turns from false to true (SBML semantics).

    Parameters
    ----------
    name : str
        Identifier.
    trigger : str
        Boolean expression in species, parameters and ``time`` (e.g. ``"time >= 10"``).
    assignments : mapping of str to str
        Variable (species or parameter) -> expression, all evaluated before any is applied;
        may call the draws of :mod:`models_bio.distrib` (drawn at each firing, per cell).
    initial_value : bool
        Value of the trigger before t0 (SBML ``initialValue``): false fires at t0 a trigger
        that is true there.
    delay : str, optional
        Expression evaluated when the trigger turns true; the assignments are executed that
        much later (time units). None: at once.
    priority : str, optional
        Orders events executed at one instant (highest first, evaluated just before each
        execution); None ranks lowest; ties are broken at random (seeded) or in declaration
        order without a generator.
    persistent : bool
        False: a triggered, not yet executed event is cancelled when its trigger turns false.
    use_values_from_trigger_time : bool
        Evaluate the assignments when the trigger turns true (True) or when executed (False).
    multiply : mapping of str to str
        Variable -> factor evaluated at execution, before any assignment (SBML: an amount
        state assigned a concentration gets ``value * size``).
    """

    name: str
    trigger: str
    assignments: Mapping[str, str]
    initial_value: bool = True
    delay: str | None = None
    priority: str | None = None
    persistent: bool = True
    use_values_from_trigger_time: bool = True
    multiply: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("assignments", "multiply"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        for expr in (self.trigger, self.delay, self.priority):
            if expr is not None:
                Expression(expr)
        for expr in (*self.assignments.values(), *self.multiply.values()):
            Expression(expr)
        if not set(self.multiply) <= set(self.assignments):
            raise ValueError(f"event {self.name!r}: multiply names variables it does not assign")

    @property
    def expressions(self) -> tuple[str, ...]:
        """Every expression of the event (trigger, delay, priority, assignments)."""
        parts = (self.trigger, self.delay, self.priority, *self.assignments.values())
        parts += tuple(self.multiply.values())
        return tuple(e for e in parts if e is not None)
