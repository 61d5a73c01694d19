"""Intrinsic noise on the Guo 2024 NF-kB model in the END-nSDE paper's style, as an SDEModel.

The END-nSDE paper (Zhang et al. 2025) made its NF-kB ground truth noisy on "IkBa
transcription" and "NF-kB translocation" with two intensities, but the exact SDE is not
public. This module is **our construction** (project choice): chemical-Langevin-style terms
``sigma * sqrt(v)`` on reactions #5, #6 (IkBa transcription) and #10, #12 (NF-kB nuclear
import/export) of the 52-species ODE, with ``sigma = 10**omega``.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from models_bio.heterogeneity import Grid
from models_bio.network import Parameter, ReactionNetwork
from models_bio.nfkb.guo2024 import dose_to_uM, guo2024
from models_bio.nfkb.steady import apply_stimulus, phase1_steady_state
from models_bio.sde import SDEModel

# Default grid of log10 noise intensities (our choice, see guo2024_sde).
OMEGA_GRID: tuple[float, ...] = tuple(float(v) for v in np.round(np.linspace(-3.5, -1.5, 11), 10))


def guo2024_basal_state(network: ReactionNetwork | None = None) -> np.ndarray:
    """Basal (phase-1) steady state of the Guo 2024 model at nominal parameters.

    Parameters
    ----------
    network : ReactionNetwork, optional
        A ``guo2024`` network (its nominal parameters are used); default ``guo2024()``.

    Returns
    -------
    ndarray
        (species,) state in uM, ligands 0. Computed once per distinct parameter set with
        scipy BDF (rtol 1e-8, atol 1e-12, the source's chunk rule) and cached.
    """
    net = guo2024(heterogeneity="none") if network is None else network
    key = tuple(p.value for p in net.parameters)
    return np.array(_basal_cached(key), dtype=float)


@functools.lru_cache(maxsize=8)
def _basal_cached(values: tuple[float, ...]) -> tuple[float, ...]:
    net = guo2024(heterogeneity="none")
    p = np.asarray(values, dtype=float)[None, :]  # (1, parameter)
    return tuple(phase1_steady_state(net, p)[0])


def guo2024_sde(
    *,
    dose: float = 100.0,
    dose_units: str = "ng/mL",
    omega_grid: tuple[float, ...] | None = None,
    cell_params: tuple[str, ...] = (),
) -> SDEModel:
    """TNF-stimulated Guo 2024 NF-kB model with two intrinsic-noise intensities (Itô SDE).

    State ``x`` (cell, 52) in uM, time in min, per-cell ``theta = (omega_ikba, omega_nfkb)``
    (log10 exponents), ``sigma_k = 10**omega_k``. With ``v_j(x)`` the rate of reaction #j
    of :func:`~models_bio.nfkb.guo2024.guo2024` (uM/min) and ``x+ = max(x, 0)``::

        dx = f(x+) dt + G(x+) dW,    W = (W1, W2) independent Brownian motions (sqrt(min))
        G[IkBat, 0] = sigma_1 * sqrt(v5 + v6)                 IkBa transcription #5, #6
        G[NFkB,  1] = -sigma_2 * sqrt(v10 + p12n2**2 * v12)    NF-kB import #10 / export #12
        G[NFkBn, 1] = +sigma_2 * p10n2 * sqrt(v10 + p12n2**2 * v12)

    and every other entry 0; ``f`` is the ODE drift ``v @ S``. Channel 1 is exactly (in law)
    the sum of independent terms ``sigma_1 sqrt(v_j) dW_j`` on #5 and #6, which share a
    stoichiometry. Channel 2 is exactly the sum of ``sigma_2 sqrt(v10)`` along import's
    stoichiometry (NFkB -1, NFkBn +p10n2) and ``sigma_2 sqrt(v12)`` along export's
    (NFkBn -1, NFkB +p12n2), because the source ties ``p12n2 = 1/p10n2`` so the two vectors
    are collinear. Molecules are conserved: ``G[NFkB] + G[NFkBn]/p10n2 = 0``. At
    ``sigma = 1/sqrt(6.02e5)`` (omega about -2.9) these are the chemical Langevin terms of a
    1 pL cell. Rates are evaluated at ``x+`` because the Hill term of #6 has a non-integer
    exponent; Euler-Maruyama can still step below 0 (mostly IkBat, about one molecule
    basally), and solvers may clip. The drift is stiff (C1 inactivation p63 = 320 /min):
    explicit Euler-Maruyama needs ``dt`` <= about 0.005 min.

    ``initial`` is the basal steady state (phase 1 of the source's protocol, nominal
    parameters, computed once with scipy and cached) with TNF set to ``dose``: END-nSDE
    hard-coded TNF = 0.019230769 uM = 100 ng/mL / 5200. Default heterogeneity: an
    ``omega_grid`` x ``omega_grid`` grid (121 groups, like the paper's 121 files); the default
    ``linspace(-3.5, -1.5, 11)`` is our choice (the paper's range is not public; its figure
    quotes values such as 10^-0.49). Measured with Euler-Maruyama (dt 0.005 min, both omegas
    equal, 6 cells), the standard deviation of total nuclear NF-kB over 0-120 min is
    <= 0.001 uM at omega = -3.5, 0.002-0.005 at -3 (near the 1 pL chemical-Langevin level),
    0.01-0.05 at -2 and about 0.1 (CV about 100 %) at -1.5; at omega >= -1 the
    oscillation is destroyed, hence the upper end.

    Parameters
    ----------
    dose : float
        TNF dose in ``dose_units`` (default 100 ng/mL).
    dose_units : str
        See :func:`models_bio.nfkb.guo2024.dose_units`.
    omega_grid : tuple of float, optional
        Values of each omega on the grid; default :data:`OMEGA_GRID`.
    cell_params : tuple of str
        Kinetic parameters of :func:`~models_bio.nfkb.guo2024.guo2024` that vary from cell to
        cell (e.g. the free parameters of a calibrated population): they follow the two
        omegas in ``theta`` (model units) and replace the nominal values in the drift. The
        noisy rates' own constants (``p5``, ``p6``, ``p6n2``, ``p6n3``, ``p10``, ``p12``,
        ``p10n2``, ``p12n2``) stay nominal and cannot be listed. Give such cells their own
        basal states as ``x0`` (``initial`` is the nominal cell's).

    Returns
    -------
    SDEModel
        ``name="guo2024_sde"``, parameters ``omega_ikba``, ``omega_nfkb`` and then
        ``cell_params``, ``noise_type="general"``, ``n_brownian=2``; diffusion shape
        (cell, 52, 2).

    References
    ----------
    Zhang, Li, Guo, You, Böttcher, Mogilner, Hoffmann, Chou, Xia. Reconstructing noisy gene
    regulation dynamics using extrinsic-noise-driven neural stochastic differential
    equations. PLOS Comput Biol 21(9):e1013462 (2025), arXiv:2503.09007.
    Guo X et al. (2025), PMC12218168 (the 52-species model; see ``guo2024``).
    Gillespie DT. The chemical Langevin equation. J Chem Phys 113:297 (2000).
    """
    tnf = dose_to_uM("TNF", dose, dose_units)
    net = guo2024(ligand="TNF", dose=tnf, dose_units="uM", heterogeneity="none")
    kin = net.kinetics
    sp = net.species_names
    p_np = kin.parameter_vector()  # (1, parameter)
    cell_params = tuple(str(c) for c in cell_params)
    fixed = {"p5", "p6", "p6n2", "p6n3", "p10", "p12", "p10n2", "p12n2"}
    unknown = [c for c in cell_params if c not in net.parameter_names]
    if unknown or fixed & set(cell_params) or len(set(cell_params)) != len(cell_params):
        raise ValueError(
            f"cell_params must be distinct guo2024 parameters other than the noisy rates' "
            f"constants {sorted(fixed)}; got {list(cell_params)} (unknown: {unknown})"
        )
    cols = [net.parameter_names.index(c) for c in cell_params]
    s_np = np.asarray(kin.stoichiometry(p_np))[0]  # (reaction, species)
    nominal = net.nominal
    x0 = apply_stimulus(net, guo2024_basal_state(net)[None, :])[0]  # (species,)
    i_t, i_c, i_n = sp.index("IkBat"), sp.index("NFkB"), sp.index("NFkBn")
    i_cas = sp.index("NFkBn_cas2")
    vol_in, vol_out = nominal["p10n2"], nominal["p12n2"]
    q = {k: nominal[k] for k in ("p5", "p6", "p6n2", "p6n3", "p10", "p12")}
    k_hill = q["p6n3"] ** q["p6n2"]

    def _rates(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        p = torch.as_tensor(p_np, dtype=x.dtype, device=x.device).expand(x.shape[0], -1)
        if cols:  # this cell's kinetic parameters replace the nominal ones
            p = p.clone()
            p[:, cols] = theta[:, 2:].to(x.dtype)
        return kin.rates(x.clamp(min=0), p)  # (cell, reaction)

    def drift(t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        s = torch.as_tensor(s_np, dtype=x.dtype, device=x.device)
        return _rates(x, theta) @ s  # (cell, species)

    def diffusion(t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        # only the four noisy rates (uM/min), as in reactions #5, #6, #10, #12, at x+ >= 0
        xp = x.clamp(min=0)
        c = xp[..., i_cas] ** q["p6n2"]
        v_tx = q["p5"] + q["p6"] * c / (c + k_hill)  # v5 + v6, (cell,)
        v_tr = q["p10"] * xp[..., i_c] + vol_out**2 * q["p12"] * xp[..., i_n]  # (cell,)
        sigma = torch.pow(10.0, theta[..., :2])  # (cell, 2)
        s1 = sigma[..., 0] * torch.sqrt(v_tx)  # (cell,)
        s2 = sigma[..., 1] * torch.sqrt(v_tr)  # (cell,)
        g = x.new_zeros((*x.shape, 2))  # (cell, species, brownian)
        g[..., i_t, 0] = s1
        g[..., i_c, 1] = -s2
        g[..., i_n, 1] = vol_in * s2
        return g

    grid = Grid(OMEGA_GRID if omega_grid is None else tuple(omega_grid))
    return SDEModel(
        name="guo2024_sde",
        species=sp,
        parameters=(
            Parameter("omega_ikba", -2.5, "", "log10 noise intensity of IkBa transcription"),
            Parameter("omega_nfkb", -2.5, "", "log10 noise intensity of NF-kB translocation"),
            *(net.parameters[j] for j in cols),
        ),
        drift_fn=drift,
        diffusion_fn=diffusion,
        noise_type="general",
        n_brownian=2,
        initial=tuple(float(v) for v in x0),
        time_units="min",
        heterogeneity={"omega_ikba": grid, "omega_nfkb": grid},
        constants={"TNF_uM": tnf, "p10n2": vol_in, "p12n2": vol_out},
        description=guo2024_sde.__doc__ or "",
    )
