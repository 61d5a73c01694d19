"""What each SBML symbol becomes in a :class:`~models_bio.network.ReactionNetwork`.

Every compartment, species, parameter and (Level 3) species reference with an id is one of

* ``"rule"``: set by an assignment rule (or by an algebraic rule solved for it): a rule variable;
* ``"state"``: changed by a rate rule, an event, or (species) by reactions: a state variable;
* ``"constant"``: nothing changes it: a parameter (species stay states, held constant).

A compartment is *varying* when its size can change in time (a state, or a rule that reads
``time`` or a state). Species with ``hasOnlySubstanceUnits=false`` in a varying compartment are
simulated as amounts (state ``<id>_amount``), their concentration ``<id>`` being the rule
``<id>_amount / <compartment>``: an amount is what reactions change and what a change of size
keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from models_bio.expressions import symbols


@dataclass
class SymbolTable:
    """Classification of the SBML ids of one model (filled by the reader).

    Attributes
    ----------
    kind : dict of str to str
        SBML id -> ``"rule"``, ``"state"`` or ``"constant"``.
    element : dict of str to str
        SBML id -> ``"compartment"``, ``"species"``, ``"parameter"``, ``"reference"`` or
        ``"reaction"``.
    names : dict of str to str
        SBML id -> what the id means in formulas (a model name).
    state_of : dict of str to str
        SBML id -> name of the state variable holding it (``<id>_amount`` for concentration
        species in varying compartments; the formula name otherwise).
    compartment : dict of str to str
        Species id -> compartment id.
    amount_only : dict of str to bool
        Species id -> its formula value is an amount (``hasOnlySubstanceUnits``, or a
        compartment of dimension 0).
    varying : set of str
        Compartment ids whose size changes in time.
    fixed_rules : set of str
        SBML ids set by assignment rules that read no state and no ``time`` (constant values).
    """

    kind: dict[str, str] = field(default_factory=dict)
    element: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    state_of: dict[str, str] = field(default_factory=dict)
    compartment: dict[str, str] = field(default_factory=dict)
    amount_only: dict[str, bool] = field(default_factory=dict)
    varying: set[str] = field(default_factory=set)
    fixed_rules: set[str] = field(default_factory=set)

    def by_amount(self, sid: str) -> bool:
        """True when species ``sid`` is simulated as an amount although it means a concentration."""
        return (
            self.element.get(sid) == "species"
            and not self.amount_only[sid]
            and self.compartment[sid] in self.varying
            and self.kind[sid] != "rule"
        )


def time_dependent(
    exprs: Mapping[str, str], seeds: Iterable[str], extra: Mapping[str, str] | None = None
) -> set[str]:
    """Names of ``exprs`` (name -> expression) that read ``time`` or a seed, transitively.

    ``extra`` gives further expressions (e.g. reaction rates) that may be read by ``exprs``.
    """
    allexpr = {**(extra or {}), **exprs}
    deps = {n: symbols(e) for n, e in allexpr.items()}
    varying = set(seeds) | {"time"}
    changed = True
    while changed:
        changed = False
        for n, d in deps.items():
            if n not in varying and d & varying:
                varying.add(n)
                changed = True
    return {n for n in exprs if n in varying}


@dataclass(frozen=True)
class SBMLVariable:
    """How to compute an SBML symbol from a simulated network (expressions in model names).

    Attributes
    ----------
    value : str
        What the id means in SBML formulas.
    amount, concentration : str
        For species, the amount and the concentration; for other symbols, ``value``.
    """

    value: str
    amount: str
    concentration: str


def variables(
    t: SymbolTable, constant: Mapping[str, str], in_network: set[str]
) -> dict[str, SBMLVariable]:
    """SBML id -> :class:`SBMLVariable`.

    ``constant`` gives the expression of ids the network does not hold (a dropped constant's
    value, an unread reaction's rate); ``in_network`` are the network's symbol names.
    """

    def expr(sid: str) -> str:
        name = t.names[sid]
        return name if name in in_network else constant[name]

    out = {}
    for sid in t.kind:
        v = expr(sid)
        if t.element[sid] != "species":
            out[sid] = SBMLVariable(v, v, v)
            continue
        c = expr(t.compartment[sid])
        if t.amount_only[sid]:
            out[sid] = SBMLVariable(v, v, f"({v})/({c})")
        else:
            out[sid] = SBMLVariable(v, f"({v})*({c})", v)
    return out
