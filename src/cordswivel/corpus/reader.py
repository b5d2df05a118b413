"""A training corpus: its sources, found from paths, and its partitions for parallel passes.

``open_corpus(paths)`` takes plain text and JSON lines files (``sources``), CORD-19 releases as a
directory or ``.tar.gz`` (``cord19``), and directories of any of those. Every reader streams:
memory does not grow with the corpus. ``Corpus.partitions`` splits each source into ``Partition``s
that read disjoint sets of records, which the counting passes (``cooccur``) run in parallel.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import DEFAULT_TEXT_FIELDS
from ..errors import ConfigError, CorpusError, ErrorKind
from .cord19 import ARCHIVE_SUFFIXES, Cord19Release, is_metadata
from .sources import ErrorPolicy, JsonLinesFile, Selection, SkipCounts, Source, TextFile

TEXT_SUFFIXES = (".txt", ".txt.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
CORPUS_SUFFIXES = TEXT_SUFFIXES + JSONL_SUFFIXES + ARCHIVE_SUFFIXES
RELEASE_MARKERS = (
    "metadata.csv",
    "document_parses",
    "comm_use_subset",
    "noncomm_use_subset",
    "custom_license",
    "pmc_custom_license",
    "biorxiv_medrxiv",
)


@dataclass(frozen=True)
class Partition:
    """The ``index``-th of ``count`` parts of one source (see ``sources.Selection``)."""

    source: Source
    index: int = 0
    count: int = 1

    def units(self, on_error: str = "raise", skips: SkipCounts | None = None) -> Iterator[str]:
        """Stream the text units of this partition."""
        for units in self.source.records(ErrorPolicy(on_error, skips), Selection(self.index, self.count)):
            yield from units

    def unit_batches(
        self, on_error: str = "raise", skips: SkipCounts | None = None
    ) -> Iterator[tuple[bytes, np.ndarray]]:
        """Stream the units as (UTF-8 buffer, end offset of each unit), units separated by a byte."""
        yield from self.source.unit_batches(ErrorPolicy(on_error, skips), Selection(self.index, self.count))


@dataclass(frozen=True)
class Corpus:
    """The sources of a training corpus; see ``open_corpus``."""

    sources: tuple[Source, ...]
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS
    skipped: SkipCounts = field(default_factory=SkipCounts)  # folders ``on_error="skip"`` passed over

    def partitions(self, target: int, max_bytes: int | None = None) -> list[Partition]:
        """About ``target`` partitions (more if needed to keep each near ``max_bytes`` on disk), each
        source split in proportion to its size."""
        return [part for part, _ in self._sized_partitions(target, max_bytes)]

    def partition_groups(self, target: int, max_bytes: int | None = None) -> list[tuple[Partition, ...]]:
        """The partitions packed into about ``target`` groups of similar size on disk (more if needed to
        keep each near ``max_bytes``): a counting task each, so that a corpus of many small files does
        not pay a task's fixed costs once per file."""
        sized = self._sized_partitions(target, max_bytes)
        total = sum(size for _, size in sized)
        count = max(1, min(len(sized), max(target, -(-total // max_bytes) if max_bytes else 1)))
        groups: list[list[Partition]] = [[] for _ in range(count)]
        loads = [(0, k) for k in range(count)]  # a heap of (bytes, group): largest part to the lightest
        for part, size in sorted(sized, key=lambda item: -item[1]):
            load, k = heapq.heappop(loads)
            groups[k].append(part)
            heapq.heappush(loads, (load + size, k))
        return [tuple(group) for group in groups if group]

    def _sized_partitions(self, target: int, max_bytes: int | None) -> list[tuple[Partition, int]]:
        sizes = [max(source.size(), 1) for source in self.sources]
        total = sum(sizes)
        if max_bytes:
            target = max(target, -(-total // max_bytes))
        parts: list[tuple[Partition, int]] = []
        for source, size in zip(self.sources, sizes, strict=True):
            count = max(1, min(round(target * size / total), source.max_partitions()))
            parts.extend((Partition(source, index, count), size // count) for index in range(count))
        return parts

    def units(self, on_error: str = "raise", skips: SkipCounts | None = None) -> Iterator[str]:
        """Stream every text unit of the corpus, in order."""
        for source in self.sources:
            yield from Partition(source).units(on_error, skips)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in CORPUS_SUFFIXES + (".csv", ".json"):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _looks_like_release(directory: Path) -> bool:
    return any((directory / marker).exists() for marker in RELEASE_MARKERS) or any(
        is_metadata(p.name) for p in directory.glob("*.csv")
    )


def _source_for_file(path: Path, text_fields: tuple[str, ...]) -> Source:
    suffix = _suffix(path)
    if suffix in TEXT_SUFFIXES:
        return TextFile(path)
    if suffix in JSONL_SUFFIXES:
        return JsonLinesFile(path, text_fields)
    if suffix in ARCHIVE_SUFFIXES:
        return Cord19Release(path)
    raise ConfigError(
        f"{path}: unsupported corpus file type (expected .txt, .txt.gz, .jsonl, "
        f".jsonl.gz, a CORD-19 release directory or .tar.gz)"
    )


def _files_under(root: Path, policy: ErrorPolicy) -> list[Path]:
    """Every file below ``root``, sorted; an unreadable subdirectory is a data error, as an unreadable
    file is: raised, or skipped and counted, as ``policy`` says."""

    def fail(error: OSError) -> None:
        policy(
            CorpusError(error.filename or root, f"cannot read: {error.strerror or error}", kind=ErrorKind.UNREADABLE)
        )

    files: list[Path] = []
    seen: set[str] = set()
    for folder, subfolders, names in os.walk(root, onerror=fail, followlinks=True):
        if os.path.realpath(folder) in seen:  # a symbolic link back up the tree
            subfolders.clear()
            continue
        seen.add(os.path.realpath(folder))
        subfolders.sort()
        files.extend(Path(folder) / name for name in names if (Path(folder) / name).is_file())
    return sorted(files)


def open_corpus(
    paths: Iterable[str | os.PathLike], *, text_fields: Iterable[str] = DEFAULT_TEXT_FIELDS, on_error: str = "raise"
) -> Corpus:
    """A ``Corpus`` over files, directories of files, and CORD-19 releases (directory or archive).
    With ``on_error="skip"`` an unreadable folder is skipped and counted (``Corpus.skipped``)."""
    sources: list[Source] = []
    fields = tuple(text_fields)
    policy = ErrorPolicy(on_error)
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"{path}: no such file or directory")
        if path.is_file():
            sources.append(_source_for_file(path, fields))
        elif _looks_like_release(path):
            sources.append(Cord19Release(path))
        else:
            files = _files_under(path, policy)
            found = [p for p in files if _suffix(p) in CORPUS_SUFFIXES]
            if not found and any(p.name.endswith(".json") for p in files):
                sources.append(Cord19Release(path))  # a folder of parses, e.g. one release subset
                continue
            if not found:
                raise ConfigError(
                    f"{path}: no corpus files (.txt, .txt.gz, .jsonl, .jsonl.gz, "
                    f".tar.gz) and not a CORD-19 release directory"
                )
            sources.extend(_source_for_file(p, fields) for p in found)
    if not sources:
        raise ConfigError("no corpus given")
    return Corpus(tuple(sources), fields, policy.skips)
