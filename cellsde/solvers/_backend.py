"""Which backend a stochastic solver (exact SSA, tau-leaping) runs on.

Three backends share one algorithm and one random-number stream per solver:

* ``"numba"``: compiled per-cell kernels (:mod:`cellsde.solvers._kernels`) for mass-action
  networks without events or rate rules.
  numba is optional (``pip install cellsde[fast]``); its results equal the numpy backend's
  for the same seed, bit for bit.
* ``"numpy"``: the vectorised lockstep loops on the CPU; every model.
* ``"torch"``: the same loops on any torch device (``"cuda"``); models without events.

``backend="auto"`` picks torch off the CPU, else numba where it is installed and the model
is eligible, else numpy.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from cellsde.errors import CellsdeError

BACKENDS = ("auto", "numba", "numpy", "torch")


def numba_installed() -> bool:
    """True when numba can be imported (the compiled kernels are available)."""
    return importlib.util.find_spec("numba") is not None


def numba_ineligible(network: Any) -> str:
    """Why the compiled kernels cannot run ``network`` ('' when they can)."""
    if network.events or network.rate_rules:
        return "it has events or rate rules (they run on the numpy backend)"
    if not bool(network.kinetics.mass_action.all()):
        return "some rate laws are not mass action (they run on the numpy backend)"
    return ""


def choose_backend(backend: str, device: Any, network: Any, method: str) -> str:
    """The backend (``"numba"``, ``"numpy"`` or ``"torch"``) a run of ``method`` uses.

    Parameters
    ----------
    backend : {"auto", "numba", "numpy", "torch"}
        What the caller asked for.
    device : str or torch.device
        Where the run happens; anything but ``"cpu"`` means torch.
    network : ReactionNetwork
        The model (its events, rate rules and rate laws decide eligibility).
    method : str
        The solver's name, for messages.

    Raises
    ------
    CellsdeError
        For an unknown backend, numpy or numba off the CPU, numba when it is not installed
        or the model is not eligible, or torch for a model with events or rate rules.
    """
    if backend not in BACKENDS:
        raise CellsdeError(
            f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}"
        )
    on_cpu = str(device) == "cpu"
    if backend in ("numpy", "numba") and not on_cpu:
        raise CellsdeError(f"backend={backend!r} runs on the CPU only, got device={device!r}")
    hybrid = bool(network.events or network.rate_rules)
    if backend == "torch" or not on_cpu:
        if hybrid:
            raise CellsdeError(
                f"{method} with events or rate rules runs on the numpy backend; model "
                f"{network.name!r} has them, so use device='cpu' and backend='numpy' "
                f"(got device={device!r}, backend={backend!r})"
            )
        return "torch"
    why = numba_ineligible(network)
    if backend == "numba":
        if not numba_installed():
            raise CellsdeError(
                "backend='numba' needs numba; install it (pip install 'cellsde[fast]') or use "
                "backend='numpy'"
            )
        if why:
            raise CellsdeError(
                f"backend='numba' cannot run model {network.name!r}: {why}; use backend='numpy'"
            )
        return "numba"
    if backend == "auto" and not why and numba_installed():
        return "numba"
    return "numpy"
