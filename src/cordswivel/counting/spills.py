"""Spills: the partial counts of counting pass 2 on scratch files, and pass 3, which sums them
into the blocks of the co-occurrence directory (``shards``).

A counting task appends its spills to one file of block keys (``pairkeys``), the pairs of blocks
(r, c), r <= c, only; a spill's keys come block by block, each block's in cell order. Pass 3 sums
each stored block's keys of every spill and writes the block and its transpose.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path

import numpy as np

from .execution import Budget
from .pairkeys import (
    PairKeys,
    block_cells,
    block_keys,
    block_starts,
    count_unit,
    merge_sums,
    radix_sort,
    sum_block_keys,
    transpose_block_keys,
    transpose_cells,
)
from .shards import CELL, block_name


class SpillFile:
    """A counting task's spills: block keys appended to one file (``.keys``, raw uint64), and for
    each spill where each block's keys start in it (``.starts.npy``, one row per spill)."""

    def __init__(self, prefix: str, layout: PairKeys) -> None:
        self.prefix, self.layout = prefix, layout
        self.handle = open(prefix + ".keys", "wb", buffering=0)  # closed by close()
        self.written = 0
        self.starts: list[np.ndarray] = []

    def write(self, pairs: np.ndarray, sums: np.ndarray, room: np.ndarray) -> None:
        """Spill sorted pairs and their sums as block keys, converted in pieces through ``room``."""
        if not pairs.size:
            return
        layout = self.layout
        starts, most = block_starts(
            pairs, sums, layout.num_shards, layout.shard_bits, layout.cell_bits, layout.value_bits
        )
        if room.size < most:
            room = np.empty(most, dtype=np.int64)
        first = 0
        while first < pairs.size:
            first, n = block_keys(pairs, sums, first, room, layout.cell_bits, layout.value_bits)
            view = room[:n].data.cast("B")
            while view:
                view = view[self.handle.write(view) :]
        self.starts.append(starts + self.written)
        self.written += int(starts[-1])

    def close(self) -> tuple[str, int]:
        """(path prefix, number of spills)."""
        self.handle.close()
        blocks = self.layout.num_shards**2 + 1
        np.save(self.prefix + ".starts.npy", np.array(self.starts, dtype=np.int64).reshape(-1, blocks))
        return self.prefix, len(self.starts)


class SpillReader:
    """Reads ranges of the counting tasks' ``.keys`` files into arrays, keeping up to ``OPEN`` open."""

    OPEN = 256

    def __init__(self, prefixes: list[str]) -> None:
        self.paths = [p + ".keys" for p in prefixes]
        self.fds: collections.OrderedDict[int, int] = collections.OrderedDict()

    def read_into(self, k: int, first: int, out: np.ndarray) -> None:
        """Keys ``first`` to ``first + out.size`` of file ``k`` into ``out`` (8-byte keys)."""
        fd = self.fds.pop(k, None)
        if fd is None:
            if len(self.fds) >= self.OPEN:
                os.close(self.fds.popitem(last=False)[1])
            fd = os.open(self.paths[k], os.O_RDONLY)
        self.fds[k] = fd
        view, done = out.data.cast("B"), 0
        while done < view.nbytes:
            read = os.preadv(fd, [view[done:]], 8 * first + done)
            if read <= 0:
                raise OSError(f"{self.paths[k]}: truncated spill file")
            done += read

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def merge_row_shard(
    row_shard: int, spills: list[str], vocab_size: int, window: int, shard_size: int, block_dir: str, budget: Budget
) -> tuple[str, int]:
    """Pass 3 for row shard r: sum the spills' cells of each stored block (r, c), c >= r, and write
    blocks (r, c) and (c, r), the same cells transposed (a diagonal block is stored as its cells at
    or above the diagonal). Reads at most ``budget.merge_entries()`` keys at a time.

    Returns the path of the rows' sums it counted (``.npy``, int64 count units, (num_shards - r,
    shard_size): row 0 for the local rows of shard r, row c - r for those of shard c > r) and the
    number of cells written.
    """
    layout = PairKeys.layout(vocab_size, window, shard_size)
    num_shards, value_bits, unit = layout.num_shards, layout.value_bits, count_unit(window)
    stored = row_shard * num_shards + np.arange(row_shard, num_shards)  # blocks (r, c), c >= r
    begins, ends, file_of = [], [], []
    for k, prefix in enumerate(spills):
        starts = np.load(prefix + ".starts.npy", mmap_mode="r")
        begins.append(starts[:, stored])
        ends.append(starts[:, stored + 1])
        file_of += [k] * starts.shape[0]
    begin, end = np.concatenate(begins), np.concatenate(ends)
    batch = budget.merge_entries()
    row_sums = np.zeros((num_shards - row_shard, shard_size), dtype=np.int64)
    nnz = 0
    files = SpillReader(spills)
    try:
        for n, c in enumerate(range(row_shard, num_shards)):
            sizes = end[:, n] - begin[:, n]
            room = 2 if c == row_shard else 1  # a diagonal block's keys and their mirror images
            cells, sums = np.zeros(0, np.int64), np.zeros(0, np.int64)
            k = 0
            while k < len(file_of):
                # the next spills whose keys of this block fit one batch (at least one spill)
                last = k + max(1, int(np.searchsorted(np.cumsum(sizes[k:]), batch // room, "right")))
                keys = np.empty(room * int(sizes[k:last].sum()), dtype=np.int64)
                filled = 0
                for spill in range(k, last):
                    if sizes[spill]:
                        files.read_into(file_of[spill], int(begin[spill, n]), keys[filled : filled + sizes[spill]])
                        filled += int(sizes[spill])
                if c == row_shard:
                    filled = transpose_block_keys(keys, filled, layout.local_bits, value_bits, True)
                ordered = radix_sort(keys[:filled], np.empty(filled, np.int64), value_bits, 64)
                cells, sums = merge_sums(cells, sums, *sum_block_keys(ordered.view(np.uint64), value_bits))
                del keys, ordered
                k = last
            save_block(Path(block_dir) / block_name(row_shard, c), cells, sums, layout.local_bits, unit, row_sums[0])
            if c != row_shard:
                cells, sums = transpose_cells(cells, sums, layout.local_bits, shard_size)
                save_block(
                    Path(block_dir) / block_name(c, row_shard), cells, sums, layout.local_bits, unit, row_sums[n]
                )
            nnz += cells.size * (1 if c == row_shard else 2)
    finally:
        files.close()
    path = os.path.join(os.path.dirname(spills[0]), f"rows-{row_shard:04d}.npy")
    np.save(path, row_sums)
    return path, nnz


def save_block(
    path: Path, cells: np.ndarray, sums: np.ndarray, local_bits: int, unit: int, row_sums: np.ndarray
) -> None:
    """Save a block's summed cells as ``shards.CELL`` records; add its rows' sums to ``row_sums``."""
    out = np.empty(cells.size, dtype=CELL)
    block_cells(cells, sums, local_bits, unit, out["row"], out["col"], out["count"], row_sums)
    np.save(path, out, allow_pickle=False)
