"""cellsde: heterogeneous cell populations, END-nSDE fitting, heterogeneity inference."""

from cellsde._version import __version__
from cellsde.heterogeneity import sample_theta
from cellsde.simulate import simulate

__all__ = ["__version__", "sample_theta", "simulate"]
