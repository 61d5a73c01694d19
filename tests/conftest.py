"""Shared test set-up.

Torch runs single-threaded in the test suite: the tensors here are small, and on a loaded
2-core machine OpenMP spin-waiting made small ops 20x slower with two threads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
# benchmark scripts import their sibling helpers (e.g. _docs) as when run as scripts
sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only shared folder beside the checkout (skips the test when absent)."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED}")
    return SHARED
