"""models_bio: what biological systems are — definitions, parameters with units, references.

Models are frozen dataclasses; methods that simulate them live in ``cellsde``.
"""

from models_bio.circadian import damped_oscillator, vilar2002
from models_bio.distrib import Draw
from models_bio.event import Event
from models_bio.expressions import Expression, ExpressionError
from models_bio.heterogeneity import Distribution, Grid, LogitNormal, LogNormal, LogUniform, Uniform
from models_bio.kinetics import Kinetics
from models_bio.network import Parameter, Reaction, ReactionNetwork, Species
from models_bio.nfkb.guo2024 import dose_to_uM, guo2024
from models_bio.nfkb.krishna import krishna2006
from models_bio.nfkb.noise import guo2024_basal_state, guo2024_sde
from models_bio.nfkb.steady import phase1_steady_state
from models_bio.registry import available, get
from models_bio.sbml import read_sbml, sbml_variables
from models_bio.sde import SDEModel, SDEProtocol

__all__ = [
    "Distribution",
    "Draw",
    "Event",
    "Expression",
    "ExpressionError",
    "Grid",
    "Kinetics",
    "LogNormal",
    "LogUniform",
    "LogitNormal",
    "Parameter",
    "Reaction",
    "ReactionNetwork",
    "SDEModel",
    "SDEProtocol",
    "Species",
    "Uniform",
    "available",
    "damped_oscillator",
    "dose_to_uM",
    "get",
    "guo2024",
    "guo2024_basal_state",
    "guo2024_sde",
    "krishna2006",
    "phase1_steady_state",
    "read_sbml",
    "sbml_variables",
    "vilar2002",
]
