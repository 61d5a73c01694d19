"""Read SBML models (Levels 2 and 3 core) into :class:`~models_bio.network.ReactionNetwork`.

Needs python-libsbml (``pip install 'cellsde[sbml]'``), imported only inside :func:`read_sbml`.

Conventions
-----------
* **State = what a species' id means in formulas.** A species with
  ``hasOnlySubstanceUnits=false`` is a concentration: the state holds its concentration, its
  :class:`Species` volume is its compartment's size, and ``dx/dt = sum_j S_ij v_j / V`` (SBML
  kinetic laws are amounts per time). A species with ``hasOnlySubstanceUnits=true`` is an
  amount: state = amount, volume 1. ``initialAmount``/``initialConcentration`` are converted
  (divided or multiplied by the compartment size) accordingly.
* Boundary and constant species get ``boundary=True`` (reactions do not change them; rate rules
  and events still may). A boundary species no formula reads and no rule or event sets (e.g.
  BioModels' ``EmptySet``) is dropped.
* Global parameters keep their ids. Local (kinetic-law) parameters keep their id when no other
  reaction and no global symbol uses it, else become ``<reaction id>_<id>`` (Vilar 2002:
  ``gammaA`` stays ``gammaA``; ``deltaA``, local to two reactions, becomes ``Reaction2_deltaA``
  and ``Reaction3_deltaA``). Ids that are Python keywords or reserved names (``time``, ``e``,
  ``pi``, ``inf``...) get a trailing ``_``.
* Compartments are constants; one that a formula reads becomes a parameter holding its size.
  (Changing that parameter does not change species volumes.)
* Assignment rules become ``assignment_rules`` (ordered by dependency); a species with an
  assignment rule leaves the state and becomes a derived variable. Rate rules become
  ``rate_rules``; a parameter or compartment set by a rate rule or by an event becomes a
  boundary state species (its derivative is the rate rule, or 0).
* Initial assignments are evaluated numerically at load time, in dependency order (with
  assignment rules holding at t = 0).
* Function definitions are inlined. Kinetic laws of the form ``k * reactant1 * reactant2`` with a
  parameter ``k`` are marked mass action; reversible reactions keep their net rate law.
* Events map to :class:`Event` (trigger, assignments, ``initialValue``); event delays and
  priorities are not supported.

Unsupported features (algebraic rules, delays, fast reactions, event delays and priorities,
compartments of varying size that hold species, conversion factors, variable stoichiometry,
``rateOf``, SBML packages such as comp or fbc) are collected and reported in one error.
"""

from __future__ import annotations

import keyword
import math
import os
from pathlib import Path
from typing import Any

from models_bio.expressions import CONSTANTS, symbols
from models_bio.network import Event, Parameter, Reaction, ReactionNetwork, Species
from models_bio.sbml_math import (
    MathTranslator,
    dependency_order,
    initial_values,
    mass_action_constant,
    model_time_units,
)

_RESERVED = {*keyword.kwlist, *CONSTANTS, "time", "_x_", "_p_", "_t_", "_f"}
_HARMLESS_PACKAGES = {"layout", "render", "l3v2extendedmath"}  # drawing; math checked anyway


class SBMLError(ValueError):
    """The file is not valid SBML, or it uses SBML features cellsde does not support."""


def read_sbml(path: str | os.PathLike[str], *, name: str | None = None) -> ReactionNetwork:
    """Read an SBML file into a :class:`~models_bio.network.ReactionNetwork`.

    Parameters
    ----------
    path : str or path-like
        SBML file (Level 2 or 3 core).
    name : str, optional
        Name of the returned network; defaults to the SBML model id (or the file stem).

    Returns
    -------
    ReactionNetwork
        Species in SBML order (then parameters/compartments turned into states), time units
        from the model's time unit (``"h"``, ``"min"``, ``"s"``...). See the module docstring for
        the amount/concentration and naming conventions.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    SBMLError
        The file is empty, not XML, not SBML or invalid (one line: libsbml's first error), or it
        uses features cellsde cannot simulate (all of them listed in one message).
    ImportError
        python-libsbml is not installed.
    """
    try:
        import libsbml
    except ImportError:
        raise ImportError(
            "reading SBML needs python-libsbml; install it with: pip install 'cellsde[sbml]'"
        ) from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SBML file {path} does not exist")
    if path.stat().st_size == 0:
        raise SBMLError(f"SBML file {path} is empty")
    doc = libsbml.readSBMLFromFile(str(path))
    _check_errors(libsbml, doc, path)
    if doc.getModel() is None:
        raise SBMLError(f"SBML file {path} contains no <model>")
    return _Importer(libsbml, doc, path).build(name)


def _check_errors(sb: Any, doc: Any, path: Path) -> None:
    def errors() -> list[Any]:
        log = [doc.getError(i) for i in range(doc.getNumErrors())]
        return [e for e in log if e.getSeverity() >= sb.LIBSBML_SEV_ERROR]

    found = errors()
    if not found:
        doc.setConsistencyChecks(sb.LIBSBML_CAT_UNITS_CONSISTENCY, False)
        doc.setConsistencyChecks(sb.LIBSBML_CAT_MODELING_PRACTICE, False)
        doc.checkConsistency()
        found = errors()
    if found:
        first = " ".join(found[0].getMessage().split())
        more = f" (and {len(found) - 1} more errors)" if len(found) > 1 else ""
        raise SBMLError(f"{path} is not valid SBML: line {found[0].getLine()}: {first}{more}")


class _Importer:
    """One pass over a libsbml model; collects unsupported features in ``self.problems``."""

    def __init__(self, sb: Any, doc: Any, path: Path) -> None:
        self.sb, self.doc, self.m, self.path = sb, doc, doc.getModel(), path
        self.level = doc.getLevel()
        self.problems: list[str] = []
        self.names: dict[str, str] = {}  # SBML id -> model name
        self.used: set[str] = set()

    # -- helpers -----------------------------------------------------------------------
    def _unique(self, candidate: str) -> str:
        while candidate in _RESERVED or candidate in self.used:
            candidate += "_"
        self.used.add(candidate)
        return candidate

    # -- the import --------------------------------------------------------------------
    def build(self, name: str | None) -> ReactionNetwork:
        m, sb = self.m, self.sb
        for i in range(self.doc.getNumPlugins()):
            pkg = self.doc.getPlugin(i).getPackageName()
            if self.doc.isPackageEnabled(pkg) and pkg not in _HARMLESS_PACKAGES:
                self.problems.append(f"the SBML package {pkg!r}")
        comps = {c.getId(): c for c in m.getListOfCompartments()}
        species = list(m.getListOfSpecies())
        params = list(m.getListOfParameters())
        refs = [  # Level 3 species references with an id: their stoichiometry is a symbol
            sr
            for r in m.getListOfReactions()
            for sr in (*r.getListOfReactants(), *r.getListOfProducts())
            if self.level >= 3 and sr.isSetId()
        ]
        ids = [*comps, *(s.getId() for s in species), *(p.getId() for p in params)]
        for sid in ids + [sr.getId() for sr in refs]:
            self.names[sid] = self._unique(sid)
        functions = {f.getId(): f.getMath() for f in m.getListOfFunctionDefinitions()}
        self.tr = MathTranslator(sb, self.names, functions, self.problems)
        if self.level >= 3 and m.isSetConversionFactor():
            self.problems.append("a model conversion factor")

        assign: dict[str, str] = {}  # model name -> expression, SBML order
        rate: dict[str, str] = {}
        for r in m.getListOfRules():
            var, kind = r.getVariable(), "assignment" if r.isAssignment() else "rate"
            if r.isAlgebraic():
                self.problems.append(f"algebraic rule {self.tr.translate(r.getMath(), 'rule')!r}")
            elif var not in self.names:
                self.problems.append(f"a rule for {var!r}, which is not a species or parameter")
            else:
                expr = self.tr.translate(r.getMath(), f"{kind} rule for {var!r}")
                (assign if r.isAssignment() else rate)[self.names[var]] = expr
        event_targets = {
            self.names.get(a.getVariable(), a.getVariable())
            for e in m.getListOfEvents()
            for a in e.getListOfEventAssignments()
        }
        varying = assign.keys() | rate.keys() | event_targets

        # Initial values (formula units), overridden by initial assignments and rules at t0.
        init: dict[str, str] = {}
        comp_of_species = {}
        for cid, c in comps.items():
            init[self.names[cid]] = repr(c.getSize() if c.isSetSize() else 1.0)
        for p in params:
            init[self.names[p.getId()]] = repr(p.getValue() if p.isSetValue() else math.nan)
        for sr in refs:
            value = sr.getStoichiometry()
            init[self.names[sr.getId()]] = repr(1.0 if math.isnan(value) else value)
        for s in species:
            sid, cname = self.names[s.getId()], self.names[s.getCompartment()]
            comp_of_species[sid] = cname
            amount = s.getHasOnlySubstanceUnits()
            if s.isSetInitialAmount():
                v = repr(s.getInitialAmount())
                init[sid] = v if amount else f"{v}/{cname}"
            elif s.isSetInitialConcentration():
                v = repr(s.getInitialConcentration())
                init[sid] = f"{v}*{cname}" if amount else v
            else:
                init[sid] = "inf - inf"
            if self.level >= 3 and s.isSetConversionFactor():
                self.problems.append(f"conversion factor on species {s.getId()!r}")
        for ia in m.getListOfInitialAssignments():
            sym = ia.getSymbol()
            init[self.names[sym]] = self.tr.translate(
                ia.getMath(), f"initial assignment to {sym!r}"
            )
        init.update(assign)
        values = self.values = initial_values(init, self.problems)

        # Classify symbols: state species, parameters, rule variables.
        states: list[Species] = []
        origin: dict[str, str] = {}  # state name -> "species" | "parameter" | "compartment"
        parameters: list[Parameter] = []
        for s in species:
            sid = self.names[s.getId()]
            if sid in assign:
                continue
            if not math.isfinite(values[sid]):
                self.problems.append(f"species {s.getId()!r} without an initial value")
            amount = s.getHasOnlySubstanceUnits()
            units = s.getUnits() or ("amount" if amount else "concentration")
            vol = 1.0 if amount else values[comp_of_species[sid]]
            boundary = s.getBoundaryCondition() or s.getConstant()
            states.append(Species(sid, values[sid], units, vol, boundary))
            origin[sid] = "species"
        holders = {self.names[s.getCompartment()] for s in species}
        optional = {self.names[c] for c in comps} | {self.names[r.getId()] for r in refs}
        for cid in comps:
            cname = self.names[cid]
            if cname in varying and cname in holders:
                self.problems.append(f"compartment {cid!r} of varying size that holds species")
        for kind, objs in (("parameter", params), ("compartment", list(comps.values()))):
            for p in objs:
                cid, pname = p.getId(), self.names[p.getId()]
                if pname in assign:
                    continue
                if kind == "parameter" and not math.isfinite(values[pname]):
                    self.problems.append(f"parameter {p.getId()!r} without a value")
                if pname in rate or pname in event_targets:
                    states.append(Species(pname, values[pname], p.getUnits(), 1.0, True))
                    origin[pname] = kind
                else:
                    text = p.getName() if kind == "parameter" else f"size of compartment {cid}"
                    parameters.append(Parameter(pname, values[pname], p.getUnits(), text))

        for sr in refs:  # constant stoichiometries a formula may read
            pname = self.names[sr.getId()]
            if sr.getConstant() and pname not in varying:
                text = f"stoichiometry of {sr.getSpecies()}"
                parameters.append(Parameter(pname, values[pname], "", text))
        self.coefficient_names = {p.name for p in parameters}
        reactions = self._reactions(assign)
        parameters += self.local_parameters
        events = self._events(set(origin))
        rules = dependency_order(assign, self.problems)

        # Drop what nothing reads: unread compartments, and inert boundary species.
        exprs = [r[3] for r in reactions] + [e for _, e in rules] + list(rate.values())
        exprs += [e.trigger for e in events] + [v for e in events for v in e.assignments.values()]
        read = set().union(*(symbols(e) for e in exprs)) if exprs else set()
        coefs = {c for r in reactions for side in r[1:3] for c in side.values()}
        parameters = [
            p for p in parameters if p.name not in optional or p.name in read or p.name in coefs
        ]
        keep = read | varying
        drop = {s.name for s in states if s.boundary and origin[s.name] == "species"} - keep
        states = [s for s in states if s.name not in drop]
        constants = {p.name for p in parameters if p.value >= 0}
        built = []
        for rid, reac, prod, law, node, local in reactions:
            reac = {s: c for s, c in reac.items() if s not in drop}
            prod = {s: c for s, c in prod.items() if s not in drop}
            k = mass_action_constant(self.sb, node, reac, {**self.names, **local}, constants)
            rate_arg, is_ma = (k, True) if k is not None else (law, False)
            built.append(Reaction(rid, reac, prod, rate_arg, mass_action=is_ma))

        if self.problems:
            raise SBMLError(
                f"SBML file {self.path} uses features cellsde does not support: "
                + "; ".join(dict.fromkeys(self.problems))
            )
        time_units = model_time_units(self.sb, m)
        model_name = name or m.getId() or self.path.stem
        title = m.getName() or m.getId() or self.path.stem
        return ReactionNetwork(
            name=model_name,
            species=tuple(states),
            parameters=tuple(parameters),
            reactions=tuple(built),
            time_units=time_units,
            assignment_rules=tuple(rules),
            rate_rules=rate,
            events=tuple(events),
            description=(
                f"{title}: read from SBML file {self.path.name} (model id {m.getId()!r}, "
                f"Level {self.level} Version {self.doc.getVersion()}); time in {time_units}."
            ),
        )

    def _reactions(self, assign: dict[str, str]) -> list[tuple[Any, ...]]:
        """Per reaction: (id, reactants, products, law, kinetic-law AST, local-name map)."""
        rxns = list(self.m.getListOfReactions())

        def locals_of(r: Any) -> list[Any]:
            kl = r.getKineticLaw()
            if kl is None:
                return []
            lst = kl.getListOfLocalParameters() if self.level >= 3 else kl.getListOfParameters()
            return list(lst)

        count: dict[str, int] = {}
        for r in rxns:
            for p in locals_of(r):
                count[p.getId()] = count.get(p.getId(), 0) + 1
        out = []
        self.local_parameters: list[Parameter] = []
        for r in rxns:
            rid, where = r.getId(), f"reaction {r.getId()!r}"
            if r.isSetFast() and r.getFast():
                self.problems.append(f"fast reaction {rid!r}")
            local: dict[str, str] = {}
            for p in locals_of(r):
                pid = p.getId()
                shared = count[pid] > 1 or pid in self.used or pid in _RESERVED
                local[pid] = self._unique(f"{rid}_{pid}" if shared else pid)
                self.local_parameters.append(
                    Parameter(local[pid], p.getValue(), p.getUnits(), f"local to reaction {rid}")
                )
            kl = r.getKineticLaw()
            if kl is None:
                self.problems.append(f"{where} without a kinetic law")
                law, node = "0", None
            else:
                node = kl.getMath()
                law = self.tr.translate(node, where, local)
            reac = self._side(r.getListOfReactants(), where, assign)
            prod = self._side(r.getListOfProducts(), where, assign)
            out.append((rid, reac, prod, law, node, local))
        return out

    def _side(self, refs: Any, where: str, assign: dict[str, str]) -> dict[str, float | str]:
        side: dict[str, float | str] = {}
        for sr in refs:
            sname = self.names.get(sr.getSpecies(), sr.getSpecies())
            if sname in assign:
                continue  # a rule-set species is a boundary species: reactions never change it
            coef: float | str
            if self.level == 2 and sr.isSetStoichiometryMath():
                node = sr.getStoichiometryMath().getMath()
                coef = self.names.get(node.getName(), "") if node.isName() else ""
                if coef not in self.coefficient_names:
                    self.problems.append(f"{where}: variable stoichiometry of {sname!r}")
                    continue
            elif self.level >= 3 and sr.isSetId():
                coef = self.names[sr.getId()]
                if coef not in self.coefficient_names:
                    self.problems.append(f"{where}: variable stoichiometry of {sname!r}")
                    continue
                coef = self.values[coef]
            else:
                value = sr.getStoichiometry()
                coef = 1.0 if math.isnan(value) else float(value)
            old = side.get(sname, 0.0)
            if isinstance(old, str) or isinstance(coef, str):
                if sname in side:
                    self.problems.append(f"{where}: {sname!r} twice with symbolic stoichiometry")
                side[sname] = coef
            else:
                side[sname] = old + coef
        return side

    def _events(self, states: set[str]) -> list[Event]:
        out = []
        for i, e in enumerate(self.m.getListOfEvents()):
            eid = e.getId() or f"event{i + 1}"
            where = f"event {eid!r}"
            if e.isSetDelay():
                self.problems.append(f"{where} with a delay")
            if self.level >= 3 and e.isSetPriority():
                self.problems.append(f"{where} with a priority")
            trig = e.getTrigger()
            trigger = self.tr.translate(trig.getMath() if trig else None, f"{where} trigger")
            assignments = {}
            for a in e.getListOfEventAssignments():
                var = self.names.get(a.getVariable(), a.getVariable())
                if var not in states:
                    self.problems.append(f"{where} assigns {a.getVariable()!r}")
                assignments[var] = self.tr.translate(a.getMath(), f"{where} assignment")
            initial = trig.getInitialValue() if (self.level >= 3 and trig) else True
            out.append(Event(eid, trigger, assignments, bool(initial)))
        return out
