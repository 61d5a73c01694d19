"""Tutorial: NF-κB signalling — the Guo 2024 model against single-cell experimental data.

The example data of Guo et al. (Hoffmann lab) hold nuclear NF-κB in 60 macrophages per
condition, 19 conditions, 0-480 min every 5 min, together with the authors' per-cell model fits.
This script reads them with :func:`cellsde.datasets.read_guo2024`, picks TNF 10 ng/mL,
simulates a heterogeneous population of the 52-species Guo 2024 model at the same dose and
times (every cell at its own basal steady state first), and compares the three populations
time point by time point with the exact squared W2 distance.

Get the data (MIT licence) from GitHub ``Xiaolu-Guo/NFkB_single_cell_modeling``, file
``lib/example_data.mat``, then run from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python docs/tutorials/nfkb.py --data path/to/example_data.mat

The path may also come from the environment variable ``CELLSDE_GUO2024_MAT``; by default the
script looks in ``../shared/data/nfkb-guo2024/``. Without the file it says so and exits with
status 0. ``CELLSDE_TUTORIAL_SMALL=1`` simulates fewer cells.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

import cellsde
import models_bio as mb
from cellsde.datasets import read_guo2024, save_dataset
from cellsde.losses import w2_per_time

SMALL = os.environ.get("CELLSDE_TUTORIAL_SMALL", "") not in ("", "0")
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "nfkb-guo2024" / "example_data.mat"


def one_group(ds: xr.Dataset) -> xr.Dataset:
    """Put every cell of ``ds`` in group 0 so that W2 compares the whole populations."""
    return ds.assign_coords(group=("cell", np.zeros(ds.sizes["cell"], dtype=int)))


def quantiles(ds: xr.Dataset, t: float) -> str:
    q = np.nanpercentile(ds["x"].sel(time=t, species="nfkb_nuclear").values, [25, 50, 75])
    return f"{q[1]:.3f} ({q[0]:.3f}-{q[2]:.3f})"


# --8<-- [start:compare]
def compare(path: Path, out: Path) -> None:
    both = read_guo2024(path, source="both")  # measured ("exp") and the authors' fits ("pred")
    tnf = (both["ligand"] == "TNF") & (both["dose"] == 10.0)
    exp = one_group(both.isel(cell=(tnf & (both["source"] == "exp")).values))
    pred = one_group(both.isel(cell=(tnf & (both["source"] == "pred")).values))
    print(f"experiment: {exp.sizes['cell']} cells x {exp.sizes['time']} frames "
          f"({exp['time'].attrs.get('units', 'min')}), nuclear NF-kB in uM")  # fmt: skip

    # The model: TNF 10 ng/mL, default extrinsic heterogeneity (log-normal on 8 parameters,
    # including total NF-kB); the ODE per cell after its own phase-1 steady state.
    model = mb.guo2024(ligand="TNF", dose=10.0, dose_units="ng/mL")
    n = 10 if SMALL else 60
    sim = cellsde.simulate(model, times=exp["time"].values, n_cells=n, seed=0,
                           observables=["nfkb_nuclear"])  # fmt: skip
    sim = one_group(sim)

    print("nuclear NF-kB median (IQR), uM:")
    for t in (0.0, 30.0, 60.0, 120.0, 240.0, 480.0):
        print(f"  t = {t:5.0f} min  exp {quantiles(exp, t)}  cellsde {quantiles(sim, t)}  "
              f"authors' fit {quantiles(pred, t)}")  # fmt: skip
    for name, other in (("cellsde guo2024", sim), ("authors' per-cell fit", pred)):
        w2 = w2_per_time(other, exp, skip_first=True)  # (group, time), uM^2
        print(f"sum over t > 0 of W2^2 to the experiment, {name}: {float(w2.sum()):.4f} uM^2")
    save_dataset(sim, out / "guo2024_tnf10.nc")
    save_dataset(exp, out / "experiment_tnf10.nc")


# --8<-- [end:compare]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env = os.environ.get("CELLSDE_GUO2024_MAT")
    ap.add_argument("--data", type=Path, default=Path(env) if env else DEFAULT_DATA,
                    help="example_data.mat of Xiaolu-Guo/NFkB_single_cell_modeling (lib/)")  # fmt: skip
    default = Path(tempfile.gettempdir()) / "cellsde-tutorials" / "nfkb"
    ap.add_argument("--out", type=Path, default=default, help="output folder")
    args = ap.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found. Download lib/example_data.mat from "
              "github.com/Xiaolu-Guo/NFkB_single_cell_modeling and pass --data PATH "
              "(or set CELLSDE_GUO2024_MAT).")  # fmt: skip
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    compare(args.data, args.out)
    print(f"files written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
