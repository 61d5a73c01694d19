"""Compressing fitted END-nSDE networks: narrow networks + dendrites vs wide networks.

Public names::

    compress(model, train, *, valid, widths, max_dendrites, mode, tolerance, config, seed)
        -> CompressionResult(table, best, best_model, compressed, tolerance, mode)
    equal_width(config, n_parameters) -> int     width of the equal-parameter plain control
    plain_parameters(config, width) -> int
"""

from cellsde.compression.candidates import build_candidate, equal_width, plain_parameters
from cellsde.compression.core import KINDS, CompressionResult, compress

__all__ = [
    "KINDS",
    "CompressionResult",
    "build_candidate",
    "compress",
    "equal_width",
    "plain_parameters",
]
