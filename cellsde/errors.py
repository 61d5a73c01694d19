"""Exceptions raised by cellsde for user errors.

Each carries a message that names the problem and the fix; the CLI prints it as one line.
"""

from __future__ import annotations


class CellsdeError(ValueError):
    """Base class of user-facing errors (bad input, mismatched files, unsupported features)."""


class SchemaError(CellsdeError):
    """A dataset does not follow the cellsde data contract."""


class ImportFormatError(CellsdeError):
    """A lab file (CSV, MAT, ...) cannot be read as trajectories."""


class ModelMismatchError(CellsdeError):
    """A model and a dataset (or checkpoint) disagree on species, parameters or units."""


class CheckpointError(CellsdeError):
    """A checkpoint file is not a cellsde checkpoint, is corrupt, or would need unpickling code."""
