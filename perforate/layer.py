"""Dendritic layers: a ``Linear`` or convolution plus K dendrite sets (and cascade candidates).

Unit ``n`` of the layer (an output feature of a ``Linear``, an output channel of a
convolution) computes (``x``: the layer input, ``sigma``: sigmoid or tanh, ``*`` the layer's
own operation: matrix product or convolution)::

    a_{k,n} = d_{k,n} * x + c_{k,n} + sum_{j<k} u_{k,j,n} h_{j,n}
    h_{k,n} = sigma(a_{k,n})
    y_n     = w_n * x + b_n + sum_k v_{k,n} h_{k,n}

For a convolution ``d_{k,n}`` is a kernel of the base kernel's shape and ``u``, ``v`` are per
channel (shared over positions), so a dendrite set costs what the base layer costs plus
``o (1 + k)`` scalars, exactly as for a ``Linear``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from perforate.config import DendriteConfig


class DendriteSet(nn.Module):
    """One dendrite per output unit: ``weight`` (the base weight's shape), ``bias``, ``v`` (o,),
    ``u`` (o, k); ``k`` is the index of the set (it sees the ``k`` earlier sets through ``u``)."""

    def __init__(self, weight_shape: tuple[int, ...], k: int) -> None:
        super().__init__()
        o = weight_shape[0]
        self.weight = nn.Parameter(torch.zeros(weight_shape))  # (o, i, *kernel)
        self.bias = nn.Parameter(torch.zeros(o))  # (o,)
        self.v = nn.Parameter(torch.zeros(o))  # (o,)
        self.u = nn.Parameter(torch.zeros(o, k))  # (o, k)

    def reset(self, init_scale: float, generator: torch.Generator | None = None) -> None:
        """Random ``weight``, ``bias``, ``u`` (uniform); ``v`` = 0 so the set adds nothing yet."""
        with torch.no_grad():
            bound = init_scale / math.sqrt(math.prod(self.weight.shape[1:]))
            for p in (self.weight, self.bias):
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)
            if self.u.shape[1]:
                ubound = init_scale / math.sqrt(self.u.shape[1])
                self.u.copy_((torch.rand(self.u.shape, generator=generator) * 2 - 1) * ubound)
            self.v.zero_()


# A forward call held during a dendrite phase: the dendrites' input, the accepted sets'
# outputs (both detached: the network is frozen) and, after backward, dL/dy of the call.
Record = tuple[Tensor, list[Tensor], list[Tensor]]


class DendriticLayer(nn.Module):
    """Base of :class:`DendriticLinear` and :class:`perforate.conv.DendriticConv`.

    Subclasses say how the base operation is applied with other weights (:meth:`_op`),
    where the unit axis is (:attr:`unit_dim`) and which base types they wrap (``BASES``).

    Notes
    -----
    ``state_dict`` keys: ``base.*``, ``sets.{k}.{weight,bias,v,u}`` and, during a cascade
    dendrite phase, ``candidate.*``. Loading a state dict sets the number of sets (and the
    presence of a candidate) to what the state dict holds, so a freshly wrapped model loads
    any trained one of its structure. In ``cascade`` mode the accepted sets' ``weight``,
    ``bias`` and ``u`` are frozen (``requires_grad=False``); only ``v`` keeps learning.
    """

    BASES: tuple[type[nn.Module], ...] = ()
    unit_dim = -1

    def __init__(
        self,
        base: nn.Module,
        config: DendriteConfig | None = None,
        *,
        n_sets: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if type(base) not in self.BASES:
            names = " or ".join(f"nn.{b.__name__}" for b in self.BASES)
            raise TypeError(f"{type(self).__name__} wraps an {names}, got {type(base).__name__}")
        if base.bias is None:
            raise ValueError(
                f"{type(self).__name__} needs a layer with a bias (the parameter-count formula "
                "counts one); build it with bias=True"
            )
        self.base = base
        self.config = DendriteConfig() if config is None else config
        self.sets = nn.ModuleList()
        self.candidate: DendriteSet | None = None
        self._records: list[Record] = []
        self._pending: tuple[Tensor, list[Tensor]] | None = None
        for _ in range(n_sets):
            self.add_set(generator=generator)

    def _op(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        raise NotImplementedError

    # ---------------------------------------------------------------- structure
    @property
    def out_features(self) -> int:
        """Number of units (output features or channels)."""
        return int(self.base.weight.shape[0])

    @property
    def n_sets(self) -> int:
        """Number ``K`` of accepted dendrite sets."""
        return len(self.sets)

    def _new_set(self, generator: torch.Generator | None) -> DendriteSet:
        ref = self.base.weight
        s = DendriteSet(tuple(ref.shape), self.n_sets)
        s.reset(self.config.init_scale, generator)
        return s.to(device=ref.device, dtype=ref.dtype)

    def _freeze_if_cascade(self, s: DendriteSet) -> None:
        if self.config.mode == "cascade":
            for p in (s.weight, s.bias, s.u):
                p.requires_grad_(False)

    def add_set(self, generator: torch.Generator | None = None) -> None:
        """Append one random dendrite set with ``v`` = 0 (the output does not change)."""
        if self.candidate is not None:
            raise RuntimeError("accept_candidate() or discard_candidate() before add_set()")
        s = self._new_set(generator)
        self._freeze_if_cascade(s)
        self.sets.append(s)

    def start_candidate(self, generator: torch.Generator | None = None) -> None:
        """Create cascade candidates (one per unit); they do not enter the output."""
        if self.candidate is not None:
            raise RuntimeError("a candidate set already exists; accept or discard it first")
        self.candidate = self._new_set(generator)

    def accept_candidate(self) -> None:
        """Make the candidates dendrite set ``K`` (``v`` = 0; ``D``, ``u`` frozen in cascade)."""
        if self.candidate is None:
            raise RuntimeError("no candidate set to accept; call start_candidate() first")
        s, self.candidate = self.candidate, None
        with torch.no_grad():
            s.v.zero_()
        self._freeze_if_cascade(s)
        self.sets.append(s)
        self._records.clear()

    def discard_candidate(self) -> None:
        """Drop candidates (if any) and their recorded signals."""
        self.candidate = None
        self._records.clear()

    # ---------------------------------------------------------------- forward
    def _unit(self, t: Tensor) -> Tensor:
        """A per-unit vector (o,) shaped to broadcast against an output (N, o, *spatial)."""
        return t if self.unit_dim == -1 else t.view(-1, *([1] * (self.base.weight.dim() - 2)))

    def _act(self, a: Tensor) -> Tensor:
        return torch.sigmoid(a) if self.config.activation == "sigmoid" else torch.tanh(a)

    def branch(self, s: DendriteSet, x: Tensor, hs: list[Tensor]) -> Tensor:
        """Output ``h`` of dendrite set ``s`` on input ``x`` given the earlier sets' ``hs``."""
        a = self._op(x, s.weight, s.bias)  # (..., o) or (N, o, *spatial)
        for j, h in enumerate(hs):
            a = a + self._unit(s.u[:, j]) * h
        return self._act(a)

    def dendrite_term(self, x: Tensor) -> Tensor:
        """Dendrite contribution ``sum_k v_k * h_k``, the shape of the base output.

        In ``cascade`` mode with ``detach_input`` the input is detached: no gradient reaches
        ``x`` through this path. While a candidate set exists and grad is enabled, the
        (detached) input and set outputs are held for the correlation step.
        """
        perforated = self.config.mode == "cascade" and self.config.detach_input
        xd = x.detach() if perforated else x
        hs: list[Tensor] = []
        out = torch.zeros((), dtype=x.dtype, device=x.device)
        for s in self.sets:
            h = self.branch(s, xd, hs)
            hs.append(h)
            out = out + self._unit(s.v) * h
        self._pending = None
        if self.candidate is not None and torch.is_grad_enabled():
            # candidates never pass gradient to the network, whatever the mode
            self._pending = (x.detach(), [h.detach() for h in hs])
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Input -> output, the shapes of the base layer."""
        if not self.sets and self.candidate is None:
            return self.base(x)
        y = self.base(x) + self.dendrite_term(x)
        pending, self._pending = self._pending, None
        if pending is not None and y.requires_grad:
            slot: list[Tensor] = []
            self._records.append((*pending, slot))
            y.register_hook(lambda g, slot=slot: slot.append(g.detach()))
        return y

    # ---------------------------------------------------------------- correlation signals
    @property
    def n_records(self) -> int:
        """Forward calls whose signals are held, waiting for ``pop_records``."""
        return len(self._records)

    def to_units(self, t: Tensor) -> Tensor:
        """An output-shaped tensor as (samples, units): every position of a call is a sample."""
        return t.reshape(-1, self.out_features) if self.unit_dim == -1 else (
            t.movedim(1, -1).reshape(-1, self.out_features))  # fmt: skip

    def pop_records(self) -> tuple[Tensor, list[Tensor], Tensor] | None:
        """The held forward calls' inputs, set outputs and output errors; then forget them.

        Returns
        -------
        (x, hs, e) or None
            ``x``: the dendrites' inputs of the calls, concatenated along the first axis;
            ``hs``: the accepted sets' outputs (one tensor per set, output-shaped); ``e``
            (samples, units): ``dL/dy`` captured by the backward hook. Calls whose output
            never received a gradient are dropped. ``None`` if nothing usable.
        """
        recs = [(x, hs, slot[0]) for x, hs, slot in self._records if slot]
        self._records.clear()
        if not recs:
            return None
        flat = self.unit_dim == -1
        x = torch.cat([r[0].reshape(-1, r[0].shape[-1]) if flat else r[0] for r in recs])
        hs = [
            torch.cat([r[1][k].reshape(-1, self.out_features) if flat else r[1][k] for r in recs])
            for k in range(self.n_sets)
        ]
        e = torch.cat([self.to_units(r[2]) for r in recs])
        return x, hs, e

    def clear_records(self) -> None:
        """Forget recorded signals."""
        self._records.clear()

    # ---------------------------------------------------------------- state dict
    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        k = 0
        while f"{prefix}sets.{k}.weight" in state_dict:
            k += 1
        while self.n_sets > k:
            del self.sets[-1]
        while self.n_sets < k:
            self.add_set()
        if f"{prefix}candidate.weight" in state_dict:
            if self.candidate is None:
                self.start_candidate()
        else:
            self.discard_candidate()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        c = self.config
        return f"n_sets={self.n_sets}, mode={c.mode!r}, activation={c.activation!r}"


class DendriticLinear(DendriticLayer):
    """A ``Linear(i, o)`` with ``K`` dendrite sets; input (..., i), output (..., o).

    Parameters
    ----------
    base : nn.Linear
        The wrapped layer (with a bias); kept (not copied) as ``self.base``.
    config : DendriteConfig, optional
        Mode, activation, ``init_scale``, ``detach_input``; kept as ``self.config``.
    n_sets : int
        Dendrite sets created at once (randomly initialised, ``v`` = 0).
    generator : torch.Generator, optional
        Source of randomness for the initial sets.

    Notes
    -----
    Parameters: ``(K+1)(i o + o) + K o + o K (K-1) / 2``. See :class:`DendriticLayer`.
    """

    BASES = (nn.Linear,)

    @property
    def in_features(self) -> int:
        return self.base.in_features

    def _op(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        return F.linear(x, weight, bias)
