"""The counting kernels and key layouts against plain Python arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.errors import ConfigError
from cordswivel.pairkeys import (PairKeys, block_keys, block_value_bits, count_pairs, count_unit, merge_sums,
                                 reduce_pair_keys, sum_block_keys, unit_weights)


def test_block_keys_split_values_too_big_for_their_bits():
    # word pairs (0, 1) with 10 units and (1, 1) with 3 (pair = i << 1 | j), V = 2 in one shard;
    # 2 value bits hold at most 3
    keys, starts = block_keys(np.array([1, 3]), np.array([10, 3]), 1, 1, 2, 2)
    assert starts.tolist() == [0, keys.size] and keys.size == 2 * 4 + 1
    cells, sums = sum_block_keys(np.sort(keys), 2)
    assert cells.tolist() == [1, 2, 3] and sums.tolist() == [10, 10, 3]   # cells (0,1), (1,0), (1,1)
