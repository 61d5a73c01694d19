"""A population of ODE cells under the two-phase protocol, with exact derivatives.

Phase 1 brings every cell to its own basal steady state with the stimulus species held at 0
(:func:`cellsde.solvers.basal.steady_state`, warm-started from the previous call's states,
which is what an optimisation asks for); phase 2 sets each cell's stimulus at t = 0 and
integrates the stiff system with per-cell steps (:func:`cellsde.solvers.esdirk.integrate`).
When no condition has a stimulus, phase 1 is skipped and cells start from the model's
initial state.

Derivatives of the observable with respect to the free parameters are those of the numbers
the forward pass returned: reverse mode (:meth:`TwoPhaseODE.vjp`, the discrete adjoint plus
the steady state's implicit-function theorem) for a gradient, forward mode
(:meth:`TwoPhaseODE.jacobian`, forward sensitivities) for the per-cell Jacobian the
uncertainty needs. :func:`observe` wraps the forward pass and its adjoint as a torch
function, so the rest of the loss is ordinary autograd.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from cellsde.errors import CellsdeError
from cellsde.solvers.basal import Basal, steady_state, steady_state_jvp, steady_state_vjp
from cellsde.solvers.esdirk import Options, Record, System, integrate
from cellsde.solvers.esdirk_adjoint import adjoint, sensitivities
from models_bio.network import ReactionNetwork
from models_bio.sparse_kinetics import SparseKinetics


class TwoPhaseODE:
    """Simulate cells of ``network`` given their free parameters; differentiate the result.

    Parameters
    ----------
    network : ReactionNetwork
        The model (its own ``stimulus`` is ignored; ``stimulus`` below is per cell).
    free : sequence of str
        Free parameters (columns of theta); all others stay at their nominal values.
    stimulus : mapping of str to ndarray (cell,)
        Per-cell value of each stimulus species at t = 0 (held at 0 in phase 1).
    times : ndarray, shape (time,)
        Output times (model units), >= 0; phase 2 starts at 0.
    readout : ndarray, shape (species,)
        Weights of the observable.
    rtol, atol : float
        Tolerances of phase 2.
    """

    def __init__(
        self,
        network: ReactionNetwork,
        *,
        free: Sequence[str],
        stimulus: dict[str, np.ndarray],
        times: np.ndarray,
        readout: np.ndarray,
        rtol: float,
        atol: float,
    ) -> None:
        names = network.parameter_names
        fixed = {q: v for q, v in network.nominal.items() if q not in set(free)}
        held = tuple(stimulus)
        self.network = network
        self.free = tuple(free)
        self.phase2 = System(SparseKinetics(network, params=free, fixed=fixed))
        self.basal = System(SparseKinetics(network, params=free, hold=held, fixed=fixed))
        self.two_phase = bool(held)
        self._held = np.array([network.species_names.index(s) for s in held], dtype=int)
        self._stim = np.array([np.asarray(stimulus[s], dtype=float) for s in held])  # (stim, cell)
        self._free = np.array([names.index(q) for q in free], dtype=int)
        self._nominal = np.array([network.nominal[q] for q in names])  # (param,)
        self._initial = np.full(len(network.species), -1)
        for i, s in enumerate(network.species):  # species whose initial value is free
            if isinstance(s.initial, str) and s.initial in self.free:
                self._initial[i] = self.free.index(s.initial)
        t = np.asarray(times, dtype=float)
        if t[0] < 0:
            raise CellsdeError(
                f"the data start at t = {t[0]}; phase 2 starts at the stimulus, t = 0"
            )
        self._prepend = t[0] > 0
        self.times = np.r_[0.0, t] if self._prepend else t
        self.readout = np.asarray(readout, dtype=float)
        self.options = Options(rtol=rtol, atol=atol, newton_tol=0.03)
        self._guess: np.ndarray | None = None
        self._last: tuple[np.ndarray, Basal | None, Record] | None = None

    def _params(self, theta: np.ndarray) -> np.ndarray:
        p = np.repeat(self._nominal[:, None], theta.shape[0], axis=1)  # (param, cell)
        p[self._free] = theta.T
        return p

    @property
    def guess(self) -> np.ndarray | None:
        """The basal states of the last forward pass (the next pass's Newton starts there)."""
        return self._guess

    def warm_start(self, guess: np.ndarray) -> None:
        """Start the next basal search from ``guess`` (species, cell), e.g. a checkpoint's."""
        self._guess = np.asarray(guess, dtype=float).copy()

    def forward(self, theta: np.ndarray, *, record: bool = True) -> np.ndarray:
        """The observable of every cell, shape (time, cell), for theta (cell, free param).

        ``record=False`` keeps nothing for :meth:`vjp` / :meth:`jacobian` (less memory).
        """
        p = self._params(np.asarray(theta, dtype=float))
        x0 = self.network.kinetics.initial_state(p.T).T  # (species, cell)
        basal = None
        if self.two_phase:
            x0[self._held] = 0.0
            guess = (
                self._guess if self._guess is not None and self._guess.shape == x0.shape else None
            )
            basal = steady_state(self.basal, x0, p, guess=guess, check_stability=False)
            self._guess = basal.x
            x0 = basal.x.copy()
            x0[self._held] = self._stim
        out, rec = integrate(self.phase2, x0, p, self.times, options=self.options, record=record)
        self._last = (p, basal, rec) if record else None
        y = np.einsum("s,tsc->tc", self.readout, out)
        return y[1:] if self._prepend else y

    def _grad_out(self, grad_y: np.ndarray) -> np.ndarray:
        if self._prepend:
            grad_y = np.concatenate([np.zeros_like(grad_y[:1]), grad_y])
        return self.readout[None, :, None] * grad_y[:, None, :]  # (time, species, cell)

    def vjp(self, grad_y: np.ndarray) -> np.ndarray:
        """dL/dtheta, shape (cell, free param), for dL/dy (time, cell) of the last forward."""
        if self._last is None:
            raise RuntimeError("vjp needs a forward pass first")
        p, basal, rec = self._last
        gx0, gp = adjoint(self.phase2, rec, p, self._grad_out(grad_y))
        if basal is not None:
            gx0[self._held] = 0.0  # the stimulus is set, not simulated
            gp += steady_state_vjp(self.basal, basal.x, p, gx0, self._initial, basal.invariants)
        else:
            for i in np.flatnonzero(self._initial >= 0):
                gp[self._initial[i]] += gx0[i]
        return gp.T

    def jacobian(self) -> np.ndarray:
        """dy/dtheta of the last forward, shape (time, cell, free param) (forward sensitivities)."""
        if self._last is None:
            raise RuntimeError("jacobian needs a forward pass first")
        p, basal, rec = self._last
        n, q = p.shape[1], len(self.free)
        if basal is not None:
            s0 = steady_state_jvp(self.basal, basal, p, self._initial)
            s0[self._held] = 0.0
        else:
            s0 = np.zeros((self.network.kinetics.n_species, n, q))
            for i in np.flatnonzero(self._initial >= 0):
                s0[i, :, self._initial[i]] = 1.0
        sens = sensitivities(self.phase2, rec, p, s0)  # (time, species, cell, param)
        dy = np.einsum("s,tscq->tcq", self.readout, sens)
        return dy[1:] if self._prepend else dy


class _Observe(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta: torch.Tensor, engine: TwoPhaseODE) -> torch.Tensor:
        ctx.engine = engine
        y = engine.forward(theta.detach().cpu().numpy(), record=ctx.needs_input_grad[0])
        return torch.as_tensor(y, dtype=theta.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        g = ctx.engine.vjp(grad.detach().cpu().numpy())
        return torch.as_tensor(g, dtype=grad.dtype), None


def observe(engine: TwoPhaseODE, theta: torch.Tensor) -> torch.Tensor:
    """``engine.forward`` as a differentiable torch function: theta (cell, param) -> (time, cell)."""
    return _Observe.apply(theta, engine)
