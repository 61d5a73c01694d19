"""Concentrations to molecule counts, for the methods that count molecules (ssa, tau, cle).

A :class:`~models_bio.network.ReactionNetwork` turns its state into molecules as
``n = x * volume * system_size`` (see :mod:`models_bio.network`). A model whose state is in
concentrations and whose ``system_size`` was never stated (1, the default) would count 0.1 µM
in a 1e-15 L compartment as 1e-16 molecules: the exact SSA then rounds every species to 0
and returns zeros. :func:`counting_model` settles the factor before a run:

- a model that states ``system_size`` (guo2024: 6.022e5 molecules per µM) is used as it is;
- species in a molar unit (``µM``, ``nM``...) with compartment volumes in litres (SBML's
  default) get ``system_size = N_A x moles per unit``;
- concentrations of unknown scale (an SBML file whose species say only "concentration") are
  refused with the fix: state the molecules per unit of concentration x volume
  (``--molecules-per-unit`` or ``dataclasses.replace(model, system_size=...)``);
- and any stated factor that still leaves every species below one molecule is refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cellsde.datasets.units import MOLAR, canonical_units
from cellsde.errors import CellsdeError

AVOGADRO = 6.02214076e23  # 1/mol
COUNTING_METHODS = ("ssa", "tau", "cle")
_UNSTATED = 1.0


def _concentration_scale(units: str) -> float | None:
    """Moles per litre of one unit; None for a concentration of unknown scale."""
    return MOLAR.get(canonical_units(units) or "")


def _is_concentration(units: str) -> bool:
    text = str(units).strip().lower()
    return text == "concentration" or _concentration_scale(units) is not None


def counting_model(model: Any, kind: str, method: str) -> Any:
    """``model`` with the molecules-per-unit factor its stochastic ``method`` needs.

    Parameters
    ----------
    model : ReactionNetwork or any model
        Only reaction networks run by ``ssa``, ``tau`` or ``cle`` are looked at.
    kind, method : str
        The model's kind and the method (:data:`cellsde.solvers.METHODS`).

    Returns
    -------
    model
        Unchanged, or a copy with ``system_size`` set from the species' molar units.

    Raises
    ------
    CellsdeError
        Concentrations of unknown scale, or initial states below one molecule everywhere.
    """
    if kind != "network" or method not in COUNTING_METHODS:
        return model
    conc = [s for s in model.species if not s.boundary and _is_concentration(s.units)]
    if not conc:
        return model  # counts already (molecules, amounts, or unit-less models)
    label = model.name
    if model.system_size == _UNSTATED:
        scales = {_concentration_scale(s.units) for s in conc}
        if None in scales or len(scales) != 1:
            units = sorted({str(s.units) for s in conc})
            raise CellsdeError(
                f"{method} counts molecules, but model {label!r} holds concentrations "
                f"({', '.join(s.name for s in conc[:4])}{'...' if len(conc) > 4 else ''} in "
                f"{', '.join(map(repr, units))}) of unknown scale; state the molecules per unit "
                "of concentration x compartment volume: --molecules-per-unit N (Python: "
                "dataclasses.replace(model, system_size=N)), e.g. 6.022e17 for µM and litres, "
                "or use --method ode"
            )
        model = dataclasses.replace(model, system_size=AVOGADRO * scales.pop())
    _check_counts(model, conc, method, label)
    return model


def _check_counts(model: Any, conc: list, method: str, label: str) -> None:
    """Refuse a factor that puts every species' initial state below one molecule."""
    nominal = model.nominal
    counts = []
    for s in conc:
        x0 = nominal.get(s.initial, 0.0) if isinstance(s.initial, str) else float(s.initial)
        counts.append(abs(x0) * s.volume * model.system_size)
    if counts and max(counts) < 1.0 and any(c > 0 for c in counts):
        raise CellsdeError(
            f"{method} counts molecules, but model {label!r} starts with at most "
            f"{max(counts):.3g} molecules of any species ({model.system_size:g} molecules per "
            "unit of concentration x volume): every count rounds to 0; raise "
            "--molecules-per-unit (Python: system_size) or use --method ode"
        )
