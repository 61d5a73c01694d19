"""Time and value units: conversions against hand-computed factors, refusals with one line."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.datasets import from_arrays
from cellsde.datasets.units import (
    canonical_units,
    check_time_units,
    match_units,
    time_factor,
    to_time_units,
    to_value_units,
    value_factor,
    value_units,
)
from cellsde.errors import CellsdeError, ModelMismatchError


def _data(units="min", values=None):
    ds = from_arrays(np.arange(6.0).reshape(1, 3, 2), times=[0.0, 30.0, 90.0],
                     species=["a", "b"], time_units=units)  # fmt: skip
    if values is not None:
        ds["x"].attrs["units"] = values
    return ds


@pytest.mark.parametrize(
    ("text", "canon"),
    [("uM", "µM"), ("µM", "µM"), ("μM", "µM"), ("micromolar", "µM"), ("nM", "nM"),
     ("molecule", "molecules"), ("counts", "molecules"), ("AU", "a.u."), ("a.u.", "a.u."),
     ("ng/mL", "ng/mL"), ("concentration", None), ("", None), (None, None), ("M", "M")],
)  # fmt: skip
def test_canonical_spellings(text, canon):
    assert canonical_units(text) == canon


def test_time_factors_are_exact_ratios():
    assert time_factor("min", "h") == pytest.approx(1 / 60)
    assert time_factor("h", "s") == 3600.0
    assert time_factor("d", "h") == 24.0
    assert time_factor("h", "h") == 1.0
    with pytest.raises(ModelMismatchError, match="dimensionless"):
        time_factor("dimensionless", "h")


def test_value_factors():
    assert value_factor("nM", "uM") == pytest.approx(1e-3)
    assert value_factor("µM", "uM") == 1.0
    assert value_factor("a.u.", "µM") is None
    assert value_factor("molecules", "nM") is None


def test_minutes_to_hours_converts_coord_and_attrs():
    ds = to_time_units(_data("min"), "h")
    np.testing.assert_allclose(ds["time"].values, [0.0, 0.5, 1.5])
    assert ds["time"].attrs["units"] == "h" and ds.attrs["time_units"] == "h"
    same = _data("h")
    assert to_time_units(same, "h") is same


def test_dimensionless_against_hours_is_refused_with_the_fix():
    with pytest.raises(ModelMismatchError, match="--time-units"):
        to_time_units(_data("dimensionless"), "h")


def test_values_convert_between_molar_units_and_refuse_others():
    ds = to_value_units(_data(values="nM"), "uM")
    np.testing.assert_allclose(ds["x"].values.ravel(), np.arange(6.0) * 1e-3)
    assert value_units(ds) == "µM"
    with pytest.raises(ModelMismatchError, match="--value-units"):
        to_value_units(_data(values="a.u."), "µM")
    unknown = _data()  # no recorded units: nothing to convert
    assert to_value_units(unknown, "µM") is unknown


def test_match_units_applies_both():
    ds = match_units(_data("min", "nM"), {"time": "h", "values": "µM"})
    assert ds["time"].attrs["units"] == "h"
    assert value_units(ds) == "µM"
    assert match_units(_data("h"), {}) is not None


def test_check_time_units_names_the_choices():
    assert check_time_units("min") == "min"
    with pytest.raises(CellsdeError, match="nothing is assumed"):
        check_time_units("hours")
