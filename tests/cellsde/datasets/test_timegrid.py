"""cluster_times: the documented rule for merging jittered frame times onto one grid."""

import numpy as np
import pytest

from cellsde.datasets.timegrid import cluster_times
from cellsde.errors import ImportFormatError


def test_jittered_frames_merge_to_cluster_medians():
    rng = np.random.default_rng(1)
    frames = np.arange(10) * 5.0
    cells = np.repeat(np.arange(20), 10)
    times = np.tile(frames, 20) + rng.uniform(-0.5, 0.5, size=200)
    grid = cluster_times(times, cells)
    assert len(grid.times) == 10
    np.testing.assert_allclose(grid.times, frames, atol=0.5)
    np.testing.assert_array_equal(grid.index, np.tile(np.arange(10), 20))
    assert grid.tolerance == pytest.approx(grid.frame_interval / 4)
    assert grid.max_shift <= 1.0
    for k in range(10):
        assert grid.times[k] == np.median(times[grid.index == k])


def test_exact_times_and_zero_tolerance():
    grid = cluster_times(np.array([0.0, 1.0, 1.0001]), np.array([0, 0, 1]), tolerance=0)
    assert grid.times.tolist() == [0.0, 1.0, 1.0001]


def test_single_observation_per_cell_keeps_exact_times():
    grid = cluster_times(np.array([2.0, 1.0, 1.5]), np.array([0, 1, 2]))
    assert grid.tolerance == 0 and grid.times.tolist() == [1.0, 1.5, 2.0]


def test_chaining_is_an_error():
    times = np.array([0.0, 1.0, 0.3, 0.6, 0.9])
    with pytest.raises(ImportFormatError, match="smaller time_tolerance"):
        cluster_times(times, np.array([0, 0, 1, 2, 3]), tolerance=0.35)


def test_bad_tolerance_and_inputs():
    with pytest.raises(ImportFormatError, match="time_tolerance"):
        cluster_times(np.array([0.0, 1.0]), np.array([0, 0]), tolerance=-1)
    with pytest.raises(ValueError, match="finite"):
        cluster_times(np.array([0.0, np.nan]), np.array([0, 0]))
    with pytest.raises(ValueError, match="equal 1-D"):
        cluster_times(np.array([0.0, 1.0]), np.array([0]))


def test_check_times_accepts_increasing_and_names_the_first_bad_pair():
    from cellsde.datasets.timegrid import check_times
    from cellsde.errors import CellsdeError, SchemaError

    np.testing.assert_array_equal(check_times([0, 1, 2.5]), [0.0, 1.0, 2.5])
    assert check_times(np.arange(3)).dtype == np.float64
    with pytest.raises(
        CellsdeError, match=r"times is not strictly increasing at index 1: 2.0 then"
    ):
        check_times([0, 2, 1])
    with pytest.raises(CellsdeError, match="strictly increasing"):
        check_times([0, 1, 1])
    with pytest.raises(CellsdeError, match=r"t has a non-finite value nan at index 1"):
        check_times([0, np.nan], name="t")
    with pytest.raises(SchemaError, match=r"coord 'time' is not .* 1.0 then 1.0; sort it"):
        check_times([0, 1, 1], name="coord 'time'", error=SchemaError, fix="sort it")
    with pytest.raises(CellsdeError, match="non-empty 1-D"):
        check_times([])
    with pytest.raises(CellsdeError, match="non-empty 1-D"):
        check_times([[0, 1]])
    with pytest.raises(ValueError, match="array of numbers"):
        check_times(["a"])
