"""The vocabulary: which tokens get a vector, in which order (docs/design.md, "Vocabulary").

Keep tokens with count >= ``min_count``; sort by (count descending, token ascending); cap at
``max_vocab``. Every such token is kept (shards pad the last rows, they drop no word). Word id =
position in that order.

On disk: ``vocab.tsv``, one ``token<TAB>count`` line per word in id order, UTF-8.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..corpus.tokenizer import WHITESPACE
from ..errors import ConfigError, ModelFormatError
from ..fileio import atomic_write_text

_SPACES = frozenset(WHITESPACE)  # no token holds one

VOCAB_FILE = "vocab.tsv"


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Tokens in id order with their corpus counts."""

    tokens: tuple[str, ...]
    counts: np.ndarray  # (V,) int64

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {t: i for i, t in enumerate(self.tokens)})

    _index: ClassVar[dict[str, int]]  # set per instance by __post_init__ (the dataclass is frozen)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self.tokens)

    def get(self, token: str, default: int = -1) -> int:
        """Word id of ``token``, or ``default`` when out of vocabulary."""
        return self._index.get(token, default)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``vocab.tsv``; a word that no text tokenizes to (empty, or holding whitespace: it would
        also break the file's lines) or that UTF-8 cannot hold is refused, naming it."""
        for k, token in enumerate(self.tokens):
            if not token or not _SPACES.isdisjoint(token) or _unencodable(token):
                raise ConfigError(
                    f"word {token!r} (id {k}) cannot be in a vocabulary: no text tokenizes to an empty word, "
                    f"to one holding whitespace, or to one that is not UTF-8"
                )
        path = Path(directory) / VOCAB_FILE
        atomic_write_text(
            path, "".join(f"{t}\t{c}\n" for t, c in zip(self.tokens, np.asarray(self.counts).tolist(), strict=False))
        )
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Vocabulary:
        path = Path(directory) / VOCAB_FILE
        tokens, counts = [], []
        try:
            with open(path, encoding="utf-8", newline="\n") as handle:
                for number, line in enumerate(handle, start=1):
                    token, sep, count = line.rstrip("\n").rpartition("\t")
                    if not sep or not token or not count.isdigit():
                        raise ModelFormatError(f"{path}:{number}: expected 'token<TAB>count'")
                    tokens.append(token)
                    counts.append(int(count))
        except FileNotFoundError:
            raise ModelFormatError(f"{path}: missing vocabulary file") from None
        except UnicodeDecodeError:
            raise ModelFormatError(f"{path}: not UTF-8") from None
        return cls(tuple(tokens), np.asarray(counts, dtype=np.int64))


def _unencodable(token: str) -> bool:
    try:
        token.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return False


def build_vocabulary(
    counts: Mapping[str, int] | Iterable[tuple[str, int]], *, min_count: int, max_vocab: int | None
) -> Vocabulary:
    """Select and order the vocabulary from token counts (docs/design.md, "Vocabulary")."""
    items = list(counts.items() if isinstance(counts, Mapping) else counts)
    vocab, _ = select_vocabulary(
        [t for t, _ in items],
        np.array([c for _, c in items], dtype=np.int64),
        min_count=min_count,
        max_vocab=max_vocab,
    )
    return vocab


def select_vocabulary(
    types: Sequence[str], counts: np.ndarray, *, min_count: int, max_vocab: int | None
) -> tuple[Vocabulary, np.ndarray]:
    """``build_vocabulary`` of ``types`` with ``counts`` (int64, one each), and the word id of each
    type (-1: not kept): one sort of the strings, then a stable sort by count (ties stay alphabetical)."""
    counts = np.asarray(counts, dtype=np.int64)
    alphabetical = np.array(sorted(range(len(types)), key=types.__getitem__), dtype=np.int64)
    kept = alphabetical[counts[alphabetical] >= min_count]
    kept = kept[np.argsort(-counts[kept], kind="stable")]
    if max_vocab is not None:
        kept = kept[:max_vocab]
    size = len(kept)
    if size == 0:
        raise ConfigError(f"empty vocabulary: no token occurs at least {min_count} times; lower --min-count")
    word_of_type = np.full(len(types), -1, dtype=np.int64)
    word_of_type[kept] = np.arange(size)
    return Vocabulary(tuple(types[k] for k in kept.tolist()), counts[kept]), word_of_type
