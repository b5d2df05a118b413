"""Subword vectors: the n-grams and hashing the graph uses, the fit against a dense ridge solve, a planted
stem family, unchanged vocabulary vectors, and the SavedModel equal to embed on any text."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cordswivel
from cordswivel.config import CooccurConfig, SubwordConfig, SwivelConfig
from cordswivel.embedding.layers import subword_rows
from cordswivel.embedding.subwords import SUBWORDS_FILE, char_ngrams, fit_subwords, ngram_buckets, ngram_hash
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ModelFormatError, OutOfVocabularyError
from cordswivel.pipeline.train import train_embeddings

WORDS = ["virus", "é", "a", "naïve", "SARS-CoV-2", "x.y", "😀ok"]


def test_ngrams_and_buckets_are_the_graphs():
    assert char_ngrams("virus") == [
        *("<vi", "vir", "iru", "rus", "us>"),
        *("<vir", "viru", "irus", "rus>"),
        *("<viru", "virus", "irus>"),
        *("<virus", "virus>"),
    ]
    assert char_ngrams("a") == ["<a>"] and char_ngrams("é", 3, 3) == ["<é>"]
    buckets, owner = ngram_buckets(WORDS, 1000)
    for k, word in enumerate(WORDS):  # the vectorised hash is the n-gram by n-gram definition
        assert sorted(buckets[owner == k]) == sorted(ngram_hash(g) % 1000 for g in char_ngrams(word))
    graph_buckets, graph_owner = (t.numpy() for t in subword_rows(tf.constant(WORDS), 1000, 3, 6))
    np.testing.assert_array_equal(graph_buckets, buckets)  # the SavedModel's graph computes the same
    np.testing.assert_array_equal(graph_owner, owner)
    assert ngram_hash("<vi") == ((ord("<") + 1) * 1_000_003**2 + (ord("v") + 1) * 1_000_003 + ord("i") + 1) % (
        2**31 - 1
    )


def test_fit_equals_a_dense_ridge_solve():
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdef"), rng.integers(2, 7))) for _ in range(60)]
    words = list(dict.fromkeys(words))
    vectors = rng.normal(size=(len(words), 5)).astype(np.float32)
    counts = rng.integers(1, 100, len(words))
    config = SubwordConfig(buckets=97, l2=0.5, weight_power=0.5, tolerance=1e-7, max_iterations=2000)
    fit = fit_subwords(words, vectors, counts, config)
    a = np.zeros((len(words), 97))  # the reference: normal equations, dense, in float64
    for k, word in enumerate(words):
        grams = [ngram_hash(g) % 97 for g in char_ngrams(word)]
        np.add.at(a[k], grams, 1 / np.sqrt(len(grams)))
    c = counts**0.5 / (counts**0.5).mean()
    expected = np.linalg.solve(a.T @ (c[:, None] * a) + 0.5 * np.eye(97), a.T @ (c[:, None] * vectors))
    np.testing.assert_allclose(fit.table.vectors, expected, atol=2e-4)
    fitted, known = fit.table.word_vectors(words)
    assert known.all()
    np.testing.assert_allclose(fitted, a @ expected, atol=2e-4)  # a word's subword vector is A_w E


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    """A corpus of topic groups: antivirals ending in -vir, conditions ending in -itis, and plain words;
    the same corpus trained with and without subwords."""
    root = tmp_path_factory.mktemp("families")
    stems = ["ab", "bel", "cor", "dan", "el", "fos", "gal", "hex", "ir", "jul", "ka", "lom"]
    groups = [
        [f"{s}avir" for s in stems] + ["antiviral", "protease", "dose"],
        [f"{s}itis" for s in stems] + ["inflammation", "swelling", "pain"],
        [f"w{k}x" for k in range(15)],
        [f"q{k}z" for k in range(15)],
    ]
    rng = random.Random(0)
    with open(root / "corpus.txt", "w") as handle:
        for _ in range(6000):
            handle.write(" ".join(rng.choices(groups[rng.randrange(4)], k=8)) + "\n")
    options = dict(
        corpus=[root / "corpus.txt"],
        cooccur_config=CooccurConfig(min_count=1, window=5),
        swivel_config=SwivelConfig(embedding_dim=16, row_updates=300),
        workers=1,
    )
    with_subwords = train_embeddings(root / "with", subword_config=SubwordConfig(buckets=4096), **options)
    without = train_embeddings(root / "without", subword_config=SubwordConfig(buckets=0), **options)
    return root, with_subwords, without, groups


def test_an_unseen_word_with_a_familys_stem_has_that_family_as_neighbours(families):
    _, model, plain, groups = families
    for unseen, family in (("novavir", groups[0]), ("zorgitis", groups[1])):
        assert unseen not in model
        neighbours = [w for w, _ in model.most_similar(unseen, 5)]
        assert sum(w in family for w in neighbours) >= 4, neighbours
        with pytest.raises(OutOfVocabularyError):
            plain.most_similar(unseen)
    assert model.similarity("novavir", "abavir") > model.similarity("novavir", "abitis")


def test_vocabulary_vectors_are_bit_identical_with_and_without_subwords(families):
    root, model, plain, _ = families
    np.testing.assert_array_equal(model.table, plain.table)
    texts = ["abavir belitis w3x", "q1z", ""]
    np.testing.assert_array_equal(model.embed(texts), plain.embed(texts))
    assert (root / "with" / SUBWORDS_FILE).exists() and not (root / "without" / SUBWORDS_FILE).exists()
    assert plain.subwords is None and "subwords" not in plain.config
    saved = cordswivel.load(root / "with").config["subwords"]
    assert saved["buckets"] == 4096 and 0 < saved["relative_error"] < 1
    oov = plain.table[-1]  # without subwords an unseen token takes the OOV row, as today
    np.testing.assert_array_equal(plain.embed(["novavir"])[0], oov)
    assert not np.array_equal(model.embed(["novavir"])[0], oov)


def test_word_pairs_cover_unseen_words_and_report_vocabulary_pairs_apart(families, tmp_path):
    _, model, plain, _ = families
    (tmp_path / "pairs.txt").write_text("abavir belavir 9\nabavir abitis 1\nnovavir abavir 9\nzorgitis abavir 1\n")
    full, partial = model.evaluate_word_pairs(tmp_path / "pairs.txt"), plain.evaluate_word_pairs(tmp_path / "pairs.txt")
    assert (full.pairs_covered, full.pairs_subword, full.pairs_total) == (4, 2, 4)
    assert (partial.pairs_covered, partial.pairs_subword) == (2, 0)
    assert full.spearman_in_vocabulary == pytest.approx(partial.spearman)
    # the unseen words sit with their families: both similar pairs above both dissimilar ones
    assert full.spearman == pytest.approx(2 / np.sqrt(5))


def test_model_files_are_checked(families, tmp_path):
    _, model, _, _ = families
    model.save(tmp_path / "m")
    np.save(tmp_path / "m" / SUBWORDS_FILE, np.zeros((4096, 16), np.float32))
    with pytest.raises(ModelFormatError, match="checksum"):
        cordswivel.load(tmp_path / "m")
    np.save(tmp_path / "m" / SUBWORDS_FILE, np.zeros((10, 16), np.float32))
    with pytest.raises(ModelFormatError, match="expected float32"):
        cordswivel.load(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["subwords"]["hash"] = "fingerprint64"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="fit them again"):  # buckets from another hash: refused
        cordswivel.load(tmp_path / "m")


FRAGMENT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6) | st.sampled_from(
    ["avir", "itis", "abavir", "novavir", " ", "-", "...", "é", "\t", "w3x"]
)
TEXT = st.lists(FRAGMENT, max_size=6).map("".join)  # unseen words, punctuation, empty strings, non-ASCII


@pytest.fixture(scope="module")
def saved_model(families, tmp_path_factory):
    import tensorflow_hub as hub

    from cordswivel.embedding.hub import export_hub_module

    _, model, _, _ = families
    path = export_hub_module(model, tmp_path_factory.mktemp("hub") / "module")
    return model, hub.load(str(path)), path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
def test_the_saved_model_equals_embed_on_any_text(saved_model, texts):
    model, module, _ = saved_model
    expected = model.embed(texts)
    got = module(tf.constant(texts)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_the_saved_model_and_layer_fine_tune_the_ngram_rows(saved_model):
    model, module, path = saved_model
    names = [v.name for v in module.trainable_variables]
    assert any(n.startswith("subwords") for n in names) and any(n.startswith("embeddings") for n in names)
    texts = ["novavir zorgitis", "abavir"]
    np.testing.assert_allclose(module(tf.constant(texts)).numpy(), model.embed(texts), rtol=1e-5, atol=1e-6)
    opened = cordswivel.load(path)  # the word matrix, not the larger n-gram table, is its vectors
    np.testing.assert_array_equal(opened.vectors, model.vectors)
    np.testing.assert_allclose(opened.embed(texts), model.embed(texts), rtol=1e-5, atol=1e-6)
    layer = model.keras_layer(trainable=True)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(tf.constant(["novavir"])) ** 2)
    gradients = dict(
        zip([v.name for v in layer.trainable_variables], tape.gradient(loss, layer.trainable_variables), strict=True)
    )
    ngram_gradient = next(g for n, g in gradients.items() if "subwords" in n)
    assert tf.math.count_nonzero(tf.convert_to_tensor(ngram_gradient)) > 0  # the unseen word's n-gram rows learn


def test_subwords_command_adds_them_to_a_model(families, tmp_path):
    from helpers import run_cli

    root, model, plain, _ = families
    result = run_cli("subwords", root / "without", "--out", tmp_path / "m2", "--buckets", 4096)
    assert result.returncode == 0, result.stderr
    again = cordswivel.load(tmp_path / "m2")
    np.testing.assert_array_equal(again.table, plain.table)
    np.testing.assert_allclose(again.subwords.vectors, model.subwords.vectors, atol=1e-6)  # the same fit
    result = run_cli("neighbors", tmp_path / "m2", "novavir", "-k", 3)
    assert "novavir (not in vocabulary: from its subwords): " in result.stdout
    assert run_cli("subwords", root / "without", "--out", tmp_path / "m3", "--buckets", -1).returncode == 2
    assert TextEmbedding.load(tmp_path / "m2").subwords.buckets == 4096
