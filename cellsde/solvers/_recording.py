"""Recording of piecewise-constant trajectories on an output time grid.

A stochastic solver advances each cell from event to event; between events the state is
constant. :class:`GridRecorder` keeps, per active cell, the index of the next output time and
writes the state into ``out`` (cell, time, species) when a step crosses it. Memory is
``cells x times x species`` and never grows with the number of events.

Works on numpy arrays or torch tensors (``out`` lives where the state lives).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class GridRecorder:
    """Write per-cell states at output times as the cells step past them.

    Parameters
    ----------
    times : ndarray, shape (time,)
        Strictly increasing output times; ``times[0]`` is the start (recorded by :meth:`start`).
    n_cells, n_species : int
        Output sizes.
    like : ndarray or torch.Tensor
        Array whose library, dtype and device ``out`` uses.

    Attributes
    ----------
    out : array, shape (cell, time, species)
        Recorded states (counts).
    ids : array, shape (active,)
        Original cell index of each active cell.
    g : array, shape (active,)
        Index of each active cell's next output time.
    tnext : array, shape (active,)
        That time (``inf`` once every time is recorded).
    """

    def __init__(self, times: np.ndarray, n_cells: int, n_species: int, like: Any) -> None:
        self.n_times = len(times)
        grid = np.append(times, np.inf)  # (time + 1,)
        if isinstance(like, np.ndarray):
            self.out = np.zeros((n_cells, self.n_times, n_species))
            self.grid = grid
            self.ids = np.arange(n_cells)
            self.g = np.ones(n_cells, dtype=np.int64)
            self._nonzero = np.flatnonzero
        else:
            import torch

            dev = like.device
            self.out = torch.zeros((n_cells, self.n_times, n_species), dtype=like.dtype, device=dev)
            self.grid = torch.as_tensor(grid, dtype=like.dtype, device=dev)
            self.ids = torch.arange(n_cells, device=dev)
            self.g = torch.ones(n_cells, dtype=torch.int64, device=dev)
            self._nonzero = lambda m: torch.nonzero(m).flatten()
        self.tnext = self.grid[self.g]  # (active,)

    def start(self, xs: Any) -> None:
        """Record the initial state ``xs`` (species, cell) at ``times[0]``."""
        self.out[:, 0] = xs.T

    def cross(self, t_new: Any, xs: Any, *, inclusive: bool = False) -> None:
        """Record ``xs`` (species, active) for every output time before ``t_new`` (active,).

        With ``inclusive`` an output time equal to ``t_new`` is recorded too (tau-leaping
        lands exactly on output times and records the state after the step).
        """
        hit = self._nonzero(t_new >= self.tnext if inclusive else t_new > self.tnext)
        while len(hit):
            self.out[self.ids[hit], self.g[hit]] = xs[:, hit].T
            self.g[hit] += 1
            self.tnext[hit] = self.grid[self.g[hit]]
            tn = self.tnext[hit]
            hit = hit[t_new[hit] >= tn if inclusive else t_new[hit] > tn]

    def next_after(self, t: Any) -> Any:
        """Each active cell's first output time strictly after ``t`` (active,)."""
        if isinstance(self.tnext, np.ndarray):
            later = self.grid[np.minimum(self.g + 1, len(self.grid) - 1)]
            return np.where(self.tnext > t, self.tnext, later)
        import torch

        later = self.grid[torch.clamp(self.g + 1, max=len(self.grid) - 1)]
        return torch.where(self.tnext > t, self.tnext, later)

    def done(self) -> Any:
        """Boolean (active,): every output time of the cell is recorded."""
        return self.g >= self.n_times

    def take(self, keep: Any) -> None:
        """Keep only the active cells ``keep`` (index array)."""
        self.ids, self.g, self.tnext = self.ids[keep], self.g[keep], self.tnext[keep]


class Progress:
    """Optional tqdm bar over simulated time (silent when stderr is not a terminal)."""

    def __init__(self, on: bool, times: np.ndarray) -> None:
        self.bar = None
        self.t0 = float(times[0])
        if on:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=float(times[-1] - times[0]), disable=None, unit="time")

    def update(self, t_min: float) -> None:
        if self.bar is not None:
            self.bar.n = round(min(t_min, float(self.bar.total) + self.t0) - self.t0, 6)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
