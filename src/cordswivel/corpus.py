"""Corpus readers: text units (titles, paragraphs, sentences) from files and CORD-19 releases.

A *unit* is one string whose tokens form one co-occurrence context (windows never cross units).
Every reader streams: memory does not grow with the corpus. Sources:

- plain text (``.txt``, ``.txt.gz``): one unit per line;
- JSON lines (``.jsonl``, ``.jsonl.gz``): one object per line, each configured text field is a unit
  (``authors`` as a ``"Last, First; Last, First"`` string gives one unit per author);
- a CORD-19 release, as a directory or a ``.tar.gz`` (DESIGN.md section 5): per paper the title,
  the author names, the abstract paragraphs, the body-text paragraphs and the reference titles.

A source is split into *partitions* (``Partition``) that read disjoint sets of records, so the corpus
passes in ``cooccur`` can run them in parallel. Data errors raise ``CorpusError`` naming the file and
line (or archive member), or, with ``on_error="skip"``, are skipped and counted in ``SkipCounts``.
"""

from __future__ import annotations

import collections
import csv
import gzip
import io
import json
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .errors import ConfigError, CorpusError

DEFAULT_TEXT_FIELDS = ("title", "abstract", "text", "string")
ON_ERROR_CHOICES = ("raise", "skip")
TEXT_SUFFIXES = (".txt", ".txt.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
RELEASE_MARKERS = ("metadata.csv", "document_parses", "comm_use_subset", "noncomm_use_subset",
                   "custom_license", "pmc_custom_license", "biorxiv_medrxiv")
LINE_BLOCK = 4096   # lines per slice block of a text or JSON lines file
PAPER_BLOCK = 16    # papers per slice block of a CORD-19 release

csv.field_size_limit(2**31 - 1)  # metadata.csv abstracts exceed csv's 128 KiB default


class SkipCounts(collections.Counter):
    """Records skipped under ``on_error="skip"``, by kind ("invalid UTF-8", "malformed JSON", ...)."""

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.items())) or "none"


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in TEXT_SUFFIXES + JSONL_SUFFIXES + ARCHIVE_SUFFIXES + (".csv", ".json"):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


class _ErrorPolicy:
    """Raise or count one data error, as the caller asked."""

    def __init__(self, on_error: str, skips: SkipCounts):
        self.on_error = on_error
        self.skips = skips

    def __call__(self, error: CorpusError) -> None:
        if self.on_error == "raise":
            raise error
        self.skips[error.kind] += 1


def _decode(raw: bytes, path, line: int, member: str | None = None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(path, f"invalid UTF-8 at byte {exc.start}", line=line, member=member,
                          kind="invalid UTF-8") from None


@dataclass(frozen=True)
class Selection:
    """Which part of a source a partition reads: blocks ``b`` with ``b % count == index``, or for an
    uncompressed line file, the ``index``-th of ``count`` byte ranges."""

    index: int = 0
    count: int = 1

    def __call__(self, block: int) -> bool:
        return block % self.count == self.index


class _LineNumbers:
    """File line numbers of lines counted from byte ``start``; the lines before it are counted only
    when an error needs a line number."""

    def __init__(self, path: Path, start: int):
        self.path, self.start = path, start
        self.base = 0 if start == 0 else None

    def __call__(self, local: int) -> int:
        if self.base is None:
            self.base, left = 0, self.start
            with open(self.path, "rb") as handle:
                while left > 0 and (chunk := handle.read(min(1 << 24, left))):
                    self.base += chunk.count(b"\n")
                    left -= len(chunk)
        return self.base + local


def _iter_raw_lines(path: Path, policy: _ErrorPolicy, selected=None
                    ) -> Iterator[tuple[Callable[[int], int], list[tuple[int, bytes]]]]:
    """(line_of, batch) pairs: batches of (n, line bytes without its newline) of valid UTF-8, plain
    or gzipped, where ``line_of(n)`` is line n's number in the file.

    An uncompressed file read for a ``Selection`` of several parts is read from its byte range: the
    lines that start inside it. Otherwise ``selected(block)`` picks blocks of ``LINE_BLOCK`` lines.
    """
    gzipped = path.name.lower().endswith(".gz")
    by_bytes = isinstance(selected, Selection) and selected.count > 1 and not gzipped
    opener = gzip.open if gzipped else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            first, end = 0, None
            if by_bytes:
                size = os.fstat(handle.fileno()).st_size
                first, end = size * selected.index // selected.count, size * (selected.index + 1) // selected.count
                if first > 0:
                    handle.seek(first - 1)
                    first += len(handle.readline()) - 1  # that line started in the range before
                if first >= end:
                    return  # no line starts in this range
                selected = None
            line_of = _LineNumbers(path, first)
            position = first  # file offset of the first byte of ``pending``
            # Whole lines in big chunks: line-by-line iteration of gzip files is slow.
            pending = b""
            while True:
                chunk = handle.read(1 << 22)
                data = pending + chunk
                done = not chunk
                if end is not None and position + len(data) >= end:
                    cut = data.find(b"\n", max(end - 1 - position, 0))
                    if cut >= 0 or done:  # the range's last line is complete
                        data, done = (data[:cut + 1] if cut >= 0 else data), True
                lines = data.split(b"\n")
                pending = lines.pop() if not done else b""
                if done and lines and not lines[-1]:
                    lines.pop()  # the final newline ends the last line; it does not start one
                position += len(data) - len(pending)
                batch = []
                for raw in lines:
                    number += 1
                    if selected is None or selected((number - 1) // LINE_BLOCK):
                        batch.append((number, raw))
                try:
                    b"\n".join(raw for _, raw in batch).decode("utf-8")
                except UnicodeDecodeError:
                    batch = [(n, raw) for n, raw in batch if _valid_utf8(raw, path, line_of(n), policy)]
                if batch:
                    yield line_of, batch
                if done:
                    break
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        where = f" after line {number}" if number else ""
        policy(CorpusError(path, f"truncated or corrupt gzip data{where} ({exc})", kind="corrupt archive"))
    except OSError as exc:
        raise CorpusError(path, f"cannot read: {exc.strerror or exc}", kind="unreadable") from None
    if number == 0 and not by_bytes:
        policy(CorpusError(path, "file is empty", kind="empty file"))


def _valid_utf8(raw: bytes, path, line: int, policy) -> bool:
    try:
        _decode(raw, path, line)
        return True
    except CorpusError as error:
        policy(error)
        return False


def _iter_lines(path: Path, policy: _ErrorPolicy, selected=None
                ) -> Iterator[tuple[Callable[[int], int], int, str]]:
    """(line_of, n, decoded line without its newline) of a plain or gzipped file (see ``_iter_raw_lines``)."""
    for line_of, batch in _iter_raw_lines(path, policy, selected):
        for number, raw in batch:
            yield line_of, number, raw.decode("utf-8").rstrip("\r")


def _text(value, path, what: str, *, line: int | None = None, member: str | None = None) -> str:
    """A text field's value: str as is, null as empty; anything else is a data error."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise CorpusError(path, f"{what} is {type(value).__name__}, expected text", line=line,
                      member=member, kind="wrong type")


def split_author_list(authors: str) -> list[str]:
    """``"Smith, Adam J.; Zhang, Xiyun"`` -> one name per author (metadata.csv's format)."""
    return [name.strip() for name in authors.split(";") if name.strip()]


@dataclass(frozen=True)
class Source:
    """One corpus file or release; ``records`` yields (record number, units of that record)."""

    path: Path

    def records(self, policy: _ErrorPolicy, selected) -> Iterator[list[str]]:
        raise NotImplementedError

    def size(self) -> int:
        """Bytes on disk, to share partitions out in proportion."""
        if self.path.is_dir():
            return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return self.path.stat().st_size

    def max_partitions(self) -> int:
        return 1 << 30

    def unit_batches(self, policy, selected, batch_bytes: int = 1 << 22):
        """(UTF-8 buffer, end offset of each unit) batches of the units of ``records``."""
        pieces, ends, size = [], [], 0
        for units in self.records(policy, selected):
            for unit in units:
                data = unit.encode("utf-8", "surrogatepass")  # JSON may escape lone surrogates
                pieces.append(data)
                size += len(data) + 1
                ends.append(size)
            if size >= batch_bytes:
                yield b"\n".join(pieces), np.asarray(ends, dtype=np.int64)
                pieces, ends, size = [], [], 0
        if pieces:
            yield b"\n".join(pieces), np.asarray(ends, dtype=np.int64)


@dataclass(frozen=True)
class TextFile(Source):
    """Plain text, one unit per line."""

    def records(self, policy, selected):
        for _, _, line in _iter_lines(self.path, policy, selected):
            yield [line]

    def unit_batches(self, policy, selected):
        for _, batch in _iter_raw_lines(self.path, policy, selected):
            lines = [raw for _, raw in batch]
            # a trailing \r is whitespace to the tokenizer: no need to strip it here
            yield b"\n".join(lines), np.cumsum([len(raw) + 1 for raw in lines], dtype=np.int64)


@dataclass(frozen=True)
class JsonLinesFile(Source):
    """JSON lines, one object per line; each configured field is a unit."""

    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS

    def records(self, policy, selected):
        for line_of, number, line in _iter_lines(self.path, policy, selected):
            if not line.strip():
                continue
            try:
                yield self._units(line, number)
            except CorpusError as error:
                policy(error.at_line(line_of(number)))

    def _units(self, line: str, number: int) -> list[str]:
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CorpusError(self.path, f"malformed JSON ({exc})", line=number,
                              kind="malformed JSON") from None
        if not isinstance(row, dict):
            raise CorpusError(self.path, f"expected a JSON object, got {type(row).__name__}",
                              line=number, kind="wrong type")
        units = []
        for name in self.text_fields:
            value = _text(row.get(name), self.path, f"field {name!r}", line=number)
            if value:
                units.extend(split_author_list(value) if name == "authors" else [value])
        return units


# --------------------------------------------------------------------------- CORD-19 releases

def _parse_key(name: str) -> str | None:
    """The paper key of a parse file name (``<sha>.json`` -> sha, ``PMCnnn.xml.json`` -> PMCnnn)."""
    base = name.rsplit("/", 1)[-1]
    if not base.endswith(".json") or base.startswith("."):
        return None
    return base[:-len(".xml.json")] if base.endswith(".xml.json") else base[:-len(".json")]


def _is_metadata(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base == "metadata.csv" or (base.startswith("all_sources_metadata") and base.endswith(".csv"))


@dataclass
class _Paper:
    """What metadata.csv says of one paper."""

    title: str = ""
    abstract: str = ""
    authors: str = ""
    parse: str | None = None   # key of the parse to read (PMC preferred), if the release has one
    claims: tuple[str, ...] = ()  # every parse key of this paper (the others are not read)


def parse_units(doc, path, member: str | None = None, paper: _Paper | None = None) -> list[str]:
    """Units of one parse JSON (title, author names, abstract, body text, reference titles).

    Where metadata.csv knows the paper, its title wins (parse titles carry GROBID debris) and its
    abstract fills in for parses without one (PMC parses have no ``abstract`` key).
    """
    def fail(message):
        return CorpusError(path, message, member=member, kind="wrong type")

    if not isinstance(doc, dict):
        raise fail(f"expected a JSON object, got {type(doc).__name__}")
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise fail("'metadata' is not an object")
    title = (paper.title if paper else "") or _text(meta.get("title"), path, "title", member=member)
    units = [title]
    authors = meta.get("authors") or []
    if not isinstance(authors, list):
        raise fail("'metadata.authors' is not a list")
    for author in authors:
        if not isinstance(author, dict):
            raise fail("an author is not an object")
        middle = author.get("middle") or []
        parts = [author.get("first"), *(middle if isinstance(middle, list) else [middle]),
                 author.get("last"), author.get("suffix")]
        units.append(" ".join(_text(p, path, "author name", member=member) for p in parts if p))
    if not authors and paper and paper.authors:
        units.extend(split_author_list(paper.authors))

    def paragraphs(key):
        value = doc.get(key) or []
        if not isinstance(value, list):
            raise fail(f"'{key}' is not a list")
        out = []
        for item in value:
            if not isinstance(item, dict):
                raise fail(f"an item of '{key}' is not an object")
            out.append(_text(item.get("text"), path, f"{key} text", member=member))
        return out

    abstract = paragraphs("abstract")
    units.extend(abstract if any(abstract) else ([paper.abstract] if paper else []))
    units.extend(paragraphs("body_text"))
    bib = doc.get("bib_entries") or {}
    if not isinstance(bib, dict):
        raise fail("'bib_entries' is not an object")
    for entry in bib.values():
        if isinstance(entry, dict):
            units.append(_text(entry.get("title"), path, "reference title", member=member))
    return units


def _metadata_units(paper: _Paper) -> list[str]:
    return [paper.title, *split_author_list(paper.authors), paper.abstract]


def _read_metadata(handle, path, member, parse_keys: set[str], policy) -> list[_Paper]:
    """Papers of a metadata.csv, one per cord_uid (the first row wins), with their parse chosen."""
    def decoded_lines():
        for number, raw in enumerate(handle, start=1):
            try:
                yield _decode(raw, path, number, member)
            except CorpusError as error:
                policy(error)  # raises, or counts the line and leaves it out

    papers, seen = [], set()
    reader = csv.DictReader(decoded_lines())
    try:
        for row in reader:
            key = row.get("cord_uid") or row.get("sha") or row.get("doi") or f"row{reader.line_num}"
            if key in seen:
                continue
            seen.add(key)
            shas = [s.strip() for s in (row.get("sha") or "").split(";") if s.strip()]
            pmcids = [p.strip() for p in (row.get("pmcid") or "").split(";") if p.strip()]
            claims = tuple(k for k in pmcids + shas if k in parse_keys)
            papers.append(_Paper(title=row.get("title") or "", abstract=row.get("abstract") or "",
                                 authors=row.get("authors") or "",
                                 parse=claims[0] if claims else None, claims=claims))
    except csv.Error as exc:
        policy(CorpusError(path, f"malformed CSV ({exc})", member=member, line=reader.line_num,
                           kind="malformed CSV"))
    return papers


def _load_json(data: bytes, path, member) -> object:
    if not data.strip():
        raise CorpusError(path, "file is empty", member=member, kind="empty file")
    try:
        return json.loads(_decode(data, path, None, member))
    except ValueError as exc:
        raise CorpusError(path, f"malformed JSON ({exc})", member=member,
                          kind="malformed JSON") from None


@dataclass(frozen=True)
class Cord19Release(Source):
    """A CORD-19 release: a directory or a ``.tar.gz`` (any layout of DESIGN.md section 5).

    Papers are the metadata.csv rows (deduplicated by cord_uid), each read from its PMC parse if the
    release has one, else its PDF parse, else from metadata.csv alone; then every parse file that no
    row claims, as a paper of its own.
    """

    def max_partitions(self) -> int:
        return 1 if self.path.is_file() else 1 << 30  # an archive is read in one stream

    def _dir_files(self) -> list[str]:
        """Paths of the directory's files relative to it, in a stable order."""
        names = []
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.path)
            names.extend(n if rel == "." else f"{rel}/{n}" for n in sorted(filenames))
        return names

    def _archive_stream(self, policy, parses: bool = True) -> Iterator[tuple[str, bytes | None]]:
        """(member name, contents) of the archive's parse JSONs and metadata files, nested archives
        included; with ``parses=False`` a parse's contents are not read (None)."""
        def walk(tar, prefix):
            for info in tar:
                name = prefix + info.name
                if not info.isfile():
                    continue
                lower = name.lower()
                wanted = lower.endswith(".json") or _is_metadata(name)
                nested = lower.endswith((".tar.gz", ".tgz", ".tar")) and "embeddings" not in lower
                if not (wanted or nested):
                    continue
                handle = tar.extractfile(info)
                if nested:
                    with tarfile.open(fileobj=handle, mode="r|*") as inner:
                        yield from walk(inner, name + "/")
                else:
                    yield name, handle.read() if parses or not lower.endswith(".json") else None

        try:
            with tarfile.open(self.path, mode="r|*") as tar:
                yield from walk(tar, "")
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            policy(CorpusError(self.path, f"truncated or corrupt archive ({exc})",
                               kind="corrupt archive"))
        except OSError as exc:
            raise CorpusError(self.path, f"cannot read: {exc.strerror or exc}",
                              kind="unreadable") from None

    def records(self, policy, selected):
        if self.path.is_dir():
            yield from self._dir_records(policy, selected)
        else:
            yield from self._archive_records(policy, selected)

    def _papers(self, names: Iterable[str], read_metadata) -> tuple[list[_Paper], dict[str, str]]:
        names = list(names)
        parses = {}
        for name in names:
            key = _parse_key(name)
            if key is not None and not _is_metadata(name):
                parses.setdefault(key, name)
        papers = []
        for name in names:
            if _is_metadata(name):
                papers.extend(read_metadata(name, set(parses)))
        return papers, parses

    def _dir_records(self, policy, selected):
        def read_metadata(name, keys):
            with open(self.path / name, "rb") as handle:
                return _read_metadata(handle, self.path / name, None, keys, policy)

        papers, parses = self._papers(self._dir_files(), read_metadata)
        claimed = {key for paper in papers for key in paper.claims}
        orphans = [key for key in parses if key not in claimed]
        for number, paper in enumerate(papers):
            if not selected(number // PAPER_BLOCK):
                continue
            if paper.parse is None:
                yield _metadata_units(paper)
            else:
                units = self._read_parse(self.path / parses[paper.parse], paper, policy)
                if units is not None:
                    yield units
        for number, key in enumerate(orphans, start=len(papers)):
            if selected(number // PAPER_BLOCK):
                units = self._read_parse(self.path / parses[key], None, policy)
                if units is not None:
                    yield units

    def _read_parse(self, path: Path, paper, policy) -> list[str] | None:
        try:
            return parse_units(_load_json(path.read_bytes(), path, None), path, None, paper)
        except CorpusError as error:
            policy(error)
        except OSError as exc:
            policy(CorpusError(path, f"cannot read: {exc.strerror or exc}", kind="unreadable"))
        return None

    def _archive_records(self, policy, selected):
        # First pass: member names and metadata.csv; second pass: the parses, in archive order.
        names, metadata = [], {}
        for name, data in self._archive_stream(policy, parses=False):
            names.append(name)
            if _is_metadata(name):
                metadata[name] = data

        def read_metadata(name, keys):
            return _read_metadata(io.BytesIO(metadata[name]), self.path, name, keys, policy)

        papers, parses = self._papers(names, read_metadata)
        by_parse = {paper.parse: paper for paper in papers if paper.parse}
        claimed = {key for paper in papers for key in paper.claims}
        for name, data in self._archive_stream(policy):
            key = _parse_key(name)
            if key is None or _is_metadata(name) or parses.get(key) != name:
                continue
            paper = by_parse.get(key)
            if paper is None and key in claimed:
                continue  # the PDF parse of a paper read from its PMC parse
            try:
                yield parse_units(_load_json(data, self.path, name), self.path, name, paper)
            except CorpusError as error:
                policy(error)
        for paper in papers:
            if paper.parse is None:
                yield _metadata_units(paper)


# --------------------------------------------------------------------------- corpus and partitions

@dataclass(frozen=True)
class Partition:
    """The ``index``-th of ``count`` parts of one source (see ``Selection``)."""

    source: Source
    index: int = 0
    count: int = 1

    @property
    def _selected(self) -> Selection:
        return Selection(self.index, self.count)

    def units(self, on_error: str = "raise", skips: SkipCounts | None = None) -> Iterator[str]:
        """Stream the text units of this partition."""
        policy = _ErrorPolicy(on_error, skips if skips is not None else SkipCounts())
        for units in self.source.records(policy, self._selected):
            yield from units

    def unit_batches(self, on_error: str = "raise", skips: SkipCounts | None = None
                     ) -> Iterator[tuple[bytes, np.ndarray]]:
        """Stream the units as (UTF-8 buffer, end offset of each unit), units separated by a byte."""
        policy = _ErrorPolicy(on_error, skips if skips is not None else SkipCounts())
        yield from self.source.unit_batches(policy, self._selected)


@dataclass(frozen=True)
class Corpus:
    """The sources of a training corpus; see ``open_corpus``."""

    sources: tuple[Source, ...]
    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS

    def partitions(self, target: int, max_bytes: int | None = None) -> list[Partition]:
        """About ``target`` partitions (more if needed to keep each near ``max_bytes`` on disk), each
        source split in proportion to its size."""
        sizes = [max(source.size(), 1) for source in self.sources]
        total = sum(sizes)
        if max_bytes:
            target = max(target, -(-total // max_bytes))
        parts = []
        for source, size in zip(self.sources, sizes):
            count = max(1, min(round(target * size / total), source.max_partitions()))
            parts.extend(Partition(source, index, count) for index in range(count))
        return parts

    def units(self, on_error: str = "raise", skips: SkipCounts | None = None) -> Iterator[str]:
        """Stream every text unit of the corpus, in order."""
        for source in self.sources:
            yield from Partition(source).units(on_error, skips)


def _looks_like_release(directory: Path) -> bool:
    return any((directory / marker).exists() for marker in RELEASE_MARKERS) or any(
        _is_metadata(p.name) for p in directory.glob("*.csv"))


def _source_for_file(path: Path, text_fields) -> Source:
    suffix = _suffix(path)
    if suffix in TEXT_SUFFIXES:
        return TextFile(path)
    if suffix in JSONL_SUFFIXES:
        return JsonLinesFile(path, tuple(text_fields))
    if suffix in ARCHIVE_SUFFIXES:
        return Cord19Release(path)
    raise ConfigError(f"{path}: unsupported corpus file type (expected .txt, .txt.gz, .jsonl, "
                      f".jsonl.gz, a CORD-19 release directory or .tar.gz)")


def open_corpus(paths: Iterable[str | os.PathLike], *,
                text_fields: Iterable[str] = DEFAULT_TEXT_FIELDS) -> Corpus:
    """A ``Corpus`` over files, directories of files, and CORD-19 releases (directory or archive)."""
    sources: list[Source] = []
    text_fields = tuple(text_fields)
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ConfigError(f"{path}: no such file or directory")
        if path.is_file():
            sources.append(_source_for_file(path, text_fields))
        elif _looks_like_release(path):
            sources.append(Cord19Release(path))
        else:
            found = [p for p in sorted(path.rglob("*")) if p.is_file()
                     and _suffix(p) in TEXT_SUFFIXES + JSONL_SUFFIXES + ARCHIVE_SUFFIXES]
            if not found and any(path.rglob("*.json")):
                sources.append(Cord19Release(path))  # a folder of parses, e.g. one release subset
                continue
            if not found:
                raise ConfigError(f"{path}: no corpus files (.txt, .txt.gz, .jsonl, .jsonl.gz, "
                                  f".tar.gz) and not a CORD-19 release directory")
            sources.extend(_source_for_file(p, text_fields) for p in found)
    if not sources:
        raise ConfigError("no corpus given")
    return Corpus(tuple(sources), text_fields)
