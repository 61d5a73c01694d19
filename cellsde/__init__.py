"""cellsde: heterogeneous cell populations, END-nSDE fitting, heterogeneity inference."""

from cellsde._version import __version__

__all__ = ["__version__"]
