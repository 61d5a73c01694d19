"""Incremental state of many RPA–ssDNA lattices, updated event by event for all cells at once.

Design (why it is fast)
-----------------------
Each cell's lattice is a ring of ``N`` sites: ``N = L`` for periodic boundaries and
``N = L + 1`` for free ends, where site ``L`` holds a permanent one-site *wall* that never takes
part in any event. One ring code path then serves both boundaries (gaps never run through the
wall). Per cell and per site we keep, as flat ``(cells * Np,)`` views of ``(cells, Np)`` arrays
(``Np`` = ``N`` padded to whole blocks):

- ``mode``  int8  footprint (20, 30; 1 for the wall) of the protein *starting* at the site,
- ``pend``  int8  footprint of the protein *ending* at the site,
- ``gap``   int32 length of the free gap *starting* at the site (0 elsewhere),
- ``gend``  int32 length of the free gap *ending* at the site (0 elsewhere),
- ``ext``   int8  1 where a 20-mer starts whose 3′ gap has >= 10 nt (it may extend).

Every event touches O(1) sites: a gap splits or merges, and at most one neighbouring 20-mer
changes its ``ext`` flag; the neighbours are found through ``gend``/``pend`` in O(1), so there
is never a rescan of the lattice. For choosing "the k-th allowed binding start" (a gap of
length g offers ``max(0, g - 19)`` starts), "the k-th 20-mer", "the k-th extendable 20-mer" and
"the k-th 30-mer" we keep per-cell block sums of the four site weights, shape
``(cells, n_blocks)`` with blocks of ``bs ≈ sqrt(N)`` sites. Selecting is then a cumulative sum
over blocks followed by one over the sites of the chosen block: O(sqrt(N)) per event, done for
all cells of a step in a handful of numpy calls. For 5000 nt that is ~150 elements per event.
"""

from __future__ import annotations

import math

import numpy as np

F20, F30, EXTRA = 20, 30, 10
WALL = 1


def _weight_bind(g: np.ndarray) -> np.ndarray:
    return np.maximum(g.astype(np.int64) - (F20 - 1), 0)


class LatticeState:
    """Lattices of ``n_cells`` cells, all starting empty.

    Parameters
    ----------
    n_cells : int
        Number of independent lattices.
    length : int
        Lattice length L (nt), >= 20.
    periodic : bool
        Ring (True) or free ends (False).
    block : int, optional
        Block size for the selection sums; default a power of two near ``sqrt(N)``.
    """

    def __init__(self, n_cells: int, length: int, periodic: bool, *, block: int | None = None):
        self.n_cells, self.length, self.periodic = int(n_cells), int(length), bool(periodic)
        self.N = N = self.length if periodic else self.length + 1
        self.bs = bs = block or max(8, 1 << round(math.log2(math.sqrt(N))))
        self.nb = nb = -(-N // bs)
        self.Np = Np = nb * bs
        c = self.n_cells
        self.mode = np.zeros(c * Np, np.int8)
        self.pend = np.zeros(c * Np, np.int8)
        self.gap = np.zeros(c * Np, np.int32)
        self.gend = np.zeros(c * Np, np.int32)
        self.ext = np.zeros(c * Np, np.int8)
        self.blk = {k: np.zeros((c, nb), np.int64) for k in ("bind", "n20", "ext", "n30")}
        self.blk_flat = {k: v.reshape(-1) for k, v in self.blk.items()}  # views, (cells * nb,)
        self.count = {k: np.zeros(c, np.int64) for k in ("bind", "n20", "ext", "n30")}
        self.empty = np.full(c, periodic)  # periodic ring with no protein at all
        if not periodic:
            base = np.arange(c) * Np
            L = self.length
            self.mode[base + L] = WALL
            self.pend[base + L] = WALL
            self.gap[base] = L
            self.gend[base + L - 1] = L
            self.blk["bind"][:, 0] = L - F20 + 1
            self.count["bind"][:] = L - F20 + 1

    # ----------------------------------------------------------------- queries
    def binding_starts(self) -> np.ndarray:
        """Number of allowed binding starts per cell; shape (cells,)."""
        return np.where(self.empty, self.length, self.count["bind"])

    def modes(self) -> np.ndarray:
        """Footprint of the protein starting at each site (0 = none); shape (cells, L), int8."""
        m = self.mode.reshape(self.n_cells, self.Np)[:, : self.length].copy()
        return m

    # -------------------------------------------------------------- selection
    def _select(self, key, cells, k, weight):
        """Site holding unit ``k`` of class ``key`` and ``k``'s offset inside that site's weight."""
        bs, ar = self.bs, np.arange(cells.size)
        rows = self.blk[key][cells]  # (n, nb)
        cum = np.cumsum(rows, axis=1)  # (n, nb)
        b = (cum <= k[:, None]).sum(axis=1)  # (n,) block holding unit k
        k_in = k - cum[ar, b] + rows[ar, b]
        idx = (cells * self.Np + b * bs)[:, None] + np.arange(bs)  # (n, bs) flat site indices
        w = weight(idx)  # (n, bs)
        cw = np.cumsum(w, axis=1)
        j = (cw <= k_in[:, None]).sum(axis=1)
        return b * bs + j, k_in - cw[ar, j] + w[ar, j]

    def _add(self, key, cells, site, delta):
        self.blk_flat[key][cells * self.nb + site // self.bs] += delta
        self.count[key][cells] += delta

    def _set_prev_ext(self, cells, base, gap_start, new_gap):
        """Refresh ``ext`` of the 20-mer (if any) that ends right before ``gap_start``."""
        pe = (gap_start - 1) % self.N
        m = self.pend[base + pe] == F20
        if not m.any():
            return
        c, b, p = cells[m], base[m], (pe[m] - F20 + 1) % self.N
        new = (new_gap[m] >= EXTRA).astype(np.int8)
        d = new.astype(np.int64) - self.ext[b + p]
        self.ext[b + p] = new
        self._add("ext", c, p, d)

    # ----------------------------------------------------------------- events
    def bind(self, cells: np.ndarray, k: np.ndarray) -> None:
        """Bind a 20-mer at allowed start number ``k`` (0-based, uniform) in each of ``cells``."""
        emp = self.empty[cells]
        if emp.any():
            self._bind_empty(cells[emp], k[emp])
            cells, k = cells[~emp], k[~emp]
            if cells.size == 0:
                return
        N, base = self.N, cells * self.Np
        x, off = self._select("bind", cells, k, lambda i: _weight_bind(self.gap[i]))
        g = self.gap[base + x].astype(np.int64)
        s = (x + off) % N
        r = g - off - F20  # right gap length
        end_old = (x + g - 1) % N
        self.gend[base + end_old] = 0
        self.gap[base + x] = off  # left gap (0 = none)
        m = off > 0
        self.gend[(base + (x + off - 1) % N)[m]] = off[m]
        rs = (s + F20) % N
        m = r > 0
        self.gap[(base + rs)[m]] = r[m]
        self.gend[(base + end_old)[m]] = r[m]
        self.mode[base + s] = F20
        self.pend[base + (s + F20 - 1) % N] = F20
        e = (r >= EXTRA).astype(np.int8)
        self.ext[base + s] = e
        self._add("bind", cells, x, _weight_bind(off) - _weight_bind(g))
        self._add("bind", cells, rs, _weight_bind(r))
        self._add("n20", cells, s, 1)
        self._add("ext", cells, s, e.astype(np.int64))
        self._set_prev_ext(cells, base, x, off)

    def _bind_empty(self, cells, s):
        N, base, r = self.N, cells * self.Np, self.length - F20
        self.mode[base + s] = F20
        self.pend[base + (s + F20 - 1) % N] = F20
        if r > 0:
            self.gap[base + (s + F20) % N] = r
            self.gend[base + (s - 1) % N] = r
        self.ext[base + s] = int(r >= EXTRA)
        self._add("bind", cells, (s + F20) % N, max(r - F20 + 1, 0))
        self._add("n20", cells, s, 1)
        self._add("ext", cells, s, int(r >= EXTRA))
        self.empty[cells] = False

    def unbind(self, cells: np.ndarray, k: np.ndarray) -> None:
        """Remove 20-mer number ``k`` (0-based, in site order) from each of ``cells``."""
        N = self.N
        s, _ = self._select("n20", cells, k, lambda i: self.mode[i] == F20)
        if self.periodic:
            last = self.count["n20"][cells] + self.count["n30"][cells] == 1
            if last.any():
                self._unbind_last(cells[last], s[last])
                cells, s = cells[~last], s[~last]
        base = cells * self.Np
        gl = self.gend[base + (s - 1) % N].astype(np.int64)
        rs = (s + F20) % N
        gr = self.gap[base + rs].astype(np.int64)
        xl = (s - gl) % N
        new = gl + F20 + gr
        self.gend[base + (s - 1) % N] = 0
        self.gap[base + rs] = 0
        self.gap[base + xl] = new
        self.gend[base + (s + F20 - 1 + gr) % N] = new
        self.mode[base + s] = 0
        self.pend[base + (s + F20 - 1) % N] = 0
        e = self.ext[base + s].astype(np.int64)
        self.ext[base + s] = 0
        self._add("ext", cells, s, -e)
        self._add("n20", cells, s, -1)
        self._add("bind", cells, xl, _weight_bind(new) - _weight_bind(gl))
        self._add("bind", cells, rs, -_weight_bind(gr))
        self._set_prev_ext(cells, base, xl, new)

    def _unbind_last(self, cells, s):
        N, base, r = self.N, cells * self.Np, self.length - F20
        self.gap[base + (s + F20) % N] = 0
        self.gend[base + (s - 1) % N] = 0
        self.mode[base + s] = 0
        self.pend[base + (s + F20 - 1) % N] = 0
        e = self.ext[base + s].astype(np.int64)
        self.ext[base + s] = 0
        self._add("ext", cells, s, -e)
        self._add("n20", cells, s, -1)
        self._add("bind", cells, (s + F20) % N, -max(r - F20 + 1, 0))
        self.empty[cells] = True

    def extend(self, cells: np.ndarray, k: np.ndarray) -> None:
        """Extend extendable 20-mer number ``k`` to 30 nt on its 3′ side in each of ``cells``."""
        N, base = self.N, cells * self.Np
        s, _ = self._select("ext", cells, k, lambda i: self.ext[i])
        rs = (s + F20) % N
        gr = self.gap[base + rs].astype(np.int64)  # >= 10
        new = gr - EXTRA
        self.gap[base + rs] = 0
        self.gend[base + (s + F20 - 1 + gr) % N] = new
        m = new > 0
        self.gap[(base + (s + F30) % N)[m]] = new[m]
        self.mode[base + s] = F30
        self.pend[base + (s + F20 - 1) % N] = 0
        self.pend[base + (s + F30 - 1) % N] = F30
        self.ext[base + s] = 0
        self._add("ext", cells, s, -1)
        self._add("n20", cells, s, -1)
        self._add("n30", cells, s, 1)
        self._add("bind", cells, rs, -_weight_bind(gr))
        self._add("bind", cells, (s + F30) % N, _weight_bind(new))

    def shrink(self, cells: np.ndarray, k: np.ndarray) -> None:
        """Shrink 30-mer number ``k`` back to its 20-nt mode in each of ``cells``."""
        N, base = self.N, cells * self.Np
        s, _ = self._select("n30", cells, k, lambda i: self.mode[i] == F30)
        r30 = (s + F30) % N
        gr = self.gap[base + r30].astype(np.int64)
        new = gr + EXTRA
        self.gap[base + r30] = 0
        self.gap[base + (s + F20) % N] = new
        self.gend[base + (s + F30 - 1 + gr) % N] = new
        self.mode[base + s] = F20
        self.pend[base + (s + F30 - 1) % N] = 0
        self.pend[base + (s + F20 - 1) % N] = F20
        self.ext[base + s] = 1
        self._add("ext", cells, s, 1)
        self._add("n20", cells, s, 1)
        self._add("n30", cells, s, -1)
        self._add("bind", cells, r30, -_weight_bind(gr))
        self._add("bind", cells, (s + F20) % N, _weight_bind(new))

    # -------------------------------------------------------------- checking
    def check_invariants(self) -> list[str]:
        """Rebuild every derived array from ``mode`` and list the differences (empty = consistent).

        Checks: no overlapping footprints, footprints inside the lattice (free ends), gap and
        gap-end arrays, ``pend``, ``ext``, block sums and counts. O(cells * N) Python work: for
        tests and debugging only.
        """
        errors: list[str] = []
        N, Np, L = self.N, self.Np, self.length
        mode = self.mode.reshape(self.n_cells, Np)
        for c in range(self.n_cells):
            occ = np.zeros(N, np.int64)
            pend = np.zeros(Np, np.int8)
            starts = np.flatnonzero(mode[c, :N])
            for s in starts:
                f = int(mode[c, s])
                if f not in (F20, F30) and not (f == WALL and not self.periodic and s == L):
                    errors.append(f"cell {c}: bad footprint {f} at {s}")
                occ[(s + np.arange(f)) % N] += 1
                pend[(s + f - 1) % N] = f
            if occ.max(initial=0) > 1:
                errors.append(f"cell {c}: overlapping footprints")
            gap, gend = np.zeros(Np, np.int64), np.zeros(Np, np.int64)
            free = occ == 0
            if free.all():
                if not self.empty[c]:
                    errors.append(f"cell {c}: ring empty but flag not set")
            else:
                first = int(np.flatnonzero(~free)[0])
                i = 0
                while i < N:  # walk the ring starting at an occupied site
                    p = (first + i) % N
                    if free[p]:
                        g = 0
                        while i + g < N and free[(first + i + g) % N]:
                            g += 1
                        gap[p], gend[(p + g - 1) % N] = g, g
                        i += g
                    else:
                        i += 1
            ext = np.zeros(Np, np.int64)
            for s in starts[mode[c, starts] == F20]:
                ext[s] = gap[(s + F20) % N] >= EXTRA
            w = {
                "bind": np.maximum(gap - F20 + 1, 0),
                "n20": (mode[c] == F20).astype(np.int64),
                "ext": ext,
                "n30": (mode[c] == F30).astype(np.int64),
            }
            rows = slice(c * Np, (c + 1) * Np)
            for name, mine, ref in (
                ("gap", self.gap[rows], gap),
                ("gend", self.gend[rows], gend),
                ("pend", self.pend[rows], pend),
                ("ext", self.ext[rows], ext),
            ):
                if not np.array_equal(mine, ref):
                    errors.append(f"cell {c}: {name} array inconsistent")
            for key, wk in w.items():
                if not np.array_equal(self.blk[key][c], wk.reshape(self.nb, self.bs).sum(1)):
                    errors.append(f"cell {c}: block sums of {key} inconsistent")
                if self.count[key][c] != wk.sum():
                    errors.append(f"cell {c}: count of {key} inconsistent")
        return errors
