"""load() opens each kind of embeddings by what the path holds."""

from __future__ import annotations

import numpy as np
import pytest

import cordswivel
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.formats import export_word2vec
from cordswivel.embedding.loading import is_saved_model, load
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import ModelFormatError


@pytest.fixture
def model():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    return TextEmbedding(Vocabulary(("a", "b", "c"), np.array([3, 2, 1])), table, config={"note": "x"})


def test_model_directory_and_vector_file(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert type(loaded) is TextEmbedding and loaded.config["note"] == "x"
    np.testing.assert_array_equal(loaded.table, model.table)
    vectors = load(export_word2vec(model, tmp_path / "v.bin", binary=True))
    assert vectors.vocab == model.vocab and vectors.config["source"] == str(tmp_path / "v.bin")
    assert cordswivel.load is load


def test_saved_model_detection_and_missing_paths(tmp_path):
    (tmp_path / "sm").mkdir()
    assert not is_saved_model(tmp_path / "sm")
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    assert is_saved_model(tmp_path / "sm") and not is_saved_model(tmp_path / "sm" / "saved_model.pb")
    with pytest.raises(ModelFormatError, match="not a model directory"):
        load(tmp_path / "absent")
