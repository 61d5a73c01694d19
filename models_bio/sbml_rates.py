"""Rates of change of an SBML model's variables: rate rules, and the derivatives ``rateOf`` reads.

A rate rule sets ``d x / dt`` of what ``x`` means in formulas. For a concentration simulated as
an amount (:mod:`models_bio.sbml_symbols`) that is converted:
``d amount / dt = (d conc / dt) * size + conc * d size / dt``. Terms that stoichiometry cannot
hold (:mod:`models_bio.sbml_reactions`) are added to the state's rate.

``rateOf(x)`` reads the derivative of ``x``: 0 for a constant, the sum of its reaction terms and
rate rule for a state, converted back to a concentration where needed.
"""

from __future__ import annotations

from models_bio.sbml_reactions import Reactions
from models_bio.sbml_symbols import SymbolTable


def _size_rate(t: SymbolTable, cid: str, rate: dict[str, str], sid: str, problems: list[str]):
    """``d size / dt`` of compartment ``cid`` (needed by a concentration held as an amount)."""
    if t.kind[cid] == "state":
        return rate.get(cid, "0")
    problems.append(
        f"species {sid!r} changes in compartment {cid!r}, whose size an assignment rule sets"
    )
    return "0"


def rate_rules(
    t: SymbolTable, rate: dict[str, str], parts: Reactions, problems: list[str]
) -> dict[str, str]:
    """State -> rate expression (rate rules by SBML id in ``rate``, plus flux terms)."""
    out: dict[str, str] = {}
    for sid, expr in rate.items():
        if t.kind.get(sid) != "state":
            continue
        if t.by_amount(sid):
            cid = t.compartment[sid]
            c, dc = t.names[cid], _size_rate(t, cid, rate, sid, problems)
            expr = f"({expr})*{c} + {t.names[sid]}*({dc})"
        out[t.state_of[sid]] = expr
    for state, terms in parts.flux.items():
        out[state] = " ".join([out[state], "+"] if state in out else []) + " ".join(terms)
    return out


def derivatives(
    t: SymbolTable,
    rate: dict[str, str],
    parts: Reactions,
    requests: dict[str, str],
    problems: list[str],
) -> dict[str, str]:
    """Rules holding ``d x / dt`` for every ``rateOf(x)`` (``requests``: SBML id -> rule name)."""
    out = {}
    for sid, name in requests.items():
        if t.kind[sid] == "constant":
            out[name] = "0"
            continue
        if t.kind[sid] == "rule":
            problems.append(f"rateOf({sid}), which an assignment rule sets")
            out[name] = "0"
            continue
        own = rate.get(sid)
        if own is not None and t.by_amount(sid):
            out[name] = own  # the rate rule gives d concentration / dt directly
            continue
        terms = [*parts.terms.get(t.state_of[sid], []), *([f"+({own})"] if own else [])]
        d = " ".join(terms) or "0"
        if t.by_amount(sid):
            cid = t.compartment[sid]
            c, dc = t.names[cid], _size_rate(t, cid, rate, sid, problems)
            d = f"({d})/{c} - {t.names[sid]}*({dc})/{c}"
        out[name] = d
    return out
