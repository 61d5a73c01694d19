"""Guo et al. 2024 macrophage NF-kB model: 52 species, 100 reactions, five ligands.

The tables live in :mod:`models_bio.nfkb.guo2024_table`; this module builds the
:class:`~models_bio.network.ReactionNetwork`, converts doses to uM and declares the
extrinsic heterogeneity.
"""

from __future__ import annotations

import math
from types import MappingProxyType

from models_bio.heterogeneity import Distribution, LogitNormal, LogNormal
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species
from models_bio.nfkb.guo2024_table import (
    BOUNDS,
    INITIAL_TOTALS,
    NFKB_TOTAL,
    SPECIES,
    parameter_rows,
    reaction_rows,
)

LIGANDS: tuple[str, ...] = ("TNF", "LPS", "CpG", "Pam3CSK", "polyIC")

# ligand -> (dose unit of the source table, scale): uM = dose / scale
# (stimuli_info.xlsx, sheet Ade_exp_data_2023). The ligand's species has the same name.
DOSE_SCALE = MappingProxyType(
    {
        "TNF": ("ng/mL", 5200.0),
        "LPS": ("ng/mL", 24000.0),
        "CpG": ("nM", 1000.0),
        "Pam3CSK": ("ng/mL", 1500.0),
        "polyIC": ("ng/mL", 5.0e6),
    }
)

# Experimental doses of Adelaja et al. 2021 / Guo et al. 2024, in the table's unit.
EXPERIMENTAL_DOSES = MappingProxyType(
    {
        "TNF": (0.1, 1.0, 10.0),
        "LPS": (1.0, 3.0, 10.0, 33.0, 100.0),
        "CpG": (10.0, 33.0, 100.0, 333.0, 1000.0),
        "Pam3CSK": (10.0, 100.0, 1000.0),
        "polyIC": (10000.0, 33000.0, 100000.0),
    }
)

# Dose used when ``dose`` is None (table unit): a middle experimental dose.
DEFAULT_DOSE = MappingProxyType(
    {"TNF": 10.0, "LPS": 10.0, "CpG": 100.0, "Pam3CSK": 100.0, "polyIC": 33000.0}
)

# Accepted dose units: factor to the table unit. "uM" is accepted for every ligand.
_MASS_UNITS = {"pg/mL": 1e-3, "ng/mL": 1.0, "ug/mL": 1e3, "µg/mL": 1e3}
_MOLAR_UNITS = {"nM": 1.0, "uM": 1e3, "µM": 1e3}

# Molecules per uM in a 1 pL compartment: N_A * 1e-6 mol/L * 1e-12 L.
SYSTEM_SIZE = 6.02214076e23 * 1e-6 * 1e-12

# Heterogeneous parameters (TNF pathway + NF-kB delay chain + total NF-kB).
DEFAULT_HETEROGENEOUS = ("p54", "p58", "p61", "p64", "p65n2", "p99", "p101", "NFkB_total")
LOGITNORMAL_HETEROGENEOUS = (*DEFAULT_HETEROGENEOUS[:4], "p52n2", *DEFAULT_HETEROGENEOUS[4:])
_EXPLICIT_BOUNDS = {k: BOUNDS[k] for k in ("p99", "p101", "NFkB_total")}


def dose_units(ligand: str) -> tuple[str, ...]:
    """Dose units accepted for ``ligand`` (the table's own unit first)."""
    canon = _ligand(ligand)
    own = DOSE_SCALE[canon][0]
    family = _MOLAR_UNITS if own == "nM" else _MASS_UNITS
    return (own, *(u for u in family if u != own), *(("uM", "µM") if own != "nM" else ()))


def dose_to_uM(ligand: str, dose: float, units: str | None = None) -> float:
    """Convert a ligand dose to the model's medium concentration in uM.

    Parameters
    ----------
    ligand : {"TNF", "LPS", "CpG", "Pam3CSK", "polyIC"}
        Ligand (case-insensitive).
    dose : float
        Dose, >= 0.
    units : str, optional
        Dose unit; default the table's unit (ng/mL; nM for CpG). Mass ligands also accept
        pg/mL and ug/mL, CpG accepts uM, and every ligand accepts uM (taken as is).

    Returns
    -------
    float
        Concentration in uM: dose (in the table unit) / scale, e.g. TNF 10 ng/mL ->
        10/5200 = 1.923e-3 uM.

    Raises
    ------
    ValueError
        Unknown ligand or unit, or a negative or non-finite dose.
    """
    canon = _ligand(ligand)
    own, scale = DOSE_SCALE[canon]
    units = own if units is None else units
    accepted = dose_units(canon)
    if units not in accepted:
        raise ValueError(
            f"unknown dose unit {units!r} for {canon}; accepted units: {', '.join(accepted)}"
        )
    dose = float(dose)
    if not (math.isfinite(dose) and dose >= 0):
        raise ValueError(f"dose must be a finite number >= 0, got {dose!r}")
    if units in ("uM", "µM") and own != "nM":
        return dose
    family = _MOLAR_UNITS if own == "nM" else _MASS_UNITS
    return dose * family[units] / scale


def _ligand(ligand: str) -> str:
    for name in LIGANDS:
        if isinstance(ligand, str) and ligand.lower() == name.lower():
            return name
    raise ValueError(f"unknown ligand {ligand!r}; known ligands: {', '.join(LIGANDS)}")


def _heterogeneity(kind: str, nominal: dict[str, float]) -> dict[str, Distribution]:
    if kind == "none":
        return {}
    if kind == "default":
        return {n: LogNormal(sigma=0.3, clip=(0.1, 10.0)) for n in DEFAULT_HETEROGENEOUS}
    if kind == "logitnormal":
        out: dict[str, Distribution] = {}
        for n in LOGITNORMAL_HETEROGENEOUS:
            m = nominal[n]
            lo, hi = _EXPLICIT_BOUNDS.get(n, (0.1 * m, 10.0 * m))
            out[n] = LogitNormal.around(m, lo=lo, hi=hi, sigma=0.5)
        return out
    raise ValueError(f"heterogeneity must be 'default', 'logitnormal' or 'none', got {kind!r}")


def guo2024(
    *,
    ligand: str | None = None,
    dose: float | None = None,
    dose_units: str | None = None,
    heterogeneity: str = "default",
) -> ReactionNetwork:
    """The Guo 2024 macrophage NF-kB signalling model (52 species, uM and min).

    Species are in the source's state-vector order (``stim``, ``IkBa``, ... ``NFkBn_cas2``);
    the 100 reactions are rows #1-#101 of the source's ODE except #7 (``p7*IkBat``, computed
    but used in no equation; ``p7`` is kept as a parameter). Rate laws are expressions;
    nuclear/cytoplasmic transport and ligand consumption carry *volume-scale coefficients*
    that are parameters (``p9n2`` = ``p10n2`` = ``p13n2`` = 3.5, ``p11n2`` = ``p12n2`` =
    ``p14n2`` = 1/3.5, ligand scales 0.001); the source ties the six transport scales, so
    change them together. Initial totals: NF-kB ``NFkB_total`` = 0.08 uM, IKK_off 0.08,
    MyD88_off, TRIF_off, TRAF6_off, TAK1_off 0.1, TTR 0.035 uM; all else 0.

    Two-phase protocol: with a ``ligand``, ``stimulus = {ligand: dose in uM}``, so each cell
    is first brought to its own basal steady state (phase 1, ligand 0; see
    :func:`models_bio.nfkb.steady.phase1_steady_state`), then the ligand is set at t = 0 and
    decays/is consumed freely (phase 2). With ``ligand=None`` the stimulus is empty and a
    simulation starts from the initial totals (i.e. it *is* phase 1).

    Observables: ``nfkb_nuclear`` = NFkBn + IkBaNFkBn (total nuclear NF-kB, what the
    END-nSDE paper and the imaging experiments report), ``nfkbn_free`` = NFkBn, ``ikk`` =
    IKK, ``ikba_mrna`` = IkBat.

    ``system_size`` (molecules per uM, for CLE/SSA) is 6.022e5: one uM in a 1 pL
    compartment (N_A x 1e-6 mol/L x 1e-12 L), the order of a macrophage cytoplasm (BMDM
    volume about 1-2 pL). It puts total NF-kB at about 48,000 molecules and basal IkBa mRNA
    (IkBat, 1.9e-6 uM) at about one molecule. Stochastic counts treat nuclear and medium
    species as if they shared the cytoplasmic volume (the volume scales are kept as
    coefficients), so intrinsic noise on nuclear species is approximate.

    Parameters
    ----------
    ligand : {None, "TNF", "LPS", "CpG", "Pam3CSK", "polyIC"}
        Stimulating ligand (case-insensitive); its species has the same name.
    dose : float, optional
        Dose in ``dose_units``; default :data:`DEFAULT_DOSE` (TNF 10 ng/mL, LPS 10 ng/mL,
        CpG 100 nM, Pam3CSK 100 ng/mL, polyIC 33 ug/mL). Converted by :func:`dose_to_uM`.
    dose_units : str, optional
        See :func:`dose_units`; default the table's unit (ng/mL; nM for CpG).
    heterogeneity : {"default", "logitnormal", "none"}
        ``"default"`` (project choice): log-normal factors, sigma_ln = 0.3, clipped to
        [0.1x, 10x] nominal, on p54, p58, p61, p64, p65n2, p99, p101 and NFkB_total.
        ``"logitnormal"``: the source's scheme (``sample_est_parameters_2024.m``), a
        logit-normal with median = nominal and logit-scale sigma = 0.5 between 0.1x and 10x
        nominal (p99, p101: 0.01-1 /min; NFkB_total: 0.04-0.3 uM) on the same set plus
        p52n2 (inert under TNF). The fitted Monolix sigma/correlations are not public.
        These are the TNF-pathway parameters; other ligands use the same set.

    Returns
    -------
    ReactionNetwork
        ``name="guo2024"``, ``time_units="min"``, state in uM.

    Raises
    ------
    ValueError
        Unknown ligand, heterogeneity or dose unit, negative dose, a dose without a ligand
        or dose units without a dose.

    References
    ----------
    Guo X, Adelaja A, Singh A, Wollman R, Hoffmann A. Modeling heterogeneous signaling
    dynamics of macrophages reveals principles of information transmission in stimulus
    responses. PMC12218168 (2025). Code: github.com/Xiaolu-Guo/NFkB_single_cell_modeling
    (commit d30e4eb, MIT): ``lib/nfkbOde.m``, ``lib/nfkbInitialize.m``,
    ``lib/nfkbSimulate.m``, ``bin/sample_est_parameters_2024.m``.
    Adelaja A, Taylor B, Sheu KM, et al. Six distinct NFkB signaling codons convey
    discrete information to distinguish stimuli and enable appropriate macrophage
    responses. Immunity 54:916 (2021). doi:10.1016/j.immuni.2021.04.011.
    """
    stimulus: dict[str, float] = {}
    if ligand is None:
        if dose is not None or dose_units is not None:
            raise ValueError("dose given without a ligand; pass ligand='TNF' (or another)")
    else:
        canon = _ligand(ligand)
        if dose is None:
            if dose_units is not None:
                raise ValueError("dose_units given without a dose; pass dose= as well")
            dose = DEFAULT_DOSE[canon]  # in the table's unit
        stimulus = {canon: dose_to_uM(canon, dose, dose_units)}
    params = [Parameter(*row, bounds=BOUNDS.get(row[0])) for row in parameter_rows()]
    params.append(Parameter(*NFKB_TOTAL, bounds=BOUNDS["NFkB_total"]))
    het = _heterogeneity(heterogeneity, {p.name: p.value for p in params})
    species = tuple(Species(s, INITIAL_TOTALS.get(s, 0.0), "uM") for s in SPECIES)
    reactions = tuple(
        Reaction(f"r{num}", reac, prod, law, description=meaning)
        for num, reac, prod, law, meaning in reaction_rows()
    )
    return ReactionNetwork(
        name="guo2024",
        species=species,
        parameters=tuple(params),
        reactions=reactions,
        time_units="min",
        observables={
            "nfkb_nuclear": {"NFkBn": 1.0, "IkBaNFkBn": 1.0},
            "nfkbn_free": {"NFkBn": 1.0},
            "ikk": {"IKK": 1.0},
            "ikba_mrna": {"IkBat": 1.0},
        },
        heterogeneity=het,
        system_size=SYSTEM_SIZE,
        stimulus=stimulus,
        description=guo2024.__doc__ or "",
    )
