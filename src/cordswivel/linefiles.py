"""Line readers for big files: whole lines, as bytes, in large batches (line-by-line reading of gzip
files is slow).

Two generators, one per way a partition reads a file: ``byte_range_lines`` reads the lines that start
inside one byte range of an uncompressed file (so partitions of one file read disjoint parts of it),
and ``stream_lines`` reads a whole file, plain or gzipped, from the start. Both yield ``LineBatch``es of
(line number, line without its newline). Decoding and error policy are the caller's (``sources``).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from isal import igzip, isal_zlib

READ_BYTES = 1 << 22  # bytes read at a time
# a truncated or corrupt gzip stream (isal's stubs call its error class an instance)
GZIP_ERRORS: tuple[type[BaseException], ...] = (EOFError, gzip.BadGzipFile, zlib.error, cast(type, isal_zlib.error))


class LineNumbers:
    """File line numbers of lines counted from byte ``start``; the lines before it are counted only
    when an error needs a line number."""

    def __init__(self, path: Path, start: int) -> None:
        self.path, self.start = path, start
        self.base: int | None = 0 if start == 0 else None

    def __call__(self, local: int) -> int:
        if self.base is None:
            self.base, left = 0, self.start
            with open(self.path, "rb") as handle:
                while left > 0 and (chunk := handle.read(min(1 << 24, left))):
                    self.base += chunk.count(b"\n")
                    left -= len(chunk)
        return self.base + local


@dataclass(frozen=True)
class LineBatch:
    """Lines as (n, bytes without the newline); ``line_of(n)`` is line n's number in the file.

    ``read`` is how many lines the reader has gone through so far, kept or not.
    """

    line_of: LineNumbers
    lines: list[tuple[int, bytes]]
    read: int
    joined: bytes | None = None  # the lines joined by newlines, where a reader has already done so


def _whole_lines(handle: BinaryIO, start: int, end: int | None) -> Iterator[list[bytes]]:
    """Batches of the lines of ``handle`` (positioned at byte ``start``) that start before ``end``."""
    pending, position = b"", start  # position: file offset of the first byte of ``pending``
    while True:
        chunk = handle.read(READ_BYTES)
        data, done = pending + chunk, not chunk
        if end is not None and position + len(data) >= end:
            cut = data.find(b"\n", max(end - 1 - position, 0))
            if cut >= 0 or done:  # the range's last line is complete
                data, done = (data[: cut + 1] if cut >= 0 else data), True
        lines = data.split(b"\n")
        pending = b"" if done else lines.pop()
        if done and lines and not lines[-1]:
            lines.pop()  # the final newline ends the last line; it does not start one
        position += len(data) - len(pending)
        if lines:
            yield lines
        if done:
            return


def byte_range_lines(path: Path, index: int, count: int) -> Iterator[LineBatch]:
    """The lines that start in the ``index``-th of ``count`` equal byte ranges of an uncompressed file."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        first, end = size * index // count, size * (index + 1) // count
        if first > 0:
            handle.seek(first - 1)
            first += len(handle.readline()) - 1  # that line started in the range before
        if first >= end:
            return  # no line starts in this range
        handle.seek(first)
        line_of, number = LineNumbers(path, first), 0
        for lines in _whole_lines(handle, first, end):
            batch = list(enumerate(lines, start=number + 1))
            number += len(lines)
            yield LineBatch(line_of, batch, number)


def stream_lines(path: Path, block: int = 1, keep_block: Callable[[int], bool] | None = None) -> Iterator[LineBatch]:
    """The lines of a whole file, plain or gzipped (``.gz``, read with ISA-L's igzip: 3x zlib's speed
    here); with ``keep_block``, only the lines of the blocks of ``block`` lines for which
    ``keep_block(block number)`` is true."""
    opener = igzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        line_of, number = LineNumbers(path, 0), 0
        for lines in _whole_lines(handle, 0, None):
            numbered = enumerate(lines, start=number + 1)
            kept = (
                list(numbered)
                if keep_block is None
                else [(n, raw) for n, raw in numbered if keep_block((n - 1) // block)]
            )
            number += len(lines)
            yield LineBatch(line_of, kept, number)
