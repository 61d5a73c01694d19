"""Fixtures of the CLI tests (the helpers live in helpers_cli.py)."""

from __future__ import annotations

import pytest
from helpers_cli import make_lab


@pytest.fixture()
def lab(tmp_path):
    """(model.pt in h, data.nc in h, data_min.nc in min, bare.nc without theta in h)."""
    return make_lab(tmp_path)
