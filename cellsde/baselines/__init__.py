"""Baselines for END-nSDE, trained and scored exactly like it (any :class:`PopulationModel`).

Public names::

    RecurrentBaseline(RecurrentConfig(species, params, cell="lstm" | "rnn", ...))
    NeuralODE(NeuralODEConfig(species, params, ...))
    MechanisticSDE(sde_model)              a true SDE as a population model (floors, checks)
    standardize(model, train)              set input standardisation from training data

The paper's teacher-forced protocol is :func:`cellsde.evaluation.teacher_forced_w2`.
"""

from cellsde.baselines.neural_ode import NeuralODE, NeuralODEConfig
from cellsde.baselines.recurrent import RecurrentBaseline, RecurrentConfig
from cellsde.nn.mechanistic import MechanisticConfig, MechanisticSDE
from cellsde.nn.standardized import standardize

__all__ = [
    "MechanisticConfig",
    "MechanisticSDE",
    "NeuralODE",
    "NeuralODEConfig",
    "RecurrentBaseline",
    "RecurrentConfig",
    "standardize",
]
