"""data/example_tracks.csv: reproducible from its script, and imports as documented."""

import importlib.util
from pathlib import Path

import numpy as np

from cellsde.datasets import import_csv, import_report

DATA = Path(__file__).resolve().parents[3] / "data"


def load_script():
    spec = importlib.util.spec_from_file_location(
        "make_example_tracks", DATA / "make_example_tracks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_reproduces_committed_file(tmp_path):
    out = tmp_path / "tracks.csv"
    load_script().main(out)
    assert out.read_bytes() == (DATA / "example_tracks.csv").read_bytes()
    assert out.stat().st_size < 100_000


def test_example_imports_with_ragged_tracks_and_one_duplicate():
    ds = import_csv(
        DATA / "example_tracks.csv", cell_col="track_id", time_col="time_min",
        time_units="min", group_col="condition",
    )  # fmt: skip
    rep = import_report(ds)
    assert (rep.n_cells, rep.n_times, rep.n_species) == (40, 37, 2)
    assert rep.exact_duplicate_rows == 1 and rep.rows_merged == 1
    assert rep.rows_read == 1203
    assert 0.6 < rep.observed_fraction < 0.95  # ragged tracks and gaps
    np.testing.assert_allclose(ds["time"].values, np.arange(37) * 5.0, atol=0.6)
    nuc = ds["x"].sel(species="nfkb_nuc")
    tnf = nuc.isel(cell=(ds["group"] == "TNF").values).mean("cell")
    ctl = nuc.isel(cell=(ds["group"] == "control").values).mean("cell")
    assert float(tnf.sel(time=slice(15, 40)).max()) > 2 * float(ctl.mean())
