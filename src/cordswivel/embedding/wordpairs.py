"""Word-pair evaluation: model cosine against human similarity scores (MEN, SimLex-999, WordSim-353...)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelFormatError

if TYPE_CHECKING:
    from .vectors import TextEmbedding


@dataclass(frozen=True)
class WordPairsResult:
    """Agreement of model similarities with human scores (as gensim's ``evaluate_word_pairs``)."""

    pearson: float
    spearman: float
    pairs_covered: int
    pairs_total: int
    pairs_subword: int = 0  # covered pairs with a word scored by its subword vector
    spearman_in_vocabulary: float = float("nan")  # over the pairs of vocabulary words alone

    @property
    def oov_ratio(self) -> float:
        return 1.0 - self.pairs_covered / self.pairs_total if self.pairs_total else 0.0


def _correlations(model: list[float], human: list[float]) -> tuple[float, float]:
    """(Pearson, Spearman); NaN with fewer than two distinct pairs, where no correlation exists."""
    if len(model) < 2 or np.ptp(model) == 0 or np.ptp(human) == 0:
        return float("nan"), float("nan")
    from scipy import stats  # imported when used: SciPy takes a while to import

    return float(stats.pearsonr(model, human).statistic), float(stats.spearmanr(model, human).statistic)


def evaluate_word_pairs(
    emb: TextEmbedding, path: str | os.PathLike, *, delimiter: str | None = None, case_insensitive: bool = False
) -> WordPairsResult:
    """Pearson and Spearman correlation of cosine similarity with a ``word word score`` file.

    Fields are split on ``delimiter``, by default on tabs where a line has one, else on
    whitespace (the published sets use either, with LF or CRLF line ends). Lines starting with
    ``#`` are comments, and a first line whose score is not a number is a header; pairs with an
    unknown word are left out and counted. A model with subwords scores a word outside the
    vocabulary by its subword vector: every pair is covered, and the correlations over the pairs of
    vocabulary words alone are reported too. With ``case_insensitive`` words are compared in upper
    case, as gensim's ``evaluate_word_pairs`` does: a word stands for its most frequent case
    variant in the vocabulary. The correlations are NaN with fewer than two distinct pairs covered.
    A file with no pairs, a score that is not a finite number, or text that is not UTF-8 is a
    ``ModelFormatError`` naming the file and line.
    """
    path = Path(path)
    folded = case_insensitive_index(emb) if case_insensitive else None

    def word_id(word: str) -> int:
        return folded.get(word.upper(), -1) if folded is not None else emb.index_of(word)

    unit = emb.unit_vectors

    def unit_vector(word: str) -> tuple[np.ndarray | None, bool]:
        index = word_id(word)
        if index >= 0:
            return unit[index], False
        vector = emb.subword_vector(word)
        if vector is None or not vector.any():
            return None, False
        return vector / float(np.linalg.norm(vector)), True

    model, human, subword, total, first = [], [], [], 0, True
    with open(path, "rb") as handle:  # decoded line by line, so that an error names its line
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise ModelFormatError(f"{path}:{number}: not UTF-8 text") from None
            line = line.rstrip("\r\n") if delimiter is not None else line.strip()  # a stray tab at the end too
            if not line.strip() or line.startswith("#"):
                continue
            header, first = first, False
            parts = line.split(delimiter if delimiter is not None else ("\t" if "\t" in line else None))
            if len(parts) != 3:
                raise ModelFormatError(f"{path}:{number}: expected 'word word score', got {len(parts)} fields")
            try:
                score = float(parts[2])
            except ValueError:
                if header:  # a first line like "word1 word2 score"
                    continue
                raise ModelFormatError(f"{path}:{number}: score {parts[2]!r} is not a number") from None
            if not np.isfinite(score):
                raise ModelFormatError(f"{path}:{number}: score {parts[2]!r} is not a finite number")
            total += 1
            (a, a_subword), (b, b_subword) = unit_vector(parts[0]), unit_vector(parts[1])
            if a is not None and b is not None:
                model.append(float(a @ b))
                human.append(score)
                subword.append(a_subword or b_subword)
    if total == 0:
        raise ModelFormatError(f"{path}: no word pairs ('word word score' lines)")
    pearson, spearman = _correlations(model, human)
    in_vocab = [k for k, s in enumerate(subword) if not s]
    return WordPairsResult(
        pearson=pearson,
        spearman=spearman,
        pairs_covered=len(model),
        pairs_total=total,
        pairs_subword=len(model) - len(in_vocab),
        spearman_in_vocabulary=_correlations([model[k] for k in in_vocab], [human[k] for k in in_vocab])[1],
    )


def case_insensitive_index(emb: TextEmbedding) -> dict[str, int]:
    """Upper-cased word -> id of its first (most frequent) case variant."""
    index: dict[str, int] = {}
    for i, word in enumerate(emb.vocab):
        index.setdefault(word.upper(), i)
    return index
