"""The counting kernels and key layouts against plain Python arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cordswivel.errors import ConfigError
from cordswivel.pairkeys import (
    PairKeys,
    block_keys,
    block_value_bits,
    count_pairs,
    count_unit,
    merge_in_place,
    merge_sums,
    radix_sort,
    reduce_pair_keys,
    sum_block_keys,
    unit_weights,
)


def test_block_keys_split_values_too_big_for_their_bits():
    # word pairs (0, 1) with 10 units and (1, 1) with 3 (pair = i << 1 | j), V = 2 in one shard;
    # 2 value bits hold at most 3
    keys, starts = block_keys(np.array([1, 3]), np.array([10, 3]), np.zeros((0, 0), np.int64), 1, 1, 2, 2)
    assert starts.tolist() == [0, keys.size] and keys.size == 2 * 4 + 1
    cells, sums = sum_block_keys(np.sort(keys), 2)
    assert keys.dtype == np.uint64
    assert cells.tolist() == [1, 2, 3] and sums.tolist() == [10, 10, 3]  # cells (0,1), (1,0), (1,1)


def test_unit_weights_are_exact_fractions_of_the_count_unit():
    for window in (1, 5, 10, 20):
        unit = count_unit(window)
        weights = unit_weights(window)
        assert weights[0] == unit and all(weights[d] * d == unit for d in range(1, window + 1))
    assert count_unit(10) == 2520 and count_unit(30) == count_unit(20)


def test_layout_fits_64_bits_or_says_what_to_lower():
    keys = PairKeys.layout(vocab_size=135_168, window=10)
    assert (keys.id_bits, keys.d_bits) == (18, 4)
    assert PairKeys.layout(vocab_size=1, window=1) == PairKeys(1, 1)
    with pytest.raises(ConfigError, match="lower --max-vocab or --window"):
        PairKeys.layout(vocab_size=1 << 30, window=10)
    assert block_value_bits(4096) == 40 and block_value_bits(1) == 63


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


@pytest.mark.parametrize("dense_size", [1, 3, 6])
def test_count_pairs_and_reduce_equal_brute_force(dense_size):
    rng = np.random.default_rng(dense_size)
    window, vocab_size = 3, 6
    lengths = rng.integers(0, 9, 40)
    ids = rng.integers(0, vocab_size + 2, int(lengths.sum())).astype(np.int32)  # token ids >= 6: OOV
    lut = np.array([*range(vocab_size), -1, -1], dtype=np.int64)
    dense = np.zeros((dense_size, dense_size), dtype=np.int64)
    layout = PairKeys.layout(vocab_size, window)
    weights = unit_weights(window)
    # a buffer too small for all units: count in rounds, as a worker does between spills
    keys = np.empty(12 * (window + 1), dtype=np.int64)
    rounds, first, offset, unit = [], 0, 0, np.empty(int(lengths.max()), np.int64)
    while first < lengths.size:
        n, counted = count_pairs(
            ids[offset:], lengths[first:], lut, window, layout.id_bits, layout.d_bits, weights, dense, keys, 0, unit
        )
        assert counted > 0 and n <= keys.size
        rounds.append(keys[:n].copy())
        offset, first = offset + int(lengths[first : first + counted].sum()), first + counted
    assert len(rounds) > 1 or dense_size == vocab_size  # all pairs dense: no key is ever written
    ordered = np.sort(np.concatenate(rounds))
    pairs, sums = np.empty_like(ordered), np.empty_like(ordered)
    n = reduce_pair_keys(ordered, layout.id_bits, layout.d_bits, weights, pairs, sums)
    pairs, sums = pairs[:n], sums[:n]
    got = {
        (int(p) >> layout.id_bits, int(p) & ((1 << layout.id_bits) - 1)): int(s)
        for p, s in zip(pairs, sums, strict=True)
    }
    got.update({(int(i), int(j)): int(dense[i, j]) for i, j in zip(*np.nonzero(dense), strict=True)})
    starts = np.concatenate(([0], np.cumsum(lengths)))
    units = [[int(lut[t]) for t in ids[a:b] if lut[t] >= 0] for a, b in itertools.pairwise(starts)]
    assert got == brute_pairs(units, window)


def test_merge_sums_adds_cells_found_in_both_runs():
    cells, sums = merge_sums(np.array([1, 4, 9]), np.array([1, 2, 3]), np.array([0, 4, 10]), np.array([5, 6, 7]))
    assert cells.tolist() == [0, 1, 4, 9, 10] and sums.tolist() == [5, 1, 8, 3, 7]


def test_count_pairs_stops_before_a_unit_that_might_not_fit():
    keys = np.empty(12, dtype=np.int64)
    dense, lut, weights = np.zeros((1, 1), np.int64), np.arange(9), unit_weights(2)
    # at most 3 keys per token at window 2: a unit of 3 tokens fits next to 2 keys held, not next to 8
    unit = np.empty(3, np.int64)
    n, counted = count_pairs(
        np.arange(1, 7, dtype=np.int32), np.array([3, 3]), lut, 2, 4, 2, weights, dense, keys, 2, unit
    )
    assert (n, counted) == (8, 1)  # 3 diagonal keys and 3 pairs of the first unit after the 2 held
    counted_now = count_pairs(
        np.arange(1, 4, dtype=np.int32), np.array([3]), lut, 2, 4, 2, weights, dense, keys, 5, unit
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


def test_block_keys_take_dense_cells_as_pairs():
    # V = 6 in 2 shards (N = 2, shard size 3), id_bits 3; words 0-1 counted densely
    dense = np.array([[5, 2], [0, 7]], dtype=np.int64)  # cells (0, 0), (0, 1), (1, 1); (1, 0) unused
    pairs, sums = np.array([(0 << 3) | 4, (3 << 3) | 5]), np.array([1, 9])
    got, starts = block_keys(pairs, sums, dense, 3, 2, 3, block_value_bits(3))
    as_pairs = np.array([(0 << 3) | 0, (0 << 3) | 1, (1 << 3) | 1, *pairs])
    want, want_starts = block_keys(as_pairs, np.array([5, 2, 7, *sums]), np.zeros((0, 0), np.int64), 3, 2, 3, 60)
    assert starts.tolist() == want_starts.tolist()
    for b in range(4):
        assert sorted(got[starts[b] : starts[b + 1]].tolist()) == sorted(want[starts[b] : starts[b + 1]].tolist())


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
