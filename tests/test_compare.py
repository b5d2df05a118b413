"""Comparing two models: Procrustes alignment, neighbour overlap, and planted drift found first."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest
from scipy.stats import ortho_group

from cordswivel.config import CooccurConfig, SwivelConfig
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ConfigError
from cordswivel.pipeline.train import train_embeddings
from cordswivel.tutorial.compare import align, drift, shared_words


def make_model(words, vectors, counts=None):
    counts = np.full(len(words), 100) if counts is None else np.asarray(counts)
    table = np.vstack([vectors, np.zeros((1, vectors.shape[1]))]).astype(np.float32)
    return TextEmbedding(Vocabulary(tuple(words), counts), table)


@pytest.fixture(scope="module")
def old():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(2000)]
    return make_model(words, rng.normal(size=(2000, 32)))


def test_alignment_recovers_a_rotation(old):
    rotation = ortho_group.rvs(32, random_state=1)
    new = make_model(old.vocab, old.vectors.astype(np.float64) @ rotation)
    result = align(old, new)
    np.testing.assert_allclose(result.rotation, rotation, atol=1e-5)
    table = drift(old, new, k=10)
    np.testing.assert_allclose(table.cosine, 1.0, atol=1e-5)
    assert (table.overlap == 1.0).all() and len(table) == 2000 and table.k == 10


def test_planted_moves_rank_first_by_either_measure(old):
    rng = np.random.default_rng(2)
    rotation = ortho_group.rvs(32, random_state=3)
    vectors = old.vectors.astype(np.float64) + rng.normal(size=old.vectors.shape) * 0.1  # a little noise
    moved = ["w17", "w400", "w1234", "w1999"]
    for word, donor in zip(moved, ["w5", "w6", "w7", "w8"], strict=True):  # take another word's place
        vectors[old.vocab.index(word)] = vectors[old.vocab.index(donor)] + rng.normal(size=32) * 0.1
    new = make_model(old.vocab, vectors @ rotation)
    table = drift(old, new)
    assert set(table.ranked("cosine").words[:4]) == set(moved)
    assert set(table.ranked("overlap").words[:4]) == set(moved)
    assert table.ranked("cosine", most_changed=False).words[-4:] == table.ranked("cosine").words[:4][::-1]


def test_shared_words_filter_by_both_counts_unless_a_model_has_none():
    rng = np.random.default_rng(4)
    a = make_model(["x", "y", "z", "only_a"], rng.normal(size=(4, 4)), [50, 30, 5, 90])
    b = make_model(["z", "y", "x", "only_b"], rng.normal(size=(4, 4)), [50, 10, 40, 90])
    assert shared_words(a, b, 20) == ["x"] and shared_words(a, b, 5) == ["z", "y", "x"]
    no_counts = make_model(["z", "y", "x"], rng.normal(size=(3, 4)), [0, 0, 0])
    assert shared_words(a, no_counts, 20) == ["y", "x"]  # only a's counts filter
    with pytest.raises(ConfigError, match="share 1 words"):
        drift(a, b, min_count=20)
    with pytest.raises(ConfigError, match="dimensions"):
        drift(a, make_model(["x", "y"], rng.normal(size=(2, 3))), min_count=0)
    with pytest.raises(ConfigError):
        drift(a, b).ranked("frequency")


def test_csv_has_a_row_per_word(tmp_path, old):
    table = drift(old, old, k=5).ranked().head(3)
    table.to_csv(tmp_path / "d.csv")
    rows = list(csv.DictReader(open(tmp_path / "d.csv")))
    assert [r["word"] for r in rows] == list(table.words)
    assert list(rows[0]) == ["word", "cosine", "overlap@5", "count_old", "count_new"]
    assert float(rows[0]["cosine"]) == pytest.approx(1.0, abs=1e-5) and rows[0]["count_new"] == "100"


def write_corpus(path, groups, seed):
    rng = random.Random(seed)
    with open(path, "w") as handle:
        for _ in range(12_000):
            group = groups[rng.randrange(len(groups))]
            handle.write(" ".join(rng.choices(group, k=8)) + "\n")


def test_drift_finds_words_that_swapped_contexts_in_trained_models(tmp_path):
    """Two corpora of 2,000 words in 100 topics; in the second, four words swap topics in pairs."""
    groups = [[f"t{g}w{k}" for k in range(20)] for g in range(100)]
    write_corpus(tmp_path / "old.txt", groups, seed=0)
    swapped = [row[:] for row in groups]
    swapped[3][0], swapped[50][0] = groups[50][0], groups[3][0]
    swapped[10][5], swapped[77][5] = groups[77][5], groups[10][5]
    write_corpus(tmp_path / "new.txt", swapped, seed=1)
    models = [
        train_embeddings(
            tmp_path / name,
            corpus=[tmp_path / f"{name}.txt"],
            cooccur_config=CooccurConfig(min_count=5, window=4),
            swivel_config=SwivelConfig(embedding_dim=128, row_updates=300),  # a dimension per topic
            workers=1,
        )
        for name in ("old", "new")
    ]
    table = drift(*models)
    assert len(table) == 2000
    planted = {"t3w0", "t50w0", "t10w5", "t77w5"}
    assert set(table.ranked("cosine").words[:4]) == planted
    assert set(table.ranked("overlap").words[:4]) == planted
