"""How a population is cut into chunks of cells, and each chunk's simulation seed.

Chunk ``i`` holds cells ``i * chunk_cells ... min((i + 1) * chunk_cells, n_cells) - 1``; its
seed is the ``i``-th child of ``numpy.random.SeedSequence(seed)`` (``spawn``), so it depends
only on the run's seed and ``i`` -- not on the number of chunks or of workers. The per-cell
parameters are drawn once for the whole population from ``seed`` itself (the same
``SeedSequence`` root, spawn key ``()``, independent of every child), so the population's
``theta`` does not depend on the chunking either; only the intrinsic-noise streams do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_CHUNK_CELLS = 1000  # cells per chunk when a client is given without chunk_cells


@dataclass(frozen=True)
class ChunkPlan:
    """The cut of ``n_cells`` cells into chunks.

    Attributes
    ----------
    n_cells : int
        Cells in the population.
    chunk_cells : int
        Cells per chunk (the last chunk may be smaller).
    seed : int
        The run's seed.
    seeds : tuple of int
        Simulation seed of each chunk, shape (chunk,), each in ``[0, 2**63)``.
    """

    n_cells: int
    chunk_cells: int
    seed: int
    seeds: tuple[int, ...]

    @property
    def n_chunks(self) -> int:
        """Number of chunks, ``ceil(n_cells / chunk_cells)``."""
        return len(self.seeds)

    def bounds(self, index: int) -> tuple[int, int]:
        """``(start, stop)`` cell indices of chunk ``index`` (stop exclusive)."""
        if not 0 <= index < self.n_chunks:
            raise IndexError(f"chunk {index} out of range; the plan has {self.n_chunks} chunks")
        start = index * self.chunk_cells
        return start, min(start + self.chunk_cells, self.n_cells)


def chunk_seeds(seed: int, n_chunks: int) -> tuple[int, ...]:
    """Seeds of ``n_chunks`` chunks from ``SeedSequence(seed).spawn(n_chunks)``.

    Child ``i`` is the same whatever ``n_chunks`` is (spawn keys are ``(i,)``).
    """
    children = np.random.SeedSequence(int(seed)).spawn(int(n_chunks))
    return tuple(int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children)


def chunk_plan(n_cells: int, chunk_cells: int, seed: int) -> ChunkPlan:
    """Cut ``n_cells`` cells into chunks of ``chunk_cells`` and give each its seed.

    Parameters
    ----------
    n_cells : int
        Cells in the population (>= 1).
    chunk_cells : int
        Cells per chunk (>= 1); values above ``n_cells`` give one chunk.
    seed : int
        The run's seed (>= 0).

    Returns
    -------
    ChunkPlan
    """
    for label, v in (("n_cells", n_cells), ("chunk_cells", chunk_cells)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{label} must be a positive int, got {v!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"a chunked run needs an int seed >= 0, got {seed!r}")
    chunk = min(int(chunk_cells), int(n_cells))
    n_chunks = -(-int(n_cells) // chunk)
    return ChunkPlan(int(n_cells), chunk, int(seed), chunk_seeds(seed, n_chunks))
