"""The counting kernels and key layouts against plain Python arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cordswivel.counting.pairkeys import (
    PairKeys,
    block_cells,
    block_keys,
    block_starts,
    count_pairs,
    count_unit,
    dense_cells,
    dense_pairs,
    merge_in_place,
    merge_sums,
    radix_sort,
    reduce_pair_keys,
    sum_block_keys,
    transpose_block_keys,
    transpose_cells,
    unit_weights,
)
from cordswivel.errors import ConfigError


def test_block_keys_split_values_too_big_for_their_bits_and_come_block_by_block():
    # V = 4 in 2 shards of 2 (shard_bits 1, local_bits 1, cell_bits 2); 2 value bits hold at most 3.
    # pairs (sx, sy, lx, ly): (0, 0, 0, 1) with 10 units, (0, 1, 1, 0) with 3, (1, 1, 1, 1) with 4
    pairs = np.array([0b00_01, 0b01_10, 0b11_11])
    sums = np.array([10, 3, 4])
    starts, most = block_starts(pairs, sums, 2, 1, 2, 2)
    assert starts.tolist() == [0, 4, 5, 5, 7] and most == 4  # blocks (0,0) (0,1) (1,0) (1,1)
    room = np.empty(4, np.int64)  # one pair's keys at a time: a 4-key pair, then 1 + 2
    got, first = [], 0
    while first < pairs.size:
        first, n = block_keys(pairs, sums, first, room, 2, 2)
        got += room[:n].tolist()
    assert len(got) == starts[-1]
    cells, values = sum_block_keys(np.array(got, np.int64).view(np.uint64)[:4], 2)
    assert cells.tolist() == [0b01] and values.tolist() == [10]
    assert [(k >> 2, k & 3) for k in got[4:]] == [(0b10, 3), (0b11, 3), (0b11, 1)]


def test_transposed_and_mirrored_block_keys_equal_numpy():
    rng = np.random.default_rng(3)
    local_bits, value_bits = 3, 58
    rows, cols = rng.integers(0, 8, 50), rng.integers(0, 8, 50)
    values = rng.integers(1, 100, 50)
    keys = (((rows << local_bits) | cols) << value_bits) | values
    flipped = keys.copy()
    assert transpose_block_keys(flipped, keys.size, local_bits, value_bits, False) == keys.size
    assert flipped.tolist() == ((((cols << local_bits) | rows) << value_bits) | values).tolist()
    upper = np.minimum(rows, cols), np.maximum(rows, cols)
    keys = (((upper[0] << local_bits) | upper[1]) << value_bits) | values
    room = np.concatenate((keys, np.zeros_like(keys)))
    n = transpose_block_keys(room, keys.size, local_bits, value_bits, True)
    off = upper[0] != upper[1]
    mirrors = (((upper[1][off] << local_bits) | upper[0][off]) << value_bits) | values[off]
    assert sorted(room[:n].tolist()) == sorted([*keys.tolist(), *mirrors.tolist()])


def test_transpose_cells_and_block_cells_equal_numpy():
    rng = np.random.default_rng(4)
    local_bits, shard_size = 3, 6
    cells = np.unique(rng.integers(0, 6, 40) << local_bits | rng.integers(0, 6, 40))
    sums = rng.integers(1, 10**12, cells.size)
    rows, cols = cells >> local_bits, cells & 7
    got, got_sums = transpose_cells(cells, sums, local_bits, shard_size)
    order = np.lexsort((rows, cols))
    assert got.tolist() == (cols[order] << local_bits | rows[order]).tolist()
    assert got_sums.tolist() == sums[order].tolist()
    out = np.empty(cells.size, dtype=[("row", "<i4"), ("col", "<i4"), ("count", "<f4")])
    row_sums = np.zeros(shard_size, np.int64)
    block_cells(cells, sums, local_bits, 2520, out["row"], out["col"], out["count"], row_sums)
    assert out["row"].tolist() == rows.tolist() and out["col"].tolist() == cols.tolist()
    assert out["count"].tolist() == (sums / 2520).astype(np.float32).tolist()
    assert row_sums.tolist() == np.bincount(rows, weights=sums, minlength=shard_size).astype(np.int64).tolist()


def test_unit_weights_are_exact_fractions_of_the_count_unit():
    for window in (1, 5, 10, 20):
        unit = count_unit(window)
        weights = unit_weights(window)
        assert weights[0] == unit and all(weights[d] * d == unit for d in range(1, window + 1))
    assert count_unit(10) == 2520 and count_unit(30) == count_unit(20)


def test_layout_fits_64_bits_or_says_what_to_lower():
    keys = PairKeys.layout(vocab_size=135_168, window=10, shard_size=4096)  # 33 shards
    assert (keys.shard_bits, keys.local_bits, keys.d_bits, keys.pair_bits, keys.value_bits) == (6, 12, 4, 36, 40)
    one = PairKeys.layout(vocab_size=1, window=1, shard_size=1)
    assert (one.shard_bits, one.local_bits, one.d_bits) == (1, 1, 1)
    with pytest.raises(ConfigError, match="lower --max-vocab or --window"):
        PairKeys.layout(vocab_size=1 << 30, window=10, shard_size=4096)


def test_word_parts_make_pair_keys_that_sort_by_block_then_cell():
    layout = PairKeys.layout(vocab_size=15, window=3, shard_size=5)  # 3 shards
    parts = layout.word_parts(dense_side=4)
    words = np.arange(15)
    assert parts[:, 2].tolist() == [0, 1, 2, 3] + [4] * 11
    x, y = np.meshgrid(words, words, indexing="ij")
    first = np.where(parts[x, 0] <= parts[y, 0], x, y)  # the word whose (shard, local) is smaller
    second = np.where(first == x, y, x)
    keys = parts[first, 0] | parts[second, 1] | 2
    assert (keys & 3 == 2).all()
    got_x, got_y = layout.words_of_pairs(keys >> layout.d_bits)
    assert (got_x == first).all() and (got_y == second).all()
    # sorted keys: block (shard of x, shard of y), then local x, then local y
    order = np.argsort(keys.ravel())
    want = np.lexsort((second.ravel() // 3, first.ravel() // 3, second.ravel() % 3, first.ravel() % 3))
    assert keys.ravel()[order].tolist() == keys.ravel()[want].tolist()


def brute_pairs(units, window):
    """{(i, j): count units} for i <= j, written out."""
    weights, cells = unit_weights(window), {}
    for unit in units:
        for p, a in enumerate(unit):
            cells[(a, a)] = cells.get((a, a), 0) + weights[0]
            for d in range(1, window + 1):
                if p + d < len(unit):
                    i, j = sorted((a, unit[p + d]))
                    cells[(i, j)] = cells.get((i, j), 0) + weights[d] * (2 if i == j else 1)
    return cells


@pytest.mark.parametrize("dense_size", [0, 1, 3, 6])
def test_count_pairs_and_reduce_equal_brute_force(dense_size):
    rng = np.random.default_rng(dense_size)
    window, vocab_size = 3, 6
    lengths = rng.integers(0, 9, 40)
    ids = rng.integers(0, vocab_size + 2, int(lengths.sum())).astype(np.int32)  # token ids >= 6: OOV
    lut = np.array([*range(vocab_size), -1, -1], dtype=np.int64)
    dense, overflow = dense_cells(dense_size)
    layout = PairKeys.layout(vocab_size, window, shard_size=3)  # 2 shards
    parts = layout.word_parts(dense_size)
    weights = unit_weights(window)
    # a buffer too small for all units: count in rounds, as a worker does between spills
    keys = np.empty(12 * (window + 1), dtype=np.int64)
    rounds, first, offset, unit = [], 0, 0, np.empty((3, int(lengths.max())), np.int64)
    while first < lengths.size:
        n, counted = count_pairs(
            ids[offset:], lengths[first:], lut, parts, window, weights, dense, overflow, keys, 0, unit
        )
        assert counted > 0 and n <= keys.size
        rounds.append(keys[:n].copy())
        offset, first = offset + int(lengths[first : first + counted].sum()), first + counted
    assert len(rounds) > 1 or dense_size == vocab_size  # all pairs dense: no key is ever written
    ordered = np.sort(np.concatenate(rounds))
    pairs, sums = np.empty_like(ordered), np.empty_like(ordered)
    n = reduce_pair_keys(ordered, layout.shard_bits, layout.local_bits, layout.d_bits, weights, pairs, sums)
    pairs, sums = pairs[:n], sums[:n]
    x, y = layout.words_of_pairs(pairs)
    got = {tuple(sorted((int(i), int(j)))): int(s) for i, j, s in zip(x, y, sums, strict=True)}
    assert len(got) == n  # each pair once
    dense_got = dict(_dense_as_cells(dense, overflow, layout))
    assert not set(dense_got) & set(got)  # a pair is counted densely or as keys, never both
    got.update(dense_got)
    starts = np.concatenate(([0], np.cumsum(lengths)))
    units = [[int(lut[t]) for t in ids[a:b] if lut[t] >= 0] for a, b in itertools.pairwise(starts)]
    assert got == brute_pairs(units, window)


def _dense_as_cells(dense, overflow, layout):
    """{(i, j): count units}, i <= j, of the dense cells, through ``dense_pairs``."""
    pairs, sums = dense_pairs(dense, overflow, layout.num_shards, layout.shard_bits, layout.local_bits)
    x, y = layout.words_of_pairs(pairs)
    return {tuple(sorted((int(i), int(j)))): int(s) for i, j, s in zip(x, y, sums, strict=True)}


def test_dense_cells_past_uint32_move_to_the_overflow_exactly():
    # 900,000 tokens "0 0 1 0 0 1 ...": cell (0, 0) gains about 7,600 units a token, past 2**32 in all
    window, lut = 10, np.arange(2)
    ids = np.tile(np.array([0, 0, 1], dtype=np.int32), 300_000)
    layout, weights = PairKeys.layout(2, window, 1), unit_weights(window)
    dense, overflow = dense_cells(2)
    keys, unit = np.empty(ids.size * (window + 1), np.int64), np.empty((3, ids.size), np.int64)
    n, counted = count_pairs(
        ids, np.array([ids.size]), lut, layout.word_parts(2), window, weights, dense, overflow, keys, 0, unit
    )
    assert (n, counted) == (0, 1) and overflow.any()
    want = np.zeros((2, 2), dtype=np.int64)  # numpy's sums over each distance
    np.add.at(want, (ids, ids), weights[0])
    for d in range(1, window + 1):
        i, j = np.minimum(ids[:-d], ids[d:]), np.maximum(ids[:-d], ids[d:])
        np.add.at(want, (i, j), weights[d] * np.where(i == j, 2, 1))
    assert want[0, 0] > 1 << 32
    assert _dense_as_cells(dense, overflow, layout) == {(0, 0): want[0, 0], (0, 1): want[0, 1], (1, 1): want[1, 1]}


def test_merge_sums_adds_cells_found_in_both_runs():
    cells, sums = merge_sums(np.array([1, 4, 9]), np.array([1, 2, 3]), np.array([0, 4, 10]), np.array([5, 6, 7]))
    assert cells.tolist() == [0, 1, 4, 9, 10] and sums.tolist() == [5, 1, 8, 3, 7]


def test_count_pairs_stops_before_a_unit_that_might_not_fit():
    keys = np.empty(12, dtype=np.int64)
    (dense, overflow), lut, weights = dense_cells(1), np.arange(9), unit_weights(2)
    parts = PairKeys.layout(9, 2, 3).word_parts(1)
    # at most 3 keys per token at window 2: a unit of 3 tokens fits next to 2 keys held, not next to 8
    unit = np.empty((3, 3), np.int64)
    n, counted = count_pairs(
        np.arange(1, 7, dtype=np.int32), np.array([3, 3]), lut, parts, 2, weights, dense, overflow, keys, 2, unit
    )
    assert (n, counted) == (8, 1)  # 3 diagonal keys and 3 pairs of the first unit after the 2 held
    counted_now = count_pairs(
        np.arange(1, 4, dtype=np.int32), np.array([3]), lut, parts, 2, weights, dense, overflow, keys, 5, unit
    )
    assert counted_now == (5, 0)


@pytest.mark.parametrize(("low", "high"), [(0, 63), (4, 38), (40, 64), (7, 8), (5, 5)])
def test_radix_sort_orders_by_the_bits_asked_for_stably(low, high):
    rng = np.random.default_rng(low)
    if high == 64:  # the top bit set in some keys: unsigned order puts those last
        keys = rng.integers(-(1 << 63), (1 << 63) - 1, 5000, dtype=np.int64)
    else:  # bits from high up: the same in every key
        keys = rng.integers(0, 1 << high, 5000, dtype=np.int64) | (np.int64(5) << high if high < 60 else 0)
    keys[:100] = keys[100]  # repeats
    digits = (keys.view(np.uint64) >> np.uint64(low)) & np.uint64((1 << (high - low)) - 1)
    expected = keys[np.argsort(digits, kind="stable")]
    ordered = radix_sort(keys.copy(), np.empty_like(keys), low, high)
    assert ordered.tolist() == expected.tolist()
    same = np.full(300, 12345 << 20, dtype=np.int64)
    assert radix_sort(same.copy(), np.empty_like(same), 0, 40).tolist() == same.tolist()


@pytest.mark.parametrize("side", [0, 1, 5, 7])
def test_dense_pairs_are_the_dense_cells_as_sorted_pairs(side):
    rng = np.random.default_rng(side)
    layout = PairKeys.layout(vocab_size=9, window=2, shard_size=3)  # 3 shards
    matrix = np.triu(rng.integers(0, 3, (side, side))) + np.triu(rng.integers(0, 2, (side, side))) * (5 << 32)
    dense, overflow = dense_cells(side)
    for i, j in zip(*np.triu_indices(side), strict=True):  # the layout dense_cells documents
        overflow[j * (j + 1) // 2 + i], dense[j * (j + 1) // 2 + i] = divmod(int(matrix[i, j]), 1 << 32)
    overflow <<= 32
    pairs, sums = dense_pairs(dense, overflow, layout.num_shards, layout.shard_bits, layout.local_bits)
    assert (np.diff(pairs) > 0).all()
    x, y = layout.words_of_pairs(pairs)
    parts = layout.word_parts(0)
    assert (parts[x, 0] <= parts[y, 0]).all()  # each pair with its first word first
    got = {tuple(sorted((int(i), int(j)))): int(s) for i, j, s in zip(x, y, sums, strict=True)}
    assert got == {(int(i), int(j)): int(matrix[i, j]) for i, j in zip(*np.nonzero(matrix), strict=True)}


@pytest.mark.parametrize("seed", range(4))
def test_merge_in_place_sums_cells_found_in_both_runs(seed):
    rng = np.random.default_rng(seed)
    held = np.unique(rng.integers(0, 60, rng.integers(0, 40)))
    run = np.unique(rng.integers(0, 60, rng.integers(0, 40)))
    held_sums, run_sums = rng.integers(1, 9, held.size), rng.integers(1, 9, run.size)
    expected: dict[int, int] = {}
    for cell, value in [*zip(held.tolist(), held_sums.tolist()), *zip(run.tolist(), run_sums.tolist())]:
        expected[cell] = expected.get(cell, 0) + value
    room = held.size + run.size + int(rng.integers(0, 3))
    buffer_cells, buffer_sums = np.zeros(room, np.int64), np.zeros(room, np.int64)
    buffer_cells[: held.size], buffer_sums[: held.size] = held, held_sums
    n = merge_in_place(buffer_cells, buffer_sums, held.size, run, run_sums)
    assert buffer_cells[:n].tolist() == sorted(expected)
    assert buffer_sums[:n].tolist() == [expected[c] for c in sorted(expected)]
