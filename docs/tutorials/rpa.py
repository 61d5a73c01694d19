"""Tutorial: RPA binding to single-stranded DNA — lattice SSA against exact equilibria.

Replication protein A binds ssDNA in a 20-nt mode and can extend to a 30-nt mode. The lattice
continuous-time Markov chain of :mod:`models_bio.rpa_dna` is simulated exactly with
``cellsde.simulate(..., method="lattice-ssa")``, vectorised over cells.

Part 1 (oracle): with unbinding and extension switched off the chain is irreversible random
sequential adsorption of 20-mers, whose coverage curve is known in closed form
(:func:`models_bio.rpa_dna.rsa_coverage`).

Part 2 (heterogeneous population): every cell draws its own shrink rate ``k_minus2`` (the
model's declared extrinsic noise, a log-uniform factor 0.3-3 on the nominal value). Each cell's
late-time coverage is compared with the exact equilibrium of a finite lattice with that cell's
rates (the "tile equation" ``Z_m = Z_{m-1} + a Z_{m-20} + b Z_{m-30}``).

Run from the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python docs/tutorials/rpa.py [--out DIR]

``CELLSDE_TUTORIAL_SMALL=1`` runs a reduced version (shorter lattice, fewer cells).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

import cellsde
from cellsde.datasets import save_dataset
from models_bio.rpa_dna import finite_lattice_equilibrium, rpa_dna, rsa_coverage

SMALL = os.environ.get("CELLSDE_TUTORIAL_SMALL", "") not in ("", "0")


# --8<-- [start:rsa]
def rsa_check() -> None:
    length, n = (400, 40) if SMALL else (2000, 200)
    model = rpa_dna(length, k_minus1=0.0, k2=0.0)  # bind only: irreversible 20-mer adsorption
    times = np.array([0.0, 0.5, 1.0, 2.0, 5.0])  # units of 1/k1
    ds = cellsde.simulate(model, times=times, n_cells=n, heterogeneity="none", seed=0)
    sim = ds["x"].sel(species="c20").mean("cell").values  # (time,) covered fraction
    exact = rsa_coverage(times, footprint=20)  # infinite lattice
    print("RSA of 20-mers (k1 t, simulated, exact):")
    for t, s, e in zip(times, sim, exact):
        print(f"  {t:4.1f}  {s:.3f}  {e:.3f}")


# --8<-- [end:rsa]


# --8<-- [start:population]
def population(out: Path) -> None:
    length, n, t_end = (200, 30, 200.0) if SMALL else (1000, 200, 400.0)
    model = rpa_dna(length)  # k1 = 1, k_minus1 = 0.1, k2 = 1, k_minus2 = 1 (time unit 1/k1)
    times = np.linspace(0.0, t_end, 81)
    ds = cellsde.simulate(model, times=times, n_cells=n, seed=1)  # default heterogeneity
    k_minus2 = ds["theta"].sel(param="k_minus2").values  # (cell,)

    late = times >= t_end / 2  # time average over the second half (the chain is ergodic)
    c30_sim = ds["x"].sel(species="c30").values[:, late].mean(axis=1)  # (cell,)
    a = model.nominal["k1"] / model.nominal["k_minus1"]
    c30_eq = np.array(
        [finite_lattice_equilibrium(length, a, a * model.nominal["k2"] / k).c30 for k in k_minus2]
    )
    order = np.argsort(k_minus2)
    print("30-nt coverage by k_minus2 tercile (simulated late-time mean vs exact equilibrium):")
    for part in np.array_split(order, 3):
        print(f"  k_minus2 {k_minus2[part].min():.2f}-{k_minus2[part].max():.2f}: "
              f"{c30_sim[part].mean():.3f} vs {c30_eq[part].mean():.3f}")  # fmt: skip
    r = np.corrcoef(c30_sim, c30_eq)[0, 1]
    print(f"per-cell correlation of simulated and equilibrium c30: {r:.2f}")
    save_dataset(ds, out / "rpa_population.nc")


# --8<-- [end:population]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(tempfile.gettempdir()) / "cellsde-tutorials" / "rpa"
    ap.add_argument("--out", type=Path, default=default, help="output folder")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rsa_check()
    population(args.out)
    print(f"files written to {args.out}")


if __name__ == "__main__":
    main()
