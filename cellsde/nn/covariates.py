"""Known covariates of an END-nSDE: conditioning inputs read from a dataset's coordinates.

An END-nSDE is conditioned on ``theta = (omega, c)``: ``omega`` the unknown extrinsic
parameters (stored in a dataset's ``theta`` variable, estimated by :func:`cellsde.infer`)
and ``c`` the *known* covariates of each cell's condition — stimulus dose, ligand, medium —
which every dataset of the same experiment carries as per-cell coordinates (e.g. ``dose``,
``ligand`` from :func:`cellsde.datasets.read_guo2024`).

A :class:`Covariate` says how one coordinate becomes network inputs:

- ``"identity"``: a numeric coordinate as is (one column named like the coordinate);
- ``"log10"``: ``log10`` of a positive numeric coordinate (one column ``log10(dose)``), for
  doses that span decades;
- ``"onehot"``: a categorical coordinate as one 0/1 column per level (``ligand=TNF``...);
  the levels are fixed when the covariate is made from training data, so a level never
  seen in training is refused rather than silently encoded as all zeros.

The covariates are part of the model's architecture (they set the network's input width),
so they live in :class:`~cellsde.nn.endnsde.ENDnSDEConfig` and travel in every checkpoint.
:func:`attach_covariates` rebuilds the encoded columns from a dataset's coordinates and
appends them to its ``theta``; ``fit``, ``evaluate``, ``infer`` and ``figures`` call it on
every dataset they receive, and ``simulate`` encodes raw values given in ``theta=`` with
:func:`encode_mapping`. Spec strings (``"log10:dose"``, ``"onehot:ligand"``, ``"dose"``) are
what the command line and :func:`covariates_from_data` take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from cellsde.datasets.schema import CELL, PARAM, THETA
from cellsde.errors import ModelMismatchError

ENCODINGS = ("identity", "log10", "onehot")


@dataclass(frozen=True)
class Covariate:
    """How one per-cell coordinate becomes conditioning inputs.

    Parameters
    ----------
    coord : str
        Name of the per-cell coordinate (dim ``cell``), e.g. ``"dose"``.
    encoding : {"identity", "log10", "onehot"}
        See the module docstring.
    levels : tuple of str
        ``"onehot"`` only: the categories, in column order (compared as text).
    """

    coord: str
    encoding: str = "identity"
    levels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(str(v) for v in self.levels))
        if not self.coord:
            raise ValueError("a covariate needs the name of a coordinate")
        if self.encoding not in ENCODINGS:
            raise ValueError(
                f"covariate encoding must be one of {ENCODINGS}, got {self.encoding!r}"
            )
        if (self.encoding == "onehot") != bool(self.levels):
            raise ValueError(
                f"covariate {self.coord!r}: 'onehot' needs its levels and the numeric encodings "
                "take none; make it from data with covariates_from_data"
            )
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"covariate {self.coord!r} has repeated levels {self.levels}")

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the encoded columns (as they appear in ``theta``'s ``param`` coordinate)."""
        if self.encoding == "onehot":
            return tuple(f"{self.coord}={v}" for v in self.levels)
        return (f"log10({self.coord})",) if self.encoding == "log10" else (self.coord,)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (lists, not tuples)."""
        return {"coord": self.coord, "encoding": self.encoding, "levels": list(self.levels)}

    def encode(self, values: Any) -> np.ndarray:
        """Encoded columns of ``values`` (one per cell), shape (cell, len(columns)).

        Raises
        ------
        ModelMismatchError
            Non-numeric, non-finite or (``log10``) non-positive numbers; an unknown level.
        """
        v = np.atleast_1d(np.asarray(values))
        if self.encoding == "onehot":
            text = np.asarray([str(s) for s in v.ravel()])
            unknown = sorted(set(text.tolist()) - set(self.levels))
            if unknown:
                raise ModelMismatchError(
                    f"covariate {self.coord!r} has value(s) {unknown} the model was not trained "
                    f"on; its levels are {list(self.levels)} (refit with these conditions)"
                )
            return (text[:, None] == np.asarray(self.levels)[None, :]).astype(float)
        try:
            x = v.astype(float).ravel()
        except (TypeError, ValueError):
            raise ModelMismatchError(
                f"covariate {self.coord!r} must be numeric for encoding {self.encoding!r}; got "
                f"values like {v.ravel()[:3].tolist()}"
            ) from None
        if not np.isfinite(x).all() or (self.encoding == "log10" and (x <= 0).any()):
            need = "finite and > 0" if self.encoding == "log10" else "finite"
            raise ModelMismatchError(
                f"covariate {self.coord!r} must be {need} in every cell; got values like "
                f"{x[~np.isfinite(x) | (x <= 0)][:3].tolist()}"
            )
        return (np.log10(x) if self.encoding == "log10" else x)[:, None]


def as_covariate(item: Covariate | Mapping[str, Any]) -> Covariate:
    """A :class:`Covariate` from itself or its :meth:`Covariate.to_dict` form."""
    return item if isinstance(item, Covariate) else Covariate(**dict(item))


def parse_spec(spec: str) -> tuple[str, str]:
    """``"log10:dose"`` -> ``("dose", "log10")``; a bare name is ``"identity"``."""
    encoding, sep, coord = spec.partition(":")
    if not sep:
        encoding, coord = "identity", spec
    coord, encoding = coord.strip(), encoding.strip()
    if encoding not in ENCODINGS or not coord:
        raise ValueError(
            f"covariate spec {spec!r}: write ENCODING:COORD with ENCODING one of {ENCODINGS} "
            "(e.g. log10:dose, onehot:ligand) or a bare numeric coordinate name"
        )
    return coord, encoding


def _coord_values(ds: xr.Dataset, coord: str) -> np.ndarray:
    if coord not in ds.coords or ds[coord].dims != (CELL,):
        have = sorted(str(c) for c in ds.coords if ds[c].dims == (CELL,))
        raise ModelMismatchError(
            f"the data have no per-cell coordinate {coord!r} that the covariate needs; per-cell "
            f"coordinates: {have} (add it with ds.assign_coords({coord}=('cell', values)))"
        )
    return np.asarray(ds[coord].values)


def covariates_from_data(ds: xr.Dataset, specs: Sequence[str | Covariate]) -> tuple[Covariate, ...]:
    """Covariates for ``ENDnSDEConfig(covariates=...)`` from spec strings and training data.

    Parameters
    ----------
    ds : xarray.Dataset
        The training data; one-hot levels are its sorted distinct values of the coordinate.
    specs : sequence of str or Covariate
        ``"log10:dose"``, ``"onehot:ligand"``, ``"identity:temperature"`` or a bare name
        (identity); Covariate objects are kept as they are.

    Returns
    -------
    tuple of Covariate

    Raises
    ------
    ModelMismatchError
        A coordinate is missing or holds values the encoding cannot take.
    """
    out = []
    for spec in specs:
        if isinstance(spec, Covariate):
            out.append(spec)
            continue
        coord, encoding = parse_spec(spec)
        values = _coord_values(ds, coord)
        levels = sorted({str(v) for v in values.tolist()}) if encoding == "onehot" else ()
        cov = Covariate(coord, encoding, tuple(levels))
        cov.encode(values)  # fail now on values the encoding cannot take
        out.append(cov)
    return tuple(out)


def covariate_columns(covariates: Sequence[Covariate]) -> tuple[str, ...]:
    """All encoded column names, in order."""
    return tuple(c for cov in covariates for c in cov.columns)


def attach_covariates(covariates: Sequence[Covariate], ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the encoded covariates appended to ``theta`` (cell, param).

    Each covariate is encoded from its coordinate; a dataset without the coordinate whose
    ``theta`` already holds every encoded column (e.g. the output of ``simulate``) is used as
    it is. Existing ``theta`` columns of the same names are replaced; other parameters are
    kept. Without covariates ``ds`` is returned unchanged.

    Raises
    ------
    ModelMismatchError
        A covariate's coordinate is missing (and its columns are not in ``theta``), or holds
        values its encoding cannot take (an unknown level, a non-positive dose for log10).
    """
    if not covariates:
        return ds
    have = [str(p) for p in ds[PARAM].values] if THETA in ds else []
    blocks, names = [], []
    for cov in covariates:
        if cov.coord not in ds.coords and all(c in have for c in cov.columns):
            continue
        blocks.append(cov.encode(_coord_values(ds, cov.coord)))
        names.extend(cov.columns)
    if not blocks:
        return ds
    new = xr.DataArray(np.concatenate(blocks, 1), dims=(CELL, PARAM), coords={PARAM: names})
    if THETA in ds:
        keep = [p for p in have if p not in names]
        new = xr.concat([ds[THETA].sel({PARAM: keep}).transpose(CELL, PARAM), new], dim=PARAM)
    return ds.drop_vars([THETA, PARAM], errors="ignore").assign({THETA: new})


def encode_mapping(covariates: Sequence[Covariate], theta: Mapping[str, Any]) -> dict[str, Any]:
    """``theta=`` of :func:`cellsde.simulate` with raw covariate values replaced by columns.

    ``{"omega": 0.5, "dose": 10.0, "ligand": "TNF"}`` becomes ``{"omega": 0.5,
    "log10(dose)": 1.0, "ligand=LPS": 0.0, "ligand=TNF": 1.0, ...}`` (scalars stay scalars,
    per-cell or per-group sequences stay sequences). Encoded columns given directly are
    kept.

    Raises
    ------
    ModelMismatchError
        A covariate is given neither raw nor as all its columns, or a value is invalid.
    """
    out = dict(theta)
    for cov in covariates:
        if cov.coord not in out:
            if not all(c in out for c in cov.columns):
                raise ModelMismatchError(
                    f"the model is conditioned on covariate {cov.coord!r}; give it in theta=, "
                    f"e.g. theta={{{cov.coord!r}: ...}}"
                )
            continue
        raw = out.pop(cov.coord)
        scalar = np.ndim(raw) == 0
        cols = cov.encode(raw)  # (n, column)
        for j, name in enumerate(cov.columns):
            out[name] = float(cols[0, j]) if scalar else cols[:, j]
    return out


def describe(covariates: Sequence[Covariate]) -> str:
    """One line for logs and reports, e.g. ``log10(dose), ligand (onehot: LPS, TNF)``."""
    parts = []
    for cov in covariates:
        if cov.encoding == "onehot":
            parts.append(f"{cov.coord} (onehot: {', '.join(cov.levels)})")
        else:
            parts.append(cov.columns[0])
    return ", ".join(parts) if parts else "none"
