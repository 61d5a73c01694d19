"""`cellsde import-csv` and `cellsde info`: reports on stdout, one-line errors on stderr."""

import numpy as np
import pytest

from cellsde.cli.main import main
from cellsde.datasets import from_arrays, import_report, open_dataset, save_dataset

TRACKS = "id,t,A,cond\nc1,0,1,0\nc1,1,2,0\nc1,1,2,0\nc2,0.02,3,1\nc2,2,4,1\nc2,,5,1\n"


def test_import_csv_writes_dataset_and_prints_report(tmp_path, capsys):
    src = tmp_path / "tracks.csv"
    src.write_text(TRACKS)
    out = tmp_path / "lab.nc"
    rc = main(
        ["import-csv", str(src), "--cell-col", "id", "--time-col", "t", "--group-col", "cond",
         "--time-units", "min", "--out", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "read 6 rows" in captured.out
    assert "discarded 1 rows without time" in captured.out
    assert "merged 1 rows" in captured.out
    assert f"wrote {out}" in captured.out
    ds = open_dataset(out)
    assert ds.sizes["cell"] == 2 and ds["time"].attrs["units"] == "min"
    assert import_report(ds).rows_read == 6


def test_info_prints_summary(tmp_path, capsys):
    x = np.ones((4, 3, 2))
    x[0, 0, 0] = np.nan
    ds = from_arrays(
        x, times=[0, 1, 2], species=["A", "B"], group=[0, 0, 1, 1], time_units="h",
        attrs={"model": "demo", "method": "ssa", "seed": 3}, cell_coords={"dose": [1, 2, 3, 4]},
    )  # fmt: skip
    save_dataset(ds, tmp_path / "pop.nc")
    assert main(["info", str(tmp_path / "pop.nc")]) == 0
    out = capsys.readouterr().out
    assert "dims: cell=4, time=3, species=2" in out
    assert "species: A, B" in out
    assert "groups: 2: 0 (2 cells), 1 (2 cells)" in out
    assert "time: 0 to 2 h (3 points)" in out
    assert "NaN fraction of x: 0.042" in out
    assert "model: demo" in out and "per-cell coords: dose" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["info", "{tmp}/absent.nc"], "no such file"),
        (["info", "{tmp}/bad.nc"], "not a netCDF file"),
        (["info", "{tmp}/file.txt"], "cannot tell the format"),
        (["import-csv", "{tmp}/bad.nc", "--cell-col", "id", "--time-units", "h", "--out", "{tmp}/o.nc"], "no data rows"),
        (["import-csv", "{tmp}/t.csv", "--cell-col", "x", "--time-col", "t", "--time-units", "h", "--out", "{tmp}/o.nc"],
         "no column 'x'; its columns are 'id', 't', 'A', 'cond'"),
        (["import-csv", "{tmp}/t.csv", "--cell-col", "id", "--time-col", "t", "--time-units", "h", "--out",
          "{tmp}/o.csv"], "suffix"),
        (["import-csv", "{tmp}/t.csv", "--cell-col", "id", "--time-col", "t", "--time-units", "h", "--out",
          "{tmp}/nodir/o.nc"], "does not exist"),
    ],
)  # fmt: skip
def test_errors_are_one_line_on_stderr(tmp_path, capsys, argv, match):
    (tmp_path / "bad.nc").write_text("hello")
    (tmp_path / "t.csv").write_text(TRACKS)
    rc = main([a.format(tmp=tmp_path) for a in argv])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.err.startswith("cellsde: error: ")
    assert captured.err.count("\n") == 1
    assert match in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "o.nc").exists()


def test_no_verb_prints_help(capsys):
    assert main([]) == 2
    assert "import-csv" in capsys.readouterr().err
