"""Synthetic SBML documents for the reader's tests, built with libsbml in a few lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

libsbml = pytest.importorskip("libsbml")


class SBMLBuilder:
    """A Level 3 Version 1 document under construction (all required attributes set)."""

    def __init__(self, *, time_units: str = "second", version: int = 1, distrib=False) -> None:
        self.doc = libsbml.SBMLDocument(3, version)
        if distrib:  # random draws (normal(), uniform()...) in math
            self.doc.enablePackage(libsbml.DistribExtension.getXmlnsL3V1V1(), "distrib", True)
            self.doc.setPackageRequired("distrib", True)
        self.m = self.doc.createModel()
        self.m.setId("synthetic")
        self.m.setTimeUnits(time_units)

    def _math(self, formula: str):
        ast = libsbml.parseL3FormulaWithModel(formula, self.m)  # ids win over e.g. "pi"
        assert ast is not None, libsbml.getLastParseL3Error()
        return ast

    def comp(self, cid: str, size: float = 1.0, *, constant: bool = True) -> SBMLBuilder:
        c = self.m.createCompartment()
        c.setId(cid), c.setSize(size), c.setConstant(constant), c.setSpatialDimensions(3)
        return self

    def species(self, sid, comp="c", *, amount=None, conc=None, only_amount=False,
                boundary=False, constant=False) -> SBMLBuilder:  # fmt: skip
        s = self.m.createSpecies()
        s.setId(sid), s.setCompartment(comp), s.setHasOnlySubstanceUnits(only_amount)
        s.setBoundaryCondition(boundary), s.setConstant(constant)
        if amount is not None:
            s.setInitialAmount(amount)
        if conc is not None:
            s.setInitialConcentration(conc)
        return self

    def param(self, pid: str, value: float | None = None, *, constant=True) -> SBMLBuilder:
        p = self.m.createParameter()
        p.setId(pid), p.setConstant(constant)
        if value is not None:
            p.setValue(value)
        return self

    def reaction(self, rid, reactants, products, law, *, local=None, modifiers=(),
                 fast=False) -> SBMLBuilder:  # fmt: skip
        r = self.m.createReaction()
        r.setId(rid), r.setReversible(False)
        if self.doc.getVersion() == 1:
            r.setFast(fast)
        for sid in modifiers:
            r.createModifier().setSpecies(sid)
        for side, add in ((reactants, r.createReactant), (products, r.createProduct)):
            for sid, c in side.items():
                ref = add()
                ref.setSpecies(sid), ref.setStoichiometry(c), ref.setConstant(True)
        kl = r.createKineticLaw()
        for pid, v in (local or {}).items():
            lp = kl.createLocalParameter()
            lp.setId(pid), lp.setValue(v)
        kl.setMath(self._math(law))
        return self

    def function(self, fid: str, formula: str) -> SBMLBuilder:
        f = self.m.createFunctionDefinition()
        f.setId(fid), f.setMath(self._math(formula))
        return self

    def initial(self, sym: str, formula: str) -> SBMLBuilder:
        ia = self.m.createInitialAssignment()
        ia.setSymbol(sym), ia.setMath(self._math(formula))
        return self

    def rule(self, kind: str, var: str, formula: str) -> SBMLBuilder:
        r = {"assign": self.m.createAssignmentRule, "rate": self.m.createRateRule}.get(
            kind, self.m.createAlgebraicRule
        )()
        if kind != "algebraic":
            r.setVariable(var)
        r.setMath(self._math(formula))
        return self

    def event(self, eid, trigger, assignments, *, initial_value=True, delay=None,
              priority=None) -> SBMLBuilder:  # fmt: skip
        e = self.m.createEvent()
        e.setId(eid), e.setUseValuesFromTriggerTime(True)
        t = e.createTrigger()
        t.setMath(self._math(trigger)), t.setInitialValue(initial_value), t.setPersistent(True)
        for var, formula in assignments.items():
            a = e.createEventAssignment()
            a.setVariable(var), a.setMath(self._math(formula))
        if delay is not None:
            e.createDelay().setMath(self._math(delay))
        if priority is not None:
            e.createPriority().setMath(self._math(priority))
        return self

    def write(self, tmp_path: Path, name: str = "model.xml") -> Path:
        path = tmp_path / name
        path.write_text(libsbml.writeSBMLToString(self.doc))
        return path


def drift_at(net, values: dict[str, float], t: float = 0.0) -> dict[str, float]:
    k = net.kinetics
    x = np.array([[values[s] for s in net.species_names]])
    return dict(zip(net.species_names, k.drift(x, k.parameter_vector(), t)[0]))
