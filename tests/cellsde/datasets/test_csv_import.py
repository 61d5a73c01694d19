"""import_csv: long and wide lab tables, ragged/jittered tracks, duplicates, clear errors."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellsde.datasets import import_csv, import_report, open_dataset, save_dataset
from cellsde.errors import ImportFormatError, SchemaError

LONG = """id,t,A,B,cond
c1,0.0,1,2,0
c1,1.02,1.5,2.5,0
c1,2.0,2,3,0
c1,2.0,2,3,0
c2,0.98,5,,1
c2,3.01,6,7,1
c2,,1,1,1
,1.0,9,9,1
c3,1.0,1,1,1
c3,0.0,0,0,1
"""


def write(tmp_path, text, name="tracks.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_long_ragged_jittered_with_duplicates(tmp_path):
    ds = import_csv(
        write(tmp_path, LONG), time_units="h", cell_col="id", time_col="t", group_col="cond"
    )
    assert ds["cell"].values.tolist() == ["c1", "c2", "c3"]
    assert ds["species"].values.tolist() == ["A", "B"]
    np.testing.assert_allclose(ds["time"].values, [0.0, 1.0, 2.0, 3.01])
    a = ds["x"].sel(species="A").values
    np.testing.assert_array_equal(a[0], [1, 1.5, 2, np.nan])
    np.testing.assert_array_equal(a[1], [np.nan, 5, np.nan, 6])
    np.testing.assert_array_equal(a[2], [0, 1, np.nan, np.nan])
    assert np.isnan(ds["x"].sel(cell="c2", species="B").values[1])
    assert ds["group"].values.tolist() == [0, 1, 1]
    assert ds.attrs["method"] == "measured"
    rep = import_report(ds)
    assert rep.rows_read == 10
    assert rep.rows_discarded_no_time == 1 and rep.rows_discarded_no_cell == 1
    assert rep.rows_merged == 1 and rep.exact_duplicate_rows == 1
    assert rep.n_cells == 3 and rep.n_times == 4 and rep.n_species == 2
    assert rep.max_time_shift == pytest.approx(0.02)
    assert "median" in rep.grid_rule
    assert any("discarded 1 rows without time" in line for line in rep.lines())
    assert json.loads(ds.attrs["config"])["time_col"] == "t"


def test_imported_dataset_round_trips(tmp_path):
    ds = import_csv(
        write(tmp_path, LONG), time_units="h", cell_col="id", time_col="t", group_col="cond"
    )
    save_dataset(ds, tmp_path / "lab.nc")
    back = open_dataset(tmp_path / "lab.nc")
    assert import_report(back) == import_report(ds)
    np.testing.assert_array_equal(back["x"].values, ds["x"].values)


def test_species_subset_and_cell_coords(tmp_path):
    text = "cell,time,A,B,dose\n1,0,1,2,0.5\n1,1,2,3,0.5\n2,0,4,5,1\n"
    ds = import_csv(
        write(tmp_path, text), cell_col="cell", time_col="time", species=["B"],
        cell_coords=["dose"], time_units="min",
    )  # fmt: skip
    assert ds["species"].values.tolist() == ["B"]
    assert ds["dose"].values.tolist() == [0.5, 1.0]
    assert ds["time"].attrs["units"] == "min"


def test_conflicting_duplicates_error_names_cell_and_time(tmp_path):
    text = "id,t,A\nc1,0,1\nc1,1,2\nc1,1,2.5\n"
    path = write(tmp_path, text)
    with pytest.raises(ImportFormatError, match=r"cell 'c1'.*'A' at time 1 h.*rows 2, 3"):
        import_csv(path, time_units="h", cell_col="id", time_col="t")
    mean = import_csv(path, time_units="h", cell_col="id", time_col="t", duplicates="mean")
    assert mean["x"].values[0, 1, 0] == 2.25
    assert import_report(mean).conflicts_resolved == 1
    first = import_csv(path, time_units="h", cell_col="id", time_col="t", duplicates="first")
    assert first["x"].values[0, 1, 0] == 2.0


def test_rows_completing_each_other_merge_without_conflict(tmp_path):
    text = "id,t,A,B\nc1,0,1,\nc1,0,,2\n"
    ds = import_csv(write(tmp_path, text), time_units="h", cell_col="id", time_col="t")
    assert ds["x"].values[0, 0].tolist() == [1.0, 2.0]
    assert import_report(ds).rows_merged == 1


def test_wide_layout_auto_detected(tmp_path):
    text = "cell,ligand,t0,t5,t10\na,TNF,1,2,3\nb,LPS,4,,6\na,TNF,1,2,3\n"
    ds = import_csv(
        write(tmp_path, text), cell_col="cell", species=["nfkb"], cell_coords=["ligand"],
        time_units="min",
    )  # fmt: skip
    rep = import_report(ds)
    assert rep.layout == "wide" and rep.rows_read == 3
    assert rep.rows_merged == 1 and rep.exact_duplicate_rows == 1
    assert ds["time"].values.tolist() == [0.0, 5.0, 10.0]
    np.testing.assert_array_equal(ds["x"].values[..., 0], [[1, 2, 3], [4, np.nan, 6]])
    assert ds["ligand"].values.tolist() == ["TNF", "LPS"]


def test_wide_layout_undeclared_column_is_an_error(tmp_path):
    path = write(tmp_path, "cell,ligand,0,5\na,TNF,1,2\n")
    with pytest.raises(ImportFormatError, match=r"'ligand'.*cell_coords"):
        import_csv(path, time_units="h", cell_col="cell", layout="wide")


def test_group_must_be_constant_per_cell(tmp_path):
    path = write(tmp_path, "id,t,A,g\nc1,0,1,x\nc1,1,2,y\n")
    with pytest.raises(ImportFormatError, match=r"constant per cell.*'c1'"):
        import_csv(path, time_units="h", cell_col="id", time_col="t", group_col="g")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("id,t,A\n", "header .* but no data rows"),
        ("id,t,A\nc1,0,1\nc1,1,high\n", r"column 'A', data row 2: 'high' is not a finite"),
        ("id,t,A\nc1,0,1\nc1,x,2\n", "column 't', data row 2"),
        ("id,t,A\nc1,0,inf\n", "not a finite number"),
        ("id,t,A\nc1,0,1,2,3\n", "not a well-formed CSV"),
        ("id,t,A\n,,1\nc2,,2\n", "no rows with both a cell id and a time"),
        ("id,t\nc1,0\n", "no species columns"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path, text, match):
    with pytest.raises(ImportFormatError, match=match):
        import_csv(write(tmp_path, text), time_units="h", cell_col="id", time_col="t")


def test_missing_columns_are_listed(tmp_path):
    path = write(tmp_path, "cell,time,A\n1,0,1\n")
    with pytest.raises(ImportFormatError, match="no column 'id'; its columns are 'cell', 'time'"):
        import_csv(path, time_units="h", cell_col="id", time_col="time")
    with pytest.raises(ImportFormatError, match="no column 'Z'"):
        import_csv(path, time_units="h", cell_col="cell", time_col="time", species=["Z"])
    with pytest.raises(ImportFormatError, match="cannot tell the layout"):
        import_csv(path, time_units="h", cell_col="cell", time_col="t")


def test_binary_and_missing_files(tmp_path):
    path = tmp_path / "data.nc"
    path.write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(ImportFormatError, match="not a text CSV"):
        import_csv(path, time_units="h", cell_col="id", time_col="t")
    with pytest.raises(FileNotFoundError, match="no such file"):
        import_csv(tmp_path / "absent.csv", time_units="h", cell_col="id", time_col="t")
    with pytest.raises(ImportFormatError, match="directory"):
        import_csv(tmp_path, time_units="h", cell_col="id", time_col="t")


def test_bad_options(tmp_path):
    path = write(tmp_path, LONG)
    with pytest.raises(ImportFormatError, match="layout"):
        import_csv(path, time_units="h", cell_col="id", time_col="t", layout="tall")
    with pytest.raises(ImportFormatError, match="duplicates"):
        import_csv(path, time_units="h", cell_col="id", time_col="t", duplicates="max")
    with pytest.raises(ImportFormatError, match="time_units"):
        import_csv(path, cell_col="id", time_col="t", time_units="weeks")
    with pytest.raises(ImportFormatError, match="needs time_col"):
        import_csv(path, time_units="h", cell_col="id", layout="long")


def test_import_report_of_other_dataset(tmp_path):
    ds = import_csv(write(tmp_path, LONG), time_units="h", cell_col="id", time_col="t")
    del ds.attrs["import_report"]
    with pytest.raises(SchemaError, match="not made by import_csv"):
        import_report(ds)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)


@st.composite
def long_tables(draw):
    """Distinct (cell, frame) pairs in any order, values possibly missing."""
    n_cells = draw(st.integers(1, 5))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n_cells - 1), st.integers(0, 6)),
            min_size=1, max_size=25, unique=True,
        )
    )  # fmt: skip
    rows = []
    for cell, frame in pairs:
        a = draw(st.one_of(st.none(), finite))
        b = draw(st.one_of(st.none(), finite))
        rows.append({"cell": f"c{cell}", "t": frame * 0.5, "A": a, "B": b})
    return pd.DataFrame(rows)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=long_tables(), repeat=st.lists(st.integers(0, 24), max_size=3), seed=st.integers(0, 9))
def test_property_non_nan_entries_equal_input_rows(tmp_path, table, repeat, seed):
    """Rows in any order, some repeated exactly: every non-NaN entry is an input value."""
    copies = table.iloc[[i % len(table) for i in repeat]]
    shuffled = pd.concat([table, copies]).sample(frac=1.0, random_state=seed)
    path = tmp_path / "prop.csv"
    shuffled.to_csv(path, index=False)
    ds = import_csv(path, time_units="h", cell_col="cell", time_col="t", time_tolerance=0)
    x = ds["x"]
    expected = sum(table[s].notna().sum() for s in ("A", "B"))
    assert int(x.notnull().sum()) == expected
    for row in table.itertuples():
        for s in ("A", "B"):
            value = x.sel(cell=row.cell, time=row.t, species=s).item()
            want = getattr(row, s)
            if pd.isna(want):
                assert np.isnan(value)
            else:
                assert value == want
    rep = import_report(ds)
    assert rep.rows_read == len(shuffled)
    assert rep.rows_merged == rep.exact_duplicate_rows == len(copies)


def test_repeated_column_names(tmp_path):
    with pytest.raises(ImportFormatError, match="repeats the column names"):
        import_csv(
            write(tmp_path, "id,t,A,A\nc1,0,1,2\n"), time_units="h", cell_col="id", time_col="t"
        )


@st.composite
def jittered_tables(draw):
    """Dense tracks (each cell misses at most a few frames) with jitter < 1/10 frame."""
    n_cells = draw(st.integers(2, 6))
    rows = []
    for cell in range(n_cells):
        frames = draw(st.sets(st.integers(0, 9), min_size=8, max_size=10))
        for frame in sorted(frames, reverse=draw(st.booleans())):
            jitter = draw(st.floats(-0.45, 0.45))
            rows.append({"cell": f"c{cell}", "t": 5.0 * frame + jitter, "A": draw(finite)})
    return pd.DataFrame(rows)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(table=jittered_tables())
def test_property_jittered_rows_land_on_their_frame(tmp_path, table):
    path = tmp_path / "jitter.csv"
    table.to_csv(path, index=False)
    ds = import_csv(path, time_units="h", cell_col="cell", time_col="t")
    frames = np.round(table["t"] / 5.0).astype(int)
    assert ds.sizes["time"] == frames.nunique()
    grid_frames = np.round(ds["time"].values / 5.0).astype(int)
    assert np.all(np.abs(ds["time"].values - 5.0 * grid_frames) <= 0.45 + 1e-9)
    for row, frame in zip(table.itertuples(), frames):
        k = int(np.flatnonzero(grid_frames == frame)[0])
        assert ds["x"].sel(cell=row.cell, species="A").values[k] == row.A
    assert int(ds["x"].notnull().sum()) == len(table)


def test_byte_order_mark_and_other_separators(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("id,t,A\r\nc1,0,1\r\nc1,1,2\r\n".encode("utf-8-sig"))
    ds = import_csv(path, time_units="h", cell_col="id", time_col="t")
    assert ds["x"].values[0, :, 0].tolist() == [1.0, 2.0]
    semi = write(tmp_path, "id;t;A\nc1;0;1\n", name="semi.csv")
    with pytest.raises(ImportFormatError, match="';'-separated: pass sep=';'"):
        import_csv(semi, time_units="h", cell_col="id", time_col="t")
    assert import_csv(semi, time_units="h", cell_col="id", time_col="t", sep=";").sizes["cell"] == 1
    tab = write(tmp_path, "id\tt\tA\nc1\t0\t1\n", name="tab.csv")
    with pytest.raises(ImportFormatError, match="tab"):
        import_csv(tab, time_units="h", cell_col="id", time_col="t")


def test_cell_coords_types(tmp_path):
    text = "id,t,A,dose,plate,g\nc1,0,1,0.5,P1,7\nc2,0,2,,P2,7\nc3,0,3,2,P1,8\n"
    ds = import_csv(
        write(tmp_path, text), time_units="h", cell_col="id", time_col="t", species=["A"],
        cell_coords=["dose", "plate"], group_col="g",
    )  # fmt: skip
    np.testing.assert_array_equal(ds["dose"].values, [0.5, np.nan, 2.0])
    assert ds["plate"].values.tolist() == ["P1", "P2", "P1"]
    assert ds["group"].values.tolist() == [7, 7, 8] and ds["group"].dtype == np.int64
