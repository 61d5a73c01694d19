"""The cascade-correlation objective, as pure functions of tensors.

A candidate dendrite of neuron ``n`` is trained to maximise the magnitude of the
covariance (summed over samples ``b``) between its output ``o_{b,n}`` and the error
``E_{b,n} = dL/dy_{b,n}`` of its neuron::

    S_n = | sum_b (o_{b,n} - mean_b o_n) (E_{b,n} - mean_b E_n) |

(Fahlman & Lebiere 1989, restricted to the neuron the dendrite serves.)
"""

from __future__ import annotations

from torch import Tensor


def _check(o: Tensor, e: Tensor) -> None:
    if o.ndim != 2 or o.shape != e.shape:
        raise ValueError(
            "candidate outputs and errors must both be (samples, units) of the same shape, "
            f"got {tuple(o.shape)} and {tuple(e.shape)}"
        )
    if o.shape[0] < 2:
        raise ValueError(f"covariance needs at least 2 samples, got {o.shape[0]}")


def covariance(o: Tensor, e: Tensor) -> Tensor:
    """Signed per-unit covariance sum ``sum_b (o - o.mean)(e - e.mean)``.

    Parameters
    ----------
    o : Tensor, shape (samples, units)
        Candidate outputs.
    e : Tensor, shape (samples, units)
        Error signal ``dL/dy`` of each unit (treated as a constant).

    Returns
    -------
    Tensor, shape (units,)
    """
    _check(o, e)
    e = e.detach()
    return ((o - o.mean(0)) * (e - e.mean(0))).sum(0)


def covariance_scores(o: Tensor, e: Tensor) -> Tensor:
    """Per-unit score ``S_n = |covariance|``; shapes as in :func:`covariance`, returns (units,)."""
    return covariance(o, e).abs()


def correlation_loss(o: Tensor, e: Tensor) -> Tensor:
    """Scalar to *minimise* for candidates: ``-sum_n S_n`` (gradient flows into ``o``)."""
    return -covariance_scores(o, e).sum()
