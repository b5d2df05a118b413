"""Word and phrase queries in gensim's ``KeyedVectors`` terms: analogies (3CosAdd and 3CosMul), search
by vector, the odd one out, set similarity, and candidate rankings.

A *term* is a vocabulary word, a phrase (its vector is ``embed``'s, as the TF-Hub module combines
tokens) or a vector. As in gensim, input words are unit-normalised before they are combined, inputs
that are vocabulary words are never answers, and scores are cosines. ``TextEmbedding`` exposes these as
methods; the functions take it as their first argument.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, ModelFormatError, OutOfVocabularyError
from ..fileio import atomic_write_text

if TYPE_CHECKING:
    from .vectors import TextEmbedding

Term = str | np.ndarray
COSMUL_EPSILON = 1e-6  # Levy & Goldberg's epsilon in 3CosMul's denominator, as gensim
ARGMAX_PASSES = 64  # top_k_rows: up to this k, k argmax passes; beyond, argpartition


@dataclass(frozen=True)
class Ranking:
    """Candidates ranked by cosine to a query; ``missing`` holds those with no vector (no token in the
    vocabulary or with subwords), ``subword`` the ranked ones with a token known only by its subwords
    (ranked by spelling: weaker evidence than a word the corpus used)."""

    terms: tuple[str, ...]  # best first
    scores: np.ndarray  # (len(terms),) float
    missing: tuple[str, ...]
    subword: tuple[str, ...] = ()

    def rows(self) -> list[tuple[int, str, float]]:
        """(rank from 1, term, score) per ranked candidate."""
        return [(k, t, float(s)) for k, (t, s) in enumerate(zip(self.terms, self.scores, strict=True), start=1)]

    def to_csv(self, path: str | os.PathLike) -> None:
        """``rank,term,score`` rows, best first, written atomically."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["rank", "term", "score"])
        writer.writerows((k, t, f"{s:.6f}") for k, t, s in self.rows())
        atomic_write_text(path, text.getvalue())


def read_terms(path: str | os.PathLike) -> list[str]:
    """Terms from a file, one per line (words or phrases); blank lines and ``#`` comments skipped."""
    path = Path(path)
    terms = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                raise ModelFormatError(f"{path}:{number}: not UTF-8 text") from None
            if line and not line.startswith("#"):
                terms.append(line)
    if not terms:
        raise ModelFormatError(f"{path}: no terms (one word or phrase per line)")
    return terms


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _as_list(terms: Term | Sequence[Term] | None) -> list[Term]:
    if terms is None:
        return []
    if isinstance(terms, str | np.ndarray):
        return [terms]
    return list(terms)


def term_vector(emb: TextEmbedding, term: Term) -> tuple[np.ndarray, int]:
    """(vector, vocabulary id or -1) of a word, phrase or vector; a term none of whose tokens is in the
    vocabulary or has a subword vector is an ``OutOfVocabularyError``."""
    if isinstance(term, np.ndarray):
        vector = np.asarray(term, dtype=np.float32)
        if vector.shape != (emb.embedding_dim,):
            raise ConfigError(f"a query vector must have shape ({emb.embedding_dim},), got {vector.shape}")
        return vector, -1
    if not isinstance(term, str):
        raise ConfigError(f"a term must be a string or a vector, got {type(term).__name__}")
    index = emb.index_of(term)
    if index >= 0:
        return emb.vectors[index], index
    tokens = emb.tokenize(term)
    if not any(emb.has_vector(t) for t in tokens):
        raise OutOfVocabularyError(term)
    return emb.embed([term])[0], -1  # a phrase, or a word from its subwords


def unit_rows(x: np.ndarray) -> np.ndarray:
    """``x`` (a vector or rows of vectors) divided by its Euclidean norm along the last axis; zero stays zero."""
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def query_vector(
    emb: TextEmbedding, positive: Sequence[Term], negative: Sequence[Term]
) -> tuple[np.ndarray, list[int], set[str]]:
    """(unit mean of the weighted inputs, vocabulary ids of the inputs, input phrases), as gensim's
    ``most_similar``: words are unit-normalised first, vectors taken as they are."""
    if not positive and not negative:
        raise ConfigError("give at least one positive or negative term")
    mean = np.zeros(emb.embedding_dim, dtype=np.float32)
    exclude: list[int] = []
    phrases: set[str] = set()
    for weight, terms in ((1.0, positive), (-1.0, negative)):
        for term in terms:
            vector, index = term_vector(emb, term)
            if isinstance(term, str):
                vector = unit_rows(vector)
                phrases.add(term)
                if index >= 0:
                    exclude.append(index)
            mean += np.float32(weight) * vector
    mean /= np.float32(len(positive) + len(negative))
    return unit_rows(mean).astype(np.float32), exclude, phrases


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """(rows, k) column indices of each row's ``k`` highest scores, best first; ``scores`` is overwritten.

    For a small ``k``, ``k`` passes of ``argmax`` (vectorised) are ~10x faster than ``argpartition``.
    """
    k = min(k, scores.shape[1])
    if k > ARGMAX_PASSES:
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1)
    rows = np.arange(len(scores))
    top = np.empty((len(scores), k), dtype=np.int64)
    for j in range(k):
        top[:, j] = scores.argmax(axis=1)
        scores[rows, top[:, j]] = -np.inf
    return top


def _top(scores: np.ndarray, k: int, exclude: Sequence[int]) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first, never those in ``exclude``."""
    scores = scores.copy()
    excluded = {i for i in exclude if i < len(scores)}  # restrict_vocab may have cut an input off
    scores[list(excluded)] = -np.inf
    k = min(k, len(scores) - len(excluded))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


def _vocab_cosines(emb: TextEmbedding, direction: np.ndarray, restrict_vocab: int | None) -> np.ndarray:
    size = len(emb) if restrict_vocab is None else min(check_k(restrict_vocab), len(emb))
    return (emb.vectors[:size] @ direction) / emb.norms[:size]


def candidate_vectors(
    emb: TextEmbedding,
    candidates: Sequence[str],
    exclude: Collection[str] = (),
) -> tuple[list[str], np.ndarray, list[str]]:
    """(candidates with a vector, their unit vectors, candidates without one); repeats dropped, and the
    terms in ``exclude`` (a query's own) left out."""
    if isinstance(candidates, str):
        raise ConfigError("candidates must be a list of terms, not one string")
    known, rows, missing = [], [], []
    for term in dict.fromkeys(candidates):
        if not isinstance(term, str):
            raise ConfigError(f"a candidate must be a string, got {type(term).__name__}")
        if term in exclude:
            continue
        try:
            vector, _ = term_vector(emb, term)
        except OutOfVocabularyError:
            missing.append(term)
            continue
        known.append(term)
        rows.append(unit_rows(vector))
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), emb.embedding_dim)
    return known, matrix, missing


def most_similar(
    emb: TextEmbedding,
    positive: Term | Sequence[Term] | None = None,
    negative: Term | Sequence[Term] | None = None,
    k: int = 10,
    *,
    candidates: Sequence[str] | None = None,
    restrict_vocab: int | None = None,
) -> list[tuple[str, float]]:
    """3CosAdd: the ``k`` terms of highest cosine to the unit mean of the positive unit vectors minus
    the negative ones (``most_similar(word)`` is a word's neighbours)."""
    k = check_k(k)
    positive, negative = _as_list(positive), _as_list(negative)
    direction, exclude, phrases = query_vector(emb, positive, negative)
    if candidates is not None:
        ranking = rank_candidates(emb, direction, candidates, exclude=phrases)
        return list(zip(ranking.terms[:k], map(float, ranking.scores[:k]), strict=True))
    scores = _vocab_cosines(emb, direction, restrict_vocab)
    return [(emb.vocab[i], float(scores[i])) for i in _top(scores, k, exclude)]


def most_similar_cosmul(
    emb: TextEmbedding,
    positive: Term | Sequence[Term] | None = None,
    negative: Term | Sequence[Term] | None = None,
    k: int = 10,
    *,
    candidates: Sequence[str] | None = None,
    restrict_vocab: int | None = None,
) -> list[tuple[str, float]]:
    """3CosMul (Levy & Goldberg 2014): product of the positive terms' cosines over the product of the
    negative ones' (+ 1e-6), each cosine shifted to [0, 1] as (1 + cos) / 2, as gensim."""
    k = check_k(k)
    positive, negative = _as_list(positive), _as_list(negative)
    if not positive:
        raise ConfigError("3CosMul needs at least one positive term")
    inputs = [(term_vector(emb, t), t) for t in positive + negative]
    exclude = [index for (_, index), _ in inputs if index >= 0]
    phrases = {t for _, t in inputs if isinstance(t, str)}
    if candidates is not None:
        known, matrix, _ = candidate_vectors(emb, candidates, phrases)

        def cosines(vector: np.ndarray) -> np.ndarray:
            return matrix @ vector
    else:

        def cosines(vector: np.ndarray) -> np.ndarray:
            return _vocab_cosines(emb, vector, restrict_vocab)

    def shifted(items: list) -> list[np.ndarray]:
        return [(1 + cosines(unit_rows(v) if isinstance(t, str) else v)) / 2 for (v, _), t in items]

    numerator = np.prod(shifted(inputs[: len(positive)]), axis=0)
    denominator = np.prod(shifted(inputs[len(positive) :]), axis=0) if negative else np.ones_like(numerator)
    scores = numerator / (denominator + COSMUL_EPSILON)
    if candidates is not None:
        order = _top(scores, k, [])
        return [(known[i], float(scores[i])) for i in order]
    return [(emb.vocab[i], float(scores[i])) for i in _top(scores, k, exclude)]


def similar_by_vector(
    emb: TextEmbedding, vector: np.ndarray, k: int = 10, *, restrict_vocab: int | None = None
) -> list[tuple[str, float]]:
    """The ``k`` words of highest cosine to ``vector`` (none excluded)."""
    return most_similar(emb, [np.asarray(vector)], k=k, restrict_vocab=restrict_vocab)


def doesnt_match(emb: TextEmbedding, terms: Sequence[str]) -> str:
    """The term farthest (lowest cosine) from the unit mean of the terms' unit vectors; terms with no
    token in the vocabulary are left out, as gensim leaves out unknown words."""
    known, matrix, _ = candidate_vectors(emb, list(terms))
    if not known:
        raise ConfigError("doesnt_match needs at least one term in the vocabulary")
    scores = matrix @ unit_rows(matrix.mean(axis=0))
    return known[int(np.argmin(scores))]


def n_similarity(emb: TextEmbedding, terms_a: Sequence[str], terms_b: Sequence[str]) -> float:
    """Cosine between the means of two sets of terms' vectors (not unit-normalised first, as gensim)."""
    if not len(terms_a) or not len(terms_b):
        raise ConfigError("n_similarity needs at least one term on each side")
    a = np.mean([term_vector(emb, t)[0] for t in terms_a], axis=0)
    b = np.mean([term_vector(emb, t)[0] for t in terms_b], axis=0)
    return float(unit_rows(a) @ unit_rows(b))


def rank_candidates(
    emb: TextEmbedding, direction: np.ndarray, candidates: Sequence[str], *, exclude: Collection[str] = ()
) -> Ranking:
    """Every candidate with a vector, by cosine to ``direction``, best first; terms in ``exclude`` (the
    query's own) are left out."""
    known, matrix, missing = candidate_vectors(emb, candidates, exclude)
    scores = matrix @ unit_rows(direction)
    order = np.argsort(-scores, kind="stable")
    terms = tuple(known[i] for i in order)
    subword = tuple(t for t in terms if emb.index_of(t) < 0 and any(w not in emb for w in emb.tokenize(t)))
    return Ranking(terms, scores[order].astype(np.float64), tuple(missing), subword)


def rank(
    emb: TextEmbedding,
    positive: Term | Sequence[Term] | None,
    candidates: Sequence[str],
    negative: Term | Sequence[Term] | None = None,
) -> Ranking:
    """Rank ``candidates`` by 3CosAdd to the query, e.g. ``metformin - diabetes + COVID-19`` over a list
    of drug names (multi-word names combined as ``embed`` combines tokens)."""
    direction, _, phrases = query_vector(emb, _as_list(positive), _as_list(negative))
    return rank_candidates(emb, direction, candidates, exclude=phrases)
