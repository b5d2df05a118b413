"""The Numba kernels of co-occurrence counting and the integer keys they sort.

Counts are integers in *count units*: a pair at distance d (1 <= d <= window) weighs 1/d, which is a
whole number of units of 1/lcm(1..window) (windows above ``EXACT_WINDOW`` round 1/d to lcm(1..20)
units, a relative error < 1e-8), so sums do not depend on the order they are taken in.

Word id w lives in shard ``w % N`` at local index ``w // N`` (N shards, format: ``shards``). Two key
layouts, each defined once here:

- a *pair key* (``PairKeys``): for words x, y (x first: its (shard, local index) is the smaller) at
  distance d (0: a token's own occurrence, the diagonal), the bits of
  ``(shard x, shard y, local x, local y, d)``, high to low. Sorting pair keys groups the
  occurrences of a pair and orders the pairs by block (r, c), r <= c, then by cell, so the summed
  pairs of a spill are already in the order of its block keys;
- a *block key*: ``(local row << local_bits | local col) << value_bits | value`` inside one block of
  the sharded matrix. Sorting a block's keys orders its cells row-major.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ..errors import ConfigError
from ..jitcache import CACHE
from .shards import num_shards_of

EXACT_WINDOW = 20  # up to this window, 1/d is exact in count units (lcm(1..20) < 2**28)


def count_unit(window: int) -> int:
    """Count units per co-occurrence: every weight 1/d (d <= window) is a whole number of units."""
    return math.lcm(*range(1, min(window, EXACT_WINDOW) + 1))


def unit_weights(window: int) -> np.ndarray:
    """Weight of each distance 0..window in count units (distance 0: one occurrence)."""
    unit = count_unit(window)
    return np.array([unit] + [round(unit / d) for d in range(1, window + 1)], dtype=np.int64)


# A dense cell holds count units as uint32 (half the cache of int64) below this; a cell that reaches
# it moves its count to the int64 overflow triangle. One addition is at most 2 * lcm(1..20) < 2**29,
# so a cell never wraps.
DENSE_LIMIT = 1 << 31


def dense_cells(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Zeroed counts of the dense matrix of the ``side`` first words, cell (i, j), i <= j, at
    ``j * (j + 1) // 2 + i`` (the lower triangle by rows: the most frequent words' cells come first,
    close together): (uint32 counts, int64 overflow), count units."""
    cells = side * (side + 1) // 2
    return np.zeros(cells, dtype=np.uint32), np.zeros(cells, dtype=np.int64)  # overflow: its pages stay untouched


@numba.njit(cache=CACHE, nogil=True)
def _triangle_side(cells) -> int:
    """The side of a triangle of ``cells`` cells (``dense_cells``)."""
    side = int(np.sqrt(2.0 * cells))
    while side * (side + 1) // 2 > cells:
        side -= 1
    while (side + 1) * (side + 2) // 2 <= cells:
        side += 1
    return side


@dataclass(frozen=True)
class PairKeys:
    """Bit layout of the pair and block keys of a sharded vocabulary and window (module docstring)."""

    num_shards: int
    shard_size: int
    window: int

    @classmethod
    def layout(cls, vocab_size: int, window: int, shard_size: int) -> PairKeys:
        """The layout, or a ``ConfigError`` when a pair and a distance do not fit a signed 64-bit key."""
        keys = cls(num_shards_of(vocab_size, shard_size), shard_size, window)
        if keys.pair_bits + keys.d_bits > 63:
            raise ConfigError(
                f"a vocabulary of {vocab_size:,} words in shards of {shard_size:,} with window {window} does not "
                f"fit the 64-bit pair keys; lower --max-vocab or --window"
            )
        return keys

    @property
    def shard_bits(self) -> int:
        return max(1, (self.num_shards - 1).bit_length())

    @property
    def local_bits(self) -> int:
        return max(1, (self.shard_size - 1).bit_length())

    @property
    def d_bits(self) -> int:
        return max(1, self.window.bit_length())

    @property
    def cell_bits(self) -> int:
        """Bits of a cell inside a block (local row, local column)."""
        return 2 * self.local_bits

    @property
    def pair_bits(self) -> int:
        return 2 * self.shard_bits + self.cell_bits

    @property
    def value_bits(self) -> int:
        """Bits of a block key left for the value."""
        return 64 - self.cell_bits

    def word_parts(self, dense_side: int) -> np.ndarray:
        """(V, 3) int64, per word id: its bits of a pair key as the first word, as the second, and its
        index in the dense matrix, the word id itself (``dense_side`` for words not counted densely).
        A pair key is ``first[x] | second[y] | d``."""
        words = np.arange(self.num_shards * self.shard_size, dtype=np.int64)
        shard, local = words % self.num_shards, words // self.num_shards
        parts = np.empty((words.size, 3), dtype=np.int64)
        parts[:, 0] = ((shard << (self.shard_bits + self.cell_bits)) | (local << self.local_bits)) << self.d_bits
        parts[:, 1] = ((shard << self.cell_bits) | local) << self.d_bits
        parts[:, 2] = np.minimum(words, dense_side)
        return parts

    def words_of_pairs(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The word ids (x, y) of pairs (pair keys without their distance bits)."""
        pairs = np.asarray(pairs, dtype=np.int64)
        block, local_mask = pairs >> self.cell_bits, (1 << self.local_bits) - 1
        shard_x, shard_y = block >> self.shard_bits, block & ((1 << self.shard_bits) - 1)
        local_x, local_y = (pairs >> self.local_bits) & local_mask, pairs & local_mask
        return local_x * self.num_shards + shard_x, local_y * self.num_shards + shard_y


@numba.njit(cache=CACHE, nogil=True)
def count_pairs(ids, lengths, lut, parts, window, weights, dense, overflow, keys, n_keys, unit) -> tuple[int, int]:
    """Count units into ``dense`` and ``keys`` (from ``keys[n_keys]`` on) while the next one surely fits.

    ``ids`` are token ids of consecutive units, ``lengths`` their token counts, ``lut`` maps token ids
    to word ids (-1: out of vocabulary, dropped before windowing), ``parts`` is
    ``PairKeys.word_parts``. Pairs of two word ids below the dense side accumulate in ``dense`` and
    ``overflow`` (``dense_cells``, count units); other pairs are written to ``keys``. A unit of n tokens
    writes at most ``n * (window + 1)`` keys; counting stops before a unit that might not fit. ``unit``
    (int64, (3, longest unit)) is room for the parts of a unit's words. Returns (keys now held, units
    counted).
    """
    side = _triangle_side(dense.size)
    limit = np.uint32(DENSE_LIMIT)
    firsts, seconds, dense_ids = unit[0], unit[1], unit[2]
    start = 0
    for u in range(lengths.size):
        length = lengths[u]
        if n_keys + length * (window + 1) > keys.size:
            return n_keys, u
        n = 0
        for p in range(start, start + length):
            word = lut[ids[p]]
            if word >= 0:
                firsts[n], seconds[n], dense_ids[n] = parts[word, 0], parts[word, 1], parts[word, 2]
                n += 1
        start += length
        for p in range(n):
            first, second, q = firsts[p], seconds[p], dense_ids[p]
            last = min(window, n - 1 - p)
            if q < side:
                row = q * (q + 1) >> 1
                count = dense[row + q] + np.uint32(weights[0])
                if count >= limit:
                    overflow[row + q] += count
                    count = np.uint32(0)
                dense[row + q] = count
                for d in range(1, last + 1):
                    r = dense_ids[p + d]
                    if r < side:
                        # a self-pair adds 1/d to (i, j) and to (j, i): the same cell
                        cell = (row + r) if r <= q else ((r * (r + 1) >> 1) + q)
                        count = dense[cell] + np.uint32((2 if r == q else 1) * weights[d])
                        if count >= limit:
                            overflow[cell] += count
                            count = np.uint32(0)
                        dense[cell] = count
                    else:
                        other, other_second = firsts[p + d], seconds[p + d]
                        keys[n_keys] = ((first | other_second) if first <= other else (other | second)) | d
                        n_keys += 1
            else:  # no pair with this word is dense; both loads before the test, for a branch-free select
                keys[n_keys] = first | second
                n_keys += 1
                for d in range(1, last + 1):
                    other, other_second = firsts[p + d], seconds[p + d]
                    keys[n_keys] = ((first | other_second) if first <= other else (other | second)) | d
                    n_keys += 1
    return n_keys, lengths.size


@numba.njit(cache=CACHE, nogil=True)
def radix_sort(keys, scratch, low, high) -> np.ndarray:
    """``keys`` (int64) ordered stably by the unsigned number in their bits ``low`` to ``high - 1``
    (bits from ``high`` up must be the same in every key).

    A least-significant-digit radix sort in passes of at most 11 bits: each key moves a few times
    instead of about log2(n) times, 5-10x faster than ``np.sort`` here. Passes whose digit is the same
    for every key are skipped. ``scratch`` must hold ``keys.size`` entries. Returns ``keys`` or
    ``scratch[:keys.size]``, whichever holds the result; the other is overwritten.
    """
    n = keys.size
    bits = high - low
    if bits <= 0 or n < 2:
        return keys
    passes = (bits + 10) // 11
    width = (bits + passes - 1) // passes
    size = 1 << width
    mask = size - 1
    counts = np.zeros((passes, size), dtype=np.int64)
    for k in range(n):
        x = keys[k] >> low
        for p in range(passes):
            counts[p, (x >> (p * width)) & mask] += 1
    src, dst = keys, scratch[:n]
    for p in range(passes):
        shift = low + p * width
        offsets = counts[p]
        if offsets[(keys[0] >> shift) & mask] == n:
            continue
        total = 0
        for b in range(size):
            count = offsets[b]
            offsets[b] = total
            total += count
        for k in range(n):
            x = src[k]
            b = (x >> shift) & mask
            dst[offsets[b]] = x
            offsets[b] += 1
        src, dst = dst, src
    return src


@numba.njit(cache=CACHE, nogil=True)
def reduce_pair_keys(sorted_keys, shard_bits, local_bits, d_bits, weights, pairs, sums) -> int:
    """Pair keys sorted by pair -> the unique pairs (keys without distance bits) in ``pairs`` and their
    summed weights (count units) in ``sums``; returns how many. ``pairs`` may be ``sorted_keys``."""
    d_mask = (1 << d_bits) - 1
    local_mask = (1 << local_bits) - 1
    shard_mask = (1 << shard_bits) - 1
    n = -1
    last = -1
    twice = 1
    for k in range(sorted_keys.size):
        key = sorted_keys[k]
        pair = key >> d_bits
        if pair != last:
            n += 1
            pairs[n] = pair
            sums[n] = 0
            last = pair
            block = pair >> (2 * local_bits)
            same = (block >> shard_bits) == (block & shard_mask) and ((pair >> local_bits) & local_mask) == (
                pair & local_mask
            )
            twice = 2 if same else 1  # a self-pair adds its weight to (i, j) and (j, i): the same cell
        d = key & d_mask
        sums[n] += weights[d] * (twice if d > 0 else 1)
    return n + 1


@numba.njit(cache=CACHE, nogil=True)
def dense_pairs(dense, overflow, num_shards, shard_bits, local_bits) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero cells of the dense matrix of the first words (``dense_cells``) as sorted pairs and
    their sums."""
    side = _triangle_side(dense.size)
    n = 0
    for c in range(dense.size):
        if dense[c] or overflow[c]:
            n += 1
    pairs, sums = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    rows = -(-side // num_shards)
    n = 0
    for shard_x in range(num_shards):  # in pair order: word x at (shard_x, local_x) <= y at (shard_y, local_y)
        for shard_y in range(shard_x, num_shards):
            block = ((shard_x << shard_bits) | shard_y) << (2 * local_bits)
            for local_x in range(rows):
                x = local_x * num_shards + shard_x
                if x >= side:
                    break
                for local_y in range(local_x if shard_x == shard_y else 0, rows):
                    y = local_y * num_shards + shard_y
                    if y >= side:
                        break
                    cell = ((y * (y + 1)) >> 1) + x if x <= y else ((x * (x + 1)) >> 1) + y
                    value = np.int64(dense[cell]) + overflow[cell]
                    if value:
                        pairs[n] = block | (local_x << local_bits) | local_y
                        sums[n] = value
                        n += 1
    return pairs, sums


@numba.njit(cache=CACHE, nogil=True)
def block_starts(pairs, sums, num_shards, shard_bits, cell_bits, value_bits) -> tuple[np.ndarray, int]:
    """Where each block's keys start among the block keys of sorted pairs (block (r, c) is number
    ``r * num_shards + c``; a value too big for ``value_bits`` takes several keys), and the most keys
    one pair takes."""
    limit = (np.int64(1) << value_bits) - 1
    shard_mask = (1 << shard_bits) - 1
    starts = np.zeros(num_shards * num_shards + 1, dtype=np.int64)
    most = 1
    for k in range(pairs.size):
        block = pairs[k] >> cell_bits
        pieces = 1 if sums[k] <= limit else 1 + (sums[k] - 1) // limit
        most = max(most, pieces)
        starts[(block >> shard_bits) * num_shards + (block & shard_mask) + 1] += pieces
    for b in range(starts.size - 1):
        starts[b + 1] += starts[b]
    return starts, most


@numba.njit(cache=CACHE, nogil=True)
def block_keys(pairs, sums, first, out, cell_bits, value_bits) -> tuple[int, int]:
    """The block keys of sorted ``pairs[first:]`` into ``out`` (int64 bits of uint64 keys) while a
    pair's keys fit (a value too big for ``value_bits`` is split over several keys of its cell);
    returns (next pair, keys written). Block by block, each block's keys come in cell order."""
    limit = (np.int64(1) << value_bits) - 1
    cell_mask = (np.int64(1) << cell_bits) - 1
    n = 0
    for k in range(first, pairs.size):
        left = sums[k]
        pieces = 1 if left <= limit else 1 + (left - 1) // limit
        if n + pieces > out.size:
            return k, n
        cell = (pairs[k] & cell_mask) << value_bits
        while left > limit:
            out[n] = cell | limit
            n += 1
            left -= limit
        out[n] = cell | left
        n += 1
    return pairs.size, n


@numba.njit(cache=CACHE, nogil=True)
def transpose_block_keys(keys, n, local_bits, value_bits, mirror) -> int:
    """The block keys ``keys[:n]`` of block (r, c) as keys of block (c, r): cell (a, b) becomes (b, a),
    in place. With ``mirror`` (a diagonal block, stored as its cells a <= b) the mirror images of the
    off-diagonal cells are appended after them instead. Returns the number of keys."""
    value_mask = (np.int64(1) << value_bits) - 1
    local_mask = (np.int64(1) << local_bits) - 1
    shift = value_bits + local_bits
    total = n
    for k in range(n):
        key = keys[k]
        a, b = (key >> shift) & local_mask, (key >> value_bits) & local_mask
        flipped = (((b << local_bits) | a) << value_bits) | (key & value_mask)
        if not mirror:
            keys[k] = flipped
        elif a != b:
            keys[total] = flipped
            total += 1
    return total


@numba.njit(cache=CACHE, nogil=True)
def transpose_cells(cells, sums, local_bits, shard_size) -> tuple[np.ndarray, np.ndarray]:
    """A block's sorted (cells, sums) as those of the transposed block, sorted: cell (a, b) becomes
    (b, a), by a stable counting sort on b."""
    local_mask = (np.int64(1) << local_bits) - 1
    starts = np.zeros(shard_size + 1, dtype=np.int64)
    for k in range(cells.size):
        starts[(cells[k] & local_mask) + 1] += 1
    for b in range(shard_size):
        starts[b + 1] += starts[b]
    out_cells, out_sums = np.empty_like(cells), np.empty_like(sums)
    for k in range(cells.size):
        a, b = cells[k] >> local_bits, cells[k] & local_mask
        out_cells[starts[b]] = (b << local_bits) | a
        out_sums[starts[b]] = sums[k]
        starts[b] += 1
    return out_cells, out_sums


@numba.njit(cache=CACHE, nogil=True)
def block_cells(cells, sums, local_bits, unit, rows, cols, counts, row_sums) -> None:
    """Summed cells into a block's columns: local row, local column and count (``sums / unit``);
    the sums also add up per local row into ``row_sums`` (count units)."""
    local_mask = (np.int64(1) << local_bits) - 1
    for k in range(cells.size):
        row = cells[k] >> local_bits
        rows[k] = row
        cols[k] = cells[k] & local_mask
        counts[k] = sums[k] / unit
        row_sums[row] += sums[k]


@numba.njit(cache=CACHE, nogil=True)
def sum_block_keys(sorted_keys, value_bits) -> tuple[np.ndarray, np.ndarray]:
    """Sorted block keys -> (unique local cell indices, summed values)."""
    shift = np.uint64(value_bits)
    mask = (np.uint64(1) << shift) - np.uint64(1)
    cells = np.empty(sorted_keys.size, dtype=np.int64)
    sums = np.empty(sorted_keys.size, dtype=np.int64)
    n = -1
    for k in range(sorted_keys.size):
        cell = np.int64(sorted_keys[k] >> shift)
        if n < 0 or cell != cells[n]:
            n += 1
            cells[n] = cell
            sums[n] = 0
        sums[n] += np.int64(sorted_keys[k] & mask)
    return cells[: n + 1], sums[: n + 1]


@numba.njit(cache=CACHE, nogil=True)
def merge_in_place(cells, sums, size, run_cells, run_sums) -> int:
    """Merge a sorted (cells, sums) run into the sorted ``cells[:size]``, ``sums[:size]``, summing cells
    found in both, without a second buffer; returns the new size. The arrays must hold
    ``size + run_cells.size`` entries.

    The merge runs from the end (so it never overwrites what it has still to read); each cell found
    in both leaves a gap of one entry, closed by moving the merged part down.
    """
    p, q, w = size - 1, run_cells.size - 1, size + run_cells.size - 1
    while q >= 0:
        if p >= 0 and cells[p] > run_cells[q]:
            cells[w], sums[w] = cells[p], sums[p]
            p -= 1
        elif p >= 0 and cells[p] == run_cells[q]:
            cells[w], sums[w] = cells[p], sums[p] + run_sums[q]
            p -= 1
            q -= 1
        else:
            cells[w], sums[w] = run_cells[q], run_sums[q]
            q -= 1
        w -= 1
    gap = w - p  # cells[:p + 1] are in place; the merged part starts at w + 1
    end = size + run_cells.size
    if gap:
        for k in range(w + 1, end):
            cells[k - gap], sums[k - gap] = cells[k], sums[k]
    return end - gap


@numba.njit(cache=CACHE, nogil=True)
def merge_sums(cells_a, sums_a, cells_b, sums_b) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted (cells, sums) runs -> one, summing cells found in both."""
    cells = np.empty(cells_a.size + cells_b.size, dtype=np.int64)
    sums = np.empty(cells.size, dtype=np.int64)
    p = q = n = 0
    while p < cells_a.size and q < cells_b.size:
        if cells_a[p] < cells_b[q]:
            cells[n], sums[n] = cells_a[p], sums_a[p]
            p += 1
        elif cells_b[q] < cells_a[p]:
            cells[n], sums[n] = cells_b[q], sums_b[q]
            q += 1
        else:
            cells[n], sums[n] = cells_a[p], sums_a[p] + sums_b[q]
            p += 1
            q += 1
        n += 1
    for k in range(p, cells_a.size):
        cells[n], sums[n] = cells_a[k], sums_a[k]
        n += 1
    for k in range(q, cells_b.size):
        cells[n], sums[n] = cells_b[k], sums_b[k]
        n += 1
    return cells[:n], sums[:n]
