"""TextEmbedding: embed semantics, word queries, word-pair evaluation, files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import cordswivel
from cordswivel.errors import ConfigError, ModelFormatError, OutOfVocabularyError

from helpers import small_model


@pytest.fixture
def model():
    return small_model()


def test_embed_is_sqrtn_of_token_vectors(model):
    v = model.vectors
    np.testing.assert_allclose(model.embed(["a b"])[0], (v[0] + v[1]) / math.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(model.embed(["(a), b! a"])[0], (2 * v[0] + v[1]) / math.sqrt(3), rtol=1e-6)
    np.testing.assert_allclose(model.embed(["covid-19"])[0], v[3], rtol=1e-6)


def test_oov_tokens_use_the_oov_row_and_count_in_sqrtn(model):
    oov = model.table[-1]
    np.testing.assert_allclose(model.embed(["a unseenword"])[0], (model.vectors[0] + oov) / math.sqrt(2), rtol=1e-6)
    assert model.embed(["sars"])[0] == pytest.approx(oov)  # cased: 'sars' is OOV


def test_empty_and_punctuation_only_strings_give_zero(model):
    out = model.embed(["", "   ", "... --"])
    assert out.shape == (3, 5) and out.dtype == np.float32
    assert not out.any()


def test_embed_rejects_a_bare_string(model):
    with pytest.raises(TypeError):
        model.embed("a b")


def test_most_similar_and_similarity_are_cosine(model):
    unit = model.vectors / np.linalg.norm(model.vectors, axis=1, keepdims=True)
    cos = unit @ unit[2]
    expected = [model.vocab[i] for i in np.argsort(-cos) if i != 2][:3]
    result = model.most_similar("SARS", k=3)
    assert [w for w, _ in result] == expected
    assert result[0][1] == pytest.approx(cos[model.vocab.index(expected[0])], rel=1e-6)
    assert model.similarity("a", "b") == pytest.approx(float(unit[0] @ unit[1]), rel=1e-6)
    with pytest.raises(OutOfVocabularyError):
        model.most_similar("nope")
    with pytest.raises(KeyError):
        model.similarity("a", "nope")
    everyone = model.most_similar("SARS", k=10_000)  # k past the vocabulary: all the others
    assert [w for w, _ in everyone] == [model.vocab[i] for i in np.argsort(-cos, kind="stable") if i != 2]


@pytest.mark.parametrize("k", [0, -3, 2.5, True])
def test_most_similar_needs_a_positive_integer_k(model, k):
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        model.most_similar("SARS", k=k)


def test_save_load_round_trip_and_checks(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = cordswivel.load(tmp_path / "m")
    assert loaded.vocab == model.vocab
    np.testing.assert_array_equal(loaded.table, model.table)
    np.testing.assert_array_equal(loaded.embed(["a b q"]), model.embed(["a b q"]))
    # a tampered vector file is detected
    table = np.load(tmp_path / "m" / "vectors.npy")
    table[0, 0] += 1
    np.save(tmp_path / "m" / "vectors.npy", table)
    with pytest.raises(ModelFormatError, match="checksum"):
        cordswivel.load(tmp_path / "m")
    with pytest.raises(ModelFormatError):
        cordswivel.load(tmp_path / "absent")


def test_vocabulary_and_matrix_mismatch_is_named(model, tmp_path):
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["vocab_size"] = 5
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match=r"vocab\.tsv has 6 words"):
        cordswivel.load(tmp_path / "m")


def test_outputs_get_the_usual_permissions(model, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        model.save(tmp_path / "m")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "m" / "vectors.npy").stat().st_mode) == 0o644
