"""Butcher tableaux of the ESDIRK methods of :mod:`cellsde.solvers.esdirk`.

Every method here is an ESDIRK: an explicit first stage (``c_1 = 0``), one diagonal
coefficient ``gamma`` for all implicit stages (one LU of ``I - h gamma J`` per step serves
them all), stiffly accurate (the solution is the last stage, so the method is L-stable and
its error vanishes on the slow manifold of stiff components), with an embedded estimate of
one order lower.

* ``"TRBDF2"``: TR-BDF2 (Bank et al. 1985) in the ESDIRK form of Hosea & Shampine (1996,
  MATLAB's ``ode23tb``): 3 stages, order 2, embedded order 3 (the estimate is of the
  second-order solution).
* ``"ESDIRK4"``: ESDIRK4(3)6L[2]SA of Kennedy & Carpenter (2003, Appl. Numer. Math. 44,
  139-181; the implicit part of their ARK4(3)6L[2]SA): 6 stages, order 4, embedded order 3,
  stage order 2, ``gamma = 1/4``. Per step it costs 5 implicit stages against TR-BDF2's 2,
  but its steps grow as ``tol**(-1/4)`` and its global error is one order smaller, so it
  wins at the accuracy of a scipy BDF loop (benchmarks/guo_ode_batch.py).

The coefficients are the published rationals; ``tests/cellsde/solvers/test_tableaux.py``
checks the order conditions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction as Fr

import numpy as np


@dataclass(frozen=True)
class Tableau:
    """An ESDIRK method.

    Attributes
    ----------
    name : str
        The ``method`` name.
    a : ndarray, shape (stage, stage)
        Lower-triangular coefficients; ``a[0] = 0`` and ``a[i, i] = gamma`` for ``i >= 1``;
        the last row is the solution's weights ``b`` (stiffly accurate).
    c : ndarray, shape (stage,)
        Stage times as fractions of the step (row sums of ``a``).
    b_err : ndarray, shape (stage,)
        ``b`` minus the embedded weights: the local error estimate is ``h sum_i b_err_i f_i``.
    error_order : int
        Order ``q`` of the lower-order member of the pair; the estimate is ``O(h**(q + 1))``,
        so the step-size factor is ``err**(-1 / (q + 1))``.
    predictor : ndarray, shape (stage, stage)
        Newton's starting value of stage ``i`` is ``x_n + h sum_{j < i} predictor[i, j] f_j``
        (weights summing to ``c_i``: exact for a linear-in-time solution).
    """

    name: str
    a: np.ndarray
    c: np.ndarray
    b_err: np.ndarray
    error_order: int
    predictor: np.ndarray

    @property
    def gamma(self) -> float:
        """The diagonal coefficient of the implicit stages."""
        return float(self.a[1, 1])

    @property
    def stages(self) -> int:
        return int(self.a.shape[0])


def _last_stage_predictor(a: np.ndarray) -> np.ndarray:
    """``x_n + h (sum_{j < i} a_ij f_j + gamma f_{i-1})``: stage i's own slope taken as the last one's."""
    pred = np.tril(a, -1)
    for i in range(1, a.shape[0]):
        pred[i, i - 1] += a[i, i]
    return pred


def _trbdf2() -> Tableau:
    g = 1.0 - math.sqrt(2.0) / 2.0
    w = math.sqrt(2.0) / 4.0
    a = np.array([[0.0, 0.0, 0.0], [g, g, 0.0], [w, w, g]])
    b_hat = np.array([(1.0 - w) / 3.0, (3.0 * w + 1.0) / 3.0, g / 3.0])
    # stage 2 from the explicit slope over 2 gamma, stage 3 by the trapezoid slope
    pred = np.array([[0.0, 0.0, 0.0], [2.0 * g, 0.0, 0.0], [0.5, 0.5, 0.0]])
    return Tableau("TRBDF2", a, a.sum(axis=1), a[2] - b_hat, 2, pred)


def _esdirk4() -> Tableau:
    q = Fr(1, 4)
    rows = [
        [0],
        [q, q],
        [Fr(8611, 62500), Fr(-1743, 31250), q],
        [Fr(5012029, 34652500), Fr(-654441, 2922500), Fr(174375, 388108), q],
        [Fr(15267082809, 155376265600), Fr(-71443401, 120774400), Fr(730878875, 902184768),
         Fr(2285395, 8070912), q],
        [Fr(82889, 524892), 0, Fr(15625, 83664), Fr(69875, 102672), Fr(-2260, 8211), q],
    ]  # fmt: skip
    b_hat = [Fr(4586570599, 29645900160), 0, Fr(178811875, 945068544),
             Fr(814220225, 1159782912), Fr(-3700637, 11593932), Fr(61727, 225920)]  # fmt: skip
    exact = [r + [0] * (6 - len(r)) for r in rows]
    a = np.array([[float(v) for v in r] for r in exact])
    c = np.array([float(sum(r)) for r in exact])  # the exact rational row sums
    b_err = np.array([float(b - bh) for b, bh in zip(exact[5], b_hat, strict=True)])
    return Tableau("ESDIRK4", a, c, b_err, 3, _last_stage_predictor(a))


TABLEAUX = {t.name: t for t in (_trbdf2(), _esdirk4())}
