"""Names of the dimensions, variables and attributes of the cellsde data contract.

Every function in the toolkit refers to these constants instead of string literals, so the
schema lives in one place. See ``docs/concepts/schema.md`` for the full contract.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# Dimensions
CELL = "cell"
TIME = "time"
SPECIES = "species"
PARAM = "param"

# Variables and coordinates
X = "x"  # (cell, time, species) observed trajectories; NaN = not observed
THETA = "theta"  # (cell, param) per-cell extrinsic parameters
GROUP = "group"  # coord on (cell): population / condition a cell belongs to

X_DIMS = (CELL, TIME, SPECIES)
THETA_DIMS = (CELL, PARAM)

# Attributes
ATTR_SCHEMA_VERSION = "schema_version"
ATTR_MODEL = "model"
ATTR_METHOD = "method"
ATTR_SEED = "seed"
ATTR_TIME_UNITS = "time_units"
ATTR_VERSION = "cellsde_version"
ATTR_CONFIG = "config"
ATTR_UNITS = "units"

METHODS = ("ssa", "tau", "cle", "ode", "sde", "lattice-ssa", "measured", "endnsde")
TIME_UNITS = ("h", "min", "s", "d", "dimensionless")
ATTR_IMPORT_REPORT = "import_report"  # JSON record of a lab import (rows read, merged, discarded)

# Optional per-cell coordinates (dim cell) used by the readers of lab and public data
LIGAND = "ligand"  # stimulus name, str
DOSE = "dose"  # stimulus dose, float, in the units of DOSE_UNITS
DOSE_UNITS = "dose_units"  # str, e.g. "ng/mL"
SOURCE = "source"  # "exp" (measured) or "pred" (model simulation) in mixed datasets
