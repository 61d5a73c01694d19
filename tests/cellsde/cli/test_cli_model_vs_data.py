"""Model vs my data from the CLI: observables, initial states, theta per group, pairing groups,
conditions recorded and compared, and `info` on every file the tool writes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from helpers_cli import hours_dataset, one_line_error

from cellsde.cli.main import main
from cellsde.datasets import open_dataset, save_dataset


@pytest.fixture()
def sums(lab, tmp_path):
    """Data that measure only s = x1 + x2 (no theta), and a file with every model species."""
    ds = hours_dataset()
    total = ds["x"].sum("species").expand_dims(species=["s"], axis=-1)
    only = ds.drop_vars("theta").drop_dims("species").assign(x=total)
    only["x"].attrs["units"] = "a.u."
    save_dataset(only, tmp_path / "sum.nc")
    return tmp_path / "sum.nc"


def test_simulate_observable_is_the_sum_of_its_parts(tmp_path):
    out = tmp_path / "tnf.nc"
    assert main(["simulate", "guo2024", "--ligand", "TNF", "--dose", "10", "--dose-units",
                 "ng/mL", "--cells", "2", "--t-end", "20", "--save-every", "5", "--observable",
                 "nfkb_nuclear=NFkBn+IkBaNFkBn", "--out", str(out)]) == 0  # fmt: skip
    ds = open_dataset(out)
    x = ds["x"]
    np.testing.assert_allclose(x.sel(species="nfkb_nuclear"),
                               x.sel(species="NFkBn") + x.sel(species="IkBaNFkBn"))  # fmt: skip
    # the stimulus and the units travel with the file
    assert set(ds["ligand"].values) == {"TNF"} and set(ds["dose"].values) == {10.0}
    assert set(ds["dose_units"].values) == {"ng/mL"} and ds["x"].attrs["units"] == "uM"


def test_simulate_observable_of_unknown_species_is_one_line(tmp_path, capsys):
    assert main(["simulate", "vilar2002", "--cells", "2", "--t-end", "1", "--observable",
                 "s=A+Nope", "--out", str(tmp_path / "v.nc")]) == 2  # fmt: skip
    assert "Nope" in one_line_error(capsys)


def test_evaluate_and_figures_through_an_observable(lab, sums, tmp_path, capsys):
    """The model (x1, x2) meets data that measure s = x1 + x2, from given initial states."""
    theta = tmp_path / "theta.nc"
    assert main(["infer", str(lab["model.pt"]), str(sums), "--out", str(theta), "--observable",
                 "s=x1+x2", "--initial-state", str(lab["data.nc"]), "--iterations", "2",
                 "--starts", "1", "--bootstrap", "0"]) == 0  # fmt: skip
    common = ["--observable", "s=x1+x2", "--initial-state", str(lab["data.nc"]), "--theta",
              str(theta)]  # fmt: skip
    assert main(["evaluate", str(lab["model.pt"]), str(sums), *common, "--n-paths", "6",
                 "--out", str(tmp_path / "e.nc")]) == 0  # fmt: skip
    table = xr.load_dataset(tmp_path / "e.nc")
    assert table.attrs["observed"] == "s" and np.isfinite(table["tw2"].values).all()
    out = tmp_path / "figs"
    assert main(["figures", str(sums), "--model", str(lab["model.pt"]), *common, "--out",
                 str(out), "--dpi", "30", "--dt", "0.05"]) == 0  # fmt: skip
    assert {"fan_s.png", "marginals_s.png", "w2_over_time.png"} <= {p.name for p in out.iterdir()}
    capsys.readouterr()
    assert main(["evaluate", str(lab["model.pt"]), str(sums)]) == 2  # without them
    one_line_error(capsys)


def test_theta_from_infer_paired_by_label_or_map(lab, tmp_path, capsys):
    theta = tmp_path / "theta.nc"
    assert main(["infer", str(lab["model.pt"]), str(lab["bare.nc"]), "--out", str(theta),
                 "--iterations", "2", "--starts", "1", "--bootstrap", "0"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "group 0:" in printed and "group 3:" in printed
    base = ["evaluate", str(lab["model.pt"]), str(lab["bare.nc"]), "--n-paths", "4"]
    assert main([*base, "--theta", str(theta)]) == 0
    assert main([*base, "--theta", str(theta), "--group-map", "0=1"]) == 0  # group 0's theta
    assert main([*base, "--theta", str(theta), "--group-map", "7=1"]) == 2
    assert "not groups of --theta" in one_line_error(capsys)


def test_figures_pair_simulated_groups_by_condition(tmp_path, capsys):
    """Simulated groups labelled 0, 1 pair with the data's 'TNF', 'LPS' by ligand and dose."""
    data, sim = hours_dataset(), hours_dataset()
    ligands = np.where(data["group"].values % 2 == 0, "TNF", "LPS")
    data = data.assign_coords(group=("cell", ligands), ligand=("cell", ligands),
                              dose=("cell", np.full(ligands.size, 10.0)))  # fmt: skip
    sim = sim.assign_coords(ligand=("cell", ligands), dose=("cell", np.full(ligands.size, 10.0)))
    save_dataset(data, tmp_path / "d.nc")
    save_dataset(sim, tmp_path / "s.nc")
    base = ["figures", str(tmp_path / "d.nc"), "--model-data", str(tmp_path / "s.nc"),
            "--species", "x1", "--dpi", "30", "--out"]  # fmt: skip
    assert main([*base, str(tmp_path / "a")]) == 2  # labels 0..3 vs TNF/LPS: nothing pairs
    assert "--match-by" in one_line_error(capsys)
    assert main([*base, str(tmp_path / "b"), "--match-by", "ligand", "dose"]) == 0
    assert (tmp_path / "b" / "w2_over_time.png").is_file()  # sim groups 0, 2 -> TNF; 1, 3 -> LPS
    assert main([*base, str(tmp_path / "c"), "--group-map", "0=TNF", "1=LPS"]) == 0
    assert (tmp_path / "c" / "w2_over_time.png").is_file()


def test_infer_evaluate_and_figures_warn_when_the_data_hold_another_ligand(lab, tmp_path, capsys):
    ds = open_dataset(lab["data.nc"])
    ds = ds.assign_coords(ligand=("cell", np.full(ds.sizes["cell"], "LPS")))
    save_dataset(ds, tmp_path / "lps.nc")
    save_dataset(ds.drop_vars("theta"), tmp_path / "lps_bare.nc")
    lps, model = str(tmp_path / "lps.nc"), str(lab["model.pt"])
    for argv in (["infer", model, str(tmp_path / "lps_bare.nc"), "--out", str(tmp_path / "t.nc"),
                  "--iterations", "2", "--starts", "1", "--bootstrap", "0"],
                 ["evaluate", model, lps, "--n-paths", "4"],
                 ["figures", lps, "--model", model, "--species", "x1", "--dpi", "30", "--dt",
                  "0.1", "--out", str(tmp_path / "figs")]):  # fmt: skip
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert err.count("cellsde: warning:") == 1 and "ligand LPS" in err and "TNF" in err


def test_fit_records_units_and_conditions_in_the_checkpoint(tmp_path, capsys):
    ds = hours_dataset(4).assign_coords(ligand=("cell", np.full(16, "TNF")))
    save_dataset(ds, tmp_path / "d.nc")
    (tmp_path / "f.toml").write_text("[model]\nhidden = [4]\n[fit]\ndt = 0.1\n")
    assert main(["fit", str(tmp_path / "d.nc"), "--out", str(tmp_path / "m.pt"), "--epochs",
                 "1", "--config", str(tmp_path / "f.toml"), "--history",
                 str(tmp_path / "h.nc")]) == 0  # fmt: skip
    from cellsde.nn.checkpoint import load_model

    meta = load_model(tmp_path / "m.pt").metadata
    assert meta["units"] == {"time": "h", "values": "a.u."}
    assert meta["conditions"] == {"ligand": ["TNF"]}
    capsys.readouterr()
    for name, words in (("m.pt", ["fitted ENDnSDE", "time in: h", "values in: a.u."]),
                        ("m.pt.state", ["training state", "--resume"]),
                        ("h.nc", ["fit history", "epochs: 1"]),
                        ("d.nc", ["population", "values in: a.u."])):  # fmt: skip
        assert main(["info", str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        assert all(w in out for w in words), (name, out)


def test_info_reads_results_and_scores(lab, tmp_path, capsys):
    theta, score = tmp_path / "theta.nc", tmp_path / "score.nc"
    assert main(["infer", str(lab["model.pt"]), str(lab["bare.nc"]), "--out", str(theta),
                 "--iterations", "2", "--starts", "1", "--bootstrap", "0"]) == 0  # fmt: skip
    assert main(["evaluate", str(lab["model.pt"]), str(lab["data.nc"]), "--n-paths", "4",
                 "--out", str(score)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["info", str(theta)]) == 0
    assert "inference result" in (text := capsys.readouterr().out) and "omega1=" in text
    assert main(["info", str(score)]) == 0
    assert "tW2 per group" in capsys.readouterr().out


def test_subset_keeps_one_condition(tmp_path, capsys):
    ds = hours_dataset(4)
    lig = np.where(np.arange(16) < 8, "TNF", "LPS")
    ds = ds.assign_coords(ligand=("cell", lig), dose=("cell", np.where(lig == "TNF", 10.0, 1.0)))
    save_dataset(ds, tmp_path / "all.nc")
    out = tmp_path / "tnf.nc"
    assert main(["subset", str(tmp_path / "all.nc"), "--where", "ligand=tnf", "dose=10",
                 "--out", str(out)]) == 0  # fmt: skip
    kept = open_dataset(out)
    assert kept.sizes["cell"] == 8 and set(kept["ligand"].values) == {"TNF"}
    assert main(["subset", str(tmp_path / "all.nc"), "--where", "group=0,3", "--out",
                 str(tmp_path / "g.nc")]) == 0  # fmt: skip
    assert set(open_dataset(tmp_path / "g.nc")["group"].values) == {0, 3}
    for where, words in ((["dose=5"], "dose values: 1.0, 10.0"), (["color=red"], "no per-cell"),
                         (["ligand"], "COORD=VALUE")):  # fmt: skip
        capsys.readouterr()
        assert main(["subset", str(tmp_path / "all.nc"), "--where", *where, "--out",
                     str(tmp_path / "x.nc")]) == 2  # fmt: skip
        assert words in one_line_error(capsys)
    assert not (tmp_path / "x.nc").exists()


def test_a_chunked_zarr_store_keeps_its_units_and_info_reads_it(tmp_path, capsys):
    out = tmp_path / "v.zarr"
    assert main(["simulate", "vilar2002", "--cells", "4", "--t-end", "1", "--chunk-cells", "2",
                 "--out", str(out)]) == 0  # fmt: skip
    ds = open_dataset(out)
    assert ds["x"].attrs["units"] == "molecules" and ds["time"].attrs["units"] == "h"
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(population)" in text and "values in: molecules" in text and "n_chunks: 2" in text
