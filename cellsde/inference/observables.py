"""Derived observables: data species formed as weighted sums of measured species.

A model may be compared with data through a combination of its species, e.g. total nuclear
NF-kB = ``NFkBn + IkBaNFkBn``. Simulated data carry the individual species; measured data
carry only the sum. :func:`derive_observables` adds the sum to data that have its parts, so
the same observable name works for both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from cellsde.datasets.schema import SPECIES, X
from cellsde.errors import ModelMismatchError


def derive_observables(
    ds: xr.Dataset,
    observables: Mapping[str, Mapping[str, float]],
    *,
    names: Sequence[str],
) -> xr.Dataset:
    """Return ``ds`` with every species in ``names`` present, computing missing ones.

    Parameters
    ----------
    ds : xarray.Dataset
        ``x`` (cell, time, species).
    observables : mapping of str to mapping of str to float
        Recipes, e.g. ``{"nfkb_nuclear": {"NFkBn": 1.0, "IkBaNFkBn": 1.0}}``: the named
        observable is the weighted sum of the listed data species (same units).
    names : sequence of str
        Species the caller needs; those already in ``ds`` are kept as they are.

    Returns
    -------
    xarray.Dataset
        ``ds`` with the missing names appended along ``species`` (NaN where any part is NaN).
    """
    have = [str(s) for s in ds[SPECIES].values]
    new = []
    for name in names:
        if name in have:
            continue
        recipe = observables.get(name)
        if recipe is None:
            raise ModelMismatchError(
                f"the data have no species {name!r} and no recipe for it; data species: {have}; "
                f"pass observables={{{name!r}: {{species: weight, ...}}}}"
            )
        lacking = sorted(set(recipe) - set(have))
        if not recipe or lacking:
            raise ModelMismatchError(
                f"observable {name!r} needs data species {lacking or '(none given)'}; "
                f"data species: {have}"
            )
        parts = ds[X].sel({SPECIES: list(recipe)})  # (cell, time, part)
        weights = xr.DataArray(np.array([float(w) for w in recipe.values()]), dims=SPECIES,
                               coords={SPECIES: list(recipe)})  # fmt: skip
        total = (parts * weights).sum(SPECIES, skipna=False)  # (cell, time)
        new.append(total.expand_dims({SPECIES: [name]}, axis=-1))
    if not new:
        return ds
    x = xr.concat([ds[X], *new], dim=SPECIES).transpose(*ds[X].dims)
    x.attrs = dict(ds[X].attrs)
    return ds.drop_vars(X).drop_dims(SPECIES, errors="ignore").assign({X: x})
