"""Error types: one-line messages naming where, kinds, and pickling across worker processes."""

from __future__ import annotations

import pickle

import pytest

from cordswivel.errors import CorpusError, ErrorKind, OutOfVocabularyError


def test_corpus_error_names_file_member_and_line():
    error = CorpusError("/data/x.tar.gz", "malformed JSON", member="a/b.json", line=3, kind=ErrorKind.MALFORMED_JSON)
    assert str(error) == "/data/x.tar.gz[a/b.json]:3: malformed JSON"
    assert str(error.at_line(9)) == "/data/x.tar.gz[a/b.json]:9: malformed JSON"
    assert error.kind == "malformed JSON" and error.at_line(9).kind is ErrorKind.MALFORMED_JSON


def test_errors_survive_pickling_with_their_fields(tmp_path):
    error = pickle.loads(pickle.dumps(CorpusError(tmp_path / "x.jsonl", "bad", line=3, kind=ErrorKind.WRONG_TYPE)))
    assert str(error) == f"{tmp_path / 'x.jsonl'}:3: bad" and error.kind is ErrorKind.WRONG_TYPE
    assert (error.line, error.member) == (3, None)
    oov = pickle.loads(pickle.dumps(OutOfVocabularyError("zz")))
    assert oov.word == "zz" and str(oov) == "word 'zz' not in vocabulary"


def test_out_of_vocabulary_is_a_key_error():
    with pytest.raises(KeyError):
        raise OutOfVocabularyError("x")
    with pytest.raises(ValueError):
        ErrorKind("no such kind")
