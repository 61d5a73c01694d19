"""The initial state of a model with fast reactions, put at their equilibrium.

SBML fast reactions are at equilibrium at every instant, t = 0 included. The simulation keeps
them there by a large rate factor (:data:`models_bio.sbml_reactions.FAST`); here the initial
state is moved along each fast reaction's stoichiometry, by the extent ``xi`` at which its rate
vanishes (bisection between the extents that keep every changed species >= 0), one fast
reaction after the other until all rest (Gauss-Seidel sweeps). A rate that never vanishes in
that range drives the extent to the end it points at (a reactant used up).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from models_bio.expressions import compile_program, namespace
from models_bio.network import Reaction
from models_bio.sbml_math import dependency_order

SWEEPS = 50
_BISECTIONS = 200


def equilibrate(
    reactions: list[Reaction],
    laws: list[str],
    values: dict[str, float],
    rules: Mapping[str, str],
    volumes: Mapping[str, float],
    fixed: set[str],
) -> None:
    """Move ``values`` (model name -> initial value) to the equilibrium of ``reactions``.

    Parameters
    ----------
    reactions : list of Reaction
        The fast reactions (sides: state -> coefficient, a number or a parameter name).
    laws : list of str
        Their rate laws (the fast factor included; only the sign and root matter).
    values : dict of str to float
        Initial values of every name; states are updated in place.
    rules : mapping of str to str
        Assignment rules (model name -> expression) the laws may read through.
    volumes : mapping of str to float
        Volume of each state: a reaction extent ``xi`` (amount) moves ``x`` by ``nu xi / V``.
    fixed : set of str
        Boundary and constant species, which reactions do not change.
    """
    inputs = [n for n in values if n not in rules]
    code = {n: f"_p_[..., {i}]" for i, n in enumerate(inputs)}
    code["time"] = "_t_"
    fn = compile_program(laws, inputs=code, assignments=dependency_order(rules, []))
    ns = namespace("numpy")
    pos = {n: i for i, n in enumerate(inputs)}

    def coef(c: float | str) -> float:
        return float(values[c]) if isinstance(c, str) else float(c)

    for _ in range(SWEEPS):
        moved = 0.0
        for j, r in enumerate(reactions):
            nu: dict[str, float] = {}
            for side, sign in ((r.reactants, -1.0), (r.products, 1.0)):
                for s, c in side.items():
                    if s in pos and s not in fixed and volumes.get(s, 0) > 0:
                        nu[s] = nu.get(s, 0.0) + sign * coef(c) / volumes[s]
            nu = {s: v for s, v in nu.items() if v != 0}
            if not nu:
                continue
            p0 = np.array([values[n] for n in inputs], dtype=float)
            lo = max([-p0[pos[s]] / v for s, v in nu.items() if v > 0], default=-1e300)
            hi = min([-p0[pos[s]] / v for s, v in nu.items() if v < 0], default=1e300)
            idx = np.array([pos[s] for s in nu])
            dv = np.array(list(nu.values()))

            xi = _root(_along(fn, ns, p0, idx, dv, j), lo, hi)
            for s, v in nu.items():
                values[s] = values[s] + v * xi
            moved = max(moved, abs(xi))
        if moved == 0.0:
            return


def _along(fn, ns, p0: np.ndarray, idx: np.ndarray, dv: np.ndarray, j: int):
    """``rate(xi)``: the rate of fast reaction ``j`` after moving by the extent ``xi``."""

    def rate(xi: float) -> float:
        p = p0.copy()
        p[idx] += dv * xi
        with np.errstate(all="ignore"):
            return float(fn(p[None, :0], p[None], 0.0, ns)[0, j])

    return rate


def _root(rate, lo: float, hi: float) -> float:
    """The extent in ``[lo, hi]`` where ``rate`` vanishes, or the end it drives towards."""
    r0 = rate(0.0)
    if r0 == 0 or not np.isfinite(r0):
        return 0.0
    end = hi if r0 > 0 else lo
    if abs(end) >= 1e300:  # no species limits this direction: expand until the sign flips
        step = 1.0 if r0 > 0 else -1.0
        while abs(step) < 1e300 and np.sign(rate(step)) == np.sign(r0):
            step *= 2.0
        end = step if abs(step) < 1e300 else 0.0
    if np.sign(rate(end)) == np.sign(r0):
        return end
    a, b = (0.0, end) if r0 > 0 else (end, 0.0)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (a + b)
        if mid in (a, b):
            break
        if np.sign(rate(mid)) == np.sign(r0):
            a, b = (mid, b) if r0 > 0 else (a, mid)
        else:
            a, b = (a, mid) if r0 > 0 else (mid, b)
    return 0.5 * (a + b)
