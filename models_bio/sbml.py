"""Read SBML models (Levels 2 and 3 core, ``comp`` flattened, ``distrib`` draws) into networks.

Needs python-libsbml (``pip install 'cellsde[sbml]'``), imported only inside the readers.

Conventions
-----------
* **State = what a species' id means in formulas.** A species with
  ``hasOnlySubstanceUnits=false`` is a concentration: the state holds its concentration, its
  :class:`Species` volume is its compartment's size, and ``dx/dt = sum_j S_ij v_j / V`` (SBML
  kinetic laws are amounts per time). A species with ``hasOnlySubstanceUnits=true`` is an
  amount: state = amount, volume 1. In a compartment whose size changes (rate rule, event,
  time-dependent assignment rule) a concentration species is simulated as its amount, state
  ``<id>_amount``, and ``<id>`` is the rule ``<id>_amount / <compartment>``.
* Boundary and constant species, and species no reaction changes, get ``boundary=True``
  (reactions do not change them; rate rules and events still may). An SBML boundary or
  constant species that nothing reads and nothing sets (e.g. BioModels' ``EmptySet``) is
  dropped.
* Global parameters keep their ids. Local (kinetic-law) parameters keep their id when no other
  reaction and no global symbol uses it, else become ``<reaction id>_<id>`` (Vilar 2002:
  ``gammaA`` stays ``gammaA``; ``deltaA``, local to two reactions, becomes ``Reaction2_deltaA``
  and ``Reaction3_deltaA``). Ids that are Python keywords or reserved names (``time``, ``e``,
  ``pi``, ``inf``...) get a trailing ``_``.
* Constant compartments that a formula reads become parameters holding their size; one that
  changes becomes a state (rate rule, event) or a rule. Reaction ids read in formulas become
  rules holding the reaction's rate; ``rateOf(x)`` becomes a rule ``rateOf_x`` holding ``x``'s
  derivative.
* Assignment rules become ``assignment_rules`` (ordered by dependency); algebraic rules linear
  in one undetermined variable are solved into assignment rules (:mod:`models_bio.sbml_algebra`).
  Rate rules become ``rate_rules``; a parameter, compartment or species reference set by a rate
  rule or an event becomes a boundary state.
* Stoichiometry: numbers, constant parameters and constant species references go into the
  reactions; variable stoichiometry and conversion factors that are not constant become terms
  of the species' rate (deterministic methods only); see :mod:`models_bio.sbml_reactions`, which
  also says how fast reactions are simulated.
* Initial assignments are evaluated at load time, in dependency order (with assignment rules
  holding at t = 0). An initial assignment that is one ``distrib`` draw with constant
  arguments, e.g. ``normal(5, 1)``, is per-cell heterogeneity: the parameter (or, for a species,
  a parameter ``<id>_initial`` holding its initial value) gets the mean as nominal value and a
  :class:`~models_bio.distrib.Draw` in ``heterogeneity``, so ``simulate`` draws it per cell.
* Events map to :class:`Event` with every attribute (:mod:`models_bio.sbml_events`); draws in
  event assignments are drawn at each firing, per cell.
* Elements without math have no effect (a rule, an initial assignment, a kinetic law: rate 0).

Unsupported features (``delay()``, non-linear algebraic rules, draws in rules and rate laws,
flux balance (``fbc``) and other packages) are collected and reported in one :class:`SBMLError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from models_bio.network import ReactionNetwork
from models_bio.sbml_import import Importer
from models_bio.sbml_math import model_time_units
from models_bio.sbml_symbols import SBMLVariable

# packages that do not change a time course: drawings, math extensions read anyway, draws
_HARMLESS_PACKAGES = {"layout", "render", "l3v2extendedmath", "distrib"}
_UNIT_ERRORS = {10313}  # a unit name that is no unit: units never change a time course
_PACKAGE_NAMES = {"fbc": "flux balance constraints (fbc: a steady-state optimisation)"}

__all__ = ["SBMLError", "SBMLVariable", "read_sbml", "sbml_variables"]


class SBMLError(ValueError):
    """The file is not valid SBML, or it uses SBML features cellsde does not support."""


def read_sbml(path: str | os.PathLike[str], *, name: str | None = None) -> ReactionNetwork:
    """Read an SBML file into a :class:`~models_bio.network.ReactionNetwork`.

    Parameters
    ----------
    path : str or path-like
        SBML file (Level 2 or 3 core; ``comp`` models are flattened first).
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
    return _read(path, name)[0]


def sbml_variables(path: str | os.PathLike[str]) -> dict[str, SBMLVariable]:
    """How to compute each SBML symbol of a file from the network :func:`read_sbml` returns.

    Parameters
    ----------
    path : str or path-like
        The SBML file given to :func:`read_sbml`.

    Returns
    -------
    dict of str to SBMLVariable
        SBML id (compartment, species, parameter, species reference, reaction) -> expressions in
        the network's names (``ReactionNetwork.compile_expressions`` evaluates them on a
        trajectory): its value in formulas, and for species its amount and concentration.

    Raises
    ------
    FileNotFoundError, SBMLError, ImportError
        As :func:`read_sbml`.
    """
    return _read(path, None)[1]


def _read(path: Any, name: str | None) -> tuple[ReactionNetwork, dict[str, SBMLVariable]]:
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
    problems = _packages(libsbml, doc, path)
    m = doc.getModel()
    imp = Importer(libsbml, m, doc.getLevel())
    parts = imp.build()
    problems += imp.problems
    if problems:
        raise SBMLError(
            f"SBML file {path} uses features cellsde does not support: "
            + "; ".join(dict.fromkeys(problems))
        )
    time_units = model_time_units(libsbml, m)
    title = m.getName() or m.getId() or path.stem
    variables = parts.pop("variables")
    network = ReactionNetwork(
        name=name or m.getId() or path.stem,
        time_units=time_units,
        description=(
            f"{title}: read from SBML file {path.name} (model id {m.getId()!r}, "
            f"Level {doc.getLevel()} Version {doc.getVersion()}); time in {time_units}."
        ),
        **parts,
    )
    return network, variables


def _check_errors(sb: Any, doc: Any, path: Path) -> None:
    def errors() -> list[Any]:
        log = [doc.getError(i) for i in range(doc.getNumErrors())]
        return [
            e
            for e in log
            if e.getSeverity() >= sb.LIBSBML_SEV_ERROR and e.getErrorId() not in _UNIT_ERRORS
        ]

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


def _packages(sb: Any, doc: Any, path: Path) -> list[str]:
    """Flatten ``comp``; name every other package that changes the semantics."""
    if doc.isPackageEnabled("comp"):
        props = sb.ConversionProperties()
        props.addOption("flatten comp", True)
        props.addOption("leavePorts", False)
        if doc.convert(props) != sb.LIBSBML_OPERATION_SUCCESS:
            errs = [doc.getError(i) for i in range(doc.getNumErrors())]
            bad = [e for e in errs if e.getSeverity() >= sb.LIBSBML_SEV_ERROR]
            why = " ".join(bad[0].getMessage().split()) if bad else "libsbml gave no reason"
            return [f"the SBML package 'comp' (the model could not be flattened: {why})"]
    out = []
    for i in range(doc.getNumPlugins()):
        pkg = doc.getPlugin(i).getPackageName()
        if doc.isPackageEnabled(pkg) and pkg not in _HARMLESS_PACKAGES | {"comp"}:
            out.append(
                f"the SBML package {pkg!r}"
                + (f", {_PACKAGE_NAMES[pkg]}" if pkg in _PACKAGE_NAMES else "")
            )
    return out
