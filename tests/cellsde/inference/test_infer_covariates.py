"""END-nSDE with known covariates: fit on a synthetic SDE, infer only the unknown omega.

Oracle: a 1-D Ornstein-Uhlenbeck process simulated exactly (no discretisation error),
``dx = (mu - x) / tau dt + s dW`` with ``mu = omega + 0.5 log10(dose) + 0.8 [ligand == B]``:
the drift depends on the known covariates (dose, ligand) and on the unknown omega.
"""

import numpy as np
import pytest
import torch

from cellsde import ENDnSDE, ENDnSDEConfig, FitConfig, fit, from_arrays, infer, simulate
from cellsde.errors import CellsdeError, ModelMismatchError
from cellsde.inference.amortized_train import simulate_training_sets, train_amortizer
from cellsde.nn.covariates import covariates_from_data

TAU, S = 0.5, 0.3
TIMES = np.linspace(0.0, 2.0, 11)


def mu(omega, dose, ligand):
    return omega + 0.5 * np.log10(dose) + (0.8 if ligand == "B" else 0.0)


def ou_groups(conditions, *, n, seed):
    """Exact OU paths; one group per (omega, dose, ligand), x0 ~ N(0, 0.2^2)."""
    rng = np.random.default_rng(seed)
    xs, omega, dose, ligand, group = [], [], [], [], []
    for g, (w, d, lig) in enumerate(conditions):
        m = mu(w, d, lig)
        x = np.empty((n, TIMES.size))
        x[:, 0] = rng.normal(0.0, 0.2, n)
        for i, h in enumerate(np.diff(TIMES)):
            a = np.exp(-h / TAU)
            x[:, i + 1] = (
                m + (x[:, i] - m) * a + S * np.sqrt(TAU / 2 * (1 - a * a)) * rng.normal(size=n)
            )
        xs.append(x)
        omega += [w] * n
        dose += [d] * n
        ligand += [lig] * n
        group += [g] * n
    return from_arrays(np.concatenate(xs)[:, :, None], times=TIMES, species=["y"],
                       theta=np.asarray(omega)[:, None], params=["omega"], group=np.asarray(group),
                       cell_coords={"dose": np.asarray(dose), "ligand": np.asarray(ligand)})  # fmt: skip


@pytest.fixture(scope="module")
def fitted():
    train = ou_groups([(w, d, lig) for w in (-1.0, -0.5, 0.0, 0.5, 1.0) for d in (1.0, 100.0)
                       for lig in ("A", "B")], n=32, seed=0)  # fmt: skip
    covs = covariates_from_data(train, ["log10:dose", "onehot:ligand"])
    cfg = ENDnSDEConfig(species=("y",), params=("omega",), hidden=(32, 32), activation="elu",
                        noise="diagonal", covariates=covs, time_units="h")  # fmt: skip
    model = ENDnSDE(cfg, seed=0)
    fit(model, train, config=FitConfig(epochs=250, lr=5e-3, lr_schedule="cosine", dt=0.1,
                                       progress=False, seed=0))  # fmt: skip
    return model.eval()


@pytest.mark.slow
def test_fit_recovers_the_covariate_dependent_drift(fitted):
    # a condition never trained on: dose 10 lies between the trained 1 and 100
    for w, lig in ((-0.6, "A"), (0.4, "B")):
        sim = simulate(fitted, times=TIMES, theta={"omega": w, "dose": 10.0, "ligand": lig},
                       n_cells=2000, x0=np.zeros(1), dt=0.1, seed=3)  # fmt: skip
        end = sim["x"].values[:, -1, 0]
        m = mu(w, 10.0, lig) * (1 - np.exp(-TIMES[-1] / TAU))
        sd = S * np.sqrt(TAU / 2 * (1 - np.exp(-2 * TIMES[-1] / TAU)))
        assert abs(end.mean() - m) < 0.08, (w, lig, end.mean(), m)
        assert abs(end.std() / sd - 1) < 0.25, (end.std(), sd)


@pytest.mark.slow
def test_infer_recovers_omega_with_the_covariates_fixed(fitted):
    held = [(-0.7, 10.0, "A"), (0.3, 10.0, "B"), (0.8, 3.0, "A"), (-0.2, 30.0, "B")]
    data = ou_groups(held, n=40, seed=5).drop_vars("theta")
    res = infer(fitted, data, method="w2", seed=0, n_starts=2, iterations=60, n_bootstrap=0,
                dt=0.1, n_paths=80)  # fmt: skip
    assert list(res["param"].values) == ["omega"]  # only the unknown part is estimated
    np.testing.assert_array_equal(res["dose"].values, [10.0, 10.0, 3.0, 30.0])
    assert list(res["ligand"].values) == ["A", "B", "A", "B"]
    err = res["theta"].values[:, 0] - np.array([w for w, _, _ in held])
    assert np.abs(err).max() < 0.1, err
    assert not res["out_of_range"].values.any() and not res["at_bound"].values.any()


@pytest.mark.slow
def test_bounded_amortizer_flags_estimates_at_the_bound(fitted):
    data = ou_groups([(0.0, 10.0, "A"), (3.0, 10.0, "B")], n=32, seed=6).drop_vars("theta")
    lo, hi = torch.tensor([-1.0]), torch.tensor([1.0])
    ys, thetas = [], []
    for cov in ([1.0, 1.0, 0.0], [1.0, 0.0, 1.0]):  # log10(dose) = 1, ligand A / B
        y, th = simulate_training_sets(fitted, x0=torch.zeros(1, 1), lo=lo, hi=hi,
                                       times=torch.tensor(TIMES, dtype=torch.float32),
                                       readout=torch.ones(1, 1), n_sets=96, k=16, dt=0.1,
                                       covariates=torch.tensor(cov))  # fmt: skip
        ys.append(y)
        thetas.append(th)
    net = train_amortizer(torch.cat(ys), torch.cat(thetas), observed=("y",), params=("omega",),
                          times=torch.tensor(TIMES), lo=lo, hi=hi, k_max=16, epochs=400,
                          covariates=fitted.param_names[1:])  # fmt: skip
    res = infer(fitted, data, method="amortized", amortizer=net, seed=0, n_bootstrap=0, dt=0.1)
    th = res["theta"].values[:, 0]
    assert abs(th[0]) < 0.25  # inside: a plain estimate
    assert -1.0 <= th[1] <= 1.0  # omega = 3 lies far outside the training box [-1, 1]...
    assert res["at_bound"].values.tolist() == [[False], [True]]  # ...so it is flagged
    w2 = infer(fitted, data, method="w2", seed=0, n_starts=2, iterations=40, n_bootstrap=0,
               dt=0.1, n_paths=64)  # fmt: skip
    assert w2["out_of_range"].values.tolist() == [[False], [True]]


def test_bounded_output_never_leaves_the_box():
    y = torch.randn(40, 8, 5, 1) * 100  # wild inputs
    theta = torch.cat([torch.rand(40, 2) * 2 - 1, torch.randint(0, 2, (40, 1)).float()], 1)
    net = train_amortizer(y, theta, observed=("y",), params=("a", "b"), times=torch.arange(5.0),
                          lo=torch.tensor([-1.0, -1.0]), hi=torch.tensor([1.0, 1.0]), k_max=8,
                          epochs=3, covariates=("c",))  # fmt: skip
    out = net(y * 1e3, None, theta[:, 2:])
    assert out.abs().max() <= 1.0
    with pytest.raises(ValueError, match="reads the covariates"):
        net(y, None)


def test_bad_inputs_are_one_line_errors(fitted):
    data = ou_groups([(0.0, 10.0, "A"), (0.0, 10.0, "C")], n=8, seed=7).drop_vars("theta")
    with pytest.raises(ModelMismatchError, match=r"value\(s\) \['C'\] the model was not trained"):
        infer(fitted, data, n_bootstrap=0, iterations=2)
    with pytest.raises(ModelMismatchError, match="no per-cell coordinate 'dose'"):
        infer(fitted, data.drop_vars("dose"), n_bootstrap=0, iterations=2)
    mixed = ou_groups([(0.0, 10.0, "A")], n=8, seed=7).drop_vars("theta")
    mixed = mixed.assign_coords(dose=("cell", np.r_[np.full(4, 10.0), np.full(4, 1.0)]))
    with pytest.raises(CellsdeError, match="known covariate such as the dose"):
        infer(fitted, mixed, n_bootstrap=0, iterations=2)
    only_known = ENDnSDE(
        ENDnSDEConfig(species=("y",), covariates=fitted.covariates, time_units="h"), seed=0
    )
    with pytest.raises(CellsdeError, match="no unknown parameters to infer"):
        infer(only_known, data, n_bootstrap=0)
    y = torch.zeros(4, 8, TIMES.size, 1)
    wrong = train_amortizer(y, torch.zeros(4, 1), observed=("y",), params=("omega",),
                            times=torch.tensor(TIMES), k_max=8, epochs=1)  # fmt: skip
    with pytest.raises(CellsdeError, match="train an amortizer for this model"):
        infer(fitted, data, method="amortized", amortizer=wrong, n_bootstrap=0)


def test_version_1_amortizer_files_load_unbounded_and_newer_ones_are_refused(tmp_path):
    import json
    from dataclasses import asdict, replace

    from cellsde._torchio import atomic_save
    from cellsde.errors import CheckpointError
    from cellsde.inference.amortized import FORMAT, Amortizer, load_amortizer

    gen = torch.Generator().manual_seed(0)
    y = torch.randn(16, 4, 5, 1, generator=gen)
    net = train_amortizer(y, torch.rand(16, 1, generator=gen) * 4 - 2, observed=("y",), params=("a",),
                          times=torch.arange(5.0), k_max=4, epochs=2, hidden=8)  # fmt: skip
    v1 = Amortizer(replace(net.config, bounded=False))  # what version 1 computed: no tanh
    v1.load_state_dict(net.state_dict())
    old = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(net.config).items()}
    del old["bounded"], old["covariates"]  # version 1 configs had neither key
    state = {k: v.detach() for k, v in net.state_dict().items()}
    doc = {"format": FORMAT, "version": 1, "config": json.dumps(old), "state_dict": state}
    back = load_amortizer(atomic_save(doc, tmp_path / "v1.pt"))
    assert not back.config.bounded
    wild = y * 1e3
    with torch.no_grad():
        np.testing.assert_array_equal(back(wild), v1(wild))
        lo, hi = net.box()
        assert ((back(wild) < lo) | (back(wild) > hi)).any()  # unbounded: it can leave the box
    atomic_save({**doc, "version": 3}, tmp_path / "v3.pt")
    with pytest.raises(CheckpointError, match="newer cellsde") as err:
        load_amortizer(tmp_path / "v3.pt")
    assert "\n" not in str(err.value)
