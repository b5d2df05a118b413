"""The explorer's queries against the models' own answers and numpy references: completions, limits, caches, intents."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.config import ServeConfig
from cordswivel.errors import ConfigError, NotFoundError, OutOfVocabularyError
from cordswivel.explorer.backend import Explorer, model_names
from cordswivel.tutorial.analysis import similarity_matrix
from cordswivel.tutorial.compare import drift

from helpers import WORDS, word_model


@pytest.fixture
def explorer():
    return Explorer({"a": word_model(seed=0), "b": word_model(seed=1)}, config=ServeConfig(max_texts=5))


def test_neighbours_are_most_similar_and_limited(explorer):
    assert explorer.neighbours("virus", 3) == word_model(seed=0).most_similar("virus", 3)
    assert explorer.neighbours("virus", 3, model="b") == word_model(seed=1).most_similar("virus", 3)
    with pytest.raises(OutOfVocabularyError):
        explorer.neighbours("nothere")
    with pytest.raises(NotFoundError, match="no model named 'c'; loaded: a, b"):
        explorer.neighbours("virus", model="c")
    for k in (0, 1001, True, "3"):
        with pytest.raises(ConfigError, match="k must be an integer from 1 to 1000"):
            explorer.neighbours("virus", k)


def test_completions_are_case_insensitive_prefixes_most_frequent_first(explorer):
    assert explorer.complete("co") == ["covid-19", "cough"]  # vocabulary order is frequency order
    assert explorer.complete("SARS") == ["SARS-CoV-2"]
    assert explorer.complete("s") == ["SARS-CoV-2"]
    assert explorer.complete("na") == ["naïve"]
    assert explorer.complete("") == [] and explorer.complete("zz") == []
    brute = [w for w in WORDS if w.casefold().startswith("t")][:1]
    assert explorer.complete("T", 1) == brute


def test_embed_similarity_and_their_limits(explorer):
    name, vectors = explorer.embed(["virus fever", "Italy"], model="b")
    assert name == "b"
    np.testing.assert_array_equal(vectors, word_model(seed=1).embed(["virus fever", "Italy"]))
    result = explorer.similarity(["virus", "fever", "cough"], cosine=True)
    np.testing.assert_allclose(
        result.matrix, similarity_matrix(word_model(), ["virus", "fever", "cough"], cosine=True).matrix
    )
    with pytest.raises(ConfigError, match="texts: 6 given, at most 5 per request"):
        explorer.embed(["x"] * 6)
    with pytest.raises(ConfigError, match=r"terms\[1\] is int, expected a string"):
        explorer.similarity(["virus", 3])
    with pytest.raises(ConfigError, match="must be a list of strings"):
        explorer.embed("virus")


def test_classify_without_and_with_a_classifier(explorer):
    with pytest.raises(NotFoundError, match="--classifier"):
        explorer.classify(["x"])
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 3.0]])
    fake = Explorer(
        {"a": word_model()}, classify=lambda texts: (logits[: len(texts)], ["method", "background", "result"])
    )
    first, second = fake.classify(["one", "two"])
    expected = np.exp(logits[0]) / np.exp(logits[0]).sum()
    assert first.label == "method" and second.label == "result"
    assert list(first.probabilities.values()) == pytest.approx(expected.tolist())
    assert fake.classify([]) == []


def test_map_limits_and_cache(explorer):
    assert explorer.word_map(4) is explorer.word_map(4)
    tsne = explorer.word_map(8, method="tsne")
    assert tsne is explorer.word_map(8, method="tsne") and tsne.method == "tsne"
    assert explorer.word_map(8, "b", "tsne") is not tsne  # per model
    with pytest.raises(ConfigError, match="n must be an integer from 1 to 50000"):
        explorer.word_map(50_001)
    with pytest.raises(ConfigError, match="n must be an integer from 1 to 20000"):
        explorer.word_map(20_001, method="tsne")


def test_analogy_rank_and_drift_are_the_models_answers(explorer):
    model = word_model(seed=0)
    assert explorer.analogy(["virus", "Italy"], ["fever"], 3) == model.most_similar(
        ["virus", "Italy"], 3, negative=["fever"]
    )
    assert explorer.analogy(["virus"], k=2, method="3cosmul", candidates=["cough", "é"], model="b") == word_model(
        seed=1
    ).most_similar_cosmul(["virus"], 2, candidates=["cough", "é"])
    assert explorer.rank(["virus"], ["cough", "nothing"]).terms == ("cough",)
    for bad in ({"positive": ["x"] * 6}, {"positive": ["virus"], "k": 0}, {"positive": ["virus"], "method": "avg"}):
        with pytest.raises(ConfigError):
            explorer.analogy(**bad)
    table = explorer.drift("a", "b", min_count=0)
    assert table.words == drift(model, word_model(seed=1), min_count=0).ranked().words
    explorer.drift("a", "b", by="overlap", min_count=0)
    assert explorer._drifts.cache_info().misses == 1  # ranked again, not computed again
    with pytest.raises(NotFoundError):
        explorer.drift("a", "zz")


def test_model_names_come_from_paths_and_are_unique(tmp_path):
    assert model_names([tmp_path / "x" / "model", tmp_path / "y" / "model", "vectors.txt"]) == [
        "model",
        "model-2",
        "vectors.txt",
    ]
    with pytest.raises(ConfigError, match="at least one model"):
        Explorer({})
