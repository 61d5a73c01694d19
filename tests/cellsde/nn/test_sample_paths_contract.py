"""Every population model keeps the one sample_paths contract of PopulationModel."""

import pytest
import torch

import models_bio as mb
from cellsde.baselines import NeuralODE, NeuralODEConfig, RecurrentBaseline, RecurrentConfig
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.nn.mechanistic import MechanisticSDE

SP, PA = ("x1", "x2"), ("omega1", "omega2")
MODELS = {
    "endnsde": lambda: ENDnSDE(ENDnSDEConfig(SP, PA, hidden=(4,)), seed=0),
    "mechanistic": lambda: MechanisticSDE(mb.damped_oscillator()),
    "neural_ode": lambda: NeuralODE(NeuralODEConfig(SP, PA, hidden=(4,)), seed=0),
    "recurrent": lambda: RecurrentBaseline(RecurrentConfig(SP, PA, hidden=4, head=(4,)), seed=0),
}


def draw(model, x0, theta, times, dt=0.1):
    return model.sample_paths(x0, theta, times, dt=dt, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_paths_have_the_contract_shape_and_start_at_x0(name):
    model = MODELS[name]()
    x0, theta = torch.randn(5, 2), torch.zeros(5, 2)
    with torch.no_grad():
        paths = draw(model, x0, theta, torch.linspace(0, 1, 4))
    assert paths.shape == (5, 4, 2) and torch.equal(paths[:, 0], x0)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize(
    "x0, theta, times, dt, match",
    [
        (torch.zeros(5, 3), torch.zeros(5, 2), torch.linspace(0, 1, 3), 0.1, r"x0 must have shape \(path, 2\)"),
        (torch.zeros(5), torch.zeros(5, 2), torch.linspace(0, 1, 3), 0.1, "x0 must have shape"),
        (torch.zeros(5, 2), torch.zeros(4, 2), torch.linspace(0, 1, 3), 0.1, "theta must have shape"),
        (torch.zeros(5, 2), torch.zeros(5, 1), torch.linspace(0, 1, 3), 0.1, r"\['omega1', 'omega2'\]"),
        (torch.zeros(5, 2), torch.zeros(5, 2), torch.zeros(2, 2), 0.1, "times must be a 1-D"),
        (torch.zeros(5, 2), torch.zeros(5, 2), torch.linspace(0, 1, 3), 0.0, "dt must be > 0"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(name, x0, theta, times, dt, match):
    with pytest.raises(ValueError, match=match):
        draw(MODELS[name](), x0, theta, times, dt)
