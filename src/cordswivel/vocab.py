"""The vocabulary: which tokens get a vector, in which order (docs/design.md, "Vocabulary").

Keep tokens with count >= ``min_count``; sort by (count descending, token ascending); cap at
``max_vocab``; truncate to a multiple of ``shard_size``. Word id = position in that order.

On disk: ``vocab.tsv``, one ``token<TAB>count`` line per word in id order, UTF-8.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from .errors import ConfigError, ModelFormatError
from .fileio import atomic_write_text

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
        path = Path(directory) / VOCAB_FILE
        atomic_write_text(path, "".join(f"{t}\t{int(c)}\n" for t, c in zip(self.tokens, self.counts, strict=False)))
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


def build_vocabulary(
    counts: Mapping[str, int] | Iterable[tuple[str, int]], *, min_count: int, max_vocab: int | None, shard_size: int
) -> Vocabulary:
    """Select and order the vocabulary from token counts (docs/design.md, "Vocabulary")."""
    items = counts.items() if isinstance(counts, Mapping) else counts
    kept = sorted(((t, int(c)) for t, c in items if c >= min_count), key=lambda tc: (-tc[1], tc[0]))
    if max_vocab is not None:
        kept = kept[:max_vocab]
    size = len(kept) - len(kept) % shard_size
    if size == 0:
        raise ConfigError(
            f"empty vocabulary: {len(kept)} tokens occur at least {min_count} times, fewer than one "
            f"shard of {shard_size}; lower --min-count or --shard-size"
        )
    kept = kept[:size]
    return Vocabulary(tuple(t for t, _ in kept), np.array([c for _, c in kept], dtype=np.int64))
