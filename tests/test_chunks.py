"""The Numba chunk splitter against str.split(), the definition it must reproduce."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cordswivel.corpus.tokenizer import normalize_token
from cordswivel.counting.chunks import ChunkInterner, map_chunks

SPACES = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
text = st.text(alphabet=st.one_of(st.sampled_from(SPACES + "ab.,-é€"), st.characters()), max_size=60)


def split_with_interner(units: list[str]) -> list[list[str]]:
    interner = ChunkInterner(capacity=2)  # tiny, so the table must grow
    data = [u.encode("utf-8", "surrogatepass") for u in units]
    ends = np.cumsum([len(d) + 1 for d in data])
    ids, lengths = interner.add(b"\n".join(data), ends)
    chunks = interner.chunks()
    out, k = [], 0
    for n in lengths:
        out.append([chunks[i] for i in ids[k : k + n]])
        k += n
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(text.filter(lambda u: "\n" not in u), max_size=8))
def test_splits_exactly_like_str_split(units):
    assert split_with_interner(units) == [u.split() for u in units]


def test_every_unicode_space_separates_and_ids_are_shared():
    units = [f"a{space}b" for space in SPACES if space != "\n"] + ["b a  a"]
    result = split_with_interner(units)
    assert all(r == ["a", "b"] for r in result[:-1]) and result[-1] == ["b", "a", "a"]
    interner = ChunkInterner()
    ids, _ = interner.add(b"x y x\ny", np.array([6, 8]))
    assert ids.tolist() == [0, 1, 0, 1] and interner.chunks() == ["x", "y"]


def test_map_chunks_drops_unmapped_chunks_and_counts_tokens():
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 6, 50)
    chunk_ids = rng.integers(0, 9, int(lengths.sum())).astype(np.int32)
    mapping = np.array([0, -1, 1, 2, -1, 0, 3, -1, 1], dtype=np.int32)  # chunks 1, 4, 7 are no token
    units = np.split(mapping[chunk_ids], np.cumsum(lengths)[:-1])
    expected = [u[u >= 0] for u in units]
    ids, kept, counts = map_chunks(chunk_ids.copy(), lengths.copy(), mapping, 4)
    assert ids.tolist() == np.concatenate(expected).tolist()
    assert kept.tolist() == [len(u) for u in expected]
    assert counts.tolist() == np.bincount(np.concatenate(expected), minlength=4).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(text.filter(lambda u: "\n" not in u), max_size=8))
def test_tokens_strip_punctuation_as_normalize_token_does(units):
    interner = ChunkInterner(capacity=2)
    data = [u.encode("utf-8", "surrogatepass") for u in units]
    interner.add(b"\n".join(data), np.cumsum([len(d) + 1 for d in data]))
    mapping, joined = interner.tokens()
    tokens = joined.decode("utf-8", "surrogatepass").split("\n") if joined else []
    expected = [normalize_token(chunk) for chunk in interner.chunks()]
    assert [tokens[m] if m >= 0 else "" for m in mapping] == expected
    assert sorted(tokens) == sorted({t for t in expected if t})  # each token once
