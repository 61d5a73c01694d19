"""SBML events -> :class:`~models_bio.event.Event`, with every Level 3 attribute.

Triggers, delays, priorities, ``persistent``, ``initialValue`` and ``useValuesFromTriggerTime``
map one to one onto :class:`Event` (Level 2 files get the Level 2 semantics: persistent
triggers, initial value true). Elements without math have no effect (SBML Level 3 Version 2):
an event without trigger math never fires, a missing delay is no delay, a missing priority is
no priority, an assignment without math is skipped.

An assignment to a concentration species simulated as an amount (see
:mod:`models_bio.sbml_symbols`) sets the amount to ``value * size``, with the compartment's size
when the event executes, before its own assignments (``Event.multiply``).
"""

from __future__ import annotations

from typing import Any

from models_bio.event import Event
from models_bio.expressions import draws
from models_bio.sbml_math import MathTranslator
from models_bio.sbml_symbols import SymbolTable


def read_events(
    model: Any, level: int, tr: MathTranslator, table: SymbolTable, problems: list[str]
) -> list[Event]:
    """The events of a libsbml ``model`` in the network's names.

    Parameters
    ----------
    model : libsbml.Model
        The SBML model.
    level : int
        SBML level of the document.
    tr : MathTranslator
        Translates math into model names.
    table : SymbolTable
        What each SBML id became.
    problems : list of str
        Unsupported constructs are appended here.
    """
    out = []
    for i, e in enumerate(model.getListOfEvents()):
        eid = e.getId() or f"event{i + 1}"
        where = f"event {eid!r}"
        trig = e.getTrigger() if e.isSetTrigger() else None
        if trig is None or not trig.isSetMath():
            continue  # no trigger: the event never fires
        trigger = tr.translate(trig.getMath(), f"{where} trigger")
        delay = priority = None
        if e.isSetDelay() and e.getDelay().isSetMath():
            delay = tr.translate(e.getDelay().getMath(), f"{where} delay")
        if level >= 3 and e.isSetPriority() and e.getPriority().isSetMath():
            priority = tr.translate(e.getPriority().getMath(), f"{where} priority")
        for label, expr in (("trigger", trigger), ("delay", delay), ("priority", priority)):
            if expr is not None and draws(expr):
                problems.append(f"{where}: a random draw (distrib) in the {label}")
        given: dict[str, str] = {}
        for a in e.getListOfEventAssignments():
            if a.isSetMath():
                given[a.getVariable()] = tr.translate(a.getMath(), f"{where} assignment")
        assignments, multiply = {}, {}
        for sid, expr in given.items():
            if table.kind.get(sid) != "state":
                problems.append(f"{where} assigns {sid!r}, which is not a variable")
                continue
            assignments[table.state_of[sid]] = expr
            if table.by_amount(sid):  # amount = concentration x size when executed
                multiply[table.state_of[sid]] = table.names[table.compartment[sid]]
        out.append(
            Event(
                eid,
                trigger,
                assignments,
                initial_value=bool(trig.getInitialValue()) if level >= 3 else True,
                delay=delay,
                priority=priority,
                persistent=bool(trig.getPersistent()) if level >= 3 else True,
                use_values_from_trigger_time=bool(e.getUseValuesFromTriggerTime()),
                multiply=multiply,
            )
        )
    return out
