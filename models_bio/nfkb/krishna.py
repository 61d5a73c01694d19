"""Krishna-Jensen-Sneppen 2006 minimal NF-kB oscillator: reduced (3-variable) and full forms."""

from __future__ import annotations

from collections.abc import Sequence

from models_bio.heterogeneity import Distribution, Grid, LogNormal
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species

_REDUCED_PARAMS = (
    ("A", 0.007, "", "NF-kB import, A = kNin*epsilon/gamma_m"),
    ("B", 954.5, "", "IkB-driven NF-kB export, B = kIin*I0/(gamma_m*Ntot)"),
    ("C", 0.035, "", "IKK-driven IkB degradation (stimulus), C = alpha*Ntot/(gamma_m*I0)"),
    ("delta", 0.029, "", "export saturation, delta = KN/Ntot"),
    ("epsilon", 2e-5, "", "complex saturation, epsilon = KI/I0"),
)

# (name, reactants, products, rate law, meaning)
_REDUCED_REACTIONS = (
    ("nfkb_import", {}, {"n": 1}, "A*(1 - n)/(epsilon + i)", "free NF-kB enters the nucleus"),
    ("nfkb_export", {"n": 1}, {}, "B*i*n/(delta + n)", "IkB carries NF-kB out"),
    ("transcription", {}, {"m": 1}, "n**2", "IkB mRNA made by nuclear NF-kB"),
    ("mrna_decay", {"m": 1}, {}, "m", "IkB mRNA decay"),
    ("translation", {}, {"i": 1}, "m", "IkB protein made"),
    ("ikk_degradation", {"i": 1}, {}, "C*(1 - n)*i/(epsilon + i)", "IKK degrades bound IkB"),
)

_FULL_PARAMS = (
    ("kNin", 5.4, "1/min", "NF-kB nuclear import"),
    ("kIin", 0.018, "1/min", "IkB nuclear import"),
    ("kIout", 0.012, "1/min", "IkB nuclear export"),
    ("kNIout", 0.83, "1/min", "NF-kB:IkB complex export"),
    ("kt", 1.03, "1/(uM*min)", "IkB transcription (proportional to Nn^2)"),
    ("ktl", 0.24, "1/min", "IkB translation"),
    ("kf", 30.0, "1/(uM*min)", "complex formation (cytoplasm)"),
    ("kfn", 30.0, "1/(uM*min)", "complex formation (nucleus)"),
    ("kb", 0.03, "1/min", "complex dissociation (cytoplasm)"),
    ("kbn", 0.03, "1/min", "complex dissociation (nucleus)"),
    ("gamma_m", 0.017, "1/min", "IkB mRNA decay"),
    ("kIKK", 1.05, "1/(uM*min)", "IKK-mediated IkB degradation per uM IKK: alpha = kIKK*IKK"),
    ("IKK", 0.5, "uM", "active IKK (the stimulus)"),
    ("Ntot", 1.0, "uM", "total NF-kB, all initially in the cytoplasmic complex NI"),
)

_FULL_REACTIONS = (
    ("nfkb_import", {"N": 1}, {"Nn": 1}, "kNin*N", "NF-kB nuclear import"),
    ("nuc_binding", {"Nn": 1, "In": 1}, {"NIn": 1}, "kfn*Nn*In", "complex formation (nucleus)"),
    ("nuc_unbinding", {"NIn": 1}, {"Nn": 1, "In": 1}, "kbn*NIn", "dissociation (nucleus)"),
    ("transcription", {}, {"Im": 1}, "kt*Nn**2", "IkB mRNA made by nuclear NF-kB (modifier)"),
    ("mrna_decay", {"Im": 1}, {}, "gamma_m*Im", "IkB mRNA decay"),
    ("translation", {}, {"I": 1}, "ktl*Im", "IkB protein made (mRNA a modifier)"),
    ("cyt_binding", {"N": 1, "I": 1}, {"NI": 1}, "kf*N*I", "complex formation (cytoplasm)"),
    ("cyt_unbinding", {"NI": 1}, {"N": 1, "I": 1}, "kb*NI", "dissociation (cytoplasm)"),
    ("ikk_degradation", {"NI": 1}, {"N": 1}, "kIKK*IKK*NI", "IKK degrades IkB in the complex"),
    ("ikb_import", {"I": 1}, {"In": 1}, "kIin*I", "IkB nuclear import"),
    ("ikb_export", {"In": 1}, {"I": 1}, "kIout*In", "IkB nuclear export"),
    ("complex_export", {"NIn": 1}, {"NI": 1}, "kNIout*NIn", "complex nuclear export"),
)


def krishna2006(
    *,
    form: str = "reduced",
    heterogeneity: str = "default",
    sigma: float = 0.25,
    stimulus_levels: Sequence[float] | None = None,
) -> ReactionNetwork:
    """The Krishna-Jensen-Sneppen 2006 minimal NF-kB oscillator.

    ``form="reduced"`` (the paper's main model), dimensionless time ``t' = gamma_m t``
    (``gamma_m`` = 0.017 /min, so one unit = 58.8 min) and state (n, m, i) = nuclear NF-kB
    / Ntot, scaled IkB mRNA, scaled IkB protein::

        dn/dt' = A (1 - n)/(epsilon + i) - B i n/(delta + n)
        dm/dt' = n**2 - m
        di/dt' = m - C (1 - n) i/(epsilon + i)

    standard "spiky" set A = 0.007, B = 954.5, C = 0.035, delta = 0.029, epsilon = 2e-5
    (period 2.0811 = 122.4 min). Start (n, m, i) = (0, 0, 0); the limit cycle does not
    depend on it. epsilon is tiny: use a stiff solver.

    ``form="full"`` is the 7-variable model in uM and min (Nn, Im, I, N, NI, In, NIn) with
    the IKK level a parameter (``alpha = kIKK * IKK``, kIKK = 1.05 /uM/min, IKK = 0.5 uM,
    period about 155 min) and all ``Ntot`` = 1 uM of NF-kB starting in the cytoplasmic
    complex NI.

    Parameters
    ----------
    form : {"reduced", "full"}
        Which model.
    heterogeneity : {"default", "none"}
        ``"default"`` (project choice): log-normal factors with ``sigma`` on A, B and delta
        (reduced) or on their rate constants kNin, kIin and ktl (full; delta has no
        counterpart there).
    sigma : float
        Log-scale standard deviation of the default heterogeneity (0.2-0.3 suggested).
    stimulus_levels : sequence of float, optional
        Per-cell stimulus as groups: a :class:`~models_bio.heterogeneity.Grid` on C (reduced;
        C in [0.01, 0.1] oscillates, C >= 0.2 is steady) or on IKK in uM (full).

    Returns
    -------
    ReactionNetwork
        ``name="krishna2006"``; observable ``nfkb_nuclear`` (n, or Nn in uM).

    References
    ----------
    Krishna S, Jensen MH, Sneppen K. Minimal model of spiky oscillations in NF-kB
    signaling. PNAS 103:10840-10845 (2006). doi:10.1073/pnas.0604085103.
    """
    if form not in ("reduced", "full"):
        raise ValueError(f"form must be 'reduced' or 'full', got {form!r}")
    if heterogeneity not in ("default", "none"):
        raise ValueError(f"heterogeneity must be 'default' or 'none', got {heterogeneity!r}")
    reduced = form == "reduced"
    het: dict[str, Distribution] = {}
    if heterogeneity == "default":
        for name in ("A", "B", "delta") if reduced else ("kNin", "kIin", "ktl"):
            het[name] = LogNormal(sigma=sigma)
    if stimulus_levels is not None:
        het["C" if reduced else "IKK"] = Grid(tuple(stimulus_levels))
    if reduced:
        species = tuple(Species(s, 0.0, "") for s in ("n", "m", "i"))
        params, rows, units, obs = _REDUCED_PARAMS, _REDUCED_REACTIONS, "dimensionless", "n"
    else:
        init = {"NI": "Ntot"}
        names = ("Nn", "Im", "I", "N", "NI", "In", "NIn")
        species = tuple(Species(s, init.get(s, 0.0), "uM") for s in names)
        params, rows, units, obs = _FULL_PARAMS, _FULL_REACTIONS, "min", "Nn"
    return ReactionNetwork(
        name="krishna2006",
        species=species,
        parameters=tuple(Parameter(*p) for p in params),
        reactions=tuple(Reaction(n, r, p, law, description=d) for n, r, p, law, d in rows),
        time_units=units,
        observables={"nfkb_nuclear": {obs: 1.0}},
        heterogeneity=het,
        description=krishna2006.__doc__ or "",
    )
