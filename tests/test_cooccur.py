"""Co-occurrence counts against a brute-force pure-Python reference."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from cordswivel.config import CooccurConfig
from cordswivel.corpus.reader import open_corpus
from cordswivel.corpus.tokenizer import tokenize
from cordswivel.counting import cooccur, spills
from cordswivel.counting.cooccur import count_cooccurrences
from cordswivel.counting.shards import CooccurrenceShards, block_name
from cordswivel.errors import ConfigError

from helpers import brute_force, random_units


@pytest.mark.parametrize("seed", range(6))
def test_counts_equal_brute_force(tmp_path, seed):
    rng = random.Random(seed)
    units = random_units(rng, rng.randint(1, 120), rng.randint(5, 60))
    config = CooccurConfig(
        min_count=rng.randint(1, 4),
        window=rng.randint(1, 6),
        shard_size=rng.choice([None, 1, 2, 3, 4, 7]),
        max_vocab=rng.choice([None, 12]),
        lowercase=bool(seed % 2),
        dense_size=rng.choice([1, 3, 4096]),
    )
    corpus_file = tmp_path / "corpus.txt"
    corpus_file.write_text("\n".join(units) + "\n", encoding="utf-8")
    words, counts, expected = brute_force(
        units,
        min_count=config.min_count,
        max_vocab=config.max_vocab,
        window=config.window,
        lowercase=config.lowercase,
    )
    if not words:
        with pytest.raises(ConfigError, match="empty vocabulary"):
            count_cooccurrences(open_corpus([corpus_file]), tmp_path / "out", config, workers=1)
        return
    stats = count_cooccurrences(open_corpus([corpus_file]), tmp_path / "out", config, workers=1)
    shards = CooccurrenceShards(tmp_path / "out")
    assert list(shards.vocab.tokens) == words
    assert shards.vocab.counts.tolist() == counts
    np.testing.assert_allclose(shards.dense(), expected, rtol=1e-6, atol=1e-9)
    # sums of the stored float32 counts, so float32 precision
    np.testing.assert_allclose(shards.row_sums, expected.sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(shards.col_sums, expected.sum(axis=0), rtol=1e-6)
    assert stats.nnz == np.count_nonzero(expected)
    assert stats.tokens == sum(len(tokenize(u, config.lowercase)) for u in units)
    assert shards.shard_size == (config.shard_size or 1 << (len(words) - 1).bit_length())  # auto: one shard
    assert shards.num_shards == -(-len(words) // shards.shard_size)


def test_shard_layout_is_mod_sharding(tmp_path):
    # 8 words, shard_size 2 -> 4 shards; word id i lives in shard i % 4 at local index i // 4.
    units = [" ".join(f"w{k}" for k in range(8)) for _ in range(3)]
    (tmp_path / "c.txt").write_text("\n".join(units))
    count_cooccurrences(
        open_corpus([tmp_path / "c.txt"]),
        tmp_path / "out",
        CooccurConfig(min_count=1, window=2, shard_size=2),
        workers=1,
    )
    shards = CooccurrenceShards(tmp_path / "out")
    assert shards.num_shards == 4
    vocab = shards.vocab.tokens
    rows, cols, counts = shards.block(1, 2)  # rows: ids 1, 5; cols: ids 2, 6
    cells = {(vocab[4 * r + 1], vocab[4 * c + 2]): v for r, c, v in zip(rows, cols, counts)}
    expected = {}
    for a in (1, 5):
        for b in (2, 6):
            d = abs(int(vocab[a][1:]) - int(vocab[b][1:]))
            if d <= 2:
                expected[(vocab[a], vocab[b])] = 3.0 / d
    assert cells == pytest.approx(expected)
    assert shards.shard_ids(1).tolist() == [1, 5]


def test_windows_do_not_cross_units_and_oov_stretches(tmp_path):
    (tmp_path / "c.txt").write_text("a rare b\nc\n a b c\n", encoding="utf-8")
    count_cooccurrences(
        open_corpus([tmp_path / "c.txt"]),
        tmp_path / "out",
        CooccurConfig(min_count=2, window=1, shard_size=1),
        workers=1,
    )
    shards = CooccurrenceShards(tmp_path / "out")
    m = shards.dense()
    ids = {t: i for i, t in enumerate(shards.vocab.tokens)}
    assert set(ids) == {"a", "b", "c"}
    assert m[ids["a"], ids["b"]] == 2.0  # "rare" dropped: a and b are adjacent in unit 1
    assert m[ids["b"], ids["c"]] == 1.0  # only inside unit 3, not across units 1 and 2
    assert m[ids["a"], ids["c"]] == 0.0


def test_parallel_run_equals_single_process(tmp_path):
    rng = random.Random(7)
    for k in range(3):
        (tmp_path / f"c{k}.txt").write_text("\n".join(random_units(rng, 400, 50)), encoding="utf-8")
    (tmp_path / "d.jsonl").write_text(
        "\n".join(json.dumps({"title": u, "abstract": u[::-1]}) for u in random_units(rng, 200, 50)), encoding="utf-8"
    )
    config = CooccurConfig(min_count=2, window=4, shard_size=4, dense_size=8)
    corpus = open_corpus([tmp_path])
    count_cooccurrences(corpus, tmp_path / "one", config, workers=1)
    count_cooccurrences(corpus, tmp_path / "two", config, workers=2)
    one, two = CooccurrenceShards(tmp_path / "one"), CooccurrenceShards(tmp_path / "two")
    assert one.vocab.tokens == two.vocab.tokens
    np.testing.assert_array_equal(one.dense(), two.dense())  # integer count units: exactly equal
    assert one.stats.tokens == two.stats.tokens


def test_tiny_memory_limit_spills_and_gives_identical_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(spills.SpillReader, "OPEN", 3)  # spill files closed and opened again as merging goes
    rng = random.Random(5)
    for k in range(2):
        (tmp_path / f"c{k}.txt").write_text("\n".join(random_units(rng, 1500, 300)), encoding="utf-8")
    # one unit of about 30,000 tokens: more pair keys than the whole tight budget holds (1,024)
    (tmp_path / "c2.txt").write_text(" ".join(random_units(rng, 2000, 300)), encoding="utf-8")
    corpus = open_corpus(sorted(tmp_path.glob("c*.txt")))
    for shard_size in (4, 64):
        config = CooccurConfig(min_count=2, window=5, shard_size=shard_size)
        roomy = count_cooccurrences(corpus, tmp_path / "roomy", config, workers=2, overwrite=True)
        tight = count_cooccurrences(corpus, tmp_path / "tight", config, workers=2, memory_limit="40kB", overwrite=True)
        assert tight.spills > roomy.spills + 10  # several spills per partition
        one, two = CooccurrenceShards(tmp_path / "roomy"), CooccurrenceShards(tmp_path / "tight")
        assert one.vocab.tokens == two.vocab.tokens
        np.testing.assert_array_equal(one.dense(), two.dense())
        np.testing.assert_array_equal(one.row_sums, two.row_sums)
        assert (tight.nnz, tight.total) == (roomy.nnz, roomy.total)
    assert not list(tmp_path.glob("tight/.tokens*"))  # scratch spills are gone


def test_invalid_settings_are_rejected_before_work(tmp_path):
    (tmp_path / "c.txt").write_text("a b\n")
    for bad in (CooccurConfig(window=0), CooccurConfig(min_count=0), CooccurConfig(shard_size=-1)):
        with pytest.raises(ConfigError):
            count_cooccurrences(open_corpus([tmp_path / "c.txt"]), tmp_path / "out", bad, workers=1)
    assert not (tmp_path / "out").exists()


def test_data_errors_in_worker_processes_keep_file_and_line(tmp_path):
    import pickle

    from cordswivel.errors import CorpusError, OutOfVocabularyError

    error = pickle.loads(
        pickle.dumps(CorpusError(tmp_path / "x.jsonl", "malformed JSON", line=3, kind="malformed JSON"))
    )
    assert str(error) == f"{tmp_path / 'x.jsonl'}:3: malformed JSON" and error.kind == "malformed JSON"
    assert pickle.loads(pickle.dumps(OutOfVocabularyError("zz"))).word == "zz"
    (tmp_path / "good.txt").write_text("a b c\n" * 100)
    (tmp_path / "bad.jsonl").write_text('{"title": "a b"}\n{"title": oops\n')
    with pytest.raises(CorpusError) as info:
        count_cooccurrences(
            open_corpus([tmp_path / "good.txt", tmp_path / "bad.jsonl"]),
            tmp_path / "out",
            CooccurConfig(min_count=1, shard_size=1),
            workers=2,
        )
    assert str(info.value).startswith(f"{tmp_path / 'bad.jsonl'}:2: malformed JSON") and "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_distributed_cluster_gives_the_same_counts(tmp_path):
    distributed = pytest.importorskip("distributed")
    rng = random.Random(11)
    for k in range(3):
        (tmp_path / f"c{k}.txt").write_text("\n".join(random_units(rng, 300, 40)), encoding="utf-8")
    config = CooccurConfig(min_count=2, window=4, shard_size=4, dense_size=8)
    corpus = open_corpus(sorted(tmp_path.glob("c*.txt")))
    count_cooccurrences(corpus, tmp_path / "local", config, workers=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        stats = count_cooccurrences(corpus, tmp_path / "cluster", config, scheduler=cluster.scheduler_address)
    local, remote = CooccurrenceShards(tmp_path / "local"), CooccurrenceShards(tmp_path / "cluster")
    assert local.vocab.tokens == remote.vocab.tokens and stats.tokens == local.stats.tokens
    np.testing.assert_array_equal(local.dense(), remote.dense())
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        count_cooccurrences(corpus, tmp_path / "none", config, scheduler="tcp://127.0.0.1:1")


def test_too_many_blocks_are_refused_before_pairs_are_counted(tmp_path):
    words = [f"w{k}" for k in range(600)]
    (tmp_path / "c.txt").write_text(" ".join(words) + "\n")
    config = CooccurConfig(min_count=1, shard_size=2)  # 300 shards: 90,000 blocks
    with pytest.raises(
        ConfigError, match=r"300 shards, 90,000 block files \(at most 65,536\); use a shard size of at least 3"
    ):
        count_cooccurrences(open_corpus([tmp_path / "c.txt"]), tmp_path / "out", config, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]
    stats = count_cooccurrences(
        open_corpus([tmp_path / "c.txt"]), tmp_path / "out", CooccurConfig(min_count=1, shard_size=3), workers=1
    )
    assert stats.vocab_size == 600


def test_rounds_merge_while_they_repeat_pairs_then_spill_as_they_come(tmp_path):
    from cordswivel.counting.execution import Budget
    from cordswivel.counting.pairkeys import PairKeys, unit_weights

    layout = PairKeys.layout(vocab_size=64, window=2, shard_size=16)
    parts, weights = layout.word_parts(0), unit_weights(2)
    rng = np.random.default_rng(0)
    spill = spills.SpillFile(str(tmp_path / "task"), layout)
    summed = cooccur._SummedPairs(16, 1 << 20, spill)
    expected = np.zeros((64, 64), dtype=np.int64)
    modes = []
    for words in [8] * 3 + [64] * 3:  # rounds over 8 words repeat their pairs; over 64, mostly new ones
        x, y = rng.integers(0, words, 200), rng.integers(0, words, 200)
        swap = parts[x, 0] > parts[y, 0]  # the first word of a pair key: its (shard, local index) the smaller
        keys = np.where(swap, parts[y, 0] | parts[x, 1], parts[x, 0] | parts[y, 1]) | 1
        np.add.at(expected, (np.minimum(x, y), np.maximum(x, y)), weights[1] * np.where(x == y, 2, 1))
        summed.add_keys(keys, np.empty_like(keys), layout, weights)
        modes.append(summed.merging)
    summed.spill(np.empty(8, np.int64))
    prefix, count = spill.close()
    assert modes == [True, True, True, False, False, False] and count == 3
    (tmp_path / "blocks").mkdir()
    got = np.zeros((64, 64))
    for r in range(4):
        spills.merge_row_shard(r, [prefix], 64, 2, 16, str(tmp_path / "blocks"), Budget(1 << 20))
        for c in range(4):
            cells = np.load(tmp_path / "blocks" / block_name(r, c))
            got[cells["row"] * 4 + r, cells["col"] * 4 + c] = cells["count"]
    np.testing.assert_array_equal(np.triu(got), (expected / 2).astype(np.float32))
