"""SBML reactions -> :class:`~models_bio.network.Reaction` plus the terms stoichiometry cannot hold.

A species' change by reaction ``j`` is ``coefficient x conversion factor x rate_j / volume``.
When the product ``coefficient x conversion factor`` is a number (or a constant parameter, with
no conversion factor) it goes into the reaction's stoichiometry, so stochastic methods see
whole-number jumps. Otherwise (variable stoichiometry, a varying conversion factor) the term is
added to the species' rate of change as an expression (``flux``), and the species leaves that
reaction's sides: deterministic methods integrate it exactly; stochastic ones refuse it.

Fast reactions (SBML ``fast="true"``) are at equilibrium on the time scale of the others; they
are simulated with their rate multiplied by :data:`FAST`, which keeps them at equilibrium to a
relative error of about ``1 / FAST`` of the slow time scales, and the initial state is put at
their equilibrium (:mod:`models_bio.sbml_fast`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models_bio.expressions import draws, symbols
from models_bio.network import Parameter, Reaction
from models_bio.sbml_math import MathTranslator, evaluate, mass_action_constant
from models_bio.sbml_symbols import SymbolTable

FAST = 1e9  # rate multiplier of SBML fast reactions


@dataclass
class Law:
    """A reaction's translated kinetic law."""

    rid: str
    law: str
    node: Any  # libsbml ASTNode or None
    local: dict[str, str]  # local parameter id -> model name
    fast: bool = False  # SBML fast="true": law already multiplied by FAST


@dataclass
class Reactions:
    """Reactions of a model, and the extra rate-of-change terms per state."""

    laws: list[Law] = field(default_factory=list)
    local_parameters: list[Parameter] = field(default_factory=list)
    built: list[Reaction] = field(default_factory=list)
    flux: dict[str, list[str]] = field(default_factory=dict)  # state -> terms (state units/time)
    terms: dict[str, list[str]] = field(default_factory=dict)  # state -> all reaction terms


def read_laws(
    model: Any, level: int, tr: MathTranslator, unique: Any, used: set[str], problems: list[str]
) -> Reactions:
    """Translate every kinetic law (local parameters get model names; see the reader's docs)."""

    def locals_of(r: Any) -> list[Any]:
        kl = r.getKineticLaw()
        if kl is None:
            return []
        return list(kl.getListOfLocalParameters() if level >= 3 else kl.getListOfParameters())

    rxns = list(model.getListOfReactions())
    count: dict[str, int] = {}
    for r in rxns:
        for p in locals_of(r):
            count[p.getId()] = count.get(p.getId(), 0) + 1
    out = Reactions()
    for r in rxns:
        rid, where = r.getId(), f"reaction {r.getId()!r}"
        local: dict[str, str] = {}
        for p in locals_of(r):
            pid = p.getId()
            shared = count[pid] > 1 or pid in used
            local[pid] = unique(f"{rid}_{pid}" if shared else pid)
            value = p.getValue() if p.isSetValue() else math.nan
            out.local_parameters.append(
                Parameter(local[pid], value, p.getUnits(), f"local to reaction {rid}")
            )
        kl = r.getKineticLaw()
        node = kl.getMath() if kl is not None and kl.isSetMath() else None
        law = tr.translate(node, where, local) if node is not None else "0"
        if draws(law):
            problems.append(f"{where}: a random draw (distrib) in the kinetic law")
        fast = bool(r.isSetFast() and r.getFast())
        if fast:
            law, node = f"{FAST!r}*({law})", None
        out.laws.append(Law(rid, law, node, local, fast))
    return out


def build_reactions(
    sb: Any,
    model: Any,
    level: int,
    tr: MathTranslator,
    table: SymbolTable,
    values: Mapping[str, float],
    volumes: Mapping[str, float],
    parts: Reactions,
    problems: list[str],
) -> None:
    """Stoichiometry and flux terms of every reaction (fills ``parts``).

    ``values`` holds the initial value of every model name, ``volumes`` the volume of every
    state (1 for amounts).
    """
    constants = {n for sid, n in table.names.items() if table.kind[sid] == "constant"}
    constants |= {p.name for p in parts.local_parameters}
    model_cf = model.getConversionFactor() if level >= 3 and model.isSetConversionFactor() else ""
    for r, law in zip(model.getListOfReactions(), parts.laws):
        where = f"reaction {law.rid!r}"
        sides: list[dict[str, float | str]] = [{}, {}]
        for k, (refs, sign) in enumerate(
            ((r.getListOfReactants(), "-"), (r.getListOfProducts(), "+"))
        ):
            for sr in refs:
                sid = sr.getSpecies()
                if table.kind.get(sid) == "rule":
                    continue  # set by a rule: reactions do not change it
                state = table.state_of[sid]
                coef = _coefficient(sb, sr, level, tr, table, values, where)
                s = model.getSpecies(sid)
                cf = (
                    s.getConversionFactor()
                    if level >= 3 and s.isSetConversionFactor()
                    else model_cf
                )
                factor: float | str = 1.0
                if cf:
                    factor = (
                        values[table.names[cf]] if table.kind[cf] == "constant" else table.names[cf]
                    )
                moving = table.kind[sid] == "state" and not (
                    s.getBoundaryCondition() or s.getConstant()
                )
                if isinstance(coef, float) and isinstance(factor, float):
                    _add(sides[k], state, coef * factor, where, problems)
                    total: float | str = coef * factor
                elif isinstance(coef, str) and coef in constants and factor == 1.0:
                    _add(sides[k], state, coef, where, problems)
                    total = coef
                else:
                    total = f"({coef})*({factor})"
                    if moving:
                        term = f"{sign}({total})*({law.law})/{volumes[state]!r}"
                        parts.flux.setdefault(state, []).append(term)
                if moving:
                    parts.terms.setdefault(state, []).append(
                        f"{sign}({total})*({law.law})/{volumes[state]!r}"
                    )
        k_ma = None
        if law.node is not None:
            names = {**table.names, **law.local}
            nonneg = {c for c in constants if values.get(c, -1.0) >= 0}
            k_ma = mass_action_constant(sb, law.node, sides[0], names, nonneg)
        rate, is_ma = (k_ma, True) if k_ma is not None else (law.law, False)
        parts.built.append(Reaction(law.rid, sides[0], sides[1], rate, mass_action=is_ma))


def _add(
    side: dict[str, float | str], state: str, c: float | str, where: str, problems: list[str]
) -> None:
    old = side.get(state)
    if old is None:
        side[state] = c
    elif isinstance(old, float) and isinstance(c, float):
        side[state] = old + c
    else:
        problems.append(f"{where}: {state!r} twice with a parameter as stoichiometry")


def _coefficient(
    sb: Any, sr: Any, level: int, tr: MathTranslator, table: SymbolTable,
    values: Mapping[str, float], where: str,
) -> float | str:  # fmt: skip
    """A number, a constant parameter's name, or an expression (variable stoichiometry)."""
    if level >= 3 and sr.isSetId():
        ref = sr.getId()
        if table.kind[ref] == "constant" or ref in table.fixed_rules:
            return float(values[table.names[ref]])
        return table.names[ref]
    if level == 2 and sr.isSetStoichiometryMath() and sr.getStoichiometryMath().isSetMath():
        expr = tr.translate(sr.getStoichiometryMath().getMath(), f"{where} stoichiometry")
        free = symbols(expr)
        constant = {n for sid, n in table.names.items() if table.kind[sid] == "constant"}
        if free <= constant:
            if len(free) == 1 and expr.strip() == next(iter(free)):
                return expr  # a parameter: may differ from cell to cell
            return float(evaluate(expr, values))
        return expr
    value = sr.getStoichiometry()
    return 1.0 if math.isnan(value) else float(value)
