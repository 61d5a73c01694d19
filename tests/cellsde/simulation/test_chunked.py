"""Chunked population simulation on dask: reproducibility, zarr store, resume, worker death."""

from __future__ import annotations

import dataclasses
import json
import os
import sys

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("distributed")

import cloudpickle
from distributed import Client, LocalCluster
from scipy import stats

import cellsde
import models_bio
from cellsde.cli.main import main
from cellsde.datasets import open_dataset, validate_dataset
from cellsde.distributed import chunk_plan, connect, read_manifest
from cellsde.errors import CellsdeError
from cellsde.simulation import simulate_chunked, simulate_to_zarr

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # helpers below reach the workers

TIMES = np.linspace(0.0, 4.0, 9)
OSC = {"times": TIMES, "n_cells": 100, "seed": 7}  # damped oscillator: 25 grid groups


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as c,
    ):  # fmt: skip
        yield c


def test_chunk_seeds_depend_only_on_seed_and_index():
    a, b = chunk_plan(10, 3, seed=5), chunk_plan(100, 3, seed=5)
    assert a.n_chunks == 4 and a.bounds(3) == (9, 10)
    assert a.seeds == b.seeds[:4]
    assert len(set(b.seeds)) == b.n_chunks
    assert chunk_plan(10, 50, seed=5).n_chunks == 1
    with pytest.raises(ValueError, match="chunk_cells"):
        chunk_plan(10, 0, seed=5)


def test_chunked_population_has_the_plain_runs_cells():
    plain = cellsde.simulate("damped_oscillator", **OSC)
    chunked = cellsde.simulate("damped_oscillator", **OSC, chunk_cells=30)
    validate_dataset(chunked)
    np.testing.assert_array_equal(chunked.theta.values, plain.theta.values)
    np.testing.assert_array_equal(chunked.group.values, plain.group.values)
    np.testing.assert_array_equal(chunked.x.values[:, 0], plain.x.values[:, 0])
    assert chunked.attrs["chunk_cells"] == 30 and chunked.attrs["n_chunks"] == 4
    assert chunked.attrs["seed"] == 7
    config = json.loads(chunked.attrs["config"])
    assert config["n_cells"] == 100 and config["device"] == "cpu"
    assert np.isfinite(chunked.x.values).all()


def test_identical_on_two_workers_and_without_dask(client):
    here = simulate_chunked("damped_oscillator", **OSC, chunk_cells=25)
    two = cellsde.simulate("damped_oscillator", **OSC, chunk_cells=25, client=client)
    xr.testing.assert_identical(two, here)


@pytest.mark.slow
def test_identical_for_one_and_two_workers(client):
    here = simulate_chunked("damped_oscillator", **OSC, chunk_cells=25)
    two = cellsde.simulate("damped_oscillator", **OSC, chunk_cells=25, client=client)
    with connect("local:1") as one_worker:
        assert len(one_worker.scheduler_info()["workers"]) == 1
        # dask's default MALLOC_TRIM_THRESHOLD_ makes numpy loops ~1.7x slower: unset it
        env = one_worker.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
        assert list(env.values()) == [os.environ.get("MALLOC_TRIM_THRESHOLD_")]
        one = cellsde.simulate("damped_oscillator", **OSC, chunk_cells=25, client=one_worker)
    xr.testing.assert_identical(two, here)
    xr.testing.assert_identical(one, here)


def test_other_chunk_size_gives_an_equivalent_population():
    kw = {"times": TIMES, "n_cells": 1000, "seed": 3, "heterogeneity": "none"}
    a = cellsde.simulate("damped_oscillator", **kw, chunk_cells=100)
    b = cellsde.simulate("damped_oscillator", **kw, chunk_cells=350)
    xa, xb = a.x.values[:, -1, 0], b.x.values[:, -1, 0]
    assert not np.array_equal(xa, xb)  # other noise streams ...
    assert stats.ks_2samp(xa, xb).pvalue > 1e-3  # ... same law
    assert stats.ks_2samp(a.x.values[:, -1, 1], b.x.values[:, -1, 1]).pvalue > 1e-3


def test_zarr_store_opens_as_the_in_memory_result(tmp_path, client):
    path = simulate_to_zarr(
        "damped_oscillator", tmp_path / "pop.zarr", **OSC, chunk_cells=30, client=client
    )
    ds = open_dataset(path)
    xr.testing.assert_identical(ds, simulate_chunked("damped_oscillator", **OSC, chunk_cells=30))
    assert read_manifest(path)["done"] == [0, 1, 2, 3]


def test_resume_computes_only_missing_chunks(tmp_path, monkeypatch):
    path = tmp_path / "pop.zarr"
    simulate_to_zarr("damped_oscillator", path, **OSC, chunk_cells=30)
    full = open_dataset(path)
    # a run that died after chunks 0 and 3: chunk 1 and 2 missing (NaN) and not in the manifest
    manifest = read_manifest(path)
    manifest["done"] = [0, 3]
    (path / "cellsde_chunks.json").write_text(json.dumps(manifest))
    nan = xr.Dataset({"x": (("cell", "time", "species"), np.full((60, 9, 2), np.nan))})
    nan.to_zarr(path, region={"cell": slice(30, 90)}, mode="r+", zarr_format=2)
    assert np.isnan(open_dataset(path).x.values[30:90]).all()

    import cellsde.simulation.chunked as chunked

    ran = []
    real = chunked.run_chunk
    monkeypatch.setattr(chunked, "run_chunk", lambda t: ran.append(t.index) or real(t))
    simulate_to_zarr("damped_oscillator", path, **OSC, chunk_cells=30, resume=True)
    assert sorted(ran) == [1, 2]
    xr.testing.assert_identical(open_dataset(path), full)
    with pytest.raises(CellsdeError, match="different run"):
        simulate_to_zarr("damped_oscillator", path, **{**OSC, "seed": 8}, chunk_cells=30,
                         resume=True)  # fmt: skip


@dataclasses.dataclass
class KillOnce:
    """A drift that kills its (worker) process the first time it runs while ``flag`` exists."""

    drift: object
    flag: str
    parent: int

    def __call__(self, t, x, theta):
        if os.getpid() != self.parent and os.path.exists(self.flag):
            os.remove(self.flag)
            os._exit(1)
        return self.drift(t, x, theta)


@dataclasses.dataclass
class FailOnMarker:
    """A drift that raises while ``flag`` exists, in chunks holding a cell with omega1 == 1.2345."""

    drift: object
    flag: str

    def __call__(self, t, x, theta):
        if os.path.exists(self.flag) and bool((theta[:, 0] == 1.2345).any()):
            raise RuntimeError("simulated crash")
        return self.drift(t, x, theta)


def test_crashed_run_keeps_finished_chunks_and_resumes(tmp_path):
    osc = models_bio.get("damped_oscillator")
    flag = tmp_path / "fail"
    model = dataclasses.replace(osc, drift_fn=FailOnMarker(osc.drift_fn, str(flag)))
    theta, cols, _ = cellsde.sample_theta(osc, n_cells=100, seed=7)
    assert cols[0] == "omega1"
    theta[70, 0] = 1.2345  # a cell of chunk 2 (cells 60-89)
    kw = {"times": TIMES, "theta": theta, "seed": 7, "chunk_cells": 30}
    reference = simulate_chunked(model, **kw)
    flag.touch()
    path = tmp_path / "pop.zarr"
    with pytest.raises(RuntimeError, match="simulated crash"):
        simulate_to_zarr(model, path, **kw)
    assert read_manifest(path)["done"] == [0, 1]  # chunks 0, 1 kept; 2 crashed; 3 never ran
    partial = open_dataset(path)
    assert np.isnan(partial.x.values[60:]).all() and not np.isnan(partial.x.values[:60]).any()
    flag.unlink()
    simulate_to_zarr(model, path, **kw, resume=True)
    xr.testing.assert_identical(open_dataset(path), reference)


def test_run_survives_a_killed_worker(tmp_path, client):
    osc = models_bio.get("damped_oscillator")
    flag = tmp_path / "kill-once"
    model = dataclasses.replace(osc, drift_fn=KillOnce(osc.drift_fn, str(flag), os.getpid()))
    reference = simulate_chunked(model, **OSC, chunk_cells=25)
    flag.touch()
    path = simulate_to_zarr(model, tmp_path / "pop.zarr", **OSC, chunk_cells=25, client=client)
    assert not flag.exists()  # a worker died ...
    assert read_manifest(path)["done"] == [0, 1, 2, 3]  # ... and its chunk was re-run
    xr.testing.assert_identical(open_dataset(path), reference)
    client.wait_for_workers(2, timeout=60)


def test_cli_chunked_zarr_and_resume(tmp_path, capsys):
    out = tmp_path / "pop.zarr"
    args = ["simulate", "damped_oscillator", "--cells", "50", "--t-end", "2", "--seed", "4",
            "--save-every", "0.5"]  # fmt: skip
    assert main([*args, "--chunk-cells", "20", "--out", str(out)]) == 0
    ds = open_dataset(out)
    assert ds.attrs["n_chunks"] == 3 and ds.attrs["chunk_cells"] == 20 and ds.attrs["seed"] == 4
    assert main([*args, "--chunk-cells", "20", "--resume", "--out", str(out)]) == 0
    xr.testing.assert_identical(open_dataset(out), ds)
    assert "3 chunks of 20" in capsys.readouterr().out
    assert main([*args, "--resume", "--out", str(tmp_path / "pop.nc")]) == 2
    assert main([*args, "--scheduler", "local:x", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--resume needs a .zarr" in err and "local:N" in err
    assert main([*args, "--chunk-cells", "20", "--out", str(tmp_path / "pop.nc")]) == 0
    xr.testing.assert_identical(open_dataset(tmp_path / "pop.nc"), ds)


@pytest.mark.gpu
def test_device_passes_through_to_the_chunks():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    ds = cellsde.simulate("damped_oscillator", **OSC, chunk_cells=30, device="cuda")
    assert json.loads(ds.attrs["config"])["device"] == "cuda"
    plain = cellsde.simulate("damped_oscillator", **OSC, device="cuda")
    np.testing.assert_array_equal(ds.theta.values, plain.theta.values)


@dataclasses.dataclass
class KillAlways:
    """A drift that kills every worker process that runs it."""

    drift: object
    parent: int

    def __call__(self, t, x, theta):
        if os.getpid() != self.parent:
            os._exit(1)
        return self.drift(t, x, theta)


@pytest.mark.slow
def test_a_chunk_that_keeps_killing_workers_fails_clearly(tmp_path):
    import dask

    osc = models_bio.get("damped_oscillator")
    model = dataclasses.replace(osc, drift_fn=KillAlways(osc.drift_fn, os.getpid()))
    path = tmp_path / "pop.zarr"
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as c,
        pytest.raises(CellsdeError, match="killed its dask worker"),
    ):  # fmt: skip
        simulate_to_zarr(model, path, **OSC, chunk_cells=50, client=c)
    assert read_manifest(path)["done"] == []
    assert np.isnan(open_dataset(path).x.values).all()
