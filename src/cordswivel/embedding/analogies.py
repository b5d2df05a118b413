"""Analogy accuracy on Google's ``questions-words.txt`` format, as gensim's ``evaluate_word_analogies``.

The file has ``: section`` headers and ``a b c d`` questions (a is to b as c is to d). A question is
answered by 3CosAdd (or 3CosMul) over the first ``restrict_vocab`` words, its three input words
excluded; as in gensim, the answer is the first of the five best that is not an input word in another
case, and questions with a word outside those first words are skipped and counted. Questions are
answered in batches, one matrix product per batch instead of one per question.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import ANALOGY_METHODS, ANALOGY_RESTRICT_VOCAB
from ..errors import ConfigError, ModelFormatError
from .queries import COSMUL_EPSILON, top_k_rows

if TYPE_CHECKING:
    from .vectors import TextEmbedding

CANDIDATES = 5  # answers looked at per question, as gensim (its topn=5)
BATCH_CELLS = 1 << 23  # score-matrix cells per batch (32 MB of float32)


@dataclass(frozen=True)
class SectionAccuracy:
    """Questions of one section answered right and wrong (skipped ones in neither)."""

    section: str
    correct: int
    incorrect: int

    @property
    def accuracy(self) -> float:
        answered = self.correct + self.incorrect
        return self.correct / answered if answered else float("nan")


@dataclass(frozen=True)
class AnalogyResult:
    """Overall and per-section accuracy over the questions answered; ``skipped`` had an unknown word."""

    accuracy: float
    sections: tuple[SectionAccuracy, ...]
    questions: int
    skipped: int

    @property
    def correct(self) -> int:
        return sum(s.correct for s in self.sections)

    @property
    def oov_ratio(self) -> float:
        return self.skipped / self.questions if self.questions else 0.0


def read_questions(path: str | os.PathLike) -> list[tuple[str, list[list[str]]]]:
    """(section, questions) in file order; every question is four words. Bad lines are a
    ``ModelFormatError`` naming the file and line."""
    path = Path(path)
    sections: list[tuple[str, list[list[str]]]] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ModelFormatError(f"{path}:{number}: not UTF-8 text") from None
            if line.startswith(": "):
                sections.append((line.lstrip(": ").strip(), []))
                continue
            words = line.split()
            if not words:
                continue
            if not sections:
                raise ModelFormatError(f"{path}:{number}: a question before the first ': section' line")
            if len(words) != 4:
                raise ModelFormatError(f"{path}:{number}: expected four words 'a b c d', got {len(words)}")
            sections[-1][1].append(words)
    if not any(questions for _, questions in sections):
        raise ModelFormatError(f"{path}: no analogy questions (': section' lines, then 'a b c d' lines)")
    return sections


def evaluate_word_analogies(
    emb: TextEmbedding,
    path: str | os.PathLike,
    *,
    restrict_vocab: int = ANALOGY_RESTRICT_VOCAB,
    case_insensitive: bool = True,
    method: str = ANALOGY_METHODS[0],
) -> AnalogyResult:
    """Accuracy of ``emb`` on the analogy file at ``path`` (see the module docstring)."""
    if method not in ANALOGY_METHODS:
        raise ConfigError(f"method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
    if isinstance(restrict_vocab, bool) or not isinstance(restrict_vocab, int) or restrict_vocab < 1:
        raise ConfigError(f"restrict_vocab must be a positive integer, got {restrict_vocab!r}")
    sections = read_questions(path)
    size = min(restrict_vocab, len(emb))

    def key(word: str) -> str:
        return word.upper() if case_insensitive else word

    keys: dict[str, int] = {}  # a word's key -> its first (most frequent) word among the first `size`
    for index in range(size - 1, -1, -1):
        keys[key(emb.vocab[index])] = index
    key_ids = np.fromiter((keys[key(w)] for w in emb.vocab[:size]), dtype=np.int64, count=size)

    ids, section_of, skipped, total = [], [], 0, 0
    for number, (_, questions) in enumerate(sections):
        for question in questions:
            total += 1
            found = [keys.get(key(w), -1) for w in question]
            if min(found) < 0:
                skipped += 1
                continue
            ids.append(found)
            section_of.append(number)
    questions_ids = np.asarray(ids, dtype=np.int64).reshape(len(ids), 4)
    right = _answer(emb, questions_ids, size, key_ids, method) == questions_ids[:, 3]
    section_index = np.asarray(section_of, dtype=np.int64)
    scores = []
    for number, (name, _) in enumerate(sections):
        mine = right[section_index == number]
        scores.append(SectionAccuracy(name, int(mine.sum()), int((~mine).sum())))
    accuracy = float(right.mean()) if len(right) else float("nan")
    return AnalogyResult(accuracy, tuple(scores), total, skipped)


def _answer(emb: TextEmbedding, questions: np.ndarray, size: int, key_ids: np.ndarray, method: str) -> np.ndarray:
    """Key id of each question's answer (questions: (n, 4) word ids a, b, c, d)."""
    vectors, norms, unit = emb.vectors[:size], emb.norms[:size], emb.unit_vectors[:size]
    batch = max(1, BATCH_CELLS // size)
    answers = np.empty(len(questions), dtype=np.int64)
    for start in range(0, len(questions), batch):
        a, b, c = questions[start : start + batch, :3].T
        if method == "3cosadd":
            query = (unit[b] + unit[c]) - unit[a]  # gensim's order: positive b, c, then negative a
            query /= np.float32(3)
            query /= np.linalg.norm(query, axis=1, keepdims=True)
            scores = (query @ vectors.T) / norms  # (batch, size)
        else:
            shifted = [(1 + (unit[i] @ vectors.T) / norms) / 2 for i in (b, c, a)]
            scores = shifted[0] * shifted[1] / (shifted[2] + np.float32(COSMUL_EPSILON))
        rows = np.arange(len(a))[:, None]
        scores[rows, questions[start : start + batch, :3]] = -np.inf
        count = min(CANDIDATES, size)
        best = key_ids[top_k_rows(scores, count)]  # (batch, CANDIDATES), best first
        # the first answer that is not an input in another case; the last one if all five are
        is_input = (best == a[:, None]) | (best == b[:, None]) | (best == c[:, None])
        first = np.where(is_input.all(axis=1), count - 1, (~is_input).argmax(axis=1))
        answers[start : start + batch] = best[np.arange(len(a)), first]
    return answers
