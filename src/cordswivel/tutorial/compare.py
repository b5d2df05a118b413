"""Comparing two models, e.g. of two CORD-19 releases: which words moved?

Two measures per word both models know well (seen ``min_count`` times in each corpus):

- the cosine of its vectors after orthogonal Procrustes alignment of the old model onto the new
  (Hamilton, Leskovec & Jurafsky 2016, "HistWords"): the rotation that best maps the old unit vectors
  of the shared words onto the new ones;
- the overlap of its ``k`` nearest neighbours among the shared words in each model, which needs
  no alignment.

Low values mean the word's use changed; ``DriftTable.ranked`` sorts either way.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import numpy as np

from ..config import DRIFT_MIN_COUNT, DRIFT_NEIGHBOURS
from ..embedding.queries import check_k, top_k_rows, unit_rows
from ..embedding.vectors import TextEmbedding
from ..errors import ConfigError
from ..fileio import atomic_write_text

DRIFT_MEASURES = ("cosine", "overlap")
BATCH_CELLS = 1 << 24  # similarity-matrix cells per batch of the neighbour search (64 MB)


@dataclass(frozen=True)
class Alignment:
    """The rotation that maps the old model's unit vectors onto the new one's, fit on ``words``."""

    words: tuple[str, ...]
    rotation: np.ndarray  # (dim, dim) orthogonal

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        """Old-model vectors in the new model's space."""
        return np.asarray(vectors, dtype=np.float64) @ self.rotation


@dataclass(frozen=True)
class DriftTable:
    """Per shared word: aligned cosine, neighbour overlap at ``k`` and the counts in each model."""

    words: tuple[str, ...]
    cosine: np.ndarray  # (n,) cosine of the aligned old vector and the new vector
    overlap: np.ndarray  # (n,) share of the k nearest shared words both models list
    count_old: np.ndarray  # (n,) corpus counts (0 where the model did not record them)
    count_new: np.ndarray
    k: int

    def __len__(self) -> int:
        return len(self.words)

    def ranked(self, by: str = "cosine", *, most_changed: bool = True) -> DriftTable:
        """The table sorted by ``by`` (cosine or overlap), the words that moved most first (or last);
        ties broken by the other measure, then by the new model's frequency order."""
        if by not in DRIFT_MEASURES:
            raise ConfigError(f"rank by one of {', '.join(DRIFT_MEASURES)}, got {by!r}")
        first, second = (self.cosine, self.overlap) if by == "cosine" else (self.overlap, self.cosine)
        sign = 1 if most_changed else -1
        order = np.lexsort((np.arange(len(self)), sign * second, sign * first))
        return DriftTable(
            tuple(self.words[i] for i in order),
            self.cosine[order],
            self.overlap[order],
            self.count_old[order],
            self.count_new[order],
            self.k,
        )

    def head(self, n: int) -> DriftTable:
        """The first ``n`` rows."""
        return DriftTable(
            self.words[:n], self.cosine[:n], self.overlap[:n], self.count_old[:n], self.count_new[:n], self.k
        )

    def rows(self) -> list[dict[str, object]]:
        """One dict per word, as the API writes them (the CSV names the overlap's k: ``overlap@10``)."""
        return [
            {
                "word": w,
                "cosine": round(float(c), 6),
                "overlap": round(float(o), 6),
                "count_old": int(a),
                "count_new": int(b),
            }
            for w, c, o, a, b in zip(self.words, self.cosine, self.overlap, self.count_old, self.count_new, strict=True)
        ]

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the table as CSV, atomically."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["word", "cosine", f"overlap@{self.k}", "count_old", "count_new"])
        writer.writerows(row.values() for row in self.rows())
        atomic_write_text(path, text.getvalue())


def shared_words(old: TextEmbedding, new: TextEmbedding, min_count: int = DRIFT_MIN_COUNT) -> list[str]:
    """Words of both vocabularies seen at least ``min_count`` times in each corpus, in the new model's
    order; a model that recorded no counts (a word2vec file, a TF-Hub module) does not filter."""
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 0:
        raise ConfigError(f"min_count must be a non-negative integer, got {min_count!r}")
    filters = [m for m in (old, new) if m.counts.any()]
    words = []
    for index, word in enumerate(new.vocab):
        old_index = old.index_of(word)
        if old_index < 0:
            continue
        counts = [m.counts[old_index if m is old else index] for m in filters]
        if all(c >= min_count for c in counts):
            words.append(word)
    return words


def _unit_rows(model: TextEmbedding, words: list[str]) -> np.ndarray:
    return unit_rows(model.vectors[[model.index_of(w) for w in words]].astype(np.float64))


def _check_pair(old: TextEmbedding, new: TextEmbedding, words: list[str]) -> None:
    if old.embedding_dim != new.embedding_dim:
        raise ConfigError(
            f"the models have {old.embedding_dim} and {new.embedding_dim} dimensions; alignment needs equal ones"
        )
    if len(words) < 2:
        raise ConfigError(
            f"the models share {len(words)} words with the count required; compare needs at least 2 "
            "(lower --min-count?)"
        )


def align(old: TextEmbedding, new: TextEmbedding, *, min_count: int = DRIFT_MIN_COUNT) -> Alignment:
    """Orthogonal Procrustes: the rotation R minimising ||old R - new|| over the shared words' unit vectors."""
    from scipy.linalg import orthogonal_procrustes  # SciPy is slow to import: only when used

    words = shared_words(old, new, min_count)
    _check_pair(old, new, words)
    rotation, _ = orthogonal_procrustes(_unit_rows(old, words), _unit_rows(new, words))
    return Alignment(tuple(words), rotation)


def neighbour_sets(unit: np.ndarray, k: int) -> np.ndarray:
    """(n, k) indices of each row's ``k`` nearest other rows by cosine (rows are unit vectors)."""
    k = min(k, len(unit) - 1)
    unit32 = unit.astype(np.float32)
    batch = max(1, BATCH_CELLS // len(unit))
    found = np.empty((len(unit), k), dtype=np.int64)
    for start in range(0, len(unit), batch):
        scores = unit32[start : start + batch] @ unit32.T
        scores[np.arange(len(scores)), np.arange(start, start + len(scores))] = -np.inf  # not itself
        found[start : start + batch] = top_k_rows(scores, k)
    return found


def drift(
    old: TextEmbedding, new: TextEmbedding, *, k: int = DRIFT_NEIGHBOURS, min_count: int = DRIFT_MIN_COUNT
) -> DriftTable:
    """The drift table of the words both models share (``shared_words``), in the new model's order;
    ``.ranked()`` puts the words that moved most first."""
    k = check_k(k)
    alignment = align(old, new, min_count=min_count)
    words = list(alignment.words)
    a, b = _unit_rows(old, words), _unit_rows(new, words)
    cosine = np.einsum("ij,ij->i", alignment.apply(a), b)
    near_a, near_b = neighbour_sets(a, k), neighbour_sets(b, k)
    overlap = np.array([len(set(x) & set(y)) for x, y in zip(near_a.tolist(), near_b.tolist(), strict=True)])
    overlap = overlap / max(near_a.shape[1], 1)
    counts_old = old.counts[[old.index_of(w) for w in words]]
    counts_new = new.counts[[new.index_of(w) for w in words]]
    return DriftTable(tuple(words), cosine, overlap.astype(np.float64), counts_old, counts_new, k)
