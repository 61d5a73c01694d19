"""Shared set-up of the stochastic solvers (exact SSA and tau-leaping).

Validates the boundary (shapes, whole-number counts, increasing times, integer
stoichiometry), turns seeds into generators, and builds a fast propensity function.

Layout: the solvers keep the state *species-major*, ``xe`` of shape (species + 1, cell),
whose last row is all ones, and propensities reaction-major, (reaction, cell). Each row is
then contiguous, so gathers and row sums are cheap.

Mass-action networks get a specialised propensity: with ``F`` the largest reaction order,
``a_j = K_j * prod_f (n[i_jf] - m_jf)`` where ``K_j = k_j * Omega / prod(scale)`` is
precomputed per cell and padding factors point at the ones row. That is ``2F`` array
operations on (reaction, cell) per evaluation, against one compiled-expression call per
reaction in :meth:`models_bio.kinetics.Kinetics.propensities` (used for other rate laws).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cellsde.datasets.timegrid import check_times
from cellsde.errors import CellsdeError
from cellsde.solvers._hybrid import check_flows
from cellsde.solvers.rates import check_params

if TYPE_CHECKING:
    import torch

    from models_bio.network import ReactionNetwork

Seed = int | np.random.Generator  # or torch.Generator


@dataclass(frozen=True)
class Problem:
    """A validated stochastic simulation problem, in molecule counts.

    Attributes
    ----------
    counts : ndarray, shape (cell, species)
        Initial molecule counts (whole numbers, float64).
    params : ndarray, shape (cell, parameter)
        Full per-cell parameter matrix.
    times : ndarray, shape (time,)
        Strictly increasing output times; ``times[0]`` is the start.
    scale : ndarray, shape (species,)
        Molecules per unit of state value (``Kinetics.count_scale()``).
    stoich : ndarray, shape (reaction, species)
        Integer net change of each reaction.
    """

    counts: np.ndarray
    params: np.ndarray
    times: np.ndarray
    scale: np.ndarray
    stoich: np.ndarray


def prepare(network: ReactionNetwork, x0: Any, params: Any, times: Any, method: str) -> Problem:
    """Validate inputs of a stochastic solver and convert the state to counts.

    Raises
    ------
    CellsdeError
        On wrong shapes, non-finite or negative values, non-whole counts, times that do not
        increase, non-integer stoichiometry, or rate rules that are not flows
        (:func:`cellsde.solvers._hybrid.check_flows`).
    """
    kin = network.kinetics
    if not kin.stoichiometry_is_integer:
        bad = _non_integer_coefficient(network)
        raise CellsdeError(
            f"{method} needs whole-number stoichiometry; model {network.name!r} has coefficient "
            f"{bad} (molecule counts cannot change by a fraction or by a per-cell parameter); "
            "use method='cle' or method='ode'"
        )
    check_flows(network, method)
    ns, npar = kin.n_species, kin.n_params
    x0 = _as_float_array(x0, "x0")
    params = _as_float_array(params, "params")
    times = check_times(_as_float_array(times, "times"))
    if x0.ndim != 2 or x0.shape[1] != ns:
        raise CellsdeError(
            f"x0 must have shape (cell, species) = (n, {ns}) for model {network.name!r}, "
            f"got {x0.shape}"
        )
    if params.ndim != 2 or params.shape != (x0.shape[0], npar):
        raise CellsdeError(
            f"params must have shape (cell, parameter) = ({x0.shape[0]}, {npar}), got "
            f"{params.shape}; build it with network.kinetics.parameter_vector(overrides, n)"
        )
    if x0.shape[0] == 0:
        raise CellsdeError("x0 has no cells; pass at least one row")
    check_params(network, params)
    molecules = ~kin.boundary  # what reactions change; boundary values (a clock) may be anything
    if not np.all(np.isfinite(x0)) or np.any(x0[:, molecules] < 0):
        raise CellsdeError("x0 must be finite, and >= 0 for the species reactions change")
    scale = kin.count_scale()
    counts = x0 * scale
    whole = np.where(molecules, np.rint(counts), counts)
    off = np.abs(counts - whole) > 1e-6 * np.maximum(1.0, np.abs(counts))
    if off.any():
        c, s = np.argwhere(off)[0]
        raise CellsdeError(
            f"{method} needs whole molecule counts: x0[{c}, {network.species_names[s]!r}] = "
            f"{x0[c, s]} is {counts[c, s]} molecules at count scale {scale[s]} "
            "(system_size x volume); round the initial state or use method='cle'"
        )
    return Problem(whole, params, times, scale, np.rint(kin.stoichiometry(params)))


def _as_float_array(a: Any, name: str) -> np.ndarray:
    if type(a).__module__.startswith("torch"):
        a = a.detach().cpu().numpy()
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CellsdeError(f"{name} must be a numeric array: {err}") from err


def _non_integer_coefficient(network: ReactionNetwork) -> str:
    for r in network.reactions:
        for side in (r.reactants, r.products):
            for s, c in side.items():
                if isinstance(c, str) or float(c) != round(float(c)):
                    return f"{c!r} for species {s!r} in reaction {r.name!r}"
    return "(unknown)"


def numpy_generator(seed: Any) -> np.random.Generator:
    """A numpy Generator from an int, a numpy Generator or a torch.Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, int | np.integer):
        return np.random.default_rng(int(seed))
    if type(seed).__module__.startswith("torch"):
        import torch

        return np.random.default_rng(int(torch.randint(2**62, (1,), generator=seed)))
    raise CellsdeError(
        f"seed must be an int, numpy.random.Generator or torch.Generator, got {seed!r}"
    )


def torch_generator(seed: Any, device: torch.device) -> torch.Generator:
    """A torch.Generator on ``device`` from an int, a numpy Generator or a torch.Generator."""
    import torch

    if isinstance(seed, torch.Generator):
        if seed.device.type != device.type:
            raise CellsdeError(
                f"seed is a torch.Generator on {seed.device}, but the simulation runs on {device}"
            )
        return seed
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**62))
    if not isinstance(seed, int | np.integer):
        raise CellsdeError(
            f"seed must be an int, numpy.random.Generator or torch.Generator, got {seed!r}"
        )
    return torch.Generator(device=device).manual_seed(int(seed))


class Propensities:
    """Propensities of a network, (reaction, cell), from the extended state (species + 1, cell).

    Parameters
    ----------
    network : ReactionNetwork
        The model.
    scale : ndarray, shape (species,)
        Molecules per unit state value.

    Notes
    -----
    ``coefficients(params)`` gives the per-cell data the evaluation needs (``K``, shape
    (reaction, cell), for mass-action networks; the parameter matrix otherwise), so solvers
    can drop finished cells with ``take``. Works on numpy arrays and torch tensors.
    """

    def __init__(self, network: ReactionNetwork, scale: np.ndarray) -> None:
        self.network = network
        self.kinetics = network.kinetics
        self.mass_action = bool(self.kinetics.mass_action.all())
        ns = self.kinetics.n_species
        self.scale = scale
        factors: list[list[tuple[int, float]]] = []
        for r in network.reactions:
            f = []
            for s, c in r.reactants.items():
                i = network.species_names.index(s)
                f.extend((i, float(m)) for m in range(round(float(c))))
            factors.append(f)
        self.order = max((len(f) for f in factors), default=0)
        pad = [f + [(ns, 0.0)] * (self.order - len(f)) for f in factors]
        self.index = np.array([[i for i, _ in f] for f in pad], dtype=np.int64).reshape(
            len(pad), self.order
        )  # (reaction, factor)
        self.offset = np.array([[m for _, m in f] for f in pad], dtype=float).reshape(
            len(pad), self.order
        )  # (reaction, factor)
        self.has_offset = bool(np.any(self.offset))
        ext = np.append(scale, 1.0)
        self.k_factor = network.system_size / np.prod(ext[self.index], axis=1)  # (reaction,)
        self.rate_index = [
            network.parameter_names.index(r.rate) if r.mass_action else -1
            for r in network.reactions
        ]

    def coefficients(self, params: np.ndarray) -> np.ndarray:
        """Per-cell data for :meth:`__call__`: K (reaction, cell) or params (cell, parameter)."""
        if self.mass_action:
            return np.ascontiguousarray(params[:, self.rate_index].T * self.k_factor[:, None])
        return params

    def refresh(self, coef: Any, params: Any, rows: Any) -> None:
        """Recompute, in place, the coefficients of ``rows`` after events changed their parameters."""
        if self.mass_action and len(rows):
            coef[:, rows] = self.coefficients(params[rows])

    def take(self, coef: Any, keep: Any) -> Any:
        """Coefficients of the cells ``keep`` (an index array)."""
        return coef[:, keep] if self.mass_action else coef[keep]

    def __call__(self, xe: Any, coef: Any, t: float) -> Any:
        """Propensities (reaction, cell) at extended counts ``xe`` (species + 1, cell)."""
        if self.mass_action:
            a = coef
            for f in range(self.order):
                n = xe[self.index[:, f]]  # (reaction, cell)
                if self.has_offset:
                    n = n - _like(self.offset[:, f : f + 1], n)
                a = a * n
            return a
        n = xe[:-1].T  # (cell, species)
        a = self.kinetics.propensities(n, coef, t).T  # (reaction, cell)
        bad = ~(a >= 0)
        if bad.any():
            j, c = (int(v) for v in np.argwhere(_to_numpy(bad))[0])
            raise CellsdeError(
                f"reaction {self.network.reactions[j].name!r} has propensity "
                f"{float(a[j, c])} in cell {c} at t = {t}; propensities must be finite and "
                ">= 0 (check the rate law and the parameters)"
            )
        return a


def _like(a: np.ndarray, ref: Any) -> Any:
    if isinstance(ref, np.ndarray):
        return a
    import torch

    return torch.as_tensor(a, dtype=ref.dtype, device=ref.device)


def _to_numpy(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()


def compact(
    keep: Any, xe: Any, t: Any, params: Any, coef: Any, prop: Propensities, rec: Any, hyb: Any
):
    """Keep only the active cells ``keep`` (index array) of a stochastic solver's state.

    ``xe`` (species + 1, active), ``t`` (active,), ``params`` (active, parameter; read only
    with events, ``hyb`` not None) and ``coef`` are returned for the kept cells, in that
    order; the recorder ``rec`` and the events ``hyb`` drop the others in place. With events
    the coefficients are recomputed, since events may have changed parameters.
    """
    xe = xe[:, keep]
    xe = np.ascontiguousarray(xe) if isinstance(xe, np.ndarray) else xe.contiguous()
    rec.take(keep)
    if hyb is None:
        return xe, t[keep], params, prop.take(coef, keep)
    params = params[keep]
    hyb.take(keep)
    return xe, t[keep], params, prop.coefficients(params)
