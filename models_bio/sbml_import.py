"""One pass over a libsbml model that builds the :class:`~models_bio.network.ReactionNetwork`.

The steps, in order: name every SBML id; translate rules, initial assignments and kinetic laws;
solve algebraic rules that are linear in one unknown; classify every symbol
(:mod:`models_bio.sbml_symbols`); evaluate initial values; build reactions
(:mod:`models_bio.sbml_reactions`), the derivatives ``rateOf`` reads, and events
(:mod:`models_bio.sbml_events`). Unsupported features are collected in ``problems`` and
reported together by :func:`models_bio.sbml.read_sbml`.
"""

from __future__ import annotations

import ast
import keyword
import math
from dataclasses import dataclass
from typing import Any

from models_bio.distrib import DRAWS, Draw
from models_bio.expressions import CONSTANTS, draws, parse, symbols
from models_bio.network import Parameter, Species
from models_bio.sbml_algebra import solve_linear
from models_bio.sbml_events import read_events
from models_bio.sbml_math import MathTranslator, dependency_order, evaluate, initial_values
from models_bio.sbml_reactions import build_reactions, read_laws
from models_bio.sbml_symbols import SymbolTable, time_dependent

RESERVED = {*keyword.kwlist, *CONSTANTS, "time", "_x_", "_p_", "_t_", "_f"}


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


def _number(v: float) -> str:
    return "(inf - inf)" if math.isnan(v) else ("inf" if v == math.inf else repr(float(v)))


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
            c = m.getCompartment(s.getCompartment())
            t.compartment[s.getId()] = s.getCompartment()
            t.amount_only[s.getId()] = bool(s.getHasOnlySubstanceUnits()) or (
                c is not None and c.getSpatialDimensionsAsDouble() == 0
            )
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
        t.varying = {
            c.getId() for c in comps
            if t.kind[c.getId()] == "state" or t.names[c.getId()] in moving
        }  # fmt: skip
        for sid, name in t.names.items():
            t.state_of[sid] = self.unique(f"{sid}_amount") if t.by_amount(sid) else name
        return self._assemble(comps, species, params, refs, assign, rate, initial, parts)

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

    def _constant_attribute(self, sid: str) -> bool:
        kind = self.t.element[sid]
        get = {
            "compartment": self.m.getCompartment, "species": self.m.getSpecies,
            "parameter": self.m.getParameter, "reference": self.m.getSpeciesReference,
        }[kind]  # fmt: skip
        return bool(get(sid).getConstant())

    # -- initial values, states, parameters, rules ---------------------------------------
    def _initial(self, comps, species, params, refs, assign, initial, laws, local):
        """Initial value of every formula name (time 0), in dependency order."""
        t, m = self.t, self.m
        init: dict[str, str] = {}
        for c in comps:
            init[t.names[c.getId()]] = _number(c.getSize() if c.isSetSize() else 1.0)
        for p in params:
            init[t.names[p.getId()]] = _number(p.getValue() if p.isSetValue() else math.nan)
        for sr in refs:
            v = sr.getStoichiometry() if sr.isSetStoichiometry() else 1.0
            init[t.names[sr.getId()]] = _number(1.0 if math.isnan(v) else v)
        for s in species:
            sid, cname = t.names[s.getId()], t.names[s.getCompartment()]
            amount, dim0 = t.amount_only[s.getId()], m.getCompartment(s.getCompartment())
            dim0 = dim0 is not None and dim0.getSpatialDimensionsAsDouble() == 0
            if s.isSetInitialAmount():
                v = _number(s.getInitialAmount())
                init[sid] = v if amount else f"{v}/{cname}"
            elif s.isSetInitialConcentration():
                v = _number(s.getInitialConcentration())
                init[sid] = f"{v}*{cname}" if amount and not dim0 else v
            else:
                init[sid] = "(inf - inf)"
        init.update(laws)
        init.update({p.name: _number(p.value) for p in local})
        self.drawn: dict[str, Draw] = {}
        for sid, expr in initial.items():
            draw = self._draw(expr, init)
            if draw is not None:
                self.drawn[t.names[sid]] = draw
                expr = _number(draw.mean)
            elif draws(expr):
                self.problems.append(
                    f"initial assignment to {sid!r}: a random draw inside a larger expression; "
                    "only a whole draw with constant arguments (e.g. normal(0, 1)) maps onto "
                    "per-cell heterogeneity"
                )
            init[t.names[sid]] = expr
        init.update({t.names[s]: e for s, e in assign.items()})
        for name, expr in init.items():
            read = symbols(expr) & self.drawn.keys()
            if read and name not in self.drawn:
                self.problems.append(
                    f"the initial value of {name!r} reads {sorted(read)[0]!r}, which is drawn "
                    "per cell (distrib); draws must not feed other initial values"
                )
        return initial_values(init, self.problems)

    def _draw(self, expr: str, init: dict[str, str]) -> Draw | None:
        """The :class:`Draw` if ``expr`` is one draw with constant arguments, else None."""
        body = parse(expr).body
        if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name)):
            return None
        if body.func.id not in DRAWS:
            return None
        args = [ast.unparse(a) for a in body.args]
        if any(draws(a) or "time" in symbols(a) for a in args):
            return None
        env = initial_values(init, [])
        try:
            return Draw(body.func.id, tuple(evaluate(a, env) for a in args))
        except ValueError as err:
            self.problems.append(f"a distrib draw {expr!r}: {err}")
            return None

    def _assemble(self, comps, species, params, refs, assign, rate, initial, parts):
        t, m, problems = self.t, self.m, self.problems
        laws = {t.names[law.rid]: law.law for law in parts.laws}
        values = self._initial(
            comps, species, params, refs, assign, initial, laws, parts.local_parameters
        )
        rules: dict[str, str] = {t.names[s]: e for s, e in assign.items()}
        states: list[Species] = []
        parameters: list[Parameter] = []
        volumes: dict[str, float] = {}
        heterogeneity: dict[str, Draw] = {}
        inert: set[str] = set()  # SBML boundary/constant species nothing may change

        def initial_of(sid: str, state: str) -> float | str:
            draw = self.drawn.get(t.names[sid])
            if draw is None:
                return float(values[state] if state in values else values[t.names[sid]])
            if t.element[sid] in ("compartment",) or t.by_amount(sid):
                problems.append(f"a per-cell draw (distrib) for the initial value of {sid!r}")
                return draw.mean
            pname = self.unique(f"{state}_initial")
            parameters.append(Parameter(pname, draw.mean, "", f"initial value of {sid}"))
            heterogeneity[pname] = draw
            return pname

        for sid, kind in t.kind.items():
            el, name = t.element[sid], t.names[sid]
            if el == "reaction" or kind == "rule":
                continue
            if el == "species":
                s = m.getSpecies(sid)
                cname = t.names[t.compartment[sid]]
                state = t.state_of[sid]
                if t.by_amount(sid):
                    rules[name] = f"{state}/{cname}"
                    values[state] = values[name] * values[cname]
                    vol = 1.0
                else:
                    vol = 1.0 if t.amount_only[sid] else values[cname]
                    if not (math.isfinite(vol) and vol > 0):
                        problems.append(
                            f"species {sid!r} in compartment {t.compartment[sid]!r} of size {vol}"
                        )
                        vol = 1.0
                volumes[state] = vol
                fixed = s.getBoundaryCondition() or s.getConstant()
                if fixed and kind == "constant":
                    inert.add(state)
                boundary = fixed or sid not in self.reacting  # reactions never change it
                units = s.getUnits() or ("amount" if t.amount_only[sid] else "concentration")
                states.append(Species(state, initial_of(sid, state), units, vol, bool(boundary)))
            elif kind == "state":
                obj_units = self._units(sid)
                volumes[name] = 1.0
                states.append(Species(name, initial_of(sid, name), obj_units, 1.0, True))
            elif not math.isfinite(values[name]):
                rules[name] = _number(values[name])  # inf/NaN: a rule, parameters are finite
            else:
                text = {"compartment": f"size of compartment {sid}",
                        "reference": "a stoichiometry"}.get(el, "")  # fmt: skip
                if name in self.drawn:
                    heterogeneity[name] = self.drawn[name]
                parameters.append(Parameter(name, float(values[name]), self._units(sid), text))
        parameters += parts.local_parameters
        build_reactions(self.sb, m, self.level, self.tr, t, values, volumes, parts, problems)
        rate_rules = self._rate_rules(rate, parts)
        events = read_events(m, self.level, self.tr, t, problems)
        rules.update(self._derivatives(rate, parts))
        # reaction ids read as symbols become rules holding the rate
        exprs = [*rules.values(), *rate_rules.values(), *(r.law for r in parts.built)]
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
        targets = {v for e in events for v in e.assignments}
        drop = inert - read - targets - set(rate_rules)
        states = [s for s in states if s.name not in drop]
        built = [r.__class__(r.name, {k: c for k, c in r.reactants.items() if k not in drop},
                             {k: c for k, c in r.products.items() if k not in drop},
                             r.rate, r.mass_action) for r in parts.built]  # fmt: skip
        ordered = dependency_order(rules, problems)
        network_names = {s.name for s in states} | {p.name for p in parameters} | set(rules)
        return {
            "species": tuple(states), "parameters": tuple(parameters), "reactions": tuple(built),
            "assignment_rules": tuple(ordered), "rate_rules": rate_rules,
            "events": tuple(events), "heterogeneity": heterogeneity,
            "variables": self._variables(values, laws, network_names),
        }  # fmt: skip

    def _units(self, sid: str) -> str:
        get = {"compartment": self.m.getCompartment, "parameter": self.m.getParameter}.get(
            self.t.element[sid]
        )
        return get(sid).getUnits() if get is not None else ""

    def _size_rate(self, cid: str, rate: dict[str, str], sid: str) -> str:
        """``d size / dt`` of compartment ``cid`` (needed by a concentration held as an amount)."""
        if self.t.kind[cid] == "state":
            return rate.get(cid, "0")
        self.problems.append(
            f"species {sid!r} changes in compartment {cid!r}, whose size an assignment rule sets"
        )
        return "0"

    def _rate_rules(self, rate: dict[str, str], parts) -> dict[str, str]:
        t = self.t
        out: dict[str, str] = {}
        for sid, expr in rate.items():
            if t.kind.get(sid) != "state":
                continue
            if t.by_amount(sid):
                cid = t.compartment[sid]
                c, dc = t.names[cid], self._size_rate(cid, rate, sid)
                expr = f"({expr})*{c} + {t.names[sid]}*({dc})"
            out[t.state_of[sid]] = expr
        for state, terms in parts.flux.items():
            out[state] = " ".join([out[state], "+"] if state in out else []) + " ".join(terms)
        return out

    def _derivatives(self, rate: dict[str, str], parts) -> dict[str, str]:
        """Rules holding ``d x / dt`` for every ``rateOf(x)`` the model reads."""
        t, out = self.t, {}
        for sid, name in self.rate_requests.items():
            if t.kind[sid] == "constant":
                out[name] = "0"
                continue
            if t.kind[sid] == "rule":
                self.problems.append(f"rateOf({sid}), which an assignment rule sets")
                out[name] = "0"
                continue
            state = t.state_of[sid]
            own = rate.get(sid)
            if own is not None and t.by_amount(sid):
                out[name] = own  # the rate rule gives d concentration / dt directly
                continue
            terms = [*parts.terms.get(state, []), *([f"+({own})"] if own else [])]
            d = " ".join(terms) or "0"
            if t.by_amount(sid):
                cid = t.compartment[sid]
                c, dc = t.names[cid], self._size_rate(cid, rate, sid)
                d = f"({d})/{c} - {t.names[sid]}*({dc})/{c}"
            out[name] = d
        return out

    def _variables(self, values, laws, network_names) -> dict[str, SBMLVariable]:
        t, out = self.t, {}

        def expr(sid: str) -> str:
            name = t.names[sid]
            if name in network_names:
                return name
            if t.element[sid] == "reaction":
                return laws[name]
            return _number(values.get(name, math.nan))

        for sid in t.kind:
            v = expr(sid)
            if t.element[sid] != "species":
                out[sid] = SBMLVariable(v, v, v)
                continue
            c = expr(t.compartment[sid])
            dim0 = self.m.getCompartment(t.compartment[sid]).getSpatialDimensionsAsDouble() == 0
            if dim0:
                out[sid] = SBMLVariable(v, v, v)
            elif t.amount_only[sid]:
                out[sid] = SBMLVariable(v, v, f"({v})/({c})")
            else:
                out[sid] = SBMLVariable(v, f"({v})*({c})", v)
        return out
