"""``cellsde demo``: the whole pipeline on an embedded example (see :mod:`cellsde.demo.run`).

Public names::

    run_demo(out, *, config, fresh, data, progress, log) -> DemoRecord
    DemoConfig (sizes; DemoConfig.small() for tests), DemoRecord
"""

from cellsde.demo.config import DemoConfig, DemoRecord
from cellsde.demo.run import run_demo

__all__ = ["DemoConfig", "DemoRecord", "run_demo"]
