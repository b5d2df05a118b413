"""The co-occurrence directory: the on-disk format counting writes and training reads (NumPy only).

- ``config.json``: ``format``, ``version``, the counting settings (``config.CooccurConfig``), the
  number of shards, corpus statistics (``CooccurStats``) and the corpus paths;
- ``vocab.tsv``: the vocabulary (``vocab.Vocabulary``), V words, num_shards = ceil(V / shard_size);
  the last num_shards * shard_size - V word ids (fewer than num_shards, at most one per shard) are
  padding: empty rows and columns that no word owns;
- ``row_sums.npy``, ``col_sums.npy``: float64 (V,), sums of each row / column of the full matrix;
- ``blocks/RRRR-CCCC.npy`` for every shard pair (r, c): the non-zero cells of block (r, c) as a 1-D
  NumPy array of ``CELL`` records ``(row: int32, col: int32, count: float32)`` with local indices.
  Word id i lives in shard i % num_shards at local index i // num_shards, so block (r, c) cell
  (a, b) is the count of word pair (a * num_shards + r, b * num_shards + c).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..config import AUTO_MAX_SHARD_SIZE, AUTO_MAX_SHARDS, AUTO_SHARD_SIZE, MAX_BLOCKS, CooccurConfig
from ..errors import ConfigError, ModelFormatError
from ..fileio import atomic_write_json, read_json
from .vocab import Vocabulary

FORMAT = "cordswivel-cooccurrence"
FORMAT_VERSION = 1
BLOCK_DIR = "blocks"
CONFIG_FILE = "config.json"
CELL = np.dtype([("row", "<i4"), ("col", "<i4"), ("count", "<f4")])


@dataclass(frozen=True)
class CooccurStats:
    """What the corpus passes saw."""

    tokens: int  # tokens after tokenization, OOV included
    units: int  # text units (lines, paragraphs, titles)
    types: int  # distinct tokens
    vocab_size: int
    nnz: int  # non-zero cells of the full (symmetric) matrix
    total: float  # sum of all cells
    seconds: float
    spills: int = 0  # partial counts written to scratch files (spilled pairs are summed in the last pass)
    skipped: dict[str, int] = field(default_factory=dict)  # skipped records by error kind
    pass_seconds: dict[str, float] = field(default_factory=dict)  # wall time of each pass, by its label


def auto_shard_size(vocab_size: int) -> int:
    """``--shard-size auto``: ``AUTO_SHARD_SIZE`` (near the cheapest row update), one shard for a
    smaller vocabulary, doubled up to ``AUTO_MAX_SHARD_SIZE`` while that makes more than ``AUTO_MAX_SHARDS``
    shards (block files), and past that only to stay within ``MAX_BLOCKS``. Quality does not depend on it: training
    counts row updates (docs/design.md, "Stopping")."""
    size = min(AUTO_SHARD_SIZE, 1 << max(0, vocab_size - 1).bit_length())
    while num_shards_of(vocab_size, size) > AUTO_MAX_SHARDS and size < AUTO_MAX_SHARD_SIZE:
        size *= 2
    while num_shards_of(vocab_size, size) ** 2 > MAX_BLOCKS:
        size *= 2
    return size


def num_shards_of(vocab_size: int, shard_size: int) -> int:
    """Shards of ``shard_size`` rows that hold ``vocab_size`` words, the last ones padded."""
    return max(1, -(-vocab_size // shard_size))


def block_name(row_shard: int, col_shard: int) -> str:
    return f"{row_shard:04d}-{col_shard:04d}.npy"


def write_metadata(
    directory: str | os.PathLike,
    config: CooccurConfig,
    num_shards: int,
    stats: CooccurStats,
    corpus_paths: Sequence[str | os.PathLike] = (),
) -> None:
    """Write ``config.json`` of a co-occurrence directory whose other files are in place."""
    atomic_write_json(
        Path(directory) / CONFIG_FILE,
        {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "config": config.to_dict(),
            "num_shards": num_shards,
            "stats": asdict(stats),
            "corpus": [str(p) for p in corpus_paths],
        },
    )


class CooccurrenceShards:
    """A co-occurrence directory opened for training; blocks are read from disk on demand."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        meta = read_json(self.directory / CONFIG_FILE)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ModelFormatError(f"{self.directory}: not a cordswivel co-occurrence directory")
        try:
            self.config = CooccurConfig.from_dict(meta["config"])
            self.stats = CooccurStats(**meta["stats"])
            self.num_shards = int(meta["num_shards"])
        except (KeyError, TypeError, ValueError, ConfigError) as exc:
            raise ModelFormatError(f"{self.directory / CONFIG_FILE}: incomplete or invalid ({exc})") from None
        self.corpus_paths: tuple[str, ...] = tuple(meta.get("corpus", ()))
        self.vocab = Vocabulary.load(self.directory)
        if self.config.shard_size is None:
            raise ModelFormatError(f"{self.directory / CONFIG_FILE}: no shard size")
        self.shard_size: int = self.config.shard_size
        if num_shards_of(len(self.vocab), self.shard_size) != self.num_shards:
            raise ModelFormatError(
                f"{self.directory}: vocabulary has {len(self.vocab)} words, "
                f"expected {self.num_shards} shards of {self.shard_size} to hold it"
            )
        self.row_sums = self._load_sums("row_sums.npy")
        self.col_sums = self._load_sums("col_sums.npy")

    def _load_sums(self, name: str) -> np.ndarray:
        try:
            sums = np.load(self.directory / name, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{self.directory / name}: cannot read ({exc})") from None
        if sums.shape != (len(self.vocab),):
            raise ModelFormatError(f"{self.directory / name}: shape {sums.shape}, expected ({len(self.vocab)},)")
        return sums

    @property
    def padded_size(self) -> int:
        """Rows of the shard grid: the vocabulary and the padding ids after it."""
        return self.num_shards * self.shard_size

    def shard_ids(self, shard: int) -> np.ndarray:
        """Global word ids of one shard, in local order (ids from ``len(vocab)`` on are padding)."""
        return np.arange(self.shard_size, dtype=np.int64) * self.num_shards + shard

    def block(self, row_shard: int, col_shard: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local rows, local cols, counts) of the non-zero cells of block (row_shard, col_shard)."""
        path = self.directory / BLOCK_DIR / block_name(row_shard, col_shard)
        try:
            cells = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{path}: cannot read block ({exc})") from None
        if cells.dtype != CELL or cells.ndim != 1:
            raise ModelFormatError(f"{path}: expected a 1-D array of {CELL}, got {cells.dtype} {cells.shape}")
        return cells["row"], cells["col"], cells["count"]

    def dense(self) -> np.ndarray:
        """The whole V x V matrix in global id order (for tests and small vocabularies)."""
        size = len(self.vocab)
        matrix = np.zeros((size, size), dtype=np.float64)
        for r in range(self.num_shards):
            for c in range(self.num_shards):
                rows, cols, counts = self.block(r, c)
                matrix[rows.astype(np.int64) * self.num_shards + r, cols.astype(np.int64) * self.num_shards + c] = (
                    counts
                )
        return matrix
