"""Property-based checks (Hypothesis): no crash on arbitrary text or bytes, idempotent tokenizer, sane embed."""

from __future__ import annotations

import gzip

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordswivel.corpus.reader import open_corpus
from cordswivel.corpus.sources import SkipCounts
from cordswivel.corpus.tokenizer import tokenize
from cordswivel.counting.vocab import Vocabulary
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.errors import CorpusError

any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@given(any_text, st.booleans())
def test_tokenizer_is_idempotent_on_its_own_output(text, lowercase):
    tokens = tokenize(text, lowercase)
    assert tokenize(" ".join(tokens), lowercase) == tokens
    assert all(token and not any(c.isspace() for c in token) for token in tokens)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    data=st.binary(max_size=300),
    suffix=st.sampled_from([".txt", ".jsonl", ".txt.gz", ".jsonl.gz"]),
    compress=st.booleans(),
)
def test_readers_never_crash_on_arbitrary_bytes(tmp_path, data, suffix, compress):
    path = tmp_path / f"corpus{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") and compress else data)
    skips = SkipCounts()
    skipped = list(open_corpus([path]).units(on_error="skip", skips=skips))  # skipping never raises
    try:
        units = list(open_corpus([path]).units())
    except CorpusError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
        assert skips[error.kind] >= 1  # the error that stops a strict read is counted by a lenient one
    else:
        assert all(isinstance(u, str) for u in units)
        assert skipped == units and not skips  # nothing to skip: both reads give the same units


MODEL = TextEmbedding(
    Vocabulary(("a", "b", "c-d", "É"), np.ones(4, np.int64)),
    np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32),
)


@given(st.lists(any_text, max_size=5))
def test_embed_is_finite_and_shaped(texts):
    out = MODEL.embed(texts)
    assert out.shape == (len(texts), 3) and out.dtype == np.float32 and np.isfinite(out).all()
