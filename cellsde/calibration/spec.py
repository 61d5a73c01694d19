"""What a calibration is asked for: free parameters, observation model, conditions, options.

All four are frozen dataclasses validated on construction, so a bad request fails before
any simulation with one message naming the problem and the fix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any

FIT = "fit"
REDUCTIONS = ("sum", "mean")
OPTIMIZERS = ("adam", "cmaes")
SIMULATIONS = ("ode", "cle", "ssa", "tau")


@dataclass(frozen=True)
class FreeParameter:
    """A model parameter whose population distribution is estimated.

    Parameters
    ----------
    name : str
        The model parameter.
    lower, upper : float, optional
        Bounds of the population median and of every cell's value (model units, > 0):
        default the model's declared bounds (:attr:`models_bio.network.Parameter.bounds`),
        else 1/10 and 10 times the nominal value (the Guo 2024 authors' sampling range).
    """

    name: str
    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a free parameter needs a name, got {self.name!r}")
        lo, hi = self.lower, self.upper
        for label, v in (("lower", lo), ("upper", hi)):
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(
                    f"free parameter {self.name!r}: {label} bound must be > 0, got {v}"
                )
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(
                f"free parameter {self.name!r}: lower bound {lo} must be below upper bound {hi}"
            )


@dataclass(frozen=True)
class ObservationModel:
    """How a simulated cell becomes a measured value: ``scale * observable + offset + noise``.

    Parameters
    ----------
    observable : str
        A declared observable of the model (e.g. Guo 2024's ``nfkb_nuclear``), a species, or
        a sum of species ``"NFkBn+IkBaNFkBn"``.
    measured : str, optional
        The data's species the observable is compared with (default: the data's only species).
    scale, offset, noise : float or "fit"
        Fixed values, or ``"fit"`` to estimate them with the population: ``scale`` (> 0; the
        units factor from model to measured values, e.g. an unverified microscopy-to-uM
        rescaling), ``offset`` (background, in measured units) and ``noise`` (the sd of
        independent Gaussian measurement noise per cell and frame, measured units).
    """

    observable: str
    measured: str | None = None
    scale: float | str = 1.0
    offset: float | str = 0.0
    noise: float | str = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.observable, str) or not self.observable.strip():
            raise ValueError("the observation model needs an observable name or recipe")
        for name, value, ok in (
            ("scale", self.scale, lambda v: v > 0),
            ("offset", self.offset, lambda v: True),
            ("noise", self.noise, lambda v: v >= 0),
        ):
            if value == FIT:
                continue
            if isinstance(value, str) or not (math.isfinite(value) and ok(value)):
                raise ValueError(
                    f"observation {name} must be 'fit' or a finite number"
                    f"{' > 0' if name == 'scale' else ' >= 0' if name == 'noise' else ''}, "
                    f"got {value!r}"
                )

    @property
    def fitted(self) -> tuple[str, ...]:
        """The observation parameters that are estimated, in the order scale, offset, noise."""
        return tuple(n for n in ("scale", "offset", "noise") if getattr(self, n) == FIT)


@dataclass(frozen=True)
class Condition:
    """One experimental condition: what changes at t = 0 after each cell's basal steady state.

    Parameters
    ----------
    label : str
        The condition's name (e.g. ``"TNF 1 ng/mL"``).
    stimulus : mapping of str to float
        Species set at t = 0 (model units), e.g. ``{"TNF": 1.9e-4}``; held at 0 before.
    """

    label: str
    stimulus: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stimulus", MappingProxyType(dict(self.stimulus)))
        bad = {k: v for k, v in self.stimulus.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            raise ValueError(f"condition {self.label!r}: stimulus values must be >= 0, got {bad}")


@dataclass(frozen=True)
class CalibrationConfig:
    """Options of :func:`cellsde.calibrate`.

    Parameters
    ----------
    cells : int or None
        Simulated cells per condition and cloud (default: as many as the condition's
        measured cells).
    debiased : bool
        Fit the debiased loss of :func:`cellsde.losses.w2_table` with two independent
        simulated clouds per condition (twice the simulation). The plain W2² between finite
        clouds is smallest for simulated clouds narrower than the data, which biases the
        spreads down (and, through the log-normal mean, the medians up) by an amount that
        shrinks with the number of cells; the debiased loss removes that bias to first order.
    correlated : bool
        Estimate the correlations of the free parameters' log values (default independent).
    redraw : bool
        Draw new simulated cells (population and noise draws, seeded by the iteration) at
        every Adam iteration: stochastic optimisation of the expected loss, instead of the
        loss at one fixed set of draws (common random numbers, the default). With few
        simulated cells and many population parameters the fixed-draw loss can be fitted to
        the draws themselves; redrawing cannot. The search then returns its last iterate,
        and the final loss and the intervals use the fixed draws of ``seed``.
    spread_max : float
        Largest population spread, as the sd of a log value (1.0: a factor e per sd).
    method : {"ode", "cle", "ssa", "tau"}
        How cells are simulated: the stiff ODE solver with exact gradients, or a stochastic
        method through :func:`cellsde.simulate` with fixed seeds (no gradient: needs
        ``optimizer="cmaes"``; intervals from central differences).
    optimizer : {"adam", "cmaes"}
        ``"adam"``: exact gradients through the stiff solver (discrete adjoint); ``"cmaes"``:
        derivative-free CMA-ES on the same simulations (the alternative route), from the
        nominal start for ``iterations`` generations of ``4 + 3 ln(dim)`` evaluations.
    starts : int
        Multi-start: starting points, spread over the bounds (quasi-random, seeded).
    explore_iterations : int
        Iterations each start runs before only the best start continues.
    iterations : int
        Total iterations of the best start (exploration included).
    lr, lr_min : float
        Adam's learning rate on the unconstrained scale, cosine-annealed to ``lr_min``.
    reduce_conditions : {"sum", "mean"}
        How the per-condition tW2 are combined into the loss.
    skip_first : bool
        Leave the first frame (t = 0) out of the loss.
    rtol, atol : float
        Tolerances of the stiff solver (atol in model state units).
    bootstrap : int
        Replicates of the cell bootstrap for the intervals (0: no intervals).
    level : float
        Coverage of the reported intervals.
    seed : int
        Seeds the simulated cells, the measurement noise, the starts and the bootstrap.
    checkpoint_path : str or None
        Where the resumable state is written (atomically) after every iteration.
    resume : bool
        Continue from ``checkpoint_path`` (a SIGKILL'd run then ends where it would have).
    progress : bool or None
        Progress bar (None: only on a terminal).
    """

    cells: int | None = None
    debiased: bool = True
    correlated: bool = False
    redraw: bool = False
    method: str = "ode"
    spread_max: float = 1.0
    optimizer: str = "adam"
    starts: int = 4
    explore_iterations: int = 25
    iterations: int = 150
    lr: float = 0.08
    lr_min: float = 0.005
    reduce_conditions: str = "sum"
    skip_first: bool = True
    rtol: float = 1e-3
    atol: float = 1e-9
    bootstrap: int = 200
    level: float = 0.95
    seed: int = 0
    checkpoint_path: str | None = None
    resume: bool = False
    progress: bool | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.cells is None or self.cells >= 2, f"cells must be >= 2, got {self.cells}"),
            (0 < self.spread_max <= 5, f"spread_max must be in (0, 5], got {self.spread_max}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (
                self.method in SIMULATIONS,
                f"method must be one of {SIMULATIONS}, got {self.method!r}",
            ),
            (
                self.method == "ode" or self.optimizer == "cmaes",
                f"method {self.method!r} has no gradient; use optimizer='cmaes'",
            ),
            (
                not self.redraw or self.optimizer == "adam",
                "redraw=True is for the gradient search (optimizer='adam'); CMA-ES ranks "
                "candidates on one set of draws",
            ),
            (self.starts >= 1, f"starts must be >= 1, got {self.starts}"),
            (self.explore_iterations >= 1, "explore_iterations must be >= 1"),
            (
                self.iterations >= self.explore_iterations,
                f"iterations ({self.iterations}) must be >= explore_iterations "
                f"({self.explore_iterations})",
            ),
            (0 < self.lr_min <= self.lr, f"need 0 < lr_min <= lr, got {self.lr_min}, {self.lr}"),
            (
                self.reduce_conditions in REDUCTIONS,
                f"reduce_conditions must be one of {REDUCTIONS}",
            ),
            (self.rtol > 0 and self.atol > 0, "rtol and atol must be > 0"),
            (self.bootstrap == 0 or self.bootstrap >= 20, "bootstrap must be 0 or >= 20"),
            (0.5 < self.level < 1, f"level must be in (0.5, 1), got {self.level}"),
            (
                isinstance(self.seed, int) and self.seed >= 0,
                f"seed must be an int >= 0, got {self.seed!r}",
            ),
            (not self.resume or self.checkpoint_path, "resume=True needs checkpoint_path"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_json(self) -> str:
        """JSON form, stored in the result's attrs and in checkpoints."""
        return json.dumps(asdict(self), sort_keys=True)

    def replace(self, **changes: Any) -> CalibrationConfig:
        """A copy with ``changes``."""
        return replace(self, **changes)
