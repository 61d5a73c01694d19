"""Covariance objective against a numpy oracle."""

import numpy as np
import pytest
import torch

from perforate import correlation_loss, covariance, covariance_scores


def test_covariance_matches_numpy_oracle():
    rng = np.random.default_rng(0)
    o, e = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    oracle = [np.sum((o[:, n] - o[:, n].mean()) * (e[:, n] - e[:, n].mean())) for n in range(3)]
    got = covariance(torch.from_numpy(o), torch.from_numpy(e)).numpy()
    np.testing.assert_allclose(got, oracle, rtol=1e-12)
    np.testing.assert_allclose(
        np.abs(oracle), covariance_scores(torch.from_numpy(o), torch.from_numpy(e)).numpy()
    )
    # sum of (N-1) * sample covariance
    np.testing.assert_allclose(got[0], 49 * np.cov(o[:, 0], e[:, 0])[0, 1], rtol=1e-12)


def test_loss_gradient_flows_to_outputs_not_errors():
    o = torch.randn(10, 2, requires_grad=True)
    e = torch.randn(10, 2, requires_grad=True)
    correlation_loss(o, e).backward()
    assert o.grad is not None and e.grad is None
    # shifting either input by a constant per unit changes nothing
    torch.testing.assert_close(covariance(o + 3.0, e - 1.0), covariance(o, e))


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        covariance(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="2 samples"):
        covariance(torch.zeros(1, 2), torch.zeros(1, 2))
