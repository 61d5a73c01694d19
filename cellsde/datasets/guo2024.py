"""Reader for the example single-cell NF-κB data of Guo et al. (Hoffmann lab).

The file is ``lib/example_data.mat`` of the MIT-licensed GitHub repository
``Xiaolu-Guo/NFkB_single_cell_modeling``; users download it themselves (see
``data/README.md``). It is a MATLAB v5 struct ``data_example`` with one entry per stimulus
condition (19: TNF, LPS, CpG, Poly(I:C), Pam3CSK at several doses), each holding 60 cells
× 97 frames (0-480 min, every 5 min) of nuclear NF-κB: ``exp`` (measured, rescaled to model
units, µM) and ``pred`` (the matching model simulations, row k of ``pred`` fits row k of
``exp``).

References
----------
Guo X, Adelaja A, Singh A, Wollman R, Hoffmann A. Modeling heterogeneous signaling dynamics
of macrophages reveals principles of information transmission in stimulus responses.
PMC12218168.
Adelaja A, Taylor B, Sheu KM, Liu Y, Luecke S, Hoffmann A. Immunity (2021),
doi:10.1016/j.immuni.2021.04.011.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import scipy.io
import xarray as xr

from cellsde.datasets import schema as S
from cellsde.datasets.arrays import from_arrays
from cellsde.errors import ImportFormatError

__all__ = ["GUO2024_SOURCES", "read_guo2024"]

GUO2024_SOURCES = ("exp", "pred", "both")
_FIELDS = ("exp", "pred", "info_ligand", "info_dose_str", "order")
_FRAME_MIN = 5.0
# Dose unit per ligand (all doses of one ligand are converted to it).
_LIGAND_UNITS = {"TNF": "ng/mL", "LPS": "ng/mL", "Pam3CSK": "ng/mL", "PolyIC": "µg/mL", "CpG": "nM"}
# Factor from the unit written in info_dose_str to the ligand's unit.
_PREFIX = {("pg", "ng/mL"): 1e-3, ("ng", "ng/mL"): 1.0, ("ug", "ng/mL"): 1e3,
           ("ug", "µg/mL"): 1.0, ("ng", "µg/mL"): 1e-3,
           ("nM", "nM"): 1.0, ("uM", "nM"): 1e3}  # fmt: skip


def read_guo2024(path: str | Path, *, source: str = "exp") -> xr.Dataset:
    """Read ``example_data.mat`` of Guo et al. into one cellsde dataset.

    Parameters
    ----------
    path : str or pathlib.Path
        The MATLAB v5 file ``example_data.mat``.
    source : {"exp", "pred", "both"}
        ``"exp"`` (default): the measured trajectories (19 × 60 = 1140 cells);
        ``"pred"``: the model simulations matched to them; ``"both"``: 2280 cells, the
        experimental ones first, told apart by coord ``source``.

    Returns
    -------
    xarray.Dataset
        ``x`` (cell, time=97, species=["nfkb_nuclear"]) in µM (``x.attrs["units"]``), time
        in minutes (0, 5, ..., 480). Per-cell coords: ``group`` (condition index 0..18),
        ``ligand`` (str), ``dose`` (float), ``dose_units`` (str), ``source`` ("exp"/"pred"),
        ``cell_index`` (0..59 within its condition) and ``order`` (the file's 1-based
        ``order`` field; its meaning, likely a display order, is not documented).
        ``method`` is "measured" for "exp" and "both", "ode" for "pred".

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ImportFormatError
        If the file is not a MATLAB v5 file with the expected struct and fields.
    """
    if source not in GUO2024_SOURCES:
        raise ImportFormatError(f"source must be one of {GUO2024_SOURCES}, got {source!r}")
    data = _load_struct(Path(path))
    n_cond = len(data.exp)
    ligands = [str(v) for v in np.atleast_1d(data.info_ligand)]
    doses = [str(v) for v in np.atleast_1d(data.info_dose_str)]
    orders = list(np.atleast_1d(data.order)) if n_cond > 1 else [data.order]
    sources = ["exp", "pred"] if source == "both" else [source]
    blocks, coords = [], {k: [] for k in (S.GROUP, S.LIGAND, S.DOSE, S.DOSE_UNITS, S.SOURCE)}
    coords.update(cell_index=[], order=[])
    for src in sources:
        per_cond = getattr(data, src)
        for k in range(n_cond):
            block = np.asarray(per_cond[k], dtype=np.float64)  # (cell, time)
            if block.ndim != 2 or block.shape[1] != np.asarray(per_cond[0]).shape[1]:
                raise ImportFormatError(
                    f"{src}[{k}] has shape {block.shape}; expected (cells, frames) like {src}[0]"
                )
            dose, unit = _parse_dose(ligands[k], doses[k])
            n = block.shape[0]
            blocks.append(block)
            coords[S.GROUP] += [k] * n
            coords[S.LIGAND] += [ligands[k]] * n
            coords[S.DOSE] += [dose] * n
            coords[S.DOSE_UNITS] += [unit] * n
            coords[S.SOURCE] += [src] * n
            coords["cell_index"] += list(range(n))
            coords["order"] += list(np.asarray(orders[k], dtype=np.int64).reshape(-1)[:n])
    x = np.concatenate(blocks, axis=0)[:, :, None]  # (cell, time, species=1)
    times = _FRAME_MIN * np.arange(x.shape[1])  # minutes
    config = {"reader": "read_guo2024", "path": str(path), "source": source}
    group = np.asarray(coords.pop(S.GROUP), dtype=np.int64)
    ds = from_arrays(
        x,
        times=times,
        species=["nfkb_nuclear"],
        group=group,
        time_units="min",
        attrs={
            S.ATTR_MODEL: "guo2024",
            S.ATTR_METHOD: "ode" if source == "pred" else "measured",
            S.ATTR_CONFIG: json.dumps(config, sort_keys=True),
            "source_repository": "github.com/Xiaolu-Guo/NFkB_single_cell_modeling",
        },
        cell_coords={k: np.asarray(v) for k, v in coords.items()},
    )
    ds[S.X].attrs[S.ATTR_UNITS] = "µM"
    return ds


def _load_struct(path: Path):
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    except NotImplementedError:
        raise ImportFormatError(
            f"{str(path)!r} is a MATLAB v7.3 (HDF5) file; expected MATLAB v5 example_data.mat"
        ) from None
    except (ValueError, TypeError, OSError) as err:
        raise ImportFormatError(f"{str(path)!r} is not a MATLAB .mat file: {err}") from None
    if "data_example" not in mat:
        names = [k for k in mat if not k.startswith("__")]
        raise ImportFormatError(
            f"{str(path)!r} has no struct 'data_example'; it holds {names}. Is it "
            "lib/example_data.mat of Xiaolu-Guo/NFkB_single_cell_modeling?"
        )
    data = mat["data_example"]
    fields = getattr(data, "_fieldnames", None) or []
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise ImportFormatError(f"data_example in {str(path)!r} lacks fields {missing}")
    return data


def _parse_dose(ligand: str, text: str) -> tuple[float, str]:
    """``("TNF", "100pg")`` -> ``(0.1, "ng/mL")``: dose in the ligand's unit."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]+)\s*", text)
    unit = _LIGAND_UNITS.get(ligand)
    if match is None or unit is None or (match.group(2), unit) not in _PREFIX:
        raise ImportFormatError(f"cannot read dose {text!r} of ligand {ligand!r}")
    return float(match.group(1)) * _PREFIX[(match.group(2), unit)], unit
