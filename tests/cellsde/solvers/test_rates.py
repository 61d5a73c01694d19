"""check_params: the one check of a network's per-cell parameter matrix."""

from __future__ import annotations

import numpy as np
import pytest

from cellsde.errors import CellsdeError
from cellsde.solvers.rates import check_params
from models_bio import vilar2002


def test_finite_nonnegative_rates_pass_and_bad_ones_are_named():
    net = vilar2002()
    p = net.kinetics.parameter_vector(None, 3)
    assert check_params(net, p) is p
    bad = p.copy()
    bad[1, net.parameter_names.index("deltaR")] = -0.1
    with pytest.raises(CellsdeError, match=r"'deltaR' .* negative in 1 cell\(s\) \(first: cell 1"):
        check_params(net, bad)
    bad[1, 0] = np.nan
    with pytest.raises(CellsdeError, match=rf"{net.parameter_names[0]!r} is nan in cell 1"):
        check_params(net, bad)
