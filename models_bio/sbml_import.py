"""One pass over a libsbml model that builds the :class:`~models_bio.network.ReactionNetwork`.

The steps, in order: name every SBML id; translate rules, initial assignments and kinetic laws;
solve algebraic rules that are linear in one unknown; classify every symbol
(:mod:`models_bio.sbml_symbols`); evaluate initial values; build reactions
(:mod:`models_bio.sbml_reactions`), the derivatives ``rateOf`` reads, and events
(:mod:`models_bio.sbml_events`). Unsupported features are collected in ``problems`` and
reported together by :func:`models_bio.sbml.read_sbml`.
"""

from __future__ import annotations

import keyword
import math
from typing import Any

from models_bio.distrib import Draw
from models_bio.expressions import CONSTANTS, draws, symbols
from models_bio.network import Parameter, Reaction, Species
from models_bio.sbml_algebra import solve_linear
from models_bio.sbml_events import read_events
from models_bio.sbml_fast import equilibrate
from models_bio.sbml_initial import declared, initial_map, number
from models_bio.sbml_math import MathTranslator, dependency_order, initial_values
from models_bio.sbml_rates import derivatives, rate_rules
from models_bio.sbml_reactions import build_reactions, read_laws
from models_bio.sbml_symbols import SymbolTable, time_dependent, variables

RESERVED = {*keyword.kwlist, *CONSTANTS, "time", "_x_", "_p_", "_t_", "_f"}


class Importer:
    """Reads one libsbml model; ``build()`` returns the network parts and the symbol map."""

    def __init__(self, sb: Any, model: Any, level: int) -> None:
        self.sb, self.m, self.level = sb, model, level
        self.problems: list[str] = []
        self.used: set[str] = set()
        self.t = SymbolTable()
        self.rate_requests: dict[str, str] = {}  # SBML id -> name of its derivative

    def unique(self, candidate: str) -> str:
        while candidate in RESERVED or candidate in self.used or not candidate.isidentifier():
            candidate = candidate + "_" if candidate.isidentifier() else "_" + candidate
        self.used.add(candidate)
        return candidate

    def _rate_of(self, sid: str, where: str) -> str:
        if sid not in self.t.kind:
            self.problems.append(f"{where} uses rateOf({sid}), which is not a variable")
            return "0"
        if sid not in self.rate_requests:
            self.rate_requests[sid] = self.unique(f"rateOf_{sid}")
        return self.rate_requests[sid]

    # -- the import --------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        m, t, sb = self.m, self.t, self.sb
        comps = list(m.getListOfCompartments())
        species = list(m.getListOfSpecies())
        params = list(m.getListOfParameters())
        rxns = list(m.getListOfReactions())
        refs = [
            sr
            for r in rxns
            for sr in (*r.getListOfReactants(), *r.getListOfProducts())
            if self.level >= 3 and sr.isSetId()
        ]
        for kind, objs in (
            ("compartment", comps), ("species", species), ("parameter", params),
            ("reference", refs), ("reaction", rxns),
        ):  # fmt: skip
            for o in objs:
                t.element[o.getId()] = kind
                t.names[o.getId()] = self.unique(o.getId())
                t.kind[o.getId()] = "constant"
        for s in species:
            t.compartment[s.getId()] = s.getCompartment()
            t.amount_only[s.getId()] = bool(s.getHasOnlySubstanceUnits())
        functions = {
            f.getId(): f.getMath() for f in m.getListOfFunctionDefinitions() if f.isSetMath()
        }
        tr = self.tr = MathTranslator(sb, t.names, functions, self.problems, self._rate_of)

        # Rules and initial assignments (math-less elements have no effect).
        assign: dict[str, str] = {}  # SBML id -> expression
        rate: dict[str, str] = {}
        algebraic: list[str] = []
        for r in m.getListOfRules():
            var = r.getVariable() if not r.isAlgebraic() else ""
            if not r.isSetMath():
                if r.isRate():
                    rate[var] = "0"
                continue
            where = "algebraic rule" if r.isAlgebraic() else f"rule for {var!r}"
            expr = tr.translate(r.getMath(), where)
            if draws(expr):
                self.problems.append(f"{where}: a random draw (distrib) in a rule")
            if r.isAlgebraic():
                algebraic.append(expr)
            elif var not in t.kind:
                self.problems.append(f"a rule for {var!r}, which is not a symbol of the model")
            else:
                (assign if r.isAssignment() else rate)[var] = expr
        initial = {
            ia.getSymbol(): tr.translate(ia.getMath(), f"initial assignment to {ia.getSymbol()!r}")
            for ia in m.getListOfInitialAssignments()
            if ia.isSetMath() and ia.getSymbol() in t.kind
        }
        targets = {
            a.getVariable()
            for e in m.getListOfEvents()
            if e.isSetTrigger() and e.getTrigger().isSetMath()
            for a in e.getListOfEventAssignments()
            if a.isSetMath()
        }
        reacting = self.reacting = {
            sr.getSpecies()
            for r in rxns
            for sr in (*r.getListOfReactants(), *r.getListOfProducts())
            if not (m.getSpecies(sr.getSpecies()).getBoundaryCondition()
                    or m.getSpecies(sr.getSpecies()).getConstant())
        }  # fmt: skip
        parts = read_laws(m, self.level, tr, self.unique, self.used, self.problems)
        determined = set(assign) | set(rate) | targets | reacting
        self._solve_algebraic(algebraic, determined, assign)
        for sid in t.kind:
            if sid in assign:
                t.kind[sid] = "rule"
            elif sid in rate or sid in targets or sid in reacting:
                t.kind[sid] = "state"
        law_of = {t.names[law.rid]: law.law for law in parts.laws}
        states = {t.names[s] for s, k in t.kind.items() if k == "state"}
        rules_by_name = {t.names[s]: e for s, e in assign.items()}
        moving = time_dependent(rules_by_name, states, law_of)
        t.fixed_rules = {s for s in assign if t.names[s] not in moving}
        t.varying = {
            c.getId() for c in comps
            if t.kind[c.getId()] == "state" or t.names[c.getId()] in moving
        }  # fmt: skip
        for sid, name in t.names.items():
            t.state_of[sid] = self.unique(f"{sid}_amount") if t.by_amount(sid) else name
        return self._assemble(refs, assign, rate, initial, parts)

    def _solve_algebraic(self, rules: list[str], determined: set[str], assign: dict) -> None:
        """Turn each algebraic rule linear in exactly one free unknown into an assignment rule."""
        t = self.t
        by_name = {n: sid for sid, n in t.names.items() if t.element[sid] != "reaction"}
        pending = list(rules)
        while pending:
            progress = False
            for expr in list(pending):
                free = [
                    by_name[n] for n in sorted(symbols(expr))
                    if n in by_name and by_name[n] not in determined and by_name[n] not in assign
                    and not self._constant_attribute(by_name[n])
                ]  # fmt: skip
                if len(free) > 1:  # boundary species are given by the environment: not unknowns
                    free = [f for f in free if not self._boundary(f)]
                if len(free) == 1:
                    solved = solve_linear(expr, t.names[free[0]])
                    if solved is not None:
                        assign[free[0]] = solved
                        pending.remove(expr)
                        progress = True
            if not progress:
                break
        for expr in pending:
            self.problems.append(
                f"algebraic rule 0 = {expr} (not linear in exactly one undetermined variable)"
            )

    def _boundary(self, sid: str) -> bool:
        return self.t.element[sid] == "species" and self.m.getSpecies(sid).getBoundaryCondition()

    def _constant_attribute(self, sid: str) -> bool:
        kind = self.t.element[sid]
        get = {
            "compartment": self.m.getCompartment, "species": self.m.getSpecies,
            "parameter": self.m.getParameter, "reference": self.m.getSpeciesReference,
        }[kind]  # fmt: skip
        return bool(get(sid).getConstant())

    # -- values, reactions, states, parameters, rules ------------------------------------
    def _assemble(self, refs, assign, rate, initial, parts) -> dict[str, Any]:
        t, m, problems = self.t, self.m, self.problems
        laws = {t.names[law.rid]: law.law for law in parts.laws}
        base = {**declared(m, t, refs), **laws}
        local = parts.local_parameters
        init, drawn = initial_map(base, t, initial, assign, local, problems)
        values = initial_values(init, problems)
        volumes = {t.state_of[sid]: self._volume(sid, values) for sid in t.kind}
        build_reactions(self.sb, m, self.level, self.tr, t, values, volumes, parts, problems)
        rates = rate_rules(t, rate, parts, problems)
        events = read_events(m, self.level, self.tr, t, problems)
        rules = {t.names[s]: e for s, e in assign.items()}
        derived = derivatives(t, rate, parts, self.rate_requests, problems)
        if derived:  # initial values may read rateOf(...): evaluate again with them
            init, drawn = initial_map({**base, **derived}, t, initial, assign, local, [])
            values = initial_values(init, [])
        rules.update(derived)
        fast = [(r, law.law) for r, law in zip(parts.built, parts.laws) if law.fast]
        if fast:
            fixed = {
                t.state_of[s.getId()] for s in m.getListOfSpecies()
                if s.getBoundaryCondition() or s.getConstant()
            }  # fmt: skip
            reactions = [r for r, _ in fast]
            equilibrate(reactions, [lw for _, lw in fast], values, rules, volumes, fixed)
        states, parameters, heterogeneity, inert = self._objects(values, volumes, drawn, rules)
        parameters += local
        # reaction ids read as symbols become rules holding the rate
        exprs = [*rules.values(), *rates.values(), *(r.law for r in parts.built)]
        exprs += [x for e in events for x in e.expressions]
        read = set().union(*(symbols(e) for e in exprs)) if exprs else set()
        while read & (laws.keys() - rules.keys()):
            for n in read & (laws.keys() - rules.keys()):
                rules[n] = laws[n]
                read |= symbols(laws[n])
        coefs = {
            c for r in parts.built for side in (r.reactants, r.products) for c in side.values()
        }
        optional = {t.names[s] for s in t.kind if t.element[s] in ("compartment", "reference")}
        parameters = [p for p in parameters if p.name not in optional or p.name in read | coefs]
        drop = inert - read - {v for e in events for v in e.assignments} - set(rates)
        states = [s for s in states if s.name not in drop]
        built = [
            Reaction(
                r.name, {k: c for k, c in r.reactants.items() if k not in drop},
                {k: c for k, c in r.products.items() if k not in drop}, r.rate, r.mass_action,
            )
            for r in parts.built
        ]  # fmt: skip
        kept = {s.name for s in states} | {p.name for p in parameters} | set(rules)
        constant = {n: number(values.get(n, math.nan)) for n in t.names.values()} | laws
        return {
            "species": tuple(states), "parameters": tuple(parameters), "reactions": tuple(built),
            "assignment_rules": tuple(dependency_order(rules, problems)), "rate_rules": rates,
            "events": tuple(events), "heterogeneity": heterogeneity,
            "variables": variables(t, constant, kept),
        }  # fmt: skip

    def _volume(self, sid: str, values: dict[str, float]) -> float:
        """Volume of the state holding ``sid``: its compartment's size for a concentration."""
        t = self.t
        if t.element[sid] != "species" or t.amount_only[sid] or t.by_amount(sid):
            return 1.0
        vol = values[t.names[t.compartment[sid]]]
        if t.kind[sid] != "rule" and not (math.isfinite(vol) and vol > 0):
            self.problems.append(
                f"species {sid!r} in compartment {t.compartment[sid]!r} of size {vol}"
            )
            return 1.0
        return vol

    def _objects(self, values, volumes, drawn, rules):
        """States, parameters, heterogeneity and the inert species (SBML boundary/constant)."""
        t, m = self.t, self.m
        states: list[Species] = []
        parameters: list[Parameter] = []
        heterogeneity: dict[str, Draw] = {}
        inert: set[str] = set()

        def initial_of(sid: str, state: str) -> float | str:
            d = drawn.get(t.names[sid])
            if d is None:
                return float(values[state])
            if t.element[sid] == "compartment" or t.by_amount(sid):
                self.problems.append(f"a per-cell draw (distrib) for the initial value of {sid!r}")
                return d.mean
            pname = self.unique(f"{state}_initial")
            parameters.append(Parameter(pname, d.mean, "", f"initial value of {sid}"))
            heterogeneity[pname] = d
            return pname

        for sid, kind in t.kind.items():
            el, name, state = t.element[sid], t.names[sid], t.state_of[sid]
            if el == "reaction" or kind == "rule":
                continue
            if el == "species":
                s = m.getSpecies(sid)
                if t.by_amount(sid):
                    cname = t.names[t.compartment[sid]]
                    rules[name] = f"{state}/{cname}"
                    values[state] = values[name] * values[cname]
                fixed = bool(s.getBoundaryCondition() or s.getConstant())
                if fixed and kind == "constant":
                    inert.add(state)
                units = s.getUnits() or _default_units(m, t.amount_only[sid])
                boundary = fixed or sid not in self.reacting  # reactions never change it
                states.append(
                    Species(state, initial_of(sid, state), units, volumes[state], boundary)
                )
            elif kind == "state":
                states.append(Species(name, initial_of(sid, name), self._units(sid), 1.0, True))
            elif not math.isfinite(values[name]):
                rules[name] = number(values[name])  # inf/NaN: a rule, parameters are finite
            else:
                text = {"compartment": f"size of compartment {sid}",
                        "reference": "a stoichiometry"}.get(el, "")  # fmt: skip
                if name in drawn:
                    heterogeneity[name] = drawn[name]
                parameters.append(Parameter(name, float(values[name]), self._units(sid), text))
        return states, parameters, heterogeneity, inert

    def _units(self, sid: str) -> str:
        get = {"compartment": self.m.getCompartment, "parameter": self.m.getParameter}.get(
            self.t.element[sid]
        )
        return get(sid).getUnits() if get is not None else ""


def _default_units(model: Any, amount_only: bool) -> str:
    """Units of a species that declares none: ``item`` counts when the model's substance is
    ``item`` (so stochastic methods count it as it is), else "amount" or "concentration"."""
    if model.getSubstanceUnits() == "item":
        return "item" if amount_only else f"item/{model.getVolumeUnits() or 'volume'}"
    return "amount" if amount_only else "concentration"
