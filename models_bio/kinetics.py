"""Compiled, vectorised kinetics of a :class:`~models_bio.network.ReactionNetwork`.

Solvers never interpret rate-law strings: they call the functions here, which evaluate every
reaction for a whole batch of cells at once, on numpy arrays or torch tensors.

Shapes: ``x`` is (cell, species), ``p`` is (cell, parameter) — the full parameter vector of
each cell in ``network.parameter_names`` order — and ``t`` a scalar time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from models_bio.expressions import compile_program, namespace

if TYPE_CHECKING:
    from models_bio.network import ReactionNetwork


class Kinetics:
    """Vectorised rate laws, stoichiometry and drift of a reaction network.

    Parameters
    ----------
    network : ReactionNetwork
        The model to compile.
    """

    def __init__(self, network: ReactionNetwork) -> None:
        self.network = network
        sp, pn = network.species_names, network.parameter_names
        self.n_species, self.n_params, self.n_reactions = len(sp), len(pn), len(network.reactions)
        inputs = {s: f"_x_[..., {i}]" for i, s in enumerate(sp)}
        inputs.update({q: f"_p_[..., {i}]" for i, q in enumerate(pn)})
        inputs["time"] = "_t_"
        self._inputs = inputs
        rules = network.assignment_rules
        self._rates = compile_program(
            [r.law for r in network.reactions], inputs=inputs, assignments=rules
        )
        rr = [network.rate_rules.get(s, "0") for s in sp]
        self.has_rate_rules = bool(network.rate_rules)
        self._rate_rules = compile_program(rr, inputs=inputs, assignments=rules)
        self._rules = compile_program([e for _, e in rules], inputs=inputs, assignments=rules)
        self._ns = {"numpy": namespace("numpy"), "torch": namespace("torch")}
        self.volumes = np.array([s.volume for s in network.species], dtype=float)  # (species,)
        self.boundary = np.array([s.boundary for s in network.species], dtype=bool)
        # Stoichiometry: constant part (reaction, species) plus parameter-valued entries.
        self._stoich_const = np.zeros((self.n_reactions, self.n_species))
        self._stoich_param: list[
            tuple[int, int, int, float]
        ] = []  # (reaction, species, param, sign)
        self._reactant_order: list[list[tuple[int, float]]] = []
        for j, r in enumerate(network.reactions):
            for side, sign in ((r.reactants, -1.0), (r.products, 1.0)):
                for s, c in side.items():
                    i = sp.index(s)
                    if self.boundary[i]:
                        continue
                    if isinstance(c, str):
                        self._stoich_param.append((j, i, pn.index(c), sign))
                    else:
                        self._stoich_const[j, i] += sign * float(c)
            self._reactant_order.append([(sp.index(s), c) for s, c in r.reactants.items()])
        self.mass_action = np.array([r.mass_action for r in network.reactions], dtype=bool)

    # -- helpers -----------------------------------------------------------------------
    def _backend(self, x: Any) -> str:
        return "numpy" if isinstance(x, np.ndarray) else "torch"

    @property
    def stoichiometry_is_constant(self) -> bool:
        """True when no coefficient is a parameter (the net change is the same in every cell)."""
        return not self._stoich_param

    @property
    def stoichiometry_is_integer(self) -> bool:
        """True when every coefficient is a whole number (a requirement of SSA/tau-leaping)."""
        return self.stoichiometry_is_constant and bool(
            np.all(self._stoich_const == np.round(self._stoich_const))
        )

    def parameter_vector(
        self, overrides: dict[str, np.ndarray] | None = None, n: int = 1
    ) -> np.ndarray:
        """Full per-cell parameter matrix, shape (n, parameter), nominal values unless overridden."""
        p = np.tile(np.array([q.value for q in self.network.parameters], dtype=float), (n, 1))
        for name, values in (overrides or {}).items():
            p[:, self.network.parameter_names.index(name)] = values
        return p

    def initial_state(self, p: np.ndarray) -> np.ndarray:
        """Initial state per cell, shape (cell, species), from ``p`` (cell, parameter)."""
        pn = self.network.parameter_names
        x0 = np.zeros((p.shape[0], self.n_species))
        for i, s in enumerate(self.network.species):
            x0[:, i] = p[:, pn.index(s.initial)] if isinstance(s.initial, str) else float(s.initial)
        return x0

    # -- evaluation --------------------------------------------------------------------
    def rates(self, x: Any, p: Any, t: float = 0.0) -> Any:
        """Deterministic reaction rates ``v``, shape (cell, reaction)."""
        return self._rates(x, p, t, self._ns[self._backend(x)])

    def rule_values(self, x: Any, p: Any, t: float = 0.0) -> Any:
        """Values of the assignment-rule variables, shape (cell, rule)."""
        return self._rules(x, p, t, self._ns[self._backend(x)])

    def stoichiometry(self, p: Any) -> Any:
        """Net change per reaction, shape (reaction, species) or (cell, reaction, species).

        The per-cell form is returned only when a coefficient is a parameter.
        """
        if self.stoichiometry_is_constant:
            if isinstance(p, np.ndarray):
                return self._stoich_const
            import torch

            return torch.as_tensor(self._stoich_const, dtype=p.dtype, device=p.device)
        if isinstance(p, np.ndarray):
            s = np.broadcast_to(self._stoich_const, (p.shape[0], *self._stoich_const.shape)).copy()
        else:
            import torch

            base = torch.as_tensor(self._stoich_const, dtype=p.dtype, device=p.device)
            s = base.expand(p.shape[0], *base.shape).clone()
        for j, i, k, sign in self._stoich_param:
            s[:, j, i] = s[:, j, i] + sign * p[:, k]
        return s

    def drift(self, x: Any, p: Any, t: float = 0.0) -> Any:
        """ODE right-hand side ``dx/dt``, shape (cell, species)."""
        v = self.rates(x, p, t)  # (cell, reaction)
        s = self.stoichiometry(p)
        if s.ndim == 2:
            f = v @ s
        elif isinstance(x, np.ndarray):
            f = np.einsum("cr,crs->cs", v, s)
        else:
            import torch

            f = torch.einsum("cr,crs->cs", v, s)
        vol = self.volumes if isinstance(x, np.ndarray) else _as_torch(self.volumes, x)
        f = f / vol
        if self.has_rate_rules:
            f = f + self._rate_rules(x, p, t, self._ns[self._backend(x)])
        return f

    def propensities(self, n: Any, p: Any, t: float = 0.0) -> Any:
        """Stochastic propensities from molecule counts ``n`` (cell, species) -> (cell, reaction).

        Mass-action reactions use falling factorials ``n (n-1) ... / Omega^(order-1)`` on counts
        (no division by ``c!``, so the large-number limit equals the deterministic law);
        other rate laws are ``Omega * volume * v(x)`` evaluated at ``x = n / (Omega volume)``.
        """
        omega = self.network.system_size
        numpy = isinstance(n, np.ndarray)
        vol = self.volumes if numpy else _as_torch(self.volumes, n)
        scale = omega * vol  # (species,)
        x = n / scale
        v = self.rates(x, p, t)  # deterministic rates, (cell, reaction)
        if not self.mass_action.any():
            return v * omega
        cols = []
        for j, r in enumerate(self.network.reactions):
            if not r.mass_action:
                cols.append(v[..., j] * omega)
                continue
            k = p[..., self.network.parameter_names.index(r.rate)]
            a = k * omega
            for i, c in self._reactant_order[j]:
                for m in range(int(c)):
                    a = a * (n[..., i] - m) / scale[i]
            cols.append(a)
        if numpy:
            return np.stack(cols, -1).clip(min=0)
        import torch

        return torch.stack(cols, -1).clamp(min=0)

    def count_scale(self) -> np.ndarray:
        """Molecules per unit state value, per species: ``system_size * volume``, shape (species,)."""
        return self.network.system_size * self.volumes


def _as_torch(a: np.ndarray, like: Any) -> Any:
    import torch

    return torch.as_tensor(a, dtype=like.dtype, device=like.device)
