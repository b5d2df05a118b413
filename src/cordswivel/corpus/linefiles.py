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


class LineBatch:
    """Lines as (n, bytes without the newline); ``line_of(n)`` is line n's number in the file.

    ``read`` is how many lines the reader has gone through so far, kept or not. A batch of consecutive
    lines holds them as one ``text``, joined by newlines, and splits it only when ``lines`` is asked
    for (text files are tokenized from ``text`` itself); a batch of selected lines holds their list.
    """

    def __init__(
        self,
        line_of: LineNumbers,
        read: int,
        *,
        text: bytes | None = None,
        lines: list[tuple[int, bytes]] | None = None,
    ) -> None:
        self.line_of, self.read, self.text, self._lines = line_of, read, text, lines

    @property
    def lines(self) -> list[tuple[int, bytes]]:
        if self._lines is None:
            assert self.text is not None
            split = self.text.split(b"\n")
            self._lines = list(enumerate(split, start=self.read - len(split) + 1))
        return self._lines

    def joined(self) -> bytes:
        """The lines joined by newlines."""
        if self.text is None:
            self.text = b"\n".join([raw for _, raw in self.lines])
        return self.text


def _whole_lines(handle: BinaryIO, start: int, end: int | None) -> Iterator[tuple[bytes, int]]:
    """(lines joined by newlines, how many) of the lines of ``handle`` (positioned at byte ``start``)
    that start before ``end``, a batch per read."""
    pending, position = b"", start  # position: file offset of the first byte of ``pending``
    while True:
        chunk = handle.read(READ_BYTES)
        data, done = pending + chunk, not chunk
        if end is not None and position + len(data) >= end:
            cut = data.find(b"\n", max(end - 1 - position, 0))
            if cut >= 0 or done:  # the range's last line is complete
                data, done = (data[: cut + 1] if cut >= 0 else data), True
        if done:  # the final newline ends the last line; it does not start one
            cut = len(data) - 1 if data.endswith(b"\n") else len(data)
            pending = b""
        else:
            cut = data.rfind(b"\n")  # -1: no line ends in this read yet
            pending = data[cut + 1 :]
        position += len(data) - len(pending)
        if data and cut >= 0:
            text = data[:cut]
            yield text, text.count(b"\n") + 1
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
        for text, count in _whole_lines(handle, first, end):
            number += count
            yield LineBatch(line_of, number, text=text)


def stream_lines(path: Path, block: int = 1, keep_block: Callable[[int], bool] | None = None) -> Iterator[LineBatch]:
    """The lines of a whole file, plain or gzipped (``.gz``, read with ISA-L's igzip: 3x zlib's speed
    here); with ``keep_block``, only the lines of the blocks of ``block`` lines for which
    ``keep_block(block number)`` is true."""
    opener = igzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        line_of, number = LineNumbers(path, 0), 0
        for text, count in _whole_lines(handle, 0, None):
            number += count
            if keep_block is None:
                yield LineBatch(line_of, number, text=text)
                continue
            numbered = enumerate(text.split(b"\n"), start=number - count + 1)
            yield LineBatch(line_of, number, lines=[(n, raw) for n, raw in numbered if keep_block((n - 1) // block)])
