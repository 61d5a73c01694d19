"""Boundary validation for the tensor-level Wasserstein losses."""

from __future__ import annotations

import torch

NAN_POLICIES = ("raise", "omit")


def _check_mask(mask: torch.Tensor | None, x: torch.Tensor, name: str) -> torch.Tensor | None:
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name}_mask must be a torch.Tensor of bool, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"{name}_mask must have dtype torch.bool, got {mask.dtype}")
    if tuple(mask.shape) != tuple(x.shape[:-1]):
        raise ValueError(
            f"{name}_mask has shape {tuple(mask.shape)}; it must be {name}.shape[:-1] = "
            f"{tuple(x.shape[:-1])} (one flag per point)"
        )
    return mask.to(x.device)


def _first_index(flags: torch.Tensor, batch_shape: tuple[int, ...]) -> tuple[int, ...]:
    flat = int(torch.nonzero(flags.reshape(-1))[0, 0])
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), batch_shape))


def check_clouds(
    a: torch.Tensor,
    b: torch.Tensor,
    a_mask: torch.Tensor | None,
    b_mask: torch.Tensor | None,
    nan_policy: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Validate two batched point clouds and their masks.

    Returns ``(a, b, a_mask, b_mask)`` with a common floating dtype, masks on the clouds'
    device, NaN points folded into the masks when ``nan_policy == "omit"`` (masks stay
    ``None`` when nothing is masked). Raises ``TypeError``/``ValueError`` naming the problem.
    """
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor of shape (..., n, d), got {type(x).__name__}"
            )
        if x.ndim < 2:
            raise ValueError(
                f"{name} must have shape (..., n, d) with at least 2 dims, got shape {tuple(x.shape)}"
            )
        if x.dtype.is_complex or x.dtype == torch.bool:
            raise TypeError(f"{name} must be a real floating tensor, got dtype {x.dtype}")
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    if a.device != b.device:
        raise ValueError(f"a is on {a.device} but b is on {b.device}; move both to one device")
    if a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2]:
        raise ValueError(
            f"batch shapes differ: a {tuple(a.shape)} vs b {tuple(b.shape)}; the leading dims "
            "(everything but the last two) must be equal"
        )
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"point dimension differs: a has d={a.shape[-1]}, b has d={b.shape[-1]}; "
            "select the same coordinates in both"
        )
    if a.shape[-1] == 0:
        raise ValueError("points have dimension d=0; select at least one coordinate")
    for name, x in (("a", a), ("b", b)):
        if x.shape[-2] == 0:
            raise ValueError(f"{name} is an empty cloud (n=0 points, shape {tuple(x.shape)})")
    dtype = torch.promote_types(a.dtype, b.dtype)
    if not dtype.is_floating_point:
        dtype = torch.get_default_dtype()
    a, b = a.to(dtype), b.to(dtype)
    a_mask, b_mask = _check_mask(a_mask, a, "a"), _check_mask(b_mask, b, "b")

    batch_shape = tuple(a.shape[:-2])
    masks = []
    for name, x, mask in (("a", a, a_mask), ("b", b, b_mask)):
        with torch.no_grad():
            nan = torch.isnan(x).any(-1)  # (..., n)
            if nan_policy == "omit" and bool(nan.any()):
                mask = ~nan if mask is None else mask & ~nan
            bad = ~torch.isfinite(x).all(-1)
            if mask is not None:
                bad = bad & mask
            if bool(bad.any()):
                idx = _first_index(bad.any(-1), batch_shape) if batch_shape else ()
                raise ValueError(
                    f"{name} has NaN or inf coordinates in batch element {idx}; mask those "
                    f"points with {name}_mask or pass nan_policy='omit' to drop NaN points"
                )
            if mask is not None:
                empty = ~mask.any(-1)  # (...)
                if bool(empty.any()):
                    idx = _first_index(empty, batch_shape) if batch_shape else ()
                    raise ValueError(
                        f"{name} has an empty cloud (no unmasked, non-NaN point) in batch "
                        f"element {idx}; W2 is undefined there — drop that element"
                    )
        masks.append(mask)
    return a, b, masks[0], masks[1]
