"""Spill files and the last counting pass against numpy sums of the same pairs."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.counting.execution import Budget
from cordswivel.counting.pairkeys import PairKeys
from cordswivel.counting.shards import block_name
from cordswivel.counting.spills import SpillFile, SpillReader, merge_row_shard


def random_spill(rng, layout, size):
    """Sorted unique pairs (first word first, as pair keys order them) and positive sums."""
    parts = layout.word_parts(0)
    vocab = layout.num_shards * layout.shard_size
    x, y = rng.integers(0, vocab, size), rng.integers(0, vocab, size)
    swap = parts[x, 0] > parts[y, 0]
    x, y = np.where(swap, y, x), np.where(swap, x, y)
    pairs = np.unique((parts[x, 0] | parts[y, 1]) >> layout.d_bits)
    return pairs, rng.integers(1, 1 << 54, pairs.size)  # most sums need more keys than one (52 value bits)


@pytest.mark.parametrize("batch_bytes", [48 * 256, 1 << 30])
def test_merged_blocks_equal_the_sums_of_all_spills(tmp_path, batch_bytes, monkeypatch):
    monkeypatch.setattr(SpillReader, "OPEN", 1)  # files closed and opened again as the merge goes
    rng = np.random.default_rng(batch_bytes)
    layout = PairKeys.layout(vocab_size=192, window=10, shard_size=64)  # 3 shards of 64
    expected = np.zeros((192, 192), dtype=np.int64)
    prefixes, spilled = [], 0
    for task in range(2):
        spill = SpillFile(str(tmp_path / f"task{task}"), layout)
        for _ in range(3):
            pairs, sums = random_spill(rng, layout, 2000)
            spill.write(pairs, sums, np.empty(2, np.int64))  # a tiny room: converted in pieces
            x, y = layout.words_of_pairs(pairs)
            np.add.at(expected, (x, y), sums)
            np.add.at(expected, (y, x), np.where(x == y, 0, sums))
        prefix, count = spill.close()
        prefixes.append(prefix)
        spilled += count
    assert spilled == 6
    blocks = tmp_path / "blocks"
    blocks.mkdir()
    budget = Budget(batch_bytes)  # 48 bytes a key: batches of 256 keys (the least), or all at once
    unit_sums, nnz = np.zeros((3, 64), np.int64), 0
    for r in range(3):
        path, cells = merge_row_shard(r, prefixes, 192, 10, 64, str(blocks), budget)
        unit_sums[r:] += np.load(path)
        nnz += cells
    got = np.zeros((192, 192))
    for r in range(3):
        for c in range(3):
            cells = np.load(blocks / block_name(r, c))
            assert (np.diff(cells["row"].astype(np.int64) * 64 + cells["col"]) > 0).all()  # row-major, once each
            got[cells["row"] * 3 + r, cells["col"] * 3 + c] = cells["count"]
    np.testing.assert_array_equal(got, (expected / 2520).astype(np.float32))
    assert nnz == np.count_nonzero(expected)
    assert unit_sums.T.ravel().tolist() == expected.sum(axis=1).tolist()


def test_a_truncated_spill_file_is_an_error_naming_it(tmp_path):
    layout = PairKeys.layout(vocab_size=4, window=2, shard_size=2)
    spill = SpillFile(str(tmp_path / "task"), layout)
    spill.write(*random_spill(np.random.default_rng(0), layout, 5), np.empty(8, np.int64))
    prefix, _ = spill.close()
    reader = SpillReader([prefix])
    try:
        with pytest.raises(OSError, match=r"task\.keys: truncated spill file"):
            reader.read_into(0, 0, np.empty(1000, np.int64))
    finally:
        reader.close()
