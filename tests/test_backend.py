"""The explorer's queries against numpy references: PCA map, completions, limits, classifier intents."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.config import ServeConfig
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ConfigError, NotFoundError, OutOfVocabularyError
from cordswivel.explorer.backend import Explorer, model_names, word_map
from cordswivel.tutorial.analysis import similarity_matrix

from helpers import WORDS, word_model


@pytest.fixture
def explorer():
    return Explorer({"a": word_model(seed=0), "b": word_model(seed=1)}, config=ServeConfig(max_texts=5))


def test_word_map_is_the_pca_of_the_unit_vectors():
    rng = np.random.default_rng(3)
    vectors = (rng.normal(size=(41, 5)) * [5, 3, 1, 0.5, 0.1]).astype(np.float32)  # 40 words and the OOV row
    model = TextEmbedding(Vocabulary(tuple(f"w{i}" for i in range(40)), np.arange(40, 0, -1)), vectors)
    vectors = vectors.astype(np.float64)
    result = word_map(model, 30)
    unit = vectors[:30] / np.linalg.norm(vectors[:30], axis=1, keepdims=True)
    centred = unit - unit.mean(axis=0)
    values, axes = np.linalg.eigh(np.cov(centred.T, bias=True))  # independent route: the covariance's eigenvectors
    for k, coords in enumerate((result.x, result.y)):
        axis = axes[:, -1 - k]
        expected = centred @ axis
        assert abs(np.corrcoef(coords, expected)[0, 1]) == pytest.approx(1.0, abs=1e-6)
        assert np.var(coords) == pytest.approx(values[-1 - k], rel=1e-5)
        assert axis[np.abs(axis).argmax()] * np.sign(coords @ expected) > 0  # the largest loading is positive
    assert result.words == tuple(f"w{i}" for i in range(30))
    assert result.explained_variance_ratio[0] == pytest.approx(values[-1] / values.sum(), rel=1e-5)
    assert len(word_map(model, 1000).words) == 40  # n past the vocabulary: every word


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
    with pytest.raises(ConfigError, match="n must be an integer from 1 to 50000"):
        explorer.word_map(50_001)


def test_model_names_come_from_paths_and_are_unique(tmp_path):
    assert model_names([tmp_path / "x" / "model", tmp_path / "y" / "model", "vectors.txt"]) == [
        "model",
        "model-2",
        "vectors.txt",
    ]
    with pytest.raises(ConfigError, match="at least one model"):
        Explorer({})
