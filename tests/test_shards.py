"""The co-occurrence directory: what the writer puts there, the reader gives back, and broken ones are named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cordswivel.config import CooccurConfig
from cordswivel.counting.shards import BLOCK_DIR, CELL, CooccurrenceShards, CooccurStats, block_name, write_metadata
from cordswivel.counting.vocab import Vocabulary
from cordswivel.errors import ModelFormatError


def write_directory(root, matrix, shard_size):
    """A co-occurrence directory holding ``matrix`` (V x V), written from the format description."""
    size = matrix.shape[0]
    n = size // shard_size
    (root / BLOCK_DIR).mkdir(parents=True)
    for r in range(n):
        for c in range(n):
            block = matrix[r::n, c::n]
            rows, cols = np.nonzero(block)
            cells = np.empty(rows.size, dtype=CELL)
            cells["row"], cells["col"], cells["count"] = rows, cols, block[rows, cols]
            np.save(root / BLOCK_DIR / block_name(r, c), cells)
    Vocabulary(tuple(f"w{k}" for k in range(size)), np.arange(size, 0, -1)).save(root)
    np.save(root / "row_sums.npy", matrix.sum(axis=1))
    np.save(root / "col_sums.npy", matrix.sum(axis=0))
    stats = CooccurStats(
        tokens=10,
        units=2,
        types=size,
        vocab_size=size,
        nnz=int(np.count_nonzero(matrix)),
        total=float(matrix.sum()),
        seconds=0.5,
        skipped={"malformed JSON": 1},
    )
    write_metadata(root, CooccurConfig(shard_size=shard_size, min_count=1), n, stats, ["a.txt"])
    return stats


def test_reader_gives_back_what_was_written(tmp_path):
    rng = np.random.default_rng(0)
    matrix = np.where(rng.random((6, 6)) < 0.4, rng.integers(1, 9, (6, 6)), 0).astype(np.float32)
    stats = write_directory(tmp_path / "d", matrix, shard_size=2)
    shards = CooccurrenceShards(tmp_path / "d")
    assert shards.num_shards == 3 and shards.shard_size == 2 and shards.stats == stats
    assert shards.config == CooccurConfig(shard_size=2, min_count=1) and shards.corpus_paths == ("a.txt",)
    np.testing.assert_array_equal(shards.dense(), matrix)
    assert shards.shard_ids(1).tolist() == [1, 4]
    rows, cols, counts = shards.block(1, 2)  # words 1, 4 by words 2, 5
    np.testing.assert_array_equal(counts, matrix[np.ix_([1, 4], [2, 5])][rows, cols])


def test_broken_directories_are_named(tmp_path):
    with pytest.raises(ModelFormatError, match=r"config\.json: missing"):
        CooccurrenceShards(tmp_path)
    matrix = np.ones((4, 4), np.float32)
    write_directory(tmp_path / "d", matrix, shard_size=2)
    np.save(tmp_path / "d" / BLOCK_DIR / block_name(0, 1), np.zeros(3))
    with pytest.raises(ModelFormatError, match="expected a 1-D array"):
        CooccurrenceShards(tmp_path / "d").block(0, 1)
    np.save(tmp_path / "d" / "row_sums.npy", np.zeros(3))
    with pytest.raises(ModelFormatError, match=r"row_sums\.npy: shape \(3,\), expected \(4,\)"):
        CooccurrenceShards(tmp_path / "d")
    meta = json.loads((tmp_path / "d" / "config.json").read_text())
    (tmp_path / "d" / "config.json").write_text(json.dumps({**meta, "num_shards": 3}))
    with pytest.raises(ModelFormatError, match="vocabulary has 4 words, expected 3 shards of 2 to hold it"):
        CooccurrenceShards(tmp_path / "d")
    (tmp_path / "d" / "config.json").write_text(json.dumps({**meta, "format": "other"}))
    with pytest.raises(ModelFormatError, match="not a cordswivel co-occurrence directory"):
        CooccurrenceShards(tmp_path / "d")


def test_auto_shard_size_near_the_cheapest_row_update_with_a_bounded_number_of_block_files():
    from cordswivel.config import AUTO_MAX_SHARDS, MAX_BLOCKS
    from cordswivel.counting.shards import auto_shard_size, num_shards_of

    cases = {1: 1, 3: 4, 60: 64, 1000: 1024, 29_736: 1024, 32_768: 1024, 32_769: 2048, 135_168: 4096}
    assert {v: auto_shard_size(v) for v in cases} == cases  # 135,168 words: the published 33 x 33 layout
    for vocab_size in (10**6, 10**7):  # past 4,096 rows only to stay within the block limit
        size = auto_shard_size(vocab_size)
        assert num_shards_of(vocab_size, size) ** 2 <= MAX_BLOCKS < num_shards_of(vocab_size, size // 2) ** 2
    assert all(num_shards_of(v, auto_shard_size(v)) <= AUTO_MAX_SHARDS for v in range(1, 131_073, 997))
