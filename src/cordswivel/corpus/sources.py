"""Corpus sources and what they yield: records of text units, read under an error policy.

A *unit* is one string whose tokens form one co-occurrence context (windows never cross units); a
*record* is the units of one line or paper. A ``Source`` reads the records of one part of itself
(a ``Selection``), so partitions of a corpus can run in parallel. This module holds the line file
sources: plain text (``.txt``, ``.txt.gz``: one unit per line) and JSON lines (``.jsonl``,
``.jsonl.gz``: each configured field of an object is a unit; ``authors`` as ``"Last, First; Last,
First"`` gives one unit per author). CORD-19 releases are in ``cord19``.

Data errors raise ``CorpusError`` naming the file and line (or archive member), or, under
``on_error="skip"``, are counted in ``SkipCounts`` by ``ErrorKind`` and left out.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import DEFAULT_TEXT_FIELDS, ON_ERROR_CHOICES
from ..errors import ConfigError, CorpusError, ErrorKind
from .linefiles import GZIP_ERRORS, LineBatch, byte_range_lines, stream_lines

LINE_BLOCK = 4096  # lines per selection block of a gzipped text or JSON lines file
BATCH_BYTES = 1 << 22

UTF8_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, which some editors put at the start of a file


class SkipCounts(collections.Counter):
    """Records skipped under ``on_error="skip"``, by kind ("invalid UTF-8", "malformed JSON", ...)."""

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.items())) or "none"


class ErrorPolicy:
    """Raise or count one data error, as the caller asked (``on_error``: raise or skip)."""

    def __init__(self, on_error: str = "raise", skips: SkipCounts | None = None) -> None:
        if on_error not in ON_ERROR_CHOICES:
            raise ConfigError(f"on_error must be one of {ON_ERROR_CHOICES}, got {on_error!r}")
        self.on_error = on_error
        self.skips = skips if skips is not None else SkipCounts()

    def __call__(self, error: CorpusError) -> None:
        if self.on_error == "raise":
            raise error
        self.skips[error.kind] += 1


@dataclass(frozen=True)
class Selection:
    """Which part of a source a partition reads: the ``index``-th of ``count`` parts.

    An uncompressed line file is cut into byte ranges; other sources keep the blocks ``b`` (of lines
    or papers) with ``b % count == index``.
    """

    index: int = 0
    count: int = 1

    def __call__(self, block: int) -> bool:
        return block % self.count == self.index


def decode(raw: bytes, path: str | Path, line: int | None, member: str | None = None) -> str:
    """``raw`` as UTF-8, or a ``CorpusError`` naming where it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            path, f"invalid UTF-8 at byte {exc.start}", line=line, member=member, kind=ErrorKind.INVALID_UTF8
        ) from None


def text_value(value: Any, path: str | Path, what: str, *, line: int | None = None, member: str | None = None) -> str:
    """A text field's value: str as is, null as empty; anything else is a data error."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise CorpusError(
        path, f"{what} is {type(value).__name__}, expected text", line=line, member=member, kind=ErrorKind.WRONG_TYPE
    )


def split_author_list(authors: str) -> list[str]:
    """``"Smith, Adam J.; Zhang, Xiyun"`` -> one name per author (metadata.csv's format)."""
    return [name.strip() for name in authors.split(";") if name.strip()]


def read_lines(path: Path, policy: ErrorPolicy, selection: Selection) -> Iterator[LineBatch]:
    """The selected lines of a plain or gzipped file, each valid UTF-8 (other lines go to ``policy``).

    An empty file, a truncated gzip stream and an unreadable file are data errors too.
    """
    gzipped = path.name.lower().endswith(".gz")
    by_bytes = selection.count > 1 and not gzipped
    read = 0
    try:
        batches = (
            byte_range_lines(path, selection.index, selection.count)
            if by_bytes
            else stream_lines(path, LINE_BLOCK, selection if selection.count > 1 else None)
        )
        first = True  # line 1, if any batch holds it, starts the first batch with lines
        for batch in batches:
            read = batch.read
            if batch.text is None and not batch.lines:
                continue
            if first and batch.line_of.start == 0:  # a byte-order mark is no text
                if batch.text is not None:
                    batch.text = batch.text.removeprefix(UTF8_BOM)
                elif batch.lines[0][0] == 1:
                    batch.lines[0] = (1, batch.lines[0][1].removeprefix(UTF8_BOM))
            first = False
            try:
                batch.joined().decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                yield batch
                continue
            valid: list[tuple[int, bytes]] = []
            for n, raw in batch.lines:  # report each bad line at its place, after the lines before it
                try:
                    decode(raw, path, batch.line_of(n))
                except CorpusError as error:
                    if valid:
                        yield LineBatch(batch.line_of, read, lines=valid)
                        valid = []
                    policy(error)
                    continue
                valid.append((n, raw))
            if valid:
                yield LineBatch(batch.line_of, read, lines=valid)
    except GZIP_ERRORS as exc:
        # every partition of a gzipped file reads the whole stream: the first one speaks for the file
        if selection.index == 0:
            where = f" after line {read}" if read else ""
            corrupt = CorpusError(
                path, f"truncated or corrupt gzip data{where} ({exc})", kind=ErrorKind.CORRUPT_ARCHIVE
            )
            policy(corrupt)
        return
    except OSError as exc:  # every partition of the file fails: the first one speaks for it
        if selection.index == 0:
            policy(CorpusError(path, f"cannot read: {exc.strerror or exc}", kind=ErrorKind.UNREADABLE))
        return
    if read == 0 and selection.index == 0:  # the first line of a file that has one starts in part 0
        policy(CorpusError(path, "file is empty", kind=ErrorKind.EMPTY_FILE))


def _decoded_lines(path: Path, policy: ErrorPolicy, selection: Selection) -> Iterator[tuple[LineBatch, int, str]]:
    """(batch, n, line decoded, without its newline and a trailing \\r) of ``read_lines``."""
    for batch in read_lines(path, policy, selection):
        for number, raw in batch.lines:
            yield batch, number, raw.decode("utf-8").rstrip("\r")


@dataclass(frozen=True)
class Source:
    """One corpus file or release."""

    path: Path

    def records(self, policy: ErrorPolicy, selection: Selection) -> Iterator[list[str]]:
        """The units of each selected record."""
        raise NotImplementedError

    def size(self) -> int:
        """Bytes on disk, to share partitions out in proportion."""
        if self.path.is_dir():
            return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return self.path.stat().st_size

    def max_partitions(self) -> int:
        return 1 << 30

    def unit_batches(self, policy: ErrorPolicy, selection: Selection) -> Iterator[tuple[bytes, np.ndarray]]:
        """(UTF-8 buffer, end offset of each unit) batches of the selected units, one byte between units."""
        pieces: list[bytes] = []
        ends: list[int] = []
        size = 0
        for units in self.records(policy, selection):
            for unit in units:
                data = unit.encode("utf-8", "surrogatepass")  # JSON may escape lone surrogates
                pieces.append(data)
                size += len(data) + 1
                ends.append(size)
            if size >= BATCH_BYTES:
                yield b"\n".join(pieces), np.asarray(ends, dtype=np.int64)
                pieces, ends, size = [], [], 0
        if pieces:
            yield b"\n".join(pieces), np.asarray(ends, dtype=np.int64)


@dataclass(frozen=True)
class TextFile(Source):
    """Plain text, one unit per line."""

    def records(self, policy: ErrorPolicy, selection: Selection) -> Iterator[list[str]]:
        for _, _, line in _decoded_lines(self.path, policy, selection):
            yield [line]

    def unit_batches(self, policy: ErrorPolicy, selection: Selection) -> Iterator[tuple[bytes, np.ndarray]]:
        for batch in read_lines(self.path, policy, selection):
            # a trailing \r is whitespace to the tokenizer: no need to strip it here
            text = batch.joined()
            newlines = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == 10)
            yield text, np.append(newlines + 1, len(text) + 1)


@dataclass(frozen=True)
class JsonLinesFile(Source):
    """JSON lines, one object per line; each configured field is a unit."""

    text_fields: tuple[str, ...] = DEFAULT_TEXT_FIELDS

    def records(self, policy: ErrorPolicy, selection: Selection) -> Iterator[list[str]]:
        for batch, number, line in _decoded_lines(self.path, policy, selection):
            if not line.strip():
                continue
            try:
                yield self._units(line, number)
            except CorpusError as error:
                policy(error.at_line(batch.line_of(number)))

    def _units(self, line: str, number: int) -> list[str]:
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CorpusError(
                self.path, f"malformed JSON ({exc})", line=number, kind=ErrorKind.MALFORMED_JSON
            ) from None
        except RecursionError:
            raise CorpusError(
                self.path, "malformed JSON (nested too deeply)", line=number, kind=ErrorKind.MALFORMED_JSON
            ) from None
        if not isinstance(row, dict):
            raise CorpusError(
                self.path, f"expected a JSON object, got {type(row).__name__}", line=number, kind=ErrorKind.WRONG_TYPE
            )
        units = []
        for name in self.text_fields:
            value = text_value(row.get(name), self.path, f"field {name!r}", line=number)
            if value:
                units.extend(split_author_list(value) if name == "authors" else [value])
        return units
