"""Translate SBML MathML (libsbml ``ASTNode`` trees) into the models_bio expression language.

The translator walks the tree; it never goes through a formula string, so operator precedence,
n-ary operators and MathML-only constructs (``piecewise``, ``root`` with a degree, ``log`` with
a base, ``csymbol time``) are mapped exactly. Function definitions are inlined: a call
``f(a, b)`` becomes ``f``'s body with its bound variables replaced by the translated arguments.

``rateOf(x)`` is handed to a callback of the reader, which returns the name of a variable
holding that derivative. The random draws of the ``distrib`` package (``normal(m, s)``...) become
calls of the expression language's draws (:mod:`models_bio.distrib`).

Constructs cellsde cannot simulate (``delay``, set theory, ...) are not raised one at a time:
each is appended to a ``problems`` list, so that the SBML reader can report every unsupported
feature of a file in one message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from models_bio.expressions import compile_program, draws, namespace, symbols

AVOGADRO = 6.02214179e23  # the value SBML Level 3 Version 1 defines for csymbol avogadro

# Precedence levels of the emitted Python syntax (higher binds tighter).
_ATOM, _POW, _UNARY, _MUL, _ADD, _CMP, _NOT, _AND, _OR = 100, 90, 80, 70, 60, 50, 40, 30, 20

_UNARY_FUNCS = {  # libsbml AST type name -> expression-language template
    "ABS": "abs({})",
    "EXP": "exp({})",
    "LN": "log({})",
    "FLOOR": "floor({})",
    "CEILING": "ceil({})",
    "SIN": "sin({})",
    "COS": "cos({})",
    "TAN": "tan({})",
    "SINH": "sinh({})",
    "COSH": "cosh({})",
    "TANH": "tanh({})",
    "SEC": "1/cos({})",
    "CSC": "1/sin({})",
    "COT": "1/tan({})",
    "SECH": "1/cosh({})",
    "CSCH": "1/sinh({})",
    "COTH": "1/tanh({})",
    "ARCSIN": "asin({})",
    "ARCCOS": "acos({})",
    "ARCTAN": "atan({})",
    "ARCSINH": "asinh({})",
    "ARCCOSH": "acosh({})",
    "ARCTANH": "atanh({})",
    "ARCSEC": "acos(1/({}))",
    "ARCCSC": "asin(1/({}))",
    "ARCCOT": "atan(1/({}))",
    "ARCSECH": "acosh(1/({}))",
    "ARCCSCH": "asinh(1/({}))",
    "ARCCOTH": "atanh(1/({}))",
    "FACTORIAL": "factorial({})",
}
_RELATIONS = {"EQ": "==", "NEQ": "!=", "GT": ">", "GEQ": ">=", "LT": "<", "LEQ": "<="}
_BINARY_FUNCS = {"QUOTIENT": "quotient", "REM": "rem"}
_UNSUPPORTED = {"DELAY": "the delay() function (a delay differential equation)"}


class MathTranslator:
    """Walks libsbml ``ASTNode`` trees and emits expression-language strings.

    Parameters
    ----------
    libsbml : module
        The imported ``libsbml`` module (passed in so this module never imports it).
    names : mapping of str to str
        SBML id -> expression-language name, for every symbol a formula may read.
    functions : mapping of str to ASTNode
        Function-definition id -> its ``lambda`` AST.
    problems : list of str
        Unsupported constructs are appended here (and translated as ``0``).
    rate_of : callable, optional
        ``rate_of(sbml_id, where)`` -> name of the variable holding ``d sbml_id / dt``; without
        it ``rateOf`` is a problem.
    """

    def __init__(
        self,
        libsbml: Any,
        names: Mapping[str, str],
        functions: Mapping[str, Any],
        problems: list[str],
        rate_of: Callable[[str, str], str] | None = None,
    ) -> None:
        self._sb = libsbml
        self._names = names
        self._functions = functions
        self.problems = problems
        self._rate_of = rate_of
        self._type_names = {
            getattr(libsbml, n): n[4:] for n in dir(libsbml) if n.startswith("AST_")
        }

    def translate(self, node: Any, where: str, local: Mapping[str, str] | None = None) -> str:
        """Translate ``node``; ``where`` names the owner in problem messages (e.g. "reaction 'R1'").

        ``local`` maps names first (a reaction's local parameters, a function's bound variables).
        """
        if node is None:
            self.problems.append(f"{where} has no math")
            return "0"
        return self._emit(node, where, dict(local or {}))[0]

    # -- the walk ----------------------------------------------------------------------
    def _emit(self, node: Any, where: str, local: dict[str, str]) -> tuple[str, int]:
        sb = self._sb
        t = node.getType()
        kind = self._type_names.get(t, str(t))
        kids = [node.getChild(i) for i in range(node.getNumChildren())]

        def sub(child: Any, min_prec: int) -> str:
            text, prec = self._emit(child, where, local)
            return text if prec >= min_prec else f"({text})"

        if t == sb.AST_INTEGER:
            return str(node.getInteger()), _ATOM if node.getInteger() >= 0 else _UNARY
        if t in (sb.AST_REAL, sb.AST_REAL_E, sb.AST_RATIONAL):
            return _number(node.getReal())
        if t == sb.AST_NAME:
            return self._name(node.getName(), where, local), _ATOM
        if t == sb.AST_NAME_TIME:
            return "time", _ATOM
        if t == sb.AST_NAME_AVOGADRO:
            return repr(AVOGADRO), _ATOM
        if t == sb.AST_CONSTANT_E:
            return "e", _ATOM
        if t == sb.AST_CONSTANT_PI:
            return "pi", _ATOM
        if t in (sb.AST_CONSTANT_TRUE, sb.AST_CONSTANT_FALSE):
            return ("True" if t == sb.AST_CONSTANT_TRUE else "False"), _ATOM
        if t == sb.AST_PLUS:
            if not kids:
                return "0", _ATOM
            return " + ".join([sub(kids[0], _ADD)] + [sub(k, _ADD + 1) for k in kids[1:]]), _ADD
        if t == sb.AST_TIMES:
            if not kids:
                return "1", _ATOM
            return "*".join([sub(kids[0], _MUL)] + [sub(k, _MUL + 1) for k in kids[1:]]), _MUL
        if t == sb.AST_MINUS:
            if len(kids) == 1:
                return "-" + sub(kids[0], _UNARY), _UNARY
            return f"{sub(kids[0], _ADD)} - {sub(kids[1], _ADD + 1)}", _ADD
        if t == sb.AST_DIVIDE:
            return f"{sub(kids[0], _MUL)}/{sub(kids[1], _MUL + 1)}", _MUL
        if t in (sb.AST_POWER, sb.AST_FUNCTION_POWER):
            return f"{sub(kids[0], _ATOM)}**{sub(kids[1], _ATOM)}", _POW
        if kind.startswith("FUNCTION_") and kind[9:] in _UNARY_FUNCS and len(kids) == 1:
            text = _UNARY_FUNCS[kind[9:]].format(sub(kids[0], 0))
            return text, (_ATOM if text[0].isalpha() else _MUL)
        if t == sb.AST_FUNCTION_ROOT:
            if len(kids) == 1:
                return f"sqrt({sub(kids[0], 0)})", _ATOM
            return f"{sub(kids[1], _ATOM)}**(1/{sub(kids[0], _ATOM)})", _POW
        if t == sb.AST_FUNCTION_LOG:
            if len(kids) == 1:
                return f"log10({sub(kids[0], 0)})", _ATOM
            return f"log({sub(kids[1], 0)})/log({sub(kids[0], 0)})", _MUL
        if kind.startswith("FUNCTION_") and kind[9:] in _BINARY_FUNCS and len(kids) == 2:
            return f"{_BINARY_FUNCS[kind[9:]]}({sub(kids[0], 0)}, {sub(kids[1], 0)})", _ATOM
        if kind.startswith("DISTRIB_FUNCTION_"):
            return f"{kind[17:].lower()}({', '.join(sub(k, 0) for k in kids)})", _ATOM
        if t == sb.AST_FUNCTION_RATE_OF and self._rate_of is not None:
            if len(kids) != 1 or not kids[0].isName():
                self.problems.append(f"{where} uses rateOf() of an expression, not of a symbol")
                return "0", _ATOM
            if kids[0].getName() in local:  # a local parameter: constant
                return "0", _ATOM
            return self._rate_of(kids[0].getName(), where), _ATOM
        if t in (sb.AST_FUNCTION_MIN, sb.AST_FUNCTION_MAX):
            fn = "min" if t == sb.AST_FUNCTION_MIN else "max"
            return f"{fn}({', '.join(sub(k, 0) for k in kids)})", _ATOM
        if t == sb.AST_FUNCTION_PIECEWISE:
            return f"piecewise({', '.join(sub(k, 0) for k in kids)})", _ATOM
        if kind.startswith("RELATIONAL_"):
            op = f" {_RELATIONS[kind[11:]]} "
            return op.join(sub(k, _CMP + 1) for k in kids), _CMP
        if t == sb.AST_LOGICAL_NOT:
            return "not " + sub(kids[0], _NOT), _NOT
        if t in (sb.AST_LOGICAL_AND, sb.AST_LOGICAL_OR):
            if not kids:
                return ("True" if t == sb.AST_LOGICAL_AND else "False"), _ATOM
            op, prec = (" and ", _AND) if t == sb.AST_LOGICAL_AND else (" or ", _OR)
            return op.join(sub(k, prec + 1) for k in kids), prec
        if t == sb.AST_LOGICAL_XOR:  # true when an odd number of arguments are true
            n_true = " + ".join(f"piecewise(1, {sub(k, 0)}, 0)" for k in kids) or "0"
            return f"({n_true}) - 2*floor(({n_true})/2) == 1", _CMP
        if t == sb.AST_LOGICAL_IMPLIES:
            return f"not {sub(kids[0], _NOT)} or {sub(kids[1], _OR + 1)}", _OR
        if t == sb.AST_FUNCTION:
            return self._call(node.getName(), kids, where, local)
        label = _UNSUPPORTED.get(kind[9:], f"the MathML element {kind.lower()!r}")
        self.problems.append(f"{where} uses {label}")
        return "0", _ATOM

    def _name(self, sid: str, where: str, local: Mapping[str, str]) -> str:
        if sid in local:
            return local[sid]
        if sid in self._names:
            return self._names[sid]
        self.problems.append(f"{where} reads {sid!r}, which is not a species, parameter or rule")
        return "0"

    def _call(
        self, fid: str, args: list[Any], where: str, local: dict[str, str]
    ) -> tuple[str, int]:
        lam = self._functions.get(fid)
        if lam is None:
            self.problems.append(f"{where} calls undefined function {fid!r}")
            return "0", _ATOM
        if lam.getNumBvars() != len(args):
            self.problems.append(
                f"{where} calls {fid!r} with {len(args)} arguments; it takes {lam.getNumBvars()}"
            )
            return "0", _ATOM
        bound = {}
        for i, arg in enumerate(args):
            text, prec = self._emit(arg, where, local)
            bound[lam.getChild(i).getName()] = text if prec == _ATOM else f"({text})"
        body = lam.getChild(lam.getNumChildren() - 1)
        text, prec = self._emit(body, f"{where} (in function {fid!r})", bound)
        return (text, prec) if prec == _ATOM else (f"({text})", _ATOM)


def _number(value: float) -> tuple[str, int]:
    if math.isnan(value):
        return "(inf - inf)", _ATOM
    if math.isinf(value):
        return ("inf", _ATOM) if value > 0 else ("-inf", _UNARY)
    text = repr(float(value))
    return text, (_UNARY if text.startswith("-") else _ATOM)


def evaluate(expr: str, env: Mapping[str, float]) -> float:
    """Evaluate ``expr`` numerically with the symbol values in ``env`` (``time`` included).

    Unknown symbols and random draws (which have no value before a simulation) give NaN.
    """
    if draws(expr):
        return math.nan
    names = sorted(symbols(expr))
    inputs = {n: f"_p_[{i}]" for i, n in enumerate(names)}
    fn = compile_program([expr], inputs=inputs, stack=False)
    p = np.array([float(env.get(n, math.nan)) for n in names], dtype=float)
    with np.errstate(all="ignore"):
        return float(fn(None, p, 0.0, namespace("numpy"))[0])


def dependency_order(exprs: Mapping[str, str], problems: list[str]) -> list[tuple[str, str]]:
    """``(name, expression)`` pairs ordered so that each comes after the names it reads.

    Keeps the given order where dependencies allow; a cycle is appended to ``problems``.
    """
    out: list[tuple[str, str]] = []
    pending = dict(exprs)
    while pending:
        ready = [n for n, e in pending.items() if not symbols(e) & pending.keys()]
        if not ready:
            problems.append("circular rules or initial assignments among " + ", ".join(pending))
            break
        out.extend((n, pending.pop(n)) for n in ready)
    return out


def initial_values(exprs: Mapping[str, str], problems: list[str]) -> dict[str, float]:
    """Evaluate name -> expression in dependency order at ``time = 0`` (NaN where circular)."""
    values: dict[str, float] = dict.fromkeys(exprs, math.nan)
    values["time"] = 0.0
    for name, expr in dependency_order(exprs, problems):
        values[name] = evaluate(expr, values)
    return values


def mass_action_constant(
    libsbml: Any,
    node: Any,
    reactants: Mapping[str, float | str],
    names: Mapping[str, str],
    constants: set[str],
) -> str | None:
    """The rate constant if the kinetic law is exactly ``k * prod(reactant ** coefficient)``.

    ``names`` maps the law's SBML ids to model names (local parameters included), ``constants``
    are the model names of parameters that may serve as ``k``. Returns ``None`` otherwise.
    """
    factors: list[Any] = []

    def collect(n: Any) -> None:
        if n.getType() == libsbml.AST_TIMES:
            for i in range(n.getNumChildren()):
                collect(n.getChild(i))
        else:
            factors.append(n)

    collect(node)
    k: str | None = None
    counts: dict[str, float] = {}
    for f in factors:
        power = 1.0
        is_power = f.getType() in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER)
        if is_power and f.getChild(1).getType() == libsbml.AST_INTEGER:
            power, f = float(f.getChild(1).getInteger()), f.getChild(0)
        if f.getType() != libsbml.AST_NAME or f.getName() not in names:
            return None
        name = names[f.getName()]
        if name in reactants:
            counts[name] = counts.get(name, 0.0) + power
        elif name in constants and k is None and power == 1.0:
            k = name
        else:
            return None
    wanted = {s: c for s, c in reactants.items()}
    if k is None or counts != wanted:
        return None
    if not all(isinstance(c, float) and c == int(c) and c > 0 for c in wanted.values()):
        return None
    return k


_TIME_NAMES = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}


def model_time_units(libsbml: Any, model: Any) -> str:
    """The model's time unit as ``"s"``, ``"min"``, ``"h"``, ``"d"`` (else e.g. ``"7200 s"``)."""
    level3 = model.getLevel() >= 3
    uid = model.getTimeUnits() if level3 else "time"
    if level3 and not uid:
        return "dimensionless"
    ud = model.getUnitDefinition(uid)
    if ud is None:  # a base unit, or Level 2's default (seconds)
        return {"second": "s", "dimensionless": "dimensionless"}.get(uid, "s")
    factor, kinds = 1.0, set()
    for u in ud.getListOfUnits():
        kinds.add(libsbml.UnitKind_toString(u.getKind()))
        factor *= (u.getMultiplier() * 10.0 ** u.getScale()) ** u.getExponent()
    if kinds != {"second"}:
        return uid
    return _TIME_NAMES.get(factor, f"{factor:g} s")
