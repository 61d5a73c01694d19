"""`cellsde simulate guo2024 --ligand TNF --dose 10 --dose-units ng/mL` and its bad inputs."""

import pytest

from cellsde.cli.main import main
from cellsde.datasets import open_dataset


def test_guo2024_with_a_ligand_dose(tmp_path, capsys):
    out = tmp_path / "tnf.nc"
    argv = ["simulate", "guo2024", "--ligand", "TNF", "--dose", "10", "--dose-units", "ng/mL",
            "--cells", "2", "--t-end", "30", "--save-every", "5", "--out", str(out), "--heterogeneity", "none"]  # fmt: skip
    assert main(argv) == 0
    ds = open_dataset(out)
    x = ds["x"].sel(species="NFkBn").values
    assert x[0, 0] == pytest.approx(0.0219, rel=0.02)  # basal steady state first
    assert x[0].max() > 0.2  # then the TNF response (peak 0.247 at 17 min)
    assert ds["x"].sel(species="TNF").values[0, 0] == pytest.approx(10 / 5200, rel=1e-6)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["guo2024", "--ligand", "IFN"], "unknown ligand 'IFN'"),
        (["guo2024", "--ligand", "TNF", "--dose", "-1", "--dose-units", "ng/mL"], "dose must be"),
        (
            ["guo2024", "--ligand", "TNF", "--dose", "1", "--dose-units", "mg/L"],
            "unknown dose unit",
        ),
        (["vilar2002", "--ligand", "TNF"], "takes no --ligand option"),
    ],
)
def test_bad_ligand_inputs_are_one_line_errors(tmp_path, capsys, extra, message):
    out = tmp_path / "x.nc"
    assert main(["simulate", *extra, "--cells", "2", "--t-end", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
