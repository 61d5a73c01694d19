"""``cellsde fit --covariate``: a model conditioned on known coordinates, used by the other verbs."""

import numpy as np
import pytest

from cellsde import from_arrays
from cellsde.cli.main import main
from cellsde.datasets import save_dataset
from cellsde.nn.checkpoint import load_model


@pytest.fixture()
def data(tmp_path):
    rng = np.random.default_rng(0)
    dose = np.repeat([1.0, 10.0, 100.0, 10.0], 8)
    ligand = np.repeat(["TNF", "TNF", "LPS", "LPS"], 8)
    x0 = rng.normal(0, 0.1, 32)
    t = np.linspace(0, 1, 6)
    x = x0[:, None] + np.log10(dose)[:, None] * t[None, :] + rng.normal(0, 0.05, (32, 6))
    ds = from_arrays(x[:, :, None], times=t, species=["y"], group=np.repeat(np.arange(4), 8),
                     cell_coords={"dose": dose, "ligand": ligand})  # fmt: skip
    path = tmp_path / "lab.nc"
    save_dataset(ds, path)
    bare = tmp_path / "bare.nc"
    save_dataset(ds.drop_vars("ligand"), bare)
    return path, bare


def test_fit_evaluate_figures_with_covariates(data, tmp_path, capsys):
    path, bare = data
    out = tmp_path / "m.pt"
    argv = ["fit", str(path), "--out", str(out), "--epochs", "2", "--covariate", "log10:dose",
            "--covariate", "onehot:ligand"]  # fmt: skip
    assert main(argv) == 0
    model = load_model(out)
    assert model.param_names == ("log10(dose)", "ligand=LPS", "ligand=TNF")
    assert model.unknown_params == ()
    assert main(["evaluate", str(out), str(path)]) == 0
    assert main(["figures", str(path), "--model", str(out), "--out", str(tmp_path / "f")]) == 0
    capsys.readouterr()
    # the same verbs on data without the ligand coordinate: one line, exit 2
    for verb in (["evaluate", str(out), str(bare)], ["infer", str(out), str(bare), "--out",
                 str(tmp_path / "th.nc")]):  # fmt: skip
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("'ligand'" in err or "no unknown parameters" in err)
    assert not (tmp_path / "th.nc").exists()


@pytest.mark.parametrize(
    ("spec", "match"),
    [("log10:nothere", "no per-cell coordinate 'nothere'"), ("cube:dose", "ENCODING:COORD")],
)
def test_fit_bad_covariate_is_one_line(data, tmp_path, capsys, spec, match):
    path, _ = data
    out = tmp_path / "m.pt"
    assert main(["fit", str(path), "--out", str(out), "--epochs", "1", "--covariate", spec]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
    assert not out.exists()
