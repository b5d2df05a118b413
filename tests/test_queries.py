"""Analogies, candidate rankings and set queries against brute-force NumPy, and against gensim where installed."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ConfigError, OutOfVocabularyError


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(300)] + ["Drug", "drug", "spike", "protein"]
    table = rng.normal(size=(len(words) + 1, 16)).astype(np.float32)
    table[-1] = 0  # the OOV row, as training leaves it
    return TextEmbedding(Vocabulary(words, np.arange(len(words), 0, -1)), table)


def unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def brute_add(model, positive, negative, k, exclude=()):
    """gensim's 3CosAdd in float64: unit mean of unit vectors, cosine with every word, inputs excluded."""
    v = model.vectors.astype(np.float64)
    rows = {w: unit(v[model.vocab.index(w)]) for w in [*positive, *negative]}
    mean = unit(sum(rows[w] for w in positive) - sum(rows[w] for w in negative))
    cos = unit(v) @ mean
    banned = {model.vocab.index(w) for w in [*positive, *negative, *exclude]}
    order = [i for i in np.argsort(-cos, kind="stable") if i not in banned][:k]
    return [model.vocab[i] for i in order], cos[order]


def test_most_similar_3cosadd_equals_brute_force(model):
    words, scores = brute_add(model, ["w1", "w2"], ["w3"], 7)
    result = model.most_similar(positive=["w1", "w2"], negative=["w3"], k=7)
    assert [w for w, _ in result] == words
    np.testing.assert_allclose([s for _, s in result], scores, atol=1e-5)


def test_most_similar_of_one_word_is_its_neighbours(model):
    words, _ = brute_add(model, ["w5"], [], 5)
    assert [w for w, _ in model.most_similar("w5", 5)] == words  # the old call, k positional
    assert [w for w, _ in model.most_similar(positive=["w5"], k=5)] == words


def test_most_similar_cosmul_equals_brute_force(model):
    v = unit(model.vectors)
    shifted = {w: (1 + v @ v[model.vocab.index(w)]) / 2 for w in ("w1", "w2", "w3")}
    score = shifted["w1"] * shifted["w2"] / (shifted["w3"] + 1e-6)
    order = [i for i in np.argsort(-score) if model.vocab[i] not in ("w1", "w2", "w3")][:6]
    result = model.most_similar_cosmul(positive=["w1", "w2"], negative=["w3"], k=6)
    assert [w for w, _ in result] == [model.vocab[i] for i in order]
    np.testing.assert_allclose([s for _, s in result], score[order], rtol=1e-5)


def test_restrict_vocab_answers_only_from_the_first_words(model):
    result = model.most_similar(positive=["w1", "w2"], negative=["w250"], k=5, restrict_vocab=50)
    v = model.vectors.astype(np.float64)
    mean = unit(unit(v[1]) + unit(v[2]) - unit(v[250]))
    cos = unit(v[:50]) @ mean
    expected = [model.vocab[i] for i in np.argsort(-cos) if i not in (1, 2)][:5]
    assert [w for w, _ in result] == expected


def test_candidates_restrict_answers_and_phrases_use_embed(model):
    candidates = ["w7", "spike protein", "w9", "Drug", "w1", "unknownname", "w7"]
    result = model.most_similar(positive=["w1", "w2"], negative=["w3"], k=10, candidates=candidates)
    v = model.vectors.astype(np.float64)
    mean = unit(unit(v[1]) + unit(v[2]) - unit(v[3]))
    phrase = model.embed(["spike protein"])[0]
    expected = {"w7": unit(v[7]) @ mean, "spike protein": unit(phrase) @ mean, "w9": unit(v[9]) @ mean}
    expected["Drug"] = unit(v[model.vocab.index("Drug")]) @ mean
    ranked = sorted(expected, key=lambda t: -expected[t])
    assert [w for w, _ in result] == ranked  # the query's w1 and the unknown name left out, w7 once
    np.testing.assert_allclose([s for _, s in result], [expected[t] for t in ranked], atol=1e-5)
    ranking = model.rank(["w1", "w2"], candidates, negative=["w3"])
    assert list(ranking.terms) == ranked and ranking.missing == ("unknownname",)
    assert [r[0] for r in ranking.rows()] == [1, 2, 3, 4]


def test_similar_by_vector_excludes_nothing(model):
    target = model["w4"] * 3
    result = model.similar_by_vector(target, k=3)
    cos = unit(model.vectors) @ unit(target)
    assert result[0][0] == "w4"
    assert [w for w, _ in result] == [model.vocab[i] for i in np.argsort(-cos)[:3]]


def test_doesnt_match_and_n_similarity(model):
    words = ["w1", "w2", "w3", "w4", "unknown"]
    v = unit(model.vectors[[1, 2, 3, 4]])
    assert model.doesnt_match(words) == ["w1", "w2", "w3", "w4"][int(np.argmin(v @ unit(v.mean(axis=0))))]
    raw = model.vectors.astype(np.float64)
    expected = unit(raw[[1, 2]].mean(axis=0)) @ unit(raw[[5, 6, 7]].mean(axis=0))
    assert model.n_similarity(["w1", "w2"], ["w5", "w6", "w7"]) == pytest.approx(expected, abs=1e-6)


def test_unknown_terms_and_bad_arguments(model):
    with pytest.raises(OutOfVocabularyError):
        model.most_similar(positive=["w1", "nothing here"])
    assert model.most_similar(positive=["w1 unseen"], k=1)  # a phrase with one known token is a term
    for bad in (0, -1, True, "3", ["w3"]):
        with pytest.raises(ConfigError):
            model.most_similar("w1", bad)
    with pytest.raises(ConfigError):
        model.most_similar()
    with pytest.raises(ConfigError):
        model.most_similar_cosmul(negative=["w1"])
    with pytest.raises(ConfigError):
        model.rank(["w1"], "w2")  # one string is not a list of candidates
    with pytest.raises(ConfigError):
        model.doesnt_match(["unknown"])


def test_queries_equal_gensims(model):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(model.embedding_dim)
    kv.add_vectors(list(model.vocab), model.vectors)
    for ours, theirs in (
        (model.most_similar(positive=["w1", "w2"], negative=["w3"], k=10), kv.most_similar(["w1", "w2"], ["w3"], 10)),
        (model.most_similar("Drug", 10), kv.most_similar("Drug", topn=10)),
        (model.most_similar_cosmul(["w8", "w9"], negative=["w0"]), kv.most_similar_cosmul(["w8", "w9"], ["w0"])),
        (model.similar_by_vector(model["w3"], 5), kv.similar_by_vector(model["w3"], 5)),
        (model.most_similar(["w1"], 5, restrict_vocab=40), kv.most_similar(["w1"], topn=5, restrict_vocab=40)),
    ):
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)
    words = ["w1", "w2", "w3", "Drug", "w200"]
    assert model.doesnt_match(words) == kv.doesnt_match(words)
    assert model.n_similarity(["w1", "w2"], ["w3"]) == pytest.approx(kv.n_similarity(["w1", "w2"], ["w3"]), abs=1e-6)
