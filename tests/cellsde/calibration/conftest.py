"""Fixtures of the calibration tests."""

from __future__ import annotations

import pytest
import xarray as xr
from _receptor import synthetic


@pytest.fixture(scope="session")
def lab_data() -> xr.Dataset:
    """60 cells per dose from the known population."""
    return synthetic(60, seed=0)
