"""Tensor-level squared W2: oracles are POT (ot.emd2), sorting, closed forms."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import torch

from cellsde.losses import sliced_w2_squared, w2_squared

SIZES = [(12, 12), (12, 8), (7, 10), (30, 29)]  # (30, 29): lcm 870 > 8 * 30 -> HiGHS LP path


def _pot(x: np.ndarray, y: np.ndarray) -> float:
    n, m = len(x), len(y)
    return float(ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), ot.dist(x, y)))


@pytest.mark.parametrize("d", [1, 2, 5])
@pytest.mark.parametrize(("n", "m"), SIZES)
def test_matches_pot_emd2(n: int, m: int, d: int) -> None:
    rng = np.random.default_rng(n * 100 + m * 10 + d)
    x = rng.normal(size=(n, d))
    y = rng.normal(size=(m, d)) * 1.5 + 0.3
    got = float(w2_squared(torch.from_numpy(x), torch.from_numpy(y)))
    assert got == pytest.approx(_pot(x, y), abs=1e-6, rel=1e-9)


@pytest.mark.parametrize("replicate_factor", [0, 1000])
def test_unequal_sizes_both_exact_solvers_agree_with_pot(replicate_factor: int) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(24, 3)), rng.normal(size=(18, 3))
    got = w2_squared(torch.from_numpy(x), torch.from_numpy(y), replicate_factor=replicate_factor)
    assert float(got) == pytest.approx(_pot(x, y), abs=1e-9)


def test_one_dimensional_equals_sorted_mean_squared_difference() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 40, 1, generator=g, dtype=torch.float64)
    y = torch.randn(4, 3, 40, 1, generator=g, dtype=torch.float64) * 2
    want = (x[..., 0].sort(-1).values - y[..., 0].sort(-1).values).pow(2).mean(-1)
    torch.testing.assert_close(w2_squared(x, y), want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("n", "m", "d"), [(15, 15, 2), (15, 10, 2), (9, 14, 1), (20, 20, 1)])
def test_gradient_matches_pot_torch_backend(n: int, m: int, d: int) -> None:
    g = torch.Generator().manual_seed(n + m + d)
    x0 = torch.randn(n, d, generator=g, dtype=torch.float64)
    y0 = torch.randn(m, d, generator=g, dtype=torch.float64) + 0.5
    x, y = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    w2_squared(x, y).backward()
    xp, yp = x0.clone().requires_grad_(), y0.clone().requires_grad_()
    a = torch.full((n,), 1 / n, dtype=torch.float64)
    b = torch.full((m,), 1 / m, dtype=torch.float64)
    ot.emd2(a, b, ot.dist(xp, yp)).backward()
    torch.testing.assert_close(x.grad, xp.grad, rtol=0, atol=1e-9)
    torch.testing.assert_close(y.grad, yp.grad, rtol=0, atol=1e-9)


def test_gradient_matches_finite_differences() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 2, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, q: w2_squared(p, q), (x, y), eps=1e-7, atol=1e-6)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_translation_gives_squared_shift(d: int) -> None:
    g = torch.Generator().manual_seed(d)
    x = torch.randn(25, d, generator=g, dtype=torch.float64)
    c = torch.linspace(-1.0, 2.0, d, dtype=torch.float64)
    assert float(w2_squared(x, x + c)) == pytest.approx(float(c @ c), rel=1e-12)
    assert float(w2_squared(x, x)) == pytest.approx(0.0, abs=1e-14)


def test_one_dimensional_gaussian_closed_form() -> None:
    # W2^2(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2
    g = torch.Generator().manual_seed(7)
    x = 1.0 + 0.5 * torch.randn(200_000, 1, generator=g, dtype=torch.float64)
    y = -0.5 + 2.0 * torch.randn(150_000, 1, generator=g, dtype=torch.float64)
    assert float(w2_squared(x, y)) == pytest.approx(1.5**2 + 1.5**2, rel=2e-2)


def test_batched_shapes_match_loop_and_keep_dtype() -> None:
    g = torch.Generator().manual_seed(2)
    a = torch.randn(3, 4, 10, 2, generator=g)
    b = torch.randn(3, 4, 8, 2, generator=g)
    out = w2_squared(a, b)
    assert out.shape == (3, 4) and out.dtype == torch.float32
    for i in range(3):
        for j in range(4):
            want = _pot(a[i, j].double().numpy(), b[i, j].double().numpy())
            assert float(out[i, j]) == pytest.approx(want, rel=1e-5)


def test_nan_points_omitted_equal_dropping_them() -> None:
    g = torch.Generator().manual_seed(4)
    a = torch.randn(2, 10, 2, generator=g, dtype=torch.float64)
    b = torch.randn(2, 9, 2, generator=g, dtype=torch.float64, requires_grad=True)
    a_nan = a.clone()
    a_nan[0, 3, 1] = float("nan")
    a_nan[1, [0, 5], :] = float("nan")
    with pytest.raises(ValueError, match="nan_policy='omit'"):
        w2_squared(a_nan, b)
    got = w2_squared(a_nan, b, nan_policy="omit")
    vals = got.detach()
    keep0 = [i for i in range(10) if i != 3]
    keep1 = [i for i in range(10) if i not in (0, 5)]
    assert float(vals[0]) == pytest.approx(_pot(a[0, keep0].numpy(), b[0].detach().numpy()))
    assert float(vals[1]) == pytest.approx(_pot(a[1, keep1].numpy(), b[1].detach().numpy()))
    got.sum().backward()
    assert torch.isfinite(b.grad).all()


@pytest.mark.parametrize("d", [1, 3])
def test_masks_equal_subsetting(d: int) -> None:
    g = torch.Generator().manual_seed(5)
    a = torch.randn(3, 12, d, generator=g, dtype=torch.float64)
    b = torch.randn(3, 7, d, generator=g, dtype=torch.float64)
    am = torch.rand(3, 12, generator=g) > 0.3
    bm = torch.rand(3, 7, generator=g) > 0.3
    am[:, 0] = bm[:, 0] = True
    got = w2_squared(a, b, a_mask=am, b_mask=bm)
    for k in range(3):
        want = _pot(a[k][am[k]].numpy(), b[k][bm[k]].numpy())
        assert float(got[k]) == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("d", [1, 2])
def test_masked_gradient_matches_pot_on_subset_and_is_zero_elsewhere(d: int) -> None:
    g = torch.Generator().manual_seed(8 + d)
    a0 = torch.randn(11, d, generator=g, dtype=torch.float64)
    b0 = torch.randn(9, d, generator=g, dtype=torch.float64)
    am = torch.ones(11, dtype=torch.bool)
    am[[2, 7]] = False
    a0[2] = float("nan")  # masked NaN point: no NaN may leak into value or gradient
    a, b = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    w2_squared(a[None], b[None], a_mask=am[None]).sum().backward()
    ap, bp = a0[am].clone().requires_grad_(), b0.clone().requires_grad_()
    w = torch.full((9,), 1 / 9, dtype=torch.float64)
    ot.emd2(torch.full((9,), 1 / 9, dtype=torch.float64), w, ot.dist(ap, bp)).backward()
    torch.testing.assert_close(a.grad[am], ap.grad, rtol=0, atol=1e-9)
    torch.testing.assert_close(b.grad, bp.grad, rtol=0, atol=1e-9)
    assert torch.all(a.grad[~am] == 0)


def test_sliced_is_exact_in_1d_and_a_lower_bound() -> None:
    g = torch.Generator().manual_seed(6)
    x = torch.randn(5, 30, 1, generator=g, dtype=torch.float64)
    y = torch.randn(5, 20, 1, generator=g, dtype=torch.float64) + 1
    torch.testing.assert_close(sliced_w2_squared(x, y, seed=0, n_projections=3), w2_squared(x, y))
    x2 = torch.randn(40, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y2 = torch.randn(40, 3, generator=g, dtype=torch.float64) + 1
    s = sliced_w2_squared(x2, y2, seed=1, n_projections=200)
    assert 0 < float(s.detach()) <= float(w2_squared(x2, y2).detach())
    s.backward()
    assert torch.isfinite(x2.grad).all() and x2.grad.abs().sum() > 0
    again = w2_squared(x2, y2, method="sliced", seed=1, n_projections=200)
    assert float(again.detach()) == float(s.detach())


def test_sliced_requires_explicit_randomness() -> None:
    x = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="seed"):
        sliced_w2_squared(x, x)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "err", "match"),
    [
        (torch.zeros(5, 2), torch.zeros(5, 3), {}, ValueError, "d=2"),
        (torch.zeros(0, 2), torch.zeros(5, 2), {}, ValueError, "empty"),
        (torch.zeros(5), torch.zeros(5), {}, ValueError, r"\(\.\.\., n, d\)"),
        (np.zeros((5, 2)), torch.zeros(5, 2), {}, TypeError, "torch.Tensor"),
        (torch.zeros(2, 5, 2), torch.zeros(3, 5, 2), {}, ValueError, "batch shapes"),
        (torch.zeros(5, 2), torch.zeros(5, 2), {"method": "sinkhorn"}, ValueError, "method"),
        (torch.zeros(5, 2), torch.zeros(5, 2), {"nan_policy": "x"}, ValueError, "nan_policy"),
        (
            torch.zeros(5, 2),
            torch.zeros(5, 2),
            {"a_mask": torch.ones(4).bool()},
            ValueError,
            "a_mask",
        ),
        (torch.zeros(5, 2), torch.zeros(5, 2), {"a_mask": torch.ones(5)}, TypeError, "bool"),
        (
            torch.zeros(2, 5, 2),
            torch.zeros(2, 5, 2),
            {"b_mask": torch.tensor([[True] * 5, [False] * 5])},
            ValueError,
            r"empty cloud .* \(1,\)",
        ),
        (torch.full((5, 2), float("inf")), torch.zeros(5, 2), {}, ValueError, "inf"),
    ],
)
def test_bad_inputs_raise_clear_errors(a, b, kwargs, err, match) -> None:
    with pytest.raises(err, match=match):
        w2_squared(a, b, **kwargs)
