"""The Numba kernels of co-occurrence counting and the integer keys they sort.

Counts are integers in *count units*: a pair at distance d (1 <= d <= window) weighs 1/d, which is a
whole number of units of 1/lcm(1..window) (windows above ``EXACT_WINDOW`` round 1/d to lcm(1..20)
units, a relative error < 1e-8), so sums do not depend on the order they are taken in.

Two key layouts, each defined once here:

- a *pair key* (``PairKeys``): ``(i << id_bits | j) << d_bits | d`` for word ids i <= j and distance
  d (0: a token's own occurrence, the diagonal). Sorting pair keys groups the occurrences of a pair;
- a *block key* (``block_value_bits``): ``(local_row * shard_size + local_col) << value_bits | value``
  inside one block of the sharded matrix. Sorting a block's keys orders its cells row-major.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .errors import ConfigError

EXACT_WINDOW = 20  # up to this window, 1/d is exact in count units (lcm(1..20) < 2**28)


def count_unit(window: int) -> int:
    """Count units per co-occurrence: every weight 1/d (d <= window) is a whole number of units."""
    return math.lcm(*range(1, min(window, EXACT_WINDOW) + 1))


def unit_weights(window: int) -> np.ndarray:
    """Weight of each distance 0..window in count units (distance 0: one occurrence)."""
    unit = count_unit(window)
    return np.array([unit] + [round(unit / d) for d in range(1, window + 1)], dtype=np.int64)


@dataclass(frozen=True)
class PairKeys:
    """Bit layout of the pair keys of a vocabulary and window (see the module docstring)."""

    id_bits: int  # bits of a word id
    d_bits: int  # bits of a distance 0..window

    @classmethod
    def layout(cls, vocab_size: int, window: int) -> PairKeys:
        """The layout, or a ``ConfigError`` when two ids and a distance do not fit a signed 64-bit key."""
        keys = cls(id_bits=max(1, (vocab_size - 1).bit_length()), d_bits=max(1, window.bit_length()))
        if 2 * keys.id_bits + keys.d_bits > 63:
            raise ConfigError(
                f"a vocabulary of {vocab_size:,} words with window {window} does not fit "
                f"the 64-bit pair keys; lower --max-vocab or --window"
            )
        return keys


def block_value_bits(shard_size: int) -> int:
    """Bits of a block key left for the value once the local cell index has its bits."""
    return 64 - max(1, (shard_size * shard_size - 1).bit_length())


@numba.njit(cache=True, nogil=True)
def count_pairs(ids, lengths, lut, window, id_bits, d_bits, weights, dense, keys, n_keys, unit) -> tuple[int, int]:
    """Count units into ``dense`` and ``keys`` (from ``keys[n_keys]`` on) while the next one surely fits.

    ``ids`` are token ids of consecutive units, ``lengths`` their token counts, ``lut`` maps token ids
    to word ids (-1: out of vocabulary, dropped before windowing). Word ids below ``dense.shape[0]``
    accumulate in ``dense`` (upper triangle, count units); other pairs are written to ``keys``. A unit
    of n tokens writes at most ``n * (window + 1)`` keys; counting stops before a unit that might not
    fit. ``unit`` (int64) is room for the word ids of the longest unit. Returns (keys now held, units
    counted).
    """
    dense_size = dense.shape[0]
    start = 0
    for u in range(lengths.size):
        length = lengths[u]
        if n_keys + length * (window + 1) > keys.size:
            return n_keys, u
        n = 0
        for p in range(start, start + length):
            word = lut[ids[p]]
            if word >= 0:
                unit[n] = word
                n += 1
        start += length
        for p in range(n):
            a = unit[p]
            if a < dense_size:
                dense[a, a] += weights[0]
            else:
                keys[n_keys] = ((a << id_bits) | a) << d_bits
                n_keys += 1
            for d in range(1, min(window, n - 1 - p) + 1):
                b = unit[p + d]
                i, j = (a, b) if a <= b else (b, a)
                if j < dense_size:
                    # a self-pair adds 1/d to (i, j) and to (j, i): the same cell
                    dense[i, j] += (2 if i == j else 1) * weights[d]
                else:
                    keys[n_keys] = (((i << id_bits) | j) << d_bits) | d
                    n_keys += 1
    return n_keys, lengths.size


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
def reduce_pair_keys(sorted_keys, id_bits, d_bits, weights, pairs, sums) -> int:
    """Pair keys sorted by pair -> the unique pairs ``i << id_bits | j`` in ``pairs`` and their summed
    weights (count units) in ``sums``; returns how many. ``pairs`` may be ``sorted_keys`` itself."""
    d_mask = (1 << d_bits) - 1
    id_mask = (1 << id_bits) - 1
    n = -1
    last = -1
    for k in range(sorted_keys.size):
        key = sorted_keys[k]
        pair = key >> d_bits
        d = key & d_mask
        w = weights[d] * (2 if d > 0 and (pair >> id_bits) == (pair & id_mask) else 1)  # i == j: twice
        if pair != last:
            n += 1
            pairs[n] = pair
            sums[n] = 0
            last = pair
        sums[n] += w
    return n + 1


@numba.njit(cache=True, nogil=True)
def _cell(k, pairs, sums, id_bits, id_mask, cells, flat, side) -> tuple[int, int, int]:
    """(i, j, value) of the k-th cell of ``block_keys``: the pairs first, then the dense cells."""
    if k < pairs.size:
        return pairs[k] >> id_bits, pairs[k] & id_mask, sums[k]
    c = cells[k - pairs.size]
    return c // side, c % side, flat[c]


@numba.njit(cache=True, nogil=True)
def block_keys(pairs, sums, dense, id_bits, num_shards, shard_size, value_bits) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle pairs, and the non-zero cells of ``dense`` (upper triangle only; word ids below
    its side, none of which is in ``pairs``), with their mirror images as block keys, grouped by block.

    Pair (i, j) goes to block (i % N, j % N) at local cell (i // N, j // N), and (j, i) to its
    mirror. A value too big for ``value_bits`` is split over several keys of the same cell.
    Returns (keys, block starts): block b's keys are ``keys[starts[b]:starts[b + 1]]``.
    """
    limit = (np.int64(1) << value_bits) - 1
    id_mask = (1 << id_bits) - 1
    side = dense.shape[0]
    flat = dense.ravel()
    cells = np.flatnonzero(flat)
    total = pairs.size + cells.size
    starts = np.zeros(num_shards * num_shards + 1, dtype=np.int64)
    for k in range(total):
        i, j, w = _cell(k, pairs, sums, id_bits, id_mask, cells, flat, side)
        pieces = 1 if w <= limit else 1 + (w - 1) // limit
        starts[(i % num_shards) * num_shards + j % num_shards + 1] += pieces
        if i != j:
            starts[(j % num_shards) * num_shards + i % num_shards + 1] += pieces
    for b in range(starts.size - 1):
        starts[b + 1] += starts[b]
    fill = starts[:-1].copy()
    keys = np.empty(starts[-1], dtype=np.uint64)
    shift = np.uint64(value_bits)
    for k in range(total):
        i, j, w = _cell(k, pairs, sums, id_bits, id_mask, cells, flat, side)
        for mirror in range(2 if i != j else 1):
            a, b = (i, j) if mirror == 0 else (j, i)
            block = (a % num_shards) * num_shards + b % num_shards
            cell = np.uint64((a // num_shards) * shard_size + b // num_shards) << shift
            left = w
            while left > limit:
                keys[fill[block]] = cell | np.uint64(limit)
                fill[block] += 1
                left -= limit
            keys[fill[block]] = cell | np.uint64(left)
            fill[block] += 1
    return keys, starts


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
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
