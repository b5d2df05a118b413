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
    merge_sums,
    reduce_pair_keys,
    sum_block_keys,
    unit_weights,
)


def test_block_keys_split_values_too_big_for_their_bits():
    # word pairs (0, 1) with 10 units and (1, 1) with 3 (pair = i << 1 | j), V = 2 in one shard;
    # 2 value bits hold at most 3
    keys, starts = block_keys(np.array([1, 3]), np.array([10, 3]), 1, 1, 2, 2)
    assert starts.tolist() == [0, keys.size] and keys.size == 2 * 4 + 1
    cells, sums = sum_block_keys(np.sort(keys), 2)
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
    keys = np.empty(ids.size * (window + 1), dtype=np.int64)
    dense = np.zeros((dense_size, dense_size), dtype=np.int64)
    layout = PairKeys.layout(vocab_size, window)
    n = count_pairs(ids, lengths, lut, window, layout.id_bits, layout.d_bits, unit_weights(window), dense, keys)
    pairs, sums = reduce_pair_keys(np.sort(keys[:n]), layout.id_bits, layout.d_bits, unit_weights(window))
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
