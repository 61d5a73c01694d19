"""Peak-memory estimates: the arithmetic, and the refusal that names the fix.

The per-step count was checked against the measured peak resident memory of one fit epoch
(damped oscillator, 25 groups x 20 cells, 11 times on [0, 1], hidden (100, 100)):
estimate 1584 MiB vs measured 1138-1519 MiB at dt 1e-3; hidden (32, 32): 546 vs 488 MiB;
checkpointed segments, 40 cells, dt 2e-4: 1590 vs 1918 MiB.
"""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.datasets import from_arrays
from cellsde.errors import CellsdeError
from cellsde.nn.endnsde import ENDnSDE, ENDnSDEConfig
from cellsde.nn.memory import (
    MemoryEstimate,
    check_memory,
    euler_steps,
    format_bytes,
    population_estimate,
    rollout_estimate,
    simulation_estimate,
)


def _model(hidden=(8, 8)):
    return ENDnSDE(ENDnSDEConfig(species=("a", "b"), params=("k",), hidden=hidden,
                                 noise="diagonal"))  # fmt: skip


def test_euler_steps_match_the_rollout_rule():
    assert euler_steps([0.0, 1.0, 3.0], 0.5) == 2 + 4
    assert euler_steps([0.0, 480.0], 1e-3) == 480_000
    assert euler_steps([0.0], 0.1) == 0


def test_rollout_estimate_counts_layers_steps_and_paths():
    model = _model()
    # linear layers: drift 3->8, 8->8, 8->2; diffusion 3->8, 8->8, 8->2: in + out = 2 * (11 + 16 + 10)
    per_step = 2 * (11 + 16 + 10) + 2 * (6 + 1)
    est = rollout_estimate(model, times=[0.0, 1.0], dt=0.1, paths=50, what="fit", fix="x")
    assert est.bytes == pytest.approx(10 * 50 * per_step * 4 + 50 * 2 * 2 * 4)
    light = rollout_estimate(model, times=[0.0, 1.0], dt=0.1, paths=50, what="fit", fix="x",
                             grad=False)  # fmt: skip
    assert light.bytes < est.bytes / 5


def test_population_estimate_uses_groups_and_cells():
    x = np.zeros((6, 3, 2))
    ds = from_arrays(x, times=[0.0, 1.0, 2.0], species=["a", "b"], group=[0, 0, 0, 1, 1, 2],
                     theta=np.ones((6, 1)), params=["k"], time_units="dimensionless")  # fmt: skip
    est = population_estimate(_model(), ds, dt=0.5, n_paths=None, what="fit", fix="x")
    assert "3 paths" not in est.detail and "9 paths" in est.detail  # 3 groups x largest group 3


def test_the_lab_day_mistake_is_refused_naming_dt():
    """A step of 1e-3 over 480 minutes for 60 cells: hundreds of GB, refused with the option."""
    x = np.zeros((60, 97, 1))
    ds = from_arrays(x, times=np.linspace(0, 480, 97), species=["n"], time_units="min")
    model = ENDnSDE(ENDnSDEConfig(species=("n",), hidden=(100, 100), time_units="min"))
    est = population_estimate(model, ds, dt=1e-3, n_paths=None, what="fit", fix="raise dt")
    assert est.bytes > 50 * 2**30
    with pytest.raises(CellsdeError, match=r"fit would need about .* GiB .* raise dt"):
        check_memory(est, available=16 * 2**30)
    assert check_memory(est, available=est.bytes * 2) is est


def test_simulation_estimate_and_format():
    est = simulation_estimate(cells=1000, times=101, species=52, fix="fewer cells")
    assert est.bytes == 3 * 1000 * 101 * 52 * 8
    assert format_bytes(1.5 * 2**30) == "1.5 GiB"
    assert format_bytes(12) == "12 B"
    assert "estimated peak memory" in MemoryEstimate(1.0, "fit", "d", "f").line()


def test_calibration_estimate_counts_the_adjoint_record_and_the_costs() -> None:
    from cellsde.nn.memory import calibration_estimate

    est = calibration_estimate(cells=[100, 100], measured=[50, 60], frames=10, species=4, free=2)
    record = 200 * 4 * 4 * 8 * 10  # cells x species x (stages + 1) x steps per frame x frames
    costs = 10 * (100 * 50 + 100 * 60)
    jac = 200 * 10 * 2 * 2
    assert est.bytes == 8.0 * (record + costs + jac)
    assert est.what == "calibrate" and "--cells" in est.fix
