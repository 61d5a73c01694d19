"""calibrate on synthetic data from a known population: recovery, gradients, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _receptor import CONDITIONS, TRUTH, receptor

from cellsde.calibration import (
    CalibrationConfig,
    FreeParameter,
    ObservationModel,
    calibrate,
    open_population,
    sample_cells,
    write_population,
)
from cellsde.calibration.score import score
from cellsde.errors import CellsdeError, ModelMismatchError

FAST = CalibrationConfig(starts=2, explore_iterations=6, iterations=40, lr=0.1, bootstrap=100,
                         rtol=5e-3, progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def fitted(lab_data):
    return calibrate(receptor(), lab_data.isel(cell=slice(0, 120, 3)), free=["kact", "kb"], conditions=CONDITIONS,
                     observation=ObservationModel("response"), config=FAST)  # fmt: skip


def test_recovers_the_population_median_and_spread(fitted) -> None:
    pop = fitted.population
    median, spread = pop["median"].values, pop["spread"].values
    np.testing.assert_allclose(median, [TRUTH["kact"][0], TRUTH["kb"][0]], rtol=0.25)
    np.testing.assert_allclose(spread, [TRUTH["kact"][1], TRUTH["kb"][1]], atol=0.1)
    lo, hi = pop["median_interval"].values.T
    assert np.all(lo < median) and np.all(median < hi)
    assert pop.attrs["model"] == "receptor_test" and pop.attrs["measured"] == "response"
    losses = fitted.history["loss"].values
    assert losses[-1] < 0.2 * losses[0]


def test_population_file_round_trip_and_score(fitted, lab_data, tmp_path) -> None:
    path = write_population(fitted.population, tmp_path / "pop.nc")
    pop = open_population(path, model="receptor_test")
    cells = sample_cells(pop, 1000, seed=0)
    assert np.median(cells["kact"]) == pytest.approx(float(pop["median"][0]), rel=0.1)
    tw2 = score(receptor(), pop, lab_data, conditions=CONDITIONS, seed=3)
    assert tw2.sizes["condition"] == 2 and np.all(
        tw2.values < 5 * fitted.population["tw2"].values + 1
    )
    with pytest.raises(CellsdeError, match="population of model"):
        open_population(path, model="guo2024")
    other = receptor()
    other = type(other)(**{**other.__dict__, "name": "other"})
    with pytest.raises(ModelMismatchError, match="calibrated for model"):
        score(other, pop, lab_data, conditions=CONDITIONS)


def test_info_describes_a_population_file(fitted, tmp_path, capsys) -> None:
    from cellsde.cli.main import main

    path = write_population(fitted.population, tmp_path / "pop.nc")
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "calibrated population of receptor_test" in text
    kact = float(fitted.population["median"][0])
    assert f"kact: median {kact:.4g} [" in text and "spread" in text


def test_loss_gradient_equals_finite_differences(lab_data) -> None:
    import sys

    import cellsde.calibration  # noqa: F401

    module = sys.modules["cellsde.calibration.calibrate"]
    captured = {}
    search = module.search

    def spy(objective, starts, config, fingerprint):
        captured["objective"] = objective
        return search(objective, starts, config, fingerprint)

    module.search = spy
    try:
        calibrate(receptor(), lab_data.isel(cell=slice(0, 120, 20)), free=["kact", "kb"],
                  conditions=CONDITIONS, observation=ObservationModel("response", noise="fit"),
                  config=CalibrationConfig(starts=1, explore_iterations=1, iterations=1,
                                           bootstrap=0, progress=False))  # fmt: skip
    finally:
        module.search = search
    objective = captured["objective"]
    # tight steps, so that differences are not dominated by changes of the step sequence
    objective.engine.options = type(objective.engine.options)(
        rtol=1e-7, atol=1e-12, newton_tol=1e-3
    )
    phi = torch.tensor([0.3, -0.2, -1.0, 0.4, -2.0], dtype=torch.float64, requires_grad=True)
    loss, _ = objective(phi)
    (grad,) = torch.autograd.grad(loss, phi)
    for k in (0, 1, 4):  # a median, a spread, the noise
        e = torch.zeros_like(phi)
        e[k] = 1e-4
        with torch.no_grad():
            fd = (objective(phi + e)[0] - objective(phi - e)[0]) / 2e-4
        assert float(grad[k]) == pytest.approx(float(fd), rel=5e-3, abs=1e-6)
    # the bootstrap's Jacobian of every observed value agrees with autograd's, in random
    # projections (one backward pass each instead of one per observed value)
    from cellsde.calibration.objective import observation
    from cellsde.calibration.simulator import observe
    from cellsde.calibration.uncertainty import output_jacobian

    y_obs, g = output_jacobian(objective, phi.detach())
    pop, draws = objective.population, objective.draws

    def observed(v):
        o = observation(pop, objective.spec, v)
        y = observe(objective.engine, pop.cells(v, draws.z))
        return o["scale"] * y + o["offset"] + o["noise"] * draws.eps

    v = phi.detach().clone().requires_grad_(True)
    y_auto = observed(v)
    np.testing.assert_allclose(y_obs.numpy(), y_auto.detach().numpy(), rtol=1e-10)
    gen = torch.Generator().manual_seed(0)
    for _ in range(2):
        w = torch.randn(y_auto.shape, generator=gen, dtype=torch.float64)  # (time, cell)
        (auto,) = torch.autograd.grad((w * y_auto).sum(), v, retain_graph=True)
        mine = torch.einsum("tc,tcf->f", w, g)
        np.testing.assert_allclose(mine.numpy(), auto.numpy(), rtol=1e-6, atol=1e-9)


def test_bad_input_fails_clearly_and_writes_nothing(lab_data, tmp_path) -> None:
    ckpt = tmp_path / "state.pt"
    config = FAST.replace(checkpoint_path=str(ckpt))
    net = receptor()
    with pytest.raises(CellsdeError, match="not parameters of model"):
        calibrate(net, lab_data, free=["nope"], conditions=CONDITIONS, config=config)
    with pytest.raises(ValueError, match="below upper"):
        calibrate(net, lab_data, free=[FreeParameter("kact", 5.0, 1.0)], conditions=CONDITIONS)
    empty = lab_data.copy(deep=True)
    empty["x"][:60] = np.nan  # condition 0 has no measured value
    with pytest.raises(CellsdeError, match="no measured value"):
        calibrate(net, empty, free=["kact"], conditions=CONDITIONS, config=config)
    with pytest.raises(CellsdeError, match="ligand"):
        calibrate(net, lab_data, free=["kact"], config=config)  # groups but no conditions
    with pytest.raises(CellsdeError, match="no cells in the data"):
        calibrate(
            net, lab_data, free=["kact"], conditions={**CONDITIONS, 7: {"L": 2.0}}, config=config
        )
    with pytest.raises(CellsdeError, match="no entry for group"):
        calibrate(net, lab_data, free=["kact"], conditions={0: {"L": 1.0}}, config=config)
    with pytest.raises(ModelMismatchError, match="observable"):
        calibrate(net, lab_data, free=["kact"], conditions=CONDITIONS,
                  observation=ObservationModel("nope", measured="response"), config=config)  # fmt: skip
    with pytest.raises(CellsdeError, match=r"calibrate would need about .* --cells"):
        calibrate(net, lab_data, free=["kact"], conditions=CONDITIONS,
                  config=config.replace(cells=10**7))  # fmt: skip
    assert not ckpt.exists()


def test_stochastic_method_calibrates_derivative_free(lab_data) -> None:
    data = lab_data.isel(cell=slice(0, 120, 6))
    config = CalibrationConfig(method="cle", optimizer="cmaes", explore_iterations=3, iterations=3, bootstrap=20,
                               progress=False)  # fmt: skip
    result = calibrate(receptor(system_size=2000.0), data, free=["kact"], conditions=CONDITIONS,
                       observation=ObservationModel("response"), config=config)  # fmt: skip
    losses = result.history["loss"].values
    assert losses.min() < losses[0]
    lo, hi = result.population["median_interval"].values[0]
    assert lo < float(result.population["median"][0]) < hi
    with pytest.raises(ValueError, match="optimizer='cmaes'"):
        CalibrationConfig(method="cle")


def test_simulate_population_writes_the_measured_observable(fitted) -> None:
    from cellsde.calibration import simulate_population
    from cellsde.datasets import validate_dataset

    pop = fitted.population
    ds = simulate_population(
        receptor({"L": 5.0}), pop, times=np.arange(0.0, 11.0), n_cells=20, seed=2
    )
    validate_dataset(ds)
    assert [str(s) for s in ds["species"].values] == ["response"]
    assert ds.sizes["cell"] == 20 and list(ds["param"].values) == ["kact", "kb"]
    again = simulate_population(
        receptor({"L": 5.0}), pop, times=np.arange(0.0, 11.0), n_cells=20, seed=2
    )
    np.testing.assert_array_equal(ds["x"].values, again["x"].values)
    with pytest.raises(ModelMismatchError, match="calibrated for model"):
        other = receptor()
        simulate_population(
            type(other)(**{**other.__dict__, "name": "x"}), pop, times=[0.0, 1.0], n_cells=2
        )


def test_redrawn_cells_are_new_each_iteration_and_reproducible(lab_data) -> None:
    data = lab_data.isel(cell=slice(0, 120, 6))
    config = CalibrationConfig(starts=1, explore_iterations=3, iterations=3, bootstrap=0,
                               redraw=True, rtol=5e-3, progress=False)  # fmt: skip

    def run(cfg):
        return calibrate(receptor(), data, free=["kact"], conditions=CONDITIONS,
                         observation=ObservationModel("response"), config=cfg)  # fmt: skip

    a, b, fixed = run(config), run(config), run(config.replace(redraw=False))
    np.testing.assert_array_equal(a.history["loss"].values, b.history["loss"].values)
    np.testing.assert_array_equal(a.population["median"].values, b.population["median"].values)
    # the same start, other cells: the first losses differ
    assert a.history["loss"].values[0] != fixed.history["loss"].values[0]
    with pytest.raises(ValueError, match="redraw=True is for the gradient search"):
        CalibrationConfig(optimizer="cmaes", redraw=True)
