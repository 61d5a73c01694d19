"""Circadian models: the Vilar 2002 oscillator and the END-nSDE damped oscillator."""

from __future__ import annotations

import torch

from models_bio.heterogeneity import Grid, LogNormal, LogUniform
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species
from models_bio.sde import SDEModel

_VILAR_PARAMS = (
    ("gammaA", 1.0, "1/(molecule h)", "A binds the activator promoter"),
    ("thetaA", 50.0, "1/h", "A unbinds the activator promoter"),
    ("gammaR", 1.0, "1/(molecule h)", "A binds the repressor promoter"),
    ("thetaR", 100.0, "1/h", "A unbinds the repressor promoter"),
    ("alphaA", 50.0, "1/h", "basal activator transcription"),
    ("alphaAp", 500.0, "1/h", "activated activator transcription"),
    ("alphaR", 0.01, "1/h", "basal repressor transcription"),
    ("alphaRp", 50.0, "1/h", "activated repressor transcription"),
    ("betaA", 50.0, "1/h", "activator translation"),
    ("betaR", 5.0, "1/h", "repressor translation"),
    ("gammaC", 2.0, "1/(molecule h)", "A:R complex formation"),
    ("deltaA", 1.0, "1/h", "A degradation (free and in the complex)"),
    ("deltaR", 0.2, "1/h", "R degradation"),
    ("deltaMA", 10.0, "1/h", "activator mRNA degradation"),
    ("deltaMR", 0.5, "1/h", "repressor mRNA degradation"),
)

# (name, reactants, products, rate constant), in the order of models.md section 1.
_VILAR_REACTIONS = (
    ("promoter_A_binding", {"DA": 1, "A": 1}, {"DAp": 1}, "gammaA"),
    ("promoter_A_release", {"DAp": 1}, {"DA": 1, "A": 1}, "thetaA"),
    ("promoter_R_binding", {"DR": 1, "A": 1}, {"DRp": 1}, "gammaR"),
    ("promoter_R_release", {"DRp": 1}, {"DR": 1, "A": 1}, "thetaR"),
    ("transcription_A", {"DA": 1}, {"DA": 1, "MA": 1}, "alphaA"),
    ("transcription_A_active", {"DAp": 1}, {"DAp": 1, "MA": 1}, "alphaAp"),
    ("transcription_R", {"DR": 1}, {"DR": 1, "MR": 1}, "alphaR"),
    ("transcription_R_active", {"DRp": 1}, {"DRp": 1, "MR": 1}, "alphaRp"),
    ("translation_A", {"MA": 1}, {"MA": 1, "A": 1}, "betaA"),
    ("translation_R", {"MR": 1}, {"MR": 1, "R": 1}, "betaR"),
    ("complex_formation", {"A": 1, "R": 1}, {"C": 1}, "gammaC"),
    ("complex_A_degradation", {"C": 1}, {"R": 1}, "deltaA"),
    ("A_degradation", {"A": 1}, {}, "deltaA"),
    ("R_degradation", {"R": 1}, {}, "deltaR"),
    ("MA_degradation", {"MA": 1}, {}, "deltaMA"),
    ("MR_degradation", {"MR": 1}, {}, "deltaMR"),
)


def vilar2002(*, heterogeneity: str = "default") -> ReactionNetwork:
    """The Vilar-Kueh-Barkai-Leibler activator-repressor circadian oscillator.

    9 species (molecule counts in a unit volume), 16 mass-action reactions, time in hours.
    Deterministic period 25.56 h at deltaR = 0.2 /h; the stochastic model keeps oscillating
    at deltaR = 0.05 /h where the ODE has a stable fixed point.

    Parameters
    ----------
    heterogeneity : {"default", "none"}
        ``"default"``: deltaR ~ LogUniform[0.1, 0.3] /h and log-normal factors (sigma 0.15)
        on betaA, betaR, alphaA, alphaAp, alphaRp, deltaMA, deltaMR, gammaC and deltaA.

    References
    ----------
    Vilar JMG, Kueh HY, Barkai N, Leibler S. Mechanisms of noise-resistance in genetic
    oscillators. PNAS 99:5988-5992 (2002). doi:10.1073/pnas.092133899. BioModels
    BIOMD0000000035.
    """
    het: dict = {}
    if heterogeneity == "default":
        het = {"deltaR": LogUniform(0.1, 0.3)}
        for name in (
            "betaA",
            "betaR",
            "alphaA",
            "alphaAp",
            "alphaRp",
            "deltaMA",
            "deltaMR",
            "gammaC",
            "deltaA",
        ):
            het[name] = LogNormal(sigma=0.15)
    elif heterogeneity != "none":
        raise ValueError(f"heterogeneity must be 'default' or 'none', got {heterogeneity!r}")
    initial = {"DA": 1.0, "DR": 1.0}
    return ReactionNetwork(
        name="vilar2002",
        species=tuple(
            Species(s, initial.get(s, 0.0), "molecules")
            for s in ("DA", "DAp", "DR", "DRp", "MA", "MR", "A", "R", "C")
        ),
        parameters=tuple(Parameter(*p) for p in _VILAR_PARAMS),
        reactions=tuple(
            Reaction(name, r, p, k, mass_action=True) for name, r, p, k in _VILAR_REACTIONS
        ),
        time_units="h",
        heterogeneity=het,
        description=vilar2002.__doc__ or "",
    )


def damped_oscillator(
    *,
    k1: float = 0.1,
    k2: float = 0.1,
    a: float = 0.19,
    b: float = 0.21,
    noise_on: str = "x1",
) -> SDEModel:
    """The END-nSDE paper's circadian benchmark: a 2-D damped rotation with state-dependent noise.

    ``dx1 = (-a x1 - b x2) dt + (k1 + k2 w1) sqrt|x1| dW1``,
    ``dx2 = ( b x1 - a x2) dt + (k1 + k2 w2) sqrt|x_n| dW2`` with ``x_n = x1`` as coded by the
    authors (``noise_on="x1"``, the default) or ``x2`` (``noise_on="own"``, each row uses its
    own component). Per-cell parameters ``w = (omega1, omega2)`` on the grid
    {-1, -0.5, 0, 0.5, 1}^2 (25 groups). Initial state (0, 1); dimensionless time.

    References
    ----------
    Zhang, Li, Guo, ..., Chou, Xia. Reconstructing noisy gene regulation dynamics using
    extrinsic-noise-driven neural stochastic differential equations. PLOS Comput Biol
    21(9):e1013462 (2025), arXiv:2503.09007; code JianchengZ/Neural-SDE-GeneDynamics.
    """
    if noise_on not in ("x1", "own"):
        raise ValueError(f"noise_on must be 'x1' or 'own', got {noise_on!r}")

    def drift(t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        x1, x2 = x[..., 0], x[..., 1]
        return torch.stack((-a * x1 - b * x2, b * x1 - a * x2), -1)

    def diffusion(t: float, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        s1 = torch.sqrt(torch.abs(x[..., 0]))
        s2 = s1 if noise_on == "x1" else torch.sqrt(torch.abs(x[..., 1]))
        return torch.stack(((k1 + k2 * theta[..., 0]) * s1, (k1 + k2 * theta[..., 1]) * s2), -1)

    grid = Grid((-1.0, -0.5, 0.0, 0.5, 1.0))
    return SDEModel(
        name="damped_oscillator",
        species=("x1", "x2"),
        parameters=(
            Parameter("omega1", 0.0, "", "noise intensity factor of x1"),
            Parameter("omega2", 0.0, "", "noise intensity factor of x2"),
        ),
        drift_fn=drift,
        diffusion_fn=diffusion,
        noise_type="diagonal",
        initial=(0.0, 1.0),
        time_units="dimensionless",
        heterogeneity={"omega1": grid, "omega2": grid},
        constants={"k1": k1, "k2": k2, "a": a, "b": b},
        description=damped_oscillator.__doc__ or "",
    )
