"""Ground-truth NF-kB SDE populations for END-nSDE: the Guo 2024 model with two noise intensities.

What it makes (reference/end-nsde.md §3 and §4, "NF-kB"): :func:`models_bio.nfkb.noise.guo2024_sde`
at TNF 100 ng/mL (the dose END-nSDE hard-coded), one group per point of the 11 x 11 grid of
``(omega_ikba, omega_nfkb)`` (log10 noise intensities, ``linspace(-3.5, -1.5, 11)`` each),
``n_paths`` Euler–Maruyama paths per group (dt 0.005 min, float64), all 52 species saved at
31 times 0, 5, ..., 150 min (time unit: **min**). The paths start from the basal steady
state with TNF added at t = 0.

Group ordering (pitfall 1 of the reference): group index ``k = 11 * i + j`` with
``omega_ikba = grid[i]``, ``omega_nfkb = grid[j]`` (row-major, omega_ikba the slow index),
so the paper's held-out file list :data:`HELD_OUT` is read as these ``k``. Paths with an even
index inside a group are the training paths, odd ones the test paths (the paper's even/odd
split); :func:`split` returns training groups' even paths and held-out groups' odd paths.

Dataset (cellsde contract, ``cellsde.datasets.validate`` accepts it): ``x`` (cell, time,
species) in uM, ``theta`` (cell, param) with params ``omega_ikba``, ``omega_nfkb``, coord
``group`` (cell,) = the group index ``k`` (int), extra per-cell coords ``path`` (index within
the group) and ``omega_index`` (= ``k``); cells are ordered group-major. ``attrs["settings"]``
(JSON) records every setting; the seed is in ``attrs["seed"]``.

How to use it (the path and the function name are stable)::

    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("nfkb_sde_data", "benchmarks/nfkb_sde_data.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nfkb_sde_data"] = mod  # before exec: the module defines a dataclass
    spec.loader.exec_module(mod)
    ds = mod.load_or_make()                # reads bench-out/nfkb_sde/*.nc, or simulates it
    train, test = mod.split(ds)            # 96 training groups (even paths), 25 held out (odd)
    twin = mod.truth_twin(ds)              # 25 held-out groups, even paths (floor sample)

or from the shell (prints the generation time)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nfkb_sde_data.py [--paths 64] [--seed 0]

Randomness: group chunk ``c`` of ``chunk_groups`` consecutive groups is simulated with the
torch seed ``SeedSequence(seed).spawn(n_chunks)[c]`` (default one chunk of all 121 groups:
large batches are 3x cheaper per path than chunks of 11); the same settings give the same
paths on the same device and torch version. Cost: about 1.7 us per path and step on one
quiet core, 7744 paths x 30000 steps about 7 min (estimated from a short run); the full
default data took 695 s on one core of the loaded 2-core host.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from cellsde.datasets.arrays import from_arrays
from cellsde.datasets.io import open_dataset, save_dataset
from cellsde.solvers.euler_maruyama import euler_maruyama
from models_bio.nfkb.noise import OMEGA_GRID, guo2024_sde

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench-out" / "nfkb_sde"
PARAMS = ("omega_ikba", "omega_nfkb")
OBSERVED = ("IkBaNFkBn", "NFkBn")  # nuclear NF-kB = free NFkBn + IkBa-bound IkBaNFkBn (uM)
# The paper's 25 held-out files of 121 (reference §4), read as row-major group indices.
HELD_OUT = (2, 16, 18, 22, 28, 29, 31, 33, 37, 49, 56, 59, 63, 69, 71, 73, 80, 81, 84, 90,
            97, 102, 106, 109, 120)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Everything that determines the data (stored in ``attrs["settings"]``).

    ``groups`` selects grid indices (default all 121); ``t_end``, ``dt_obs``, ``dt`` in min.
    """

    n_paths: int = 64
    seed: int = 0
    dose: float = 100.0  # ng/mL TNF
    t_end: float = 150.0
    dt_obs: float = 5.0
    dt: float = 0.005
    groups: tuple[int, ...] | None = None
    chunk_groups: int = 121
    omega_grid: tuple[float, ...] = field(default=OMEGA_GRID)

    def group_indices(self) -> tuple[int, ...]:
        n = len(self.omega_grid) ** 2
        return tuple(range(n)) if self.groups is None else tuple(int(g) for g in self.groups)

    def key(self) -> str:
        """JSON of the settings (compared when the cache is reused)."""
        d = asdict(self)
        d["groups"] = list(self.group_indices())
        d["omega_grid"] = [float(v) for v in self.omega_grid]
        return json.dumps(d, sort_keys=True)


def omega_table(grid: Sequence[float] = OMEGA_GRID) -> np.ndarray:
    """(group, 2) array of (omega_ikba, omega_nfkb); row ``k = len(grid) * i + j``."""
    g = np.asarray(grid, dtype=float)
    a, b = np.meshgrid(g, g, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], 1)


def make(settings: Settings, *, log: Callable[[str], None] | None = None) -> xr.Dataset:
    """Simulate the populations described by ``settings`` (no cache; see :func:`load_or_make`).

    Returns
    -------
    xarray.Dataset
        ``x`` (group * n_paths, time, 52) float64 in uM, ``theta`` (cell, 2), coords
        ``group``, ``path``, ``omega_index``; ``attrs["generation_s"]`` = wall time.
    """
    s = settings
    if s.n_paths < 1 or s.dt <= 0 or s.dt_obs <= 0 or s.t_end < s.dt_obs:
        raise ValueError(f"bad settings {s}; need n_paths >= 1, dt > 0, t_end >= dt_obs > 0")
    groups = np.asarray(s.group_indices(), dtype=int)  # (group,)
    table = omega_table(s.omega_grid)
    if groups.size == 0 or groups.min() < 0 or groups.max() >= len(table):
        raise ValueError(f"groups must be indices in [0, {len(table)}); got {groups.tolist()}")
    model = guo2024_sde(dose=s.dose, omega_grid=tuple(s.omega_grid))
    times = np.arange(0.0, s.t_end + 1e-9, s.dt_obs)  # (time,) min
    chunks = [groups[i : i + s.chunk_groups] for i in range(0, groups.size, s.chunk_groups)]
    seeds = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(s.seed).spawn(len(chunks))]
    x0 = np.asarray(model.initial, dtype=float)  # (species,)
    out, t0 = [], time.perf_counter()
    for c, (chunk, sd) in enumerate(zip(chunks, seeds, strict=True)):
        theta = np.repeat(table[chunk], s.n_paths, 0)  # (cell, param)
        x = euler_maruyama(model, x0=np.tile(x0, (len(theta), 1)), theta=theta, times=times,
                           dt=s.dt, seed=sd)  # fmt: skip
        out.append(x.numpy())  # (cell, time, species)
        if log is not None:
            log(f"chunk {c + 1}/{len(chunks)} ({len(theta)} paths): "
                f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    wall = time.perf_counter() - t0
    group = np.repeat(groups, s.n_paths)  # (cell,)
    return from_arrays(
        np.concatenate(out, 0), times=times, species=list(model.species),
        theta=np.repeat(table[groups], s.n_paths, 0), params=list(PARAMS), group=group,
        time_units="min",
        attrs={"model": "guo2024_sde", "method": "sde", "seed": int(s.seed),
               "settings": s.key(), "generation_s": float(wall),
               "ordering": "group k = 11*i + j, omega_ikba = grid[i], omega_nfkb = grid[j]"},
        cell_coords={"path": np.tile(np.arange(s.n_paths), groups.size), "omega_index": group},
    )  # fmt: skip


def cache_path(settings: Settings, cache_dir: Path = CACHE) -> Path:
    """File of ``settings`` in ``cache_dir`` (name from n_paths, seed and horizon)."""
    s = settings
    tag = "" if s.groups is None else f"_g{len(s.group_indices())}"
    return Path(cache_dir) / f"guo2024_sde_N{s.n_paths}_seed{s.seed}_T{s.t_end:g}{tag}.nc"


def load_or_make(
    *,
    n_paths: int = 64,
    seed: int = 0,
    t_end: float = 150.0,
    dt_obs: float = 5.0,
    dt: float = 0.005,
    groups: Sequence[int] | None = None,
    cache_dir: str | Path = CACHE,
    log: Callable[[str], None] | None = None,
) -> xr.Dataset:
    """The NF-kB SDE populations: read from ``cache_dir`` if made with the same settings, else
    simulate (:func:`make`) and save atomically.

    Parameters
    ----------
    n_paths : int
        Paths per group (even index = training, odd = test).
    seed : int
        Seed of the Brownian increments.
    t_end, dt_obs, dt : float
        Horizon, observation spacing and Euler–Maruyama step (min).
    groups : sequence of int, optional
        Grid indices to simulate (default all 121).
    cache_dir : path
        Directory of the netCDF cache (default ``bench-out/nfkb_sde``, git-ignored).
    log : callable, optional
        Receives progress lines (the CLI prints them).

    Returns
    -------
    xarray.Dataset
        See :func:`make`.
    """
    s = Settings(n_paths=int(n_paths), seed=int(seed), t_end=float(t_end), dt_obs=float(dt_obs),
                 dt=float(dt), groups=None if groups is None else tuple(int(g) for g in groups))  # fmt: skip
    path = cache_path(s, Path(cache_dir))
    if path.exists():
        ds = open_dataset(path)
        if ds.attrs.get("settings") == s.key():
            return ds
    ds = make(s, log=log)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_dataset(ds, path)
    return ds


def split(ds: xr.Dataset, *, held_out: Sequence[int] = HELD_OUT) -> tuple[xr.Dataset, xr.Dataset]:
    """(train, test): non-held-out groups' even paths, held-out groups' odd paths."""
    g, p = ds["group"].values, ds["path"].values  # (cell,)
    out = np.isin(g, np.asarray(held_out))
    return ds.isel(cell=np.flatnonzero(~out & (p % 2 == 0))), ds.isel(
        cell=np.flatnonzero(out & (p % 2 == 1))
    )


def truth_twin(ds: xr.Dataset, *, held_out: Sequence[int] = HELD_OUT) -> xr.Dataset:
    """Held-out groups' even paths: a truth sample independent of :func:`split`'s test paths
    (same groups and size), for the truth-vs-truth sampling floor."""
    g, p = ds["group"].values, ds["path"].values  # (cell,)
    return ds.isel(cell=np.flatnonzero(np.isin(g, np.asarray(held_out)) & (p % 2 == 0)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=64, help="paths per omega (default 64)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--t-end", type=float, default=150.0, help="horizon in min")
    args = ap.parse_args()
    t0 = time.perf_counter()
    ds = load_or_make(n_paths=args.paths, seed=args.seed, t_end=args.t_end,
                      log=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    print(f"{cache_path(Settings(n_paths=args.paths, seed=args.seed, t_end=args.t_end))}: "
          f"{ds.sizes['cell']} paths x {ds.sizes['time']} times x {ds.sizes['species']} species; "
          f"generation {ds.attrs['generation_s']:.0f} s (this call {time.perf_counter() - t0:.0f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
