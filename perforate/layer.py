"""``DendriticLinear``: an ``nn.Linear`` plus K dendrite sets (and optional cascade candidates).

Neuron ``n`` of the layer computes (``x``: the layer input, ``sigma``: sigmoid or tanh)::

    a_{k,n} = d_{k,n} . x + c_{k,n} + sum_{j<k} u_{k,j,n} h_{j,n}
    h_{k,n} = sigma(a_{k,n})
    y_n     = w_n . x + b_n + sum_k v_{k,n} h_{k,n}
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from perforate.config import DendriteConfig


class DendriteSet(nn.Module):
    """One dendrite per output unit: ``weight`` (o, i), ``bias`` (o,), ``v`` (o,), ``u`` (o, k).

    ``k`` is the index of the set (it sees the ``k`` earlier sets through ``u``).
    """

    def __init__(self, in_features: int, out_features: int, k: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(out_features, in_features))  # (o, i)
        self.bias = nn.Parameter(torch.zeros(out_features))  # (o,)
        self.v = nn.Parameter(torch.zeros(out_features))  # (o,)
        self.u = nn.Parameter(torch.zeros(out_features, k))  # (o, k)

    def reset(self, init_scale: float, generator: torch.Generator | None = None) -> None:
        """Random ``weight``, ``bias``, ``u`` (uniform); ``v`` = 0 so the set adds nothing yet."""
        with torch.no_grad():
            bound = init_scale / math.sqrt(self.weight.shape[1])
            for p in (self.weight, self.bias):
                p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * bound)
            if self.u.shape[1]:
                ubound = init_scale / math.sqrt(self.u.shape[1])
                self.u.copy_((torch.rand(self.u.shape, generator=generator) * 2 - 1) * ubound)
            self.v.zero_()


class DendriticLinear(nn.Module):
    """A ``Linear(i, o)`` with ``K`` dendrite sets.

    Parameters
    ----------
    base : nn.Linear
        The wrapped layer; kept (not copied) as ``self.base``.
    config : DendriteConfig, optional
        Mode, activation and ``init_scale``; kept as ``self.config``.
    n_sets : int
        Dendrite sets created at once (randomly initialised, ``v`` = 0).
    generator : torch.Generator, optional
        Source of randomness for the initial sets.

    Notes
    -----
    Input ``(..., i)``, output ``(..., o)``. ``state_dict`` keys: ``base.*``,
    ``sets.{k}.{weight,bias,v,u}`` and, during a cascade dendrite phase, ``candidate.*``.
    Loading a state dict sets the number of sets (and the presence of a candidate) to what
    the state dict holds, so a freshly wrapped model loads any trained one of its structure.
    In ``cascade`` mode the accepted sets' ``weight``, ``bias`` and ``u`` are frozen
    (``requires_grad=False``); only ``v`` keeps learning.
    """

    def __init__(
        self,
        base: nn.Linear,
        config: DendriteConfig | None = None,
        *,
        n_sets: int = 0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"DendriticLinear wraps an nn.Linear, got {type(base).__name__}")
        if base.bias is None:
            raise ValueError(
                "DendriticLinear needs a Linear with a bias (the parameter-count formula counts "
                "one); build it with bias=True"
            )
        self.base = base
        self.config = DendriteConfig() if config is None else config
        self.sets = nn.ModuleList()
        self.candidate: DendriteSet | None = None
        self._records: list[tuple[Tensor, list[Tensor]]] = []
        self._candidate_out: Tensor | None = None
        for _ in range(n_sets):
            self.add_set(generator=generator)

    # ---------------------------------------------------------------- structure
    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    @property
    def n_sets(self) -> int:
        """Number ``K`` of accepted dendrite sets."""
        return len(self.sets)

    def _new_set(self, generator: torch.Generator | None) -> DendriteSet:
        ref = self.base.weight
        s = DendriteSet(self.in_features, self.out_features, self.n_sets)
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
    def _act(self, a: Tensor) -> Tensor:
        return torch.sigmoid(a) if self.config.activation == "sigmoid" else torch.tanh(a)

    def _branch(self, s: DendriteSet, x: Tensor, hs: list[Tensor]) -> Tensor:
        a = F.linear(x, s.weight, s.bias)  # (..., o)
        if hs:
            a = a + (torch.stack(hs, dim=-1) * s.u).sum(-1)  # (..., o, k) * (o, k)
        return self._act(a)

    def dendrite_term(self, x: Tensor) -> Tensor:
        """Dendrite contribution ``sum_k v_k * h_k``; input (..., i), output (..., o).

        In ``cascade`` mode ``x`` is detached: no gradient reaches the input through this path.
        Also records the candidates' outputs when a candidate set exists and grad is enabled.
        """
        xd = x.detach() if self.config.mode == "cascade" else x
        hs: list[Tensor] = []  # K tensors (..., o)
        out = torch.zeros((), dtype=x.dtype, device=x.device)
        for s in self.sets:
            h = self._branch(s, xd, hs)
            hs.append(h)
            out = out + s.v * h
        self._candidate_out = None
        if self.candidate is not None and torch.is_grad_enabled():
            # candidates never pass gradient to the network, whatever the mode
            self._candidate_out = self._branch(self.candidate, x.detach(), [h.detach() for h in hs])
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Input (..., i) -> output (..., o)."""
        if not self.sets and self.candidate is None:
            return self.base(x)
        y = self.base(x) + self.dendrite_term(x)  # (..., o)
        cand = self._candidate_out
        self._candidate_out = None
        if cand is not None and y.requires_grad:
            slot: list[Tensor] = []
            self._records.append((cand, slot))
            y.register_hook(lambda g, slot=slot: slot.append(g.detach()))
        return y

    # ---------------------------------------------------------------- correlation signals
    @property
    def n_records(self) -> int:
        """Forward calls whose candidate output is held, waiting for ``pop_records``."""
        return len(self._records)

    def pop_records(self) -> tuple[Tensor, Tensor] | None:
        """Candidate outputs and output errors of the recorded forward calls, then forget them.

        Returns
        -------
        (o, e) or None
            ``o`` (samples, out_features): candidate outputs (with graph to the candidates);
            ``e`` (samples, out_features): ``dL/dy`` captured by the backward hook. Forward
            calls whose output never received a gradient are dropped. ``None`` if nothing usable.
        """
        pairs = [(o, slot[0]) for o, slot in self._records if slot]
        self._records.clear()
        if not pairs:
            return None
        n = self.out_features
        o = torch.cat([p[0].reshape(-1, n) for p in pairs])
        e = torch.cat([p[1].reshape(-1, n) for p in pairs])
        return o, e

    def clear_records(self) -> None:
        """Forget recorded candidate outputs and errors."""
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
