"""Reaction networks: species, parameters with units, reactions with rate laws, rules, events.

A :class:`ReactionNetwork` is a definition only. Solvers in ``cellsde.solvers`` read it
through :meth:`ReactionNetwork.kinetics`, which compiles the rate laws once into vectorised
functions of ``(x, p, t)`` over a batch of cells.

Conventions
-----------
* State ``x`` holds each species' value in the units its rate laws read it in
  (concentration or amount). Reaction rates ``v_j`` are in amount (or concentration x
  volume) per time; ``dx_i/dt = sum_j S_ij v_j / volume_i + rate_rule_i``.
* Stochastic methods count molecules: ``n_i = x_i * volume_i * system_size``, and the
  propensity of reaction j is ``system_size * v_j`` (mass action uses exact falling
  factorials). Vilar 2002 uses volume 1 and system size 1, i.e. counts directly.
* A stoichiometric coefficient may be a number or a parameter name (the Guo 2024 model's
  volume-scale factors), so the net change of a reaction can differ from cell to cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from models_bio.event import Event
from models_bio.expressions import Expression, ExpressionError, compile_program, symbols
from models_bio.heterogeneity import Distribution

if TYPE_CHECKING:
    from models_bio.kinetics import Kinetics

Coefficient = float | str  # a number, or the name of a parameter


@dataclass(frozen=True)
class Parameter:
    """A named constant with units.

    Parameters
    ----------
    name : str
        Identifier used in rate laws.
    value : float
        Nominal value.
    units : str
        Units as text, e.g. ``"1/h"``, ``"uM/min"``; ``""`` for dimensionless.
    description : str
        What it means.
    bounds : (float, float), optional
        The range the source allows (e.g. for sampling or estimation), in ``units``; used as
        the default bounds of a calibration.
    """

    name: str
    value: float
    units: str = ""
    description: str = ""
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.bounds is not None:
            lo, hi = (float(b) for b in self.bounds)
            if not lo < hi:
                raise ValueError(
                    f"parameter {self.name!r}: bounds {self.bounds} must be (low, high)"
                )
            object.__setattr__(self, "bounds", (lo, hi))


@dataclass(frozen=True)
class Species:
    """A state variable.

    Parameters
    ----------
    name : str
        Identifier.
    initial : float or str
        Initial value, or the name of a parameter holding it (so it can be heterogeneous).
    units : str
        Units of the state value (``"molecules"``, ``"uM"``...).
    volume : float
        Volume of the compartment it lives in (divides reaction fluxes).
    boundary : bool
        Held constant by reactions (SBML boundary/constant species); rules may still set it.
    """

    name: str
    initial: Coefficient = 0.0
    units: str = ""
    volume: float = 1.0
    boundary: bool = False


@dataclass(frozen=True)
class Reaction:
    """One reaction channel.

    Parameters
    ----------
    name : str
        Identifier.
    reactants, products : mapping of str to float or str
        Species -> coefficient (a number or a parameter name).
    rate : str
        Either a parameter name (mass action: ``rate * prod(reactant ** coefficient)``) when
        ``mass_action`` is true, or a rate-law expression (see :mod:`models_bio.expressions`).
    mass_action : bool
        Interpret ``rate`` as a mass-action constant. Stochastic solvers then use exact
        falling factorials for repeated reactants.
    description : str
        What it means.
    """

    name: str
    reactants: Mapping[str, Coefficient]
    products: Mapping[str, Coefficient]
    rate: str
    mass_action: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reactants", MappingProxyType(dict(self.reactants)))
        object.__setattr__(self, "products", MappingProxyType(dict(self.products)))
        if not self.mass_action:
            Expression(self.rate)  # validates

    @property
    def law(self) -> str:
        """The deterministic rate law as an expression."""
        if not self.mass_action:
            return self.rate
        terms = [self.rate]
        for s, c in self.reactants.items():
            terms.append(s if c == 1 else f"{s}**{c}")
        return "*".join(terms)


@dataclass(frozen=True)
class ReactionNetwork:
    """A chemical reaction network with named, unit-carrying parameters.

    Parameters
    ----------
    name : str
        Registry name.
    species : tuple of Species
        State variables in state-vector order.
    parameters : tuple of Parameter
        Constants in parameter-vector order.
    reactions : tuple of Reaction
        Reaction channels.
    time_units : str
        ``"h"``, ``"min"``, ``"s"`` or ``"dimensionless"``.
    assignment_rules : tuple of (str, str)
        Variables computed from others before each rate evaluation, in order.
    rate_rules : mapping of str to str
        Species -> expression added to its time derivative (deterministic methods only).
    events : tuple of Event
        Discontinuities.
    observables : mapping of str to mapping of str to float
        Named linear combinations of species, e.g. ``{"nfkb_nuclear": {"NFkBn": 1, "IkBaNFkBn": 1}}``.
    heterogeneity : mapping of str to Distribution
        Default per-cell distribution of chosen parameters (extrinsic noise).
    system_size : float
        Molecules per unit of state value and volume, for stochastic methods.
    stimulus : mapping of str to float
        Two-phase protocol (Guo 2024): when non-empty, each cell is first brought to its own
        steady state with these species held at 0 (phase 1, deterministic), then they are set
        to these values at t = 0 and the simulation starts (phase 2).
    description : str
        One paragraph, with references.
    """

    name: str
    species: tuple[Species, ...]
    parameters: tuple[Parameter, ...]
    reactions: tuple[Reaction, ...]
    time_units: str = "h"
    assignment_rules: tuple[tuple[str, str], ...] = ()
    rate_rules: Mapping[str, str] = field(default_factory=dict)
    events: tuple[Event, ...] = ()
    observables: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    heterogeneity: Mapping[str, Distribution] = field(default_factory=dict)
    system_size: float = 1.0
    stimulus: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        for name in ("rate_rules", "observables", "heterogeneity", "stimulus"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "species", tuple(self.species))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "reactions", tuple(self.reactions))
        object.__setattr__(self, "assignment_rules", tuple(tuple(r) for r in self.assignment_rules))
        object.__setattr__(self, "events", tuple(self.events))
        self._validate()

    # -- names -------------------------------------------------------------------------
    @property
    def species_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def nominal(self) -> dict[str, float]:
        """Parameter name -> nominal value."""
        return {p.name: p.value for p in self.parameters}

    @property
    def units(self) -> dict[str, str]:
        """Parameter name -> units."""
        return {p.name: p.units for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (error lists the known ones)."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(
            f"model {self.name!r} has no parameter {name!r}; its parameters are "
            + ", ".join(self.parameter_names)
        )

    def with_parameters(self, **values: float) -> ReactionNetwork:
        """A copy with new nominal values (unknown names and non-finite values raise)."""
        import math

        known = set(self.parameter_names)
        unknown = sorted(set(values) - known)
        if unknown:
            raise KeyError(
                f"model {self.name!r} has no parameter(s) {unknown}; its parameters are "
                + ", ".join(self.parameter_names)
            )
        for k, v in values.items():
            if not math.isfinite(float(v)):
                raise ValueError(f"parameter {k!r} must be finite, got {v!r}")
        params = tuple(
            Parameter(p.name, float(values.get(p.name, p.value)), p.units, p.description)
            for p in self.parameters
        )
        from dataclasses import replace

        return replace(self, parameters=params)

    def compile_expressions(
        self, outputs: Sequence[str], *, stack: bool = True
    ) -> Callable[..., Any]:
        """Compile expressions in species, parameters, rule variables and ``time`` into one
        vectorised ``fn(x, p, t, ns)``: ``x`` (..., species), ``p`` (..., parameter), ``t`` a
        scalar or (...,), ``ns`` an array namespace (:func:`models_bio.expressions.namespace`);
        assignment rules are evaluated first. ``stack``: values along a new last axis, else a
        tuple."""
        inputs = {s: f"_x_[..., {i}]" for i, s in enumerate(self.species_names)}
        inputs.update({q: f"_p_[..., {i}]" for i, q in enumerate(self.parameter_names)})
        inputs["time"] = "_t_"
        return compile_program(
            list(outputs), inputs=inputs, assignments=self.assignment_rules, stack=stack
        )

    @cached_property
    def kinetics(self) -> Kinetics:
        """Compiled vectorised kinetics (see :class:`models_bio.kinetics.Kinetics`)."""
        from models_bio.kinetics import Kinetics

        return Kinetics(self)

    # -- validation --------------------------------------------------------------------
    def _validate(self) -> None:
        sp = self.species_names
        pn = self.parameter_names
        for label, names in (("species", sp), ("parameter", pn)):
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"model {self.name!r}: duplicated {label} names {dup}")
        clash = sorted(set(sp) & set(pn))
        if clash:
            raise ValueError(
                f"model {self.name!r}: names used for both species and parameters {clash}"
            )
        rule_vars = [n for n, _ in self.assignment_rules]
        known = set(sp) | set(pn) | set(rule_vars) | {"time"}
        for s in self.species:
            if isinstance(s.initial, str) and s.initial not in pn:
                raise ValueError(
                    f"species {s.name!r}: initial value names unknown parameter {s.initial!r}"
                )
            if not s.volume > 0:
                raise ValueError(f"species {s.name!r}: volume must be > 0, got {s.volume}")
        for r in self.reactions:
            for side in (r.reactants, r.products):
                for s, c in side.items():
                    if s not in sp:
                        raise ValueError(f"reaction {r.name!r} names unknown species {s!r}")
                    if isinstance(c, str) and c not in pn:
                        raise ValueError(
                            f"reaction {r.name!r}: coefficient {c!r} is not a parameter"
                        )
            if r.mass_action and r.rate not in pn:
                raise ValueError(
                    f"reaction {r.name!r}: mass-action constant {r.rate!r} is not a parameter"
                )
            if r.mass_action and self.nominal[r.rate] < 0:
                raise ValueError(
                    f"reaction {r.name!r}: rate constant {r.rate} = {self.nominal[r.rate]} is "
                    "negative; rate constants must be >= 0"
                )
            missing = symbols(r.law) - known
            if missing:
                raise ExpressionError(
                    f"reaction {r.name!r} rate law reads unknown symbols {sorted(missing)}"
                )
        for p in self.parameters:
            if not isinstance(p.value, int | float):
                raise ValueError(f"parameter {p.name!r} must be a number, got {p.value!r}")
        for target in self.rate_rules:
            if target not in sp:
                raise ValueError(f"rate rule targets {target!r}, which is not a species")
        for e in self.events:
            missing = set().union(*(symbols(x) for x in e.expressions)) - known
            if missing:
                raise ExpressionError(f"event {e.name!r} reads unknown symbols {sorted(missing)}")
            bad = sorted(set(e.assignments) - set(sp) - set(pn))
            if bad:
                raise ValueError(
                    f"event {e.name!r} assigns {bad}, which are neither species nor parameters"
                )
        for obs, combo in self.observables.items():
            for s in combo:
                if s not in sp:
                    raise ValueError(f"observable {obs!r} names unknown species {s!r}")
        for pname in self.heterogeneity:
            if pname not in pn:
                raise ValueError(f"heterogeneity is declared on unknown parameter {pname!r}")
        for s_name, value in self.stimulus.items():
            if s_name not in sp:
                raise ValueError(f"stimulus names unknown species {s_name!r}")
            if not value >= 0:
                raise ValueError(f"stimulus {s_name!r} must be >= 0, got {value!r}")
        if not self.system_size > 0:
            raise ValueError(f"system_size must be > 0, got {self.system_size}")
