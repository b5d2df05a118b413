"""The vocabulary: selection and order by the rule, the file round trip, bad files named."""

from __future__ import annotations

import numpy as np
import pytest

from cordswivel.counting.vocab import Vocabulary, build_vocabulary, select_vocabulary
from cordswivel.errors import ConfigError, ModelFormatError


def test_order_cap_and_every_word_that_passes_kept():
    counts = {"b": 5, "a": 5, "c": 9, "d": 1, "e": 3, "f": 3}
    vocab = build_vocabulary(counts, min_count=2, max_vocab=None)
    assert vocab.tokens == ("c", "a", "b", "e", "f") and vocab.counts.tolist() == [9, 5, 5, 3, 3]
    capped = build_vocabulary(counts.items(), min_count=1, max_vocab=3)
    assert capped.tokens == ("c", "a", "b")
    assert vocab.get("e") == 3 and vocab.get("zz") == -1 and "a" in vocab and next(iter(vocab)) == "c"
    assert len(build_vocabulary(counts, min_count=9, max_vocab=None)) == 1
    with pytest.raises(ConfigError, match="empty vocabulary: no token occurs at least 10 times"):
        build_vocabulary(counts, min_count=10, max_vocab=None)


def test_selection_from_arrays_follows_the_rule_and_numbers_every_type():
    rng = np.random.default_rng(0)
    types = sorted({"".join(rng.choice(list("abcé"), rng.integers(1, 5))) for _ in range(400)})
    rng.shuffle(types)
    counts = rng.integers(1, 12, len(types))
    vocab, word_of_type = select_vocabulary(types, counts, min_count=3, max_vocab=150)
    rule = sorted(
        ((t, c) for t, c in zip(types, counts.tolist(), strict=True) if c >= 3), key=lambda tc: (-tc[1], tc[0])
    )
    rule = rule[:150]
    assert list(vocab.tokens) == [t for t, _ in rule] and vocab.counts.tolist() == [c for _, c in rule]
    assert word_of_type.tolist() == [vocab.get(t) for t in types]


def test_file_round_trip_and_errors(tmp_path):
    vocab = Vocabulary(("é", "a-b", "x'y"), np.array([3, 2, 1]))
    vocab.save(tmp_path)
    assert (tmp_path / "vocab.tsv").read_text(encoding="utf-8") == "é\t3\na-b\t2\nx'y\t1\n"
    loaded = Vocabulary.load(tmp_path)
    assert loaded.tokens == vocab.tokens and loaded.counts.tolist() == [3, 2, 1]
    (tmp_path / "vocab.tsv").write_text("a\t1\nb\n")
    with pytest.raises(ModelFormatError, match=r"vocab\.tsv:2: expected 'token<TAB>count'"):
        Vocabulary.load(tmp_path)
    with pytest.raises(ModelFormatError, match="missing vocabulary file"):
        Vocabulary.load(tmp_path / "none")


@pytest.mark.parametrize("word", ["a\nb", "x\ty", "a b", "", "\u2028", "\ud800"])
def test_a_word_no_text_tokenizes_to_is_refused_before_anything_is_written(tmp_path, word):
    """Such a word broke vocab.tsv's lines (a model that did not load) and could never be looked up."""
    from cordswivel.embedding.vectors import TextEmbedding

    model = TextEmbedding(Vocabulary(("virus", word), np.array([2, 1])), np.ones((3, 4), np.float32))
    with pytest.raises(ConfigError, match=r"\(id 1\) cannot be in a vocabulary"):
        model.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []
