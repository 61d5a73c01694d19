"""Initial values of an SBML model, and the ``distrib`` draws that make them per-cell.

SBML defines the state at time 0 by, in increasing precedence: the values and sizes declared on
elements, initial assignments, and the assignment (and solved algebraic) rules, which hold at
every instant. :func:`initial_map` writes all of them as one expression per model name;
:func:`models_bio.sbml_math.initial_values` evaluates them in dependency order.

An initial assignment that is one draw with constant arguments (``normal(5, 1)``) is recorded
as a :class:`~models_bio.distrib.Draw` (extrinsic heterogeneity) and contributes its mean; a draw
inside a larger expression, or a drawn value that other initial values read, cannot be
expressed as per-cell parameters and is reported.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from models_bio.distrib import DRAWS, Draw
from models_bio.expressions import draws, parse, symbols
from models_bio.network import Parameter
from models_bio.sbml_math import evaluate, initial_values
from models_bio.sbml_symbols import SymbolTable


def number(v: float) -> str:
    """``v`` as an expression (``inf``, ``(inf - inf)`` for NaN)."""
    return "(inf - inf)" if math.isnan(v) else ("inf" if v == math.inf else repr(float(v)))


def declared(model: Any, table: SymbolTable, refs: list[Any]) -> dict[str, str]:
    """Model name -> value declared on the element (sizes, values, initial amounts...)."""
    t, init = table, {}
    for c in model.getListOfCompartments():
        init[t.names[c.getId()]] = number(c.getSize() if c.isSetSize() else 1.0)
    for p in model.getListOfParameters():
        init[t.names[p.getId()]] = number(p.getValue() if p.isSetValue() else math.nan)
    for sr in refs:
        v = sr.getStoichiometry() if sr.isSetStoichiometry() else 1.0
        init[t.names[sr.getId()]] = number(1.0 if math.isnan(v) else v)
    for s in model.getListOfSpecies():
        sid, cname = t.names[s.getId()], t.names[s.getCompartment()]
        amount = t.amount_only[s.getId()]
        if s.isSetInitialAmount():
            v = number(s.getInitialAmount())
            init[sid] = v if amount else f"{v}/{cname}"
        elif s.isSetInitialConcentration():
            v = number(s.getInitialConcentration())
            init[sid] = f"{v}*{cname}" if amount else v
        else:
            init[sid] = "(inf - inf)"
    return init


def initial_map(
    base: dict[str, str],
    table: SymbolTable,
    initial: dict[str, str],
    assign: dict[str, str],
    local: list[Parameter],
    problems: list[str],
) -> tuple[dict[str, str], dict[str, Draw]]:
    """Every model name's initial expression, and the draws found in initial assignments.

    Parameters
    ----------
    base : dict of str to str
        :func:`declared` values, plus further names (reaction rates, derivatives).
    initial, assign : dict of str to str
        Initial assignments and assignment rules, by SBML id.
    local : list of Parameter
        Local parameters of kinetic laws.
    problems : list of str
        Draws that cannot become heterogeneity are reported here.
    """
    init = {**base, **{p.name: number(p.value) for p in local}}
    drawn: dict[str, Draw] = {}
    for sid, expr in initial.items():
        d = _draw(expr, init, problems)
        if d is not None:
            drawn[table.names[sid]] = d
            expr = number(d.mean)
        elif draws(expr):
            problems.append(
                f"initial assignment to {sid!r}: a random draw inside a larger expression; "
                "only a whole draw with constant arguments (e.g. normal(0, 1)) maps onto "
                "per-cell heterogeneity"
            )
        init[table.names[sid]] = expr
    init.update({table.names[s]: e for s, e in assign.items()})
    for name, expr in init.items():
        read = symbols(expr) & drawn.keys()
        if read and name not in drawn:
            problems.append(
                f"the initial value of {name!r} reads {sorted(read)[0]!r}, which is drawn per "
                "cell (distrib); draws must not feed other initial values"
            )
    return init, drawn


def _draw(expr: str, init: dict[str, str], problems: list[str]) -> Draw | None:
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
        problems.append(f"a distrib draw {expr!r}: {err}")
        return None
