"""Compressing fitted END-nSDE networks: narrow networks + dendrites vs wide networks.

Public names::

    compress(model, train, *, valid, test, widths, max_dendrites, mode, tolerance, config, seed)
        -> CompressionResult(table, best, rule, best_model, compressed, tolerance, mode)
    equal_width(config, n_parameters) -> int     width of the equal-parameter plain control
    equal_macs_width(config, macs) -> int        width of the equal-compute plain control
    plain_parameters(config, width), plain_macs(config, width), model_macs(model) -> int
"""

from cellsde.compression.candidates import (
    build_candidate,
    equal_macs_width,
    equal_width,
    model_macs,
    plain_macs,
    plain_parameters,
)
from cellsde.compression.core import KINDS, CompressionResult, compress

__all__ = [
    "KINDS",
    "CompressionResult",
    "build_candidate",
    "compress",
    "equal_macs_width",
    "equal_width",
    "model_macs",
    "plain_macs",
    "plain_parameters",
]
